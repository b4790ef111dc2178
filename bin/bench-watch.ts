#!/usr/bin/env node
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CloudFormationClient } from '@aws-sdk/client-cloudformation';
import { KMSClient } from '@aws-sdk/client-kms';
import { mockClient } from 'aws-sdk-client-mock';
import { onSchedule, setSleepForTests, WatchInput } from '../lambda/deletion-watch/index';
import { FakeCloudFormation, stackIdOf } from '../test/lambda/deletion-watch/fake-cloudformation';
import { FakeKms } from '../test/lambda/deletion-watch/fake-kms';

/**
 * The alarm stacks after a teardown, simulated: each synthesized alarm
 * template's watch (its rule's input and schedule) run against a stateful
 * fake of CloudFormation and KMS on a simulated clock, from the deploy,
 * through a teardown two hours later, until the watch deletes its own stack.
 * KMS deletes each key on its deletion date; a multi-Region primary gets its
 * date once its replica is gone. Prints, per Region, when the last lab key
 * is gone, when the watch ends, the runs and the API calls it spent. Run by `npm run bench`
 * with the directory of a synth that has the alarm stacks.
 */
const HOUR = 60 * 60 * 1000;
const DAY = 24 * HOUR;
const MINUTE = 60 * 1000;

interface Template {
  Resources: Record<string, { Type: string; Properties: Record<string, any> }>;
}

/** The rule's rate and its input, with the stack id CloudFormation would put in. */
function watchOf(template: Template, stackId: string): { everyMs: number; input: WatchInput } {
  const rule = Object.values(template.Resources).find((r) => r.Type === 'AWS::Events::Rule');
  if (!rule) throw new Error('no watch rule in the alarm template');
  const rate = /^rate\((\d+) hours?\)$/.exec(rule.Properties.ScheduleExpression);
  if (!rate) throw new Error(`unexpected schedule ${rule.Properties.ScheduleExpression}`);
  const parts = rule.Properties.Targets[0].Input['Fn::Join'][1] as unknown[];
  const text = parts.map((p) => (typeof p === 'string' ? p : stackId)).join('');
  return { everyMs: Number(rate[1]) * HOUR, input: JSON.parse(text) };
}

