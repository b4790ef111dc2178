import { CfnOutput, Stack, StackProps } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { LAB_TAG } from '../common/lab-tags';
import { LabConfig } from '../config/lab-config';
import { DeletionWatch } from '../monitoring/deletion-watch';
import { PendingDeletionAlarm } from '../monitoring/pending-deletion-alarm';

export interface DeletionAlarmStackProps extends StackProps {
  readonly config: LabConfig;
  /** The lab's key stacks in this stack's Region, which the alarm outlives. */
  readonly keyStackNames: readonly string[];
  /** Whether the Region holds the multi-Region primaries, which wait for their replicas' deletion before their own window. */
  readonly holdsMultiRegionPrimaries: boolean;
}

/**
 * The opt-in alarm on use of a key pending deletion, in one Region, in a stack
 * of its own: teardown schedules the keys for deletion, and the alarm is for
 * the window that follows, so it must outlive the key stacks. It deletes
 * itself once that window has passed (see {@link DeletionWatch}); deleting it
 * earlier ends the watch.
 */
export class DeletionAlarmStack extends Stack {
  readonly alarm: PendingDeletionAlarm;
  readonly watch: DeletionWatch;

  constructor(scope: Construct, id: string, props: DeletionAlarmStackProps) {
    super(scope, id, props);
    const c = props.config;
    this.alarm = new PendingDeletionAlarm(this, 'PendingDeletionAlarm', { prefix: c.prefix, email: c.deletionAlarm?.email });
    this.alarm.addOutputs(this);
    const replicaPendingWindowDays = props.holdsMultiRegionPrimaries ? c.pendingWindowDays : 0;
    this.watch = new DeletionWatch(this, 'Watch', {
      keyStackNames: props.keyStackNames,
      pendingWindowDays: c.pendingWindowDays,
      replicaPendingWindowDays,
      labTag: { key: LAB_TAG, value: c.prefix },
      failureTopic: this.alarm.topic,
    });
    // Deleted last, after the bucket: a self-deletion that stops at the bucket (a file delivered late, say) leaves
    // the watch, its failure alarm and the topic in place, to ask again and to say so.
    this.alarm.bucket.node.addDependency(this.watch);
    this.alarm.allowToPublish(this.watch.failureAlarm, 'AllowTheWatchFailureAlarmToPublish');
    new CfnOutput(this, 'PendingDeletionWatchedStacks', {
      value: props.keyStackNames.join(','),
      description: `Alarm on use of a key pending deletion: the key stacks it outlives; the stack deletes itself ${replicaPendingWindowDays + c.pendingWindowDays + 1} days after the last of them is deleted`,
    });
  }
}
