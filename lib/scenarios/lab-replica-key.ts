import { CustomResource, Duration, Stack } from 'aws-cdk-lib';
import * as iam from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { LabHandler } from '../common/lab-handler';
import { LAB_TAG } from '../common/lab-tags';
import { acknowledgeWildcardResource } from '../common/nag';

/** The tag that names the custom resource owning a handler-made resource (`<StackId>/<LogicalId>`), as on the escrow secrets. */
const MANAGED_BY_TAG = 'kms-key-lab:managed-by';

export interface LabReplicaKeyProps {
  /** ARN of the multi-Region primary key, in another Region. */
  readonly primaryKeyArn: string;
  /** The primary's Region, where ReplicateKey is called. */
  readonly primaryRegion: string;
  /**
   * ARN the replica will have: the primary's key id in this Region, known
   * before it exists. A value of its own (an output of the primary's stack),
   * so that it reaches this template as one Fn::GetStackOutput, nested in no
   * other function.
   */
  readonly replicaKeyArn: string;
  readonly description: string;
  readonly keyPolicy: iam.PolicyDocument;
  /** Days between `cdk destroy` and the replica's deletion (7 to 30). */
  readonly pendingWindowDays: number;
  /** The lab's tags; CDK's tag aspect cannot reach a key a handler creates. */
  readonly tags: Readonly<Record<string, string>>;
  /**
   * The primary's origin. EXTERNAL: an adopted replica is left PendingImport
   * (its material deleted) for the import resource to import it again.
   */
  readonly origin: 'AWS_KMS' | 'EXTERNAL';
}

/**
 * The replica of a multi-Region primary key in this stack's Region, made by
 * `Custom::LabReplicaKey` (lambda/replica-key) instead of
 * AWS::KMS::ReplicaKey. KMS allows one replica per Region, and a replica
 * pending deletion still counts, so AWS::KMS::ReplicaKey fails for a whole
 * pending window after a destroyed or rolled-back deploy; this resource
 * adopts that replica instead (cancels its deletion and applies its policy,
 * description and tags).
 *
 * @see https://docs.aws.amazon.com/kms/latest/APIReference/API_ReplicateKey.html
 */
export class LabReplicaKey extends Construct {
  readonly resource: CustomResource;
  /** The replica's key id: the primary's (`mrk-...`). */
  readonly keyId: string;
  readonly keyArn: string;

  constructor(scope: Construct, id: string, props: LabReplicaKeyProps) {
    super(scope, id);
    const stack = Stack.of(this);
    const handler = replicaKeyHandler(stack, props.primaryRegion);
    // A replica keeps the primary's key id, so its ARN is known before it exists: every key action names it exactly.
    const replicaArn = props.replicaKeyArn;
    handler.allow(['kms:ReplicateKey'], [props.primaryKeyArn], { StringEquals: { 'kms:ReplicaRegion': stack.region } });
    handler.allow(
      [
        'kms:DescribeKey',
        'kms:ListResourceTags',
        // ReplicateKey's Tags need kms:TagResource in the replica Region, and its Policy must let the caller PutKeyPolicy.
        'kms:TagResource',
        'kms:UntagResource',
        'kms:PutKeyPolicy',
        'kms:UpdateKeyDescription',
        'kms:CancelKeyDeletion',
        'kms:EnableKey',
        'kms:ScheduleKeyDeletion',
        ...(props.origin === 'EXTERNAL' ? ['kms:DeleteImportedKeyMaterial'] : []),
      ],
      [replicaArn],
    );

    this.resource = new CustomResource(this, 'Resource', {
      serviceToken: handler.provider.serviceToken,
      resourceType: 'Custom::LabReplicaKey',
      properties: {
        PrimaryKeyArn: props.primaryKeyArn,
        KeyPolicy: props.keyPolicy,
        Description: props.description,
        Tags: props.tags,
        PendingWindowDays: String(props.pendingWindowDays),
      },
    });
    // The ReplicateKey API reference says only "To use the Tags parameter, kms:TagResource in an IAM policy in the
    // replica Region", not on which resource KMS checks it while the replica is being created: the exact ARN above
    // covers a check on the replica itself, and this covers a check on a key of this Region's account, for a request
    // that carries the lab's own tag only (the Tags the handler passes always include it).
    const labTag = props.tags[LAB_TAG];
    if (labTag === undefined) throw new Error(`LabReplicaKey ${id}: tags must include ${LAB_TAG} (the lab's prefix); given ${JSON.stringify(Object.keys(props.tags))}.`);
    const anyKey = stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' });
    handler.allow(['kms:TagResource'], [anyKey], { StringEquals: { [`aws:RequestTag/${LAB_TAG}`]: labTag } });

    this.keyId = this.resource.getAttString('KeyId');
    this.keyArn = this.resource.getAttString('Arn');

    // After a new primary (a replacement), the old replica's Delete runs under this policy, which names only the
    // new ARN: the replicas this very resource owns (its owner tag) may still be looked at and scheduled.
    handler.allow(['kms:DescribeKey', 'kms:ListResourceTags', 'kms:ScheduleKeyDeletion'], [anyKey], {
      StringEquals: { [`aws:ResourceTag/${MANAGED_BY_TAG}`]: `${stack.stackId}/${stack.getLogicalId(this.resource.node.defaultChild as never)}` },
    });
  }
}

/** One handler per stack serves every replica of it. */
function replicaKeyHandler(stack: Stack, primaryRegion: string): LabHandler {
  const id = 'LabReplicaKeyHandler';
  const existing = stack.node.tryFindChild(id) as LabHandler | undefined;
  if (existing) return existing;
  const handler = new LabHandler(stack, id, {
    handler: 'replica-key',
    description: 'KMS Key Lab: replicates a multi-Region key into this Region, or adopts its replica pending deletion',
    // Creating lasts "a few seconds" (ReplicateKey API): polls are cheap, and ten minutes is far beyond it.
    wait: { queryInterval: Duration.seconds(10), totalTimeout: Duration.minutes(10) },
  });
  // kms:CreateKey (which ReplicateKey needs in the replica Region) is authorized before any key exists: no ARN can name
  // it. The ReplicateKey call itself goes to the primary's Region, and the docs do not say which Region
  // aws:RequestedRegion holds when KMS authorizes its CreateKey half, so both lab Regions and no other.
  handler.allow(['kms:CreateKey'], ['*'], { StringEquals: { 'aws:RequestedRegion': [...new Set([stack.region, primaryRegion])] } });
  acknowledgeWildcardResource(
    handler.function.role!,
    '*',
    'kms:CreateKey takes no resource ARN (the key does not exist yet); ReplicateKey needs it in the replica Region. Every other action names its key.',
  );
  acknowledgeWildcardResource(
    handler.function.role!,
    stack.formatArn({ service: 'kms', resource: 'key', resourceName: '*' }),
    "Only keys whose kms-key-lab:managed-by tag names this stack's replica resources (a replaced replica's Delete runs under the new policy), " +
      "and kms:TagResource only for a request carrying the lab's kms-key-lab:lab tag (ReplicateKey's Tags: the API reference does not say on which key it is checked).",
  );
  return handler;
}