async function simulate(dir: string, where: 'primary' | 'secondary', region: string): Promise<void> {
  const template: Template = JSON.parse(fs.readFileSync(path.join(dir, `kms-key-lab-alarm-${where}.template.json`), 'utf8'));
  const watchName = `kms-key-lab-alarm-${where}`;
  const { everyMs, input } = watchOf(template, stackIdOf(region, watchName));
  const window = input.pendingWindowDays * DAY;

  // The deploy at t0 and a teardown two hours later, in kms-lab teardown's order: cloudhsm, secondary, primary.
  const t0 = Date.parse('2030-01-01T00:00:00Z');
  const deletedAt: Record<string, number> = {
    'kms-key-lab-cloudhsm': t0 + 2 * HOUR,
    'kms-key-lab-secondary': t0 + 2 * HOUR + 15 * MINUTE,
    'kms-key-lab-primary': t0 + 2 * HOUR + 25 * MINUTE,
  };
  // When KMS deletes the Region's last lab key: a multi-Region primary's window starts once its replicas are gone.
  const replicasGone = deletedAt['kms-key-lab-secondary'] + window;
  const lastKeyGone =
    where === 'secondary'
      ? deletedAt['kms-key-lab-secondary'] + window
      : Math.max(deletedAt['kms-key-lab-primary'] + window, deletedAt['kms-key-lab-cloudhsm'] + window, replicasGone + window);

  let now = t0;
  const realNow = Date.now;
  Date.now = () => now;
  const world = new FakeCloudFormation(region, 100);
  world.add(watchName, 'CREATE_COMPLETE', { created: new Date(t0) });
  for (const name of input.keyStackNames) world.add(name, 'CREATE_COMPLETE', { created: new Date(t0 + 5 * MINUTE) });
  world.add('some-other-app', 'UPDATE_COMPLETE');
  const cfn = mockClient(CloudFormationClient);
  world.install(cfn);

  // The lab's keys of the Region, each scheduled when its stack is deleted, and three keys of someone else.
  const kms = new FakeKms(region, 1000, 50);
  const labKeys: { id: string; stack: string; waitsForReplica?: boolean }[] =
    where === 'secondary'
      ? ['a', 'b-replica', 'e-replica'].map((id) => ({ id, stack: 'kms-key-lab-secondary' }))
      : [
          { id: 'a', stack: 'kms-key-lab-primary' },
          { id: 'c', stack: 'kms-key-lab-primary' },
          { id: 'b-primary', stack: 'kms-key-lab-primary', waitsForReplica: true },
          { id: 'e-primary', stack: 'kms-key-lab-primary', waitsForReplica: true },
          { id: 'd', stack: 'kms-key-lab-cloudhsm' },
        ];
  for (const k of labKeys) kms.lab(k.id, 'Enabled');
  for (const id of ['app-1', 'app-2', 'app-3']) kms.foreign(id, 'Enabled');
  const kmsMock = mockClient(KMSClient);
  kms.install(kmsMock);
  const advanceKeys = () => {
    for (const k of labKeys) {
      if (!kms.keys.some((x) => x.keyId === k.id)) continue;
      const key = kms.key(k.id);
      if (key.state === 'Enabled' && deletedAt[k.stack] <= now) {
        key.state = k.waitsForReplica ? 'PendingReplicaDeletion' : 'PendingDeletion';
        key.deletionDate = k.waitsForReplica ? undefined : new Date(deletedAt[k.stack] + window);
      }
      if (key.state === 'PendingReplicaDeletion' && replicasGone <= now) {
        key.state = 'PendingDeletion';
        key.deletionDate = new Date(replicasGone + window);
      }
      if (key.deletionDate && key.deletionDate.getTime() <= now) kms.remove(k.id);
    }
  };
  const logs = console.log;
  console.log = () => undefined;
  let runs = 0;
  let endedAt: number | undefined;
  try {
    for (let tick = t0 + everyMs; endedAt === undefined && tick < t0 + 120 * DAY; tick += everyMs) {
      now = tick;
      for (const s of world.stacks) {
        const at = deletedAt[s.StackName ?? ''];
        if (at !== undefined && at <= now && s.StackStatus !== 'DELETE_COMPLETE') Object.assign(s, { StackStatus: 'DELETE_COMPLETE', DeletionTime: new Date(at) });
      }
      advanceKeys();
      runs++;
      const report = await onSchedule(input);
      if (report.kind === 'end') endedAt = now;
    }
  } finally {
    console.log = logs;
    Date.now = realNow;
    cfn.restore();
    kmsMock.restore();
  }
  if (endedAt === undefined) throw new Error(`the ${where} watch never ended`);
  const lastStack = Math.max(...input.keyStackNames.map((n) => deletedAt[n] ?? 0));
  const days = (ms: number) => `${(ms / DAY).toFixed(2)} d`;
  const hours = (ms: number) => `${(ms / HOUR).toFixed(1)} h`;
  console.log(
    `  ${where.padEnd(9)} ${days(lastKeyGone - lastStack).padStart(8)} ${days(endedAt - lastStack).padStart(9)} ${hours(endedAt - lastKeyGone).padStart(9)} ${String(runs).padStart(5)} ${String(cfn.calls().length).padStart(6)} ${String(kmsMock.calls().length).padStart(5)}`,
  );
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  setSleepForTests(async () => undefined);
  console.log('Alarm stacks after a teardown, simulated (window from the synthesized input; every run of the rule until the stack deletes itself)');
  console.log('');
  console.log('  Region    last key gone  watch ends   after last key  runs  CloudFormation  KMS calls   (days from the last key stack deletion)');
  await simulate(dir, 'primary', 'ap-southeast-1');
  await simulate(dir, 'secondary', 'ap-southeast-2');
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
