#!/usr/bin/env node
import * as fs from 'node:fs';
import { setSleepForTests } from '../lambda/shared/transient';
import { TemplateDeployer, TimelineRow } from '../test/lambda/cloudhsm/template-deploy';
import { useWorldClock, World } from '../test/lambda/cloudhsm/world';

/**
 * Scenario (d)'s deploy and teardown, simulated: the synthesized CloudHSM
 * template (path in argv) deployed with its real handlers on the stateful
 * fake, whose states advance with AWS's typical latencies. Prints the
 * timeline, the critical path next to the floor (the steps AWS makes
 * sequential), and the API calls spent while waiting. Run by `npm run bench`.
 */
async function main(): Promise<void> {
  const template = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  process.env.AWS_REGION = 'ap-southeast-1';
  const world = new World().install();
  useWorldClock(world);
  setSleepForTests(async (ms) => world.advance(ms));
  const logs = console.log;
  console.log = () => undefined;
  const deployer = new TemplateDeployer(world, template, 'kms-key-lab-cloudhsm');
  const deploy = await deployer.deploy();
  const destroy = await deployer.destroy();
  console.log = logs;
  if (!deploy.ok || !destroy.ok) throw new Error(`simulation failed: ${deploy.failure ?? destroy.failure}`);

  const min = (ms: number) => `${(ms / 60_000).toFixed(1)} min`;
  const l = world.latency;
  // What AWS makes sequential: the CSR needs an HSM, a second HSM needs an activated cluster, connecting needs two.
  const floor = l.clusterCreate + l.hsmCreate + l.initialize + l.hsmCreate + l.connect;
  const waiting = (rows: TimelineRow[]) => rows.filter((r) => r.polls > 0);
  const deployMs = deploy.endedAt - deploy.startedAt;
  console.log('Scenario (d), simulated on the stateful fake (AWS typical latencies: cluster 5 min, HSM 10 min, initialisation 5 min, connect 20 min)');
  console.log('');
  console.log('  deploy timeline (waiting resources)             start      end   polls  calls while waiting');
  for (const r of waiting(deploy.rows).sort((a, b) => a.start - b.start)) {
    console.log(
      `  ${`${r.type} ${r.logicalId}`.slice(0, 46).padEnd(46)} ${min(r.start - deploy.startedAt).padStart(9)} ${min(r.end - deploy.startedAt).padStart(9)} ${String(r.polls).padStart(6)} ${String(r.callsWhileWaiting).padStart(8)}`,
    );
  }
  const calls = waiting(deploy.rows).reduce((n, r) => n + r.callsWhileWaiting, 0);
  console.log('');
  console.log(`  critical path (deploy to working lab)   ${min(deployMs)}`);
  console.log(`  floor (steps AWS makes sequential)      ${min(floor)}`);
  console.log(`  ratio critical path / floor             ${(deployMs / floor).toFixed(2)}x`);
  console.log(`  API calls while waiting (deploy)        ${calls} (${(calls / (deployMs / 60_000)).toFixed(1)} a minute)`);
  const hsmsGone = Math.max(...destroy.rows.filter((r) => r.type === 'Custom::CloudHsmHsm').map((r) => r.end));
  console.log(`  teardown until no HSM bills             ${min(hsmsGone - destroy.startedAt)}`);
  console.log(`  teardown, whole stack                   ${min(destroy.endedAt - destroy.startedAt)}`);
  console.log(`  API calls while waiting (teardown)      ${waiting(destroy.rows).reduce((n, r) => n + r.callsWhileWaiting, 0)}`);
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
