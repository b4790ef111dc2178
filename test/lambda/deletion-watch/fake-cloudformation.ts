import { DeleteStackCommand, DescribeStacksCommand, ListStacksCommand, ListStacksCommandInput, StackSummary } from '@aws-sdk/client-cloudformation';
import { mockClient } from 'aws-sdk-client-mock';

const DAY = 24 * 60 * 60 * 1000;

/** A stack id as CloudFormation writes it; `n` tells apart stacks that had the same name. */
export const stackIdOf = (region: string, name: string, n = 1) => `arn:aws:cloudformation:${region}:111111111111:stack/${name}/0000000${n}-3a1f-11f0-9d3e-0a1b2c3d4e5f`;

export const named = (name: string, message = name) => Object.assign(new Error(message), { name });

/** The few CloudFormation calls the function makes, over a list of stacks that keeps its state between calls. */
export class FakeCloudFormation {
  /** Pages of two by default, so that tests read several; ListStacks answers up to 100 a page. */
  constructor(readonly region = 'eu-west-1', readonly pageSize = 2) {}

  readonly stacks: StackSummary[] = [];
  /** Each stack's CloudFormation service role (DescribeStacks' RoleARN), by stack id; absent for a stack deployed without one. */
  readonly roles = new Map<string, string>();
  private failures: { command: string; error: () => Error; times: number }[] = [];

  /**
   * A stack, deployed as `cdk deploy` does with the bootstrap's cfn-exec role as its service role, unless `role` is
   * null (deployed without one) or another role ARN.
   */
  add(name: string, status: string, times: { created?: Date; deleted?: Date; n?: number; role?: string | null; reason?: string } = {}): this {
    const id = stackIdOf(this.region, name, times.n);
    const role = times.role === undefined ? `arn:aws:iam::111111111111:role/cdk-hnb659fds-cfn-exec-role-111111111111-${this.region}` : times.role;
    if (role !== null) this.roles.set(id, role);
    this.stacks.push({
      StackId: id,
      StackStatusReason: times.reason,
      StackName: name,
      StackStatus: status as StackSummary['StackStatus'],
      CreationTime: times.created ?? new Date(Date.now() - 40 * DAY),
      DeletionTime: times.deleted,
    });
    return this;
  }

  /** The next `times` calls of a command fail with the error. */
  fail(command: string, error: () => Error, times = Number.POSITIVE_INFINITY): this {
    this.failures.push({ command, error, times });
    return this;
  }

  install(mock: ReturnType<typeof mockClient>): void {
    mock.on(DescribeStacksCommand).callsFake((input: { StackName: string }) => {
      this.maybeFail('DescribeStacks');
      const stack = this.stacks.find((s) => s.StackId === input.StackName);
      if (!stack) throw named('ValidationError', `Stack with id ${input.StackName} does not exist`);
      return { Stacks: [{ ...stack, RoleARN: this.roles.get(stack.StackId!) }] };
    });
    mock.on(ListStacksCommand).callsFake((input: ListStacksCommandInput) => {
      this.maybeFail('ListStacks');
      const from = input.NextToken ? Number(input.NextToken.replace('page-', '')) : 0;
      const next = from + this.pageSize;
      return { StackSummaries: this.stacks.slice(from, next).map((s) => ({ ...s })), NextToken: next < this.stacks.length ? `page-${next}` : undefined };
    });
    mock.on(DeleteStackCommand).callsFake((input: { StackName: string }) => {
      this.maybeFail('DeleteStack');
      const stack = this.stacks.find((s) => s.StackId === input.StackName);
      if (!stack) throw named('ValidationError', `Stack with id ${input.StackName} does not exist`);
      // DeleteStack of a stack in DELETE_FAILED retries the deletion.
      if (stack.StackStatus !== 'DELETE_COMPLETE') Object.assign(stack, { StackStatus: 'DELETE_IN_PROGRESS', StackStatusReason: undefined });
      return {};
    });
  }

  status(id: string): string | undefined {
    return this.stacks.find((s) => s.StackId === id)?.StackStatus;
  }

  private maybeFail(command: string): void {
    const f = this.failures.find((x) => x.command === command && x.times > 0);
    if (!f) return;
    f.times--;
    throw f.error();
  }
}
