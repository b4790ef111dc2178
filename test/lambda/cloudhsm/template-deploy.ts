import type { Context } from 'aws-lambda';
import * as activate from '../../../lambda/cloudhsm-activate/index';
import * as check from '../../../lambda/cloudhsm-check/index';
import * as hsm from '../../../lambda/cloudhsm-hsm/index';
import * as init from '../../../lambda/cloudhsm-init/index';
import * as store from '../../../lambda/custom-key-store/index';
import * as key from '../../../lambda/hsm-key/index';
import * as expiry from '../../../lambda/lab-expiry/index';
import { EngineWorld, LifecycleHandler, Modelled, ResourceRequest, StackEngine, Template } from '../../deploy/stack-engine';
import { bootstrapParameter } from '../../deploy/bootstrap';
import { lambdaContext } from './provider';
import { ACCOUNT, MINUTE, REGION, SECOND, World } from './world';

export type { DeployResult, TimelineRow } from '../../deploy/stack-engine';

/**
 * The CloudHSM stack on the fake CloudHSM world, through the one deploy
 * engine (test/deploy/stack-engine.ts): its custom resources run their real
 * handlers, AWS::CloudHSM::Cluster, the subnets and the instance are made in
 * the world. The rest (roles, functions, the network around the subnets) is
 * taken as ready after a typical few seconds.
 */

export const CLOUDHSM_HANDLERS: Record<string, LifecycleHandler> = {
  'Custom::CloudHsmHsm': hsm,
  'Custom::CloudHsmInitialization': init,
  'Custom::CloudHsmActivation': activate,
  'Custom::KmsUserSetupCheck': check,
  'Custom::KmsCustomKeyStore': store,
  'Custom::CloudHsmKey': key,
  'Custom::LabExpiry': expiry,
};

/** Typical creation times of what the world does not model; not measured, only so the timeline has them. */
export const TYPICAL_MS: Record<string, number> = {
  'AWS::EC2::NatGateway': 2 * MINUTE,
  'AWS::EC2::Instance': 1 * MINUTE,
  'AWS::Lambda::Function': 10 * SECOND,
  'AWS::IAM::Role': 5 * SECOND,
  'AWS::StepFunctions::StateMachine': 5 * SECOND,
};
const OTHER_MS = 2 * SECOND;

/** The CloudHSM world as the deploy engine sees it. */
export function cloudHsmEngineWorld(world: World): EngineWorld {
  return {
    get now() {
      return world.now;
    },
    advance: (ms) => world.advance(ms),
    callCount: (since, until) => world.calls({ since, until }).length,
    handler: (type) => CLOUDHSM_HANDLERS[type],
    // The world's clients all answer as one caller in its one Region.
    invoke: <T>(lambda: { timeoutMs: number }, call: (context: Context) => Promise<T>) => call(lambdaContext(world, lambda.timeoutMs)),
    create: (r) => createModelled(world, r),
    ssmParameter: (name) => bootstrapParameter(name),
    delete: (r) => {
      if (r.type === 'AWS::CloudHSM::Cluster' && r.physicalId) world.deleteCluster({ ClusterId: r.physicalId });
      return TYPICAL_MS[r.type] ?? OTHER_MS;
    },
  };
}

export function createModelled(world: World, r: ResourceRequest): Modelled {
  const readyInMs = TYPICAL_MS[r.type] ?? OTHER_MS;
  const props = r.properties;
  if (r.type === 'AWS::EC2::Subnet') return { physicalId: world.addSubnet(props.AvailabilityZone).subnetId, readyInMs };
  if (r.type === 'AWS::CloudHSM::Cluster') {
    const { Cluster } = world.createCluster({ SubnetIds: props.SubnetIds, HsmType: props.HsmType });
    const id = Cluster.ClusterId!;
    return {
      physicalId: id,
      attributes: { ClusterId: id, SecurityGroup: `sg-${id}`, Arn: `arn:aws:cloudhsm:${REGION}:${ACCOUNT}:cluster/${id}` },
      readyInMs: world.latency.clusterCreate,
    };
  }
  if (r.type === 'AWS::EC2::Instance') return { physicalId: world.launchInstance().instanceId, readyInMs };
  // Roles, functions, the network around the subnets: not modelled, only ready.
  return {
    physicalId: `${r.logicalId}-physical`,
    attributes: { Arn: `arn:aws:fake:${REGION}:${ACCOUNT}:${r.logicalId}` },
    otherAttribute: (name) => `arn:aws:fake:${REGION}:${ACCOUNT}:${r.logicalId}/${name}`,
    readyInMs,
  };
}

/** The synthesized CloudHSM stack deployed on the CloudHSM world. */
export class TemplateDeployer extends StackEngine {
  constructor(world: World, template: Template | never, stackName: string) {
    super(cloudHsmEngineWorld(world), template as Template, { stackName, account: ACCOUNT, region: REGION });
  }
}
