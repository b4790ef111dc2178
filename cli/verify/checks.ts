import { AwsClients } from '../aws/clients';
import { CallContext } from '../errors';
import { findKey, KeySpec, KEY_SPECS, LabDeployment, LabKey, missingOutputsMessage } from '../lab-stacks';
import { LabSettings } from '../settings';
import { envelopeError, envelopeProblem, envelopeRoundTrip, envelopeSample, KeyringKms, mrkKeyring } from './envelope';
import { optionalPackages } from '../aws/clients';
import { assumeRole, decrypt, describeKeyMaterial, describeKeyStore, encrypt, getKeyPolicy, principalsAllowed, SAMPLE_PLAINTEXT, simulateScheduleDeletion, VERIFY_CONTEXT } from './kms-probes';
import {
  judgeCrossRegionDecrypt,
  judgeCrossRegionRefusal,
  judgeDenied,
  judgeHoldsMaterial,
  judgeKeyStore,
  judgeRoundTrip,
  judgeSimulatedDenial,
  keyIdOf,
  Outcome,
} from './outcomes';
import { CheckScenario } from './report';

/** A check before it runs: how to run it, or why it is skipped or failed without running. */
export interface PlannedCheck {
  readonly scenario: CheckScenario;
  readonly check: string;
  readonly region: string;
  readonly keyId: string;
  readonly run?: () => Promise<Outcome>;
  readonly skip?: string;
  readonly fail?: string;
}

export interface VerifyOptions {
  readonly scenarios: readonly CheckScenario[];
  readonly adminRoleArn?: string;
  readonly userRoleArn?: string;
}

interface Lab {
  readonly clients: AwsClients;
  readonly settings: LabSettings;
  readonly deployment: LabDeployment;
}

const spec = (scenario: KeySpec['scenario'], where: KeySpec['where']) => KEY_SPECS.find((s) => s.scenario === scenario && s.where === where)!;

/**
 * Resolves a key for a check: the check runs with it, or fails naming the
 * outputs its stack lacks, or is skipped when the stack is not deployed.
 */
function withKey(
  lab: Lab,
  base: Omit<PlannedCheck, 'keyId' | 'run' | 'skip' | 'fail' | 'region'> & { region?: string },
  keySpec: KeySpec,
  run: (key: LabKey) => Promise<Outcome>,
): PlannedCheck {
  const found = findKey(lab.deployment, keySpec);
  const region = base.region ?? (keySpec.where === 'primary' ? lab.settings.primaryRegion : lab.settings.secondaryRegion);
  if (!found) {
    const stackName = `${lab.settings.prefix}-${keySpec.stack}`;
    if (keySpec.optional && lab.deployment[keySpec.stack]) {
      return {
        ...base,
        region,
        keyId: '',
        skip: `the stack ${stackName} has no outputs of scenario (${keySpec.scenario}): it was deployed with -c multiRegionImportedKey=false, or before (${keySpec.scenario}) was added (deploy again to add it)`,
      };
    }
    const optIn = keySpec.stack === 'cloudhsm' ? ' (scenario (d) is opt-in: `npx cdk deploy --all -c cloudHsm=true`)' : '';
    return { ...base, region, keyId: '', skip: `the stack ${stackName} is not deployed${optIn}` };
  }
  if ('missing' in found) return { ...base, region, keyId: '', fail: missingOutputsMessage(found.stack, found.missing) };
  return { ...base, region: base.region ?? found.key.region, keyId: found.key.keyArn, run: () => run(found.key) };
}

/** Encrypt by alias (as applications do), then Decrypt pinned to the key the stack says it is. */
async function roundTrip(lab: Lab, key: LabKey): Promise<Outcome> {
  const kms = lab.clients.kms(key.region);
  const sealed = await encrypt(kms, key.region, key.alias, SAMPLE_PLAINTEXT, key.keyArn);
  const trip = { expectedKeyArn: key.keyArn, encryptedWith: key.alias, plaintext: SAMPLE_PLAINTEXT, encryptKeyId: sealed.keyId };
  // A repointed alias is the finding; Decrypt pinned to the stack's key would only refuse with a less telling error.
  if (sealed.keyId !== key.keyArn) return judgeRoundTrip(trip);
  const opened = await decrypt(kms, key.region, key.keyArn, sealed.ciphertext);
  return judgeRoundTrip({ ...trip, decrypted: opened.plaintext, decryptKeyId: opened.keyId });
}

/** Encrypts under one of a multi-Region pair and decrypts under the other: primary to replica, or back when `reverse`. */
async function crossRegionDecrypt(lab: Lab, p: LabKey, r: LabKey, reverse: boolean): Promise<Outcome> {
  const [from, to] = reverse ? [r, p] : [p, r];
  const sealed = await encrypt(lab.clients.kms(from.region), from.region, from.keyArn, SAMPLE_PLAINTEXT);
  const opened = await decrypt(lab.clients.kms(to.region), to.region, to.keyArn, sealed.ciphertext);
  return judgeCrossRegionDecrypt({
    primaryKeyArn: p.keyArn,
    replicaKeyArn: r.keyArn,
    plaintext: SAMPLE_PLAINTEXT,
    decrypted: opened.plaintext,
    decryptKeyId: opened.keyId,
    primaryRegion: lab.settings.primaryRegion,
    secondaryRegion: lab.settings.secondaryRegion,
    reverse,
  });
}

function roundTripCheck(lab: Lab, keySpec: KeySpec): PlannedCheck {
  return withKey(lab, { scenario: keySpec.scenario, check: `encrypt-decrypt:${keySpec.where}` }, keySpec, (key) => roundTrip(lab, key));
}

function scenarioA(lab: Lab): PlannedCheck[] {
  const primary = spec('a', 'primary');
  const secondary = spec('a', 'secondary');
  const refused = withKey(lab, { scenario: 'a', check: 'cross-region-refused', region: lab.settings.secondaryRegion }, primary, async (key) => {
    const { primaryRegion, secondaryRegion } = lab.settings;
    const sealed = await encrypt(lab.clients.kms(primaryRegion), primaryRegion, key.keyArn, SAMPLE_PLAINTEXT);
    // The same alias in the secondary Region names that Region's own key, which must not open the primary's ciphertext.
    const call: CallContext = { operation: 'Decrypt', region: secondaryRegion, resource: key.alias };
    try {
      await decrypt(lab.clients.kms(secondaryRegion), secondaryRegion, key.alias, sealed.ciphertext);
      return judgeCrossRegionRefusal({ call, primaryRegion, secondaryRegion });
    } catch (error) {
      return judgeCrossRegionRefusal({ error, call, primaryRegion, secondaryRegion });
    }
  });
  return [roundTripCheck(lab, primary), roundTripCheck(lab, secondary), refused];
}

function scenarioB(lab: Lab): PlannedCheck[] {
  const primary = spec('b', 'primary');
  const replica = findKey(lab.deployment, spec('b', 'secondary'));
  const { secondaryRegion } = lab.settings;
  const acrossRegions = (check: string, run: (p: LabKey, r: LabKey) => Promise<Outcome>): PlannedCheck =>
    withKey(lab, { scenario: 'b', check, region: secondaryRegion }, primary, async (p) => {
      if (!replica || !('key' in replica)) return { result: 'FAIL', detail: 'the replica has no outputs in the secondary stack' };
      return run(p, replica.key);
    });

  const crossRegion = acrossRegions('cross-region-decrypt', (p, r) => crossRegionDecrypt(lab, p, r, false));

  const envelope = acrossRegions('envelope-64k', async (p, r) => {
    const sent = envelopeSample();
    const context = { ...VERIFY_CONTEXT, lab: lab.settings.prefix };
    const sealing = new KeyringKms(lab.clients.kms(p.region), p.region);
    const opening = new KeyringKms(lab.clients.kms(r.region), r.region);
    const result = await envelopeRoundTrip({
      encryptWith: mrkKeyring(p.keyArn, sealing),
      decryptWith: mrkKeyring(r.keyArn, opening),
      plaintext: sent,
      encryptionContext: context,
    }).catch((error: unknown) => {
      throw envelopeError(error, [sealing, opening]);
    });
    const problem = envelopeProblem({ sent, context, result });
    if (problem) return { result: 'FAIL', detail: problem };
    return {
      result: 'PASS',
      detail: `${sent.length} bytes sealed with the Encryption SDK in ${p.region} under ${keyIdOf(p.keyArn)}, opened in ${r.region} with the replica (${result.ciphertextBytes} bytes of message)`,
    };
  });

  return [roundTripCheck(lab, primary), roundTripCheck(lab, spec('b', 'secondary')), crossRegion, envelope];
}

/**
 * Scenario (e), a multi-Region key with imported material: both keys hold
 * it (a replica is PendingImport until its own import), each works in its
 * Region, and either decrypts what the other encrypted. A key found without
 * material fails its own check; the checks that need it then say so instead
 * of failing again on KMS's less telling KMSInvalidStateException.
 */
function scenarioE(lab: Lab): PlannedCheck[] {
  const primarySpec = spec('e', 'primary');
  const replicaSpec = spec('e', 'secondary');
  const replica = findKey(lab.deployment, replicaSpec);
  const { primaryRegion, secondaryRegion } = lab.settings;
  const withoutMaterial = new Map<string, string>();
  // Not in this lab at all: one row says why, as for (d), rather than six.
  if (!findKey(lab.deployment, primarySpec)) return [withKey(lab, { scenario: 'e', check: 'holds-material:primary' }, primarySpec, async () => ({ result: 'FAIL', detail: 'unreachable' }))];

  const holds = (keySpec: KeySpec) =>
    withKey(lab, { scenario: 'e', check: `holds-material:${keySpec.where}` }, keySpec, async (key) => {
      const found = await describeKeyMaterial(lab.clients.kms(key.region), key.region, key.keyArn);
      const outcome = judgeHoldsMaterial({
        keyArn: key.keyArn,
        region: key.region,
        replica: keySpec.where === 'secondary',
        ...found,
        stackName: `${lab.settings.prefix}-${keySpec.stack}`,
        prefix: lab.settings.prefix,
      });
      if (outcome.result === 'FAIL') withoutMaterial.set(key.keyArn, `holds-material:${keySpec.where}`);
      return outcome;
    });
  const needsMaterial = (keys: readonly LabKey[], run: () => Promise<Outcome>): Promise<Outcome> => {
    const missing = keys.find((k) => withoutMaterial.has(k.keyArn));
    if (missing) return Promise.resolve({ result: 'FAIL', detail: `not run: ${missing.keyArn} cannot be used (see ${withoutMaterial.get(missing.keyArn)})` });
    return run();
  };
  const roundTripE = (keySpec: KeySpec) =>
    withKey(lab, { scenario: 'e', check: `encrypt-decrypt:${keySpec.where}` }, keySpec, (key) => needsMaterial([key], () => roundTrip(lab, key)));
  const acrossRegions = (check: string, reverse: boolean) => {
    const base = { scenario: 'e' as const, check, region: reverse ? primaryRegion : secondaryRegion };
    // No replica to use: the same SKIP or FAIL as the replica's own checks, with the same reason.
    if (!replica || !('key' in replica)) return withKey(lab, base, replicaSpec, async () => ({ result: 'FAIL', detail: 'unreachable' }));
    const r = replica.key;
    return withKey(lab, base, primarySpec, async (p) => {
      return needsMaterial([p, r], async () => {
        return crossRegionDecrypt(lab, p, r, reverse);
      });
    });
  };

  return [
    holds(primarySpec),
    holds(replicaSpec),
    roundTripE(primarySpec),
    roundTripE(replicaSpec),
    acrossRegions('cross-region-decrypt', false),
    acrossRegions('cross-region-decrypt:reverse', true),
  ];
}

function scenarioD(lab: Lab): PlannedCheck[] {
  const keySpec = spec('d', 'primary');
  return [
    withKey(lab, { scenario: 'd', check: 'encrypt-decrypt:primary' }, keySpec, async (key) => {
      const storeId = lab.deployment.cloudhsm?.outputs.CustomKeyStoreId;
      if (storeId) {
        const notConnected = judgeKeyStore(await describeKeyStore(lab.clients.kms(key.region), key.region, storeId));
        if (notConnected) return notConnected;
      }
      return roundTrip(lab, key);
    }),
  ];
}

function grant(lab: Lab): PlannedCheck[] {
  const roleArn = lab.deployment.primary?.outputs.ApplicationRoleArn;
  return [
    withKey(lab, { scenario: 'grant', check: 'grant-encrypt-decrypt' }, spec('a', 'primary'), async (key) => {
      if (!roleArn) return { result: 'FAIL', detail: `the stack ${lab.settings.prefix}-primary has no output ApplicationRoleArn` };
      const credentials = await assumeRole(lab.clients, key.region, roleArn);
      // By ARN: no key or IAM policy names the role, so the grant is the only thing that lets it in.
      const kms = lab.clients.kms(key.region, credentials);
      const sealed = await encrypt(kms, key.region, key.keyArn, SAMPLE_PLAINTEXT);
      const opened = await decrypt(kms, key.region, key.keyArn, sealed.ciphertext);
      const outcome = judgeRoundTrip({
        expectedKeyArn: key.keyArn,
        encryptedWith: key.keyArn,
        plaintext: SAMPLE_PLAINTEXT,
        encryptKeyId: sealed.keyId,
        decrypted: opened.plaintext,
        decryptKeyId: opened.keyId,
      });
      return outcome.result === 'PASS' ? { result: 'PASS', detail: `${roleArn} encrypted and decrypted with ${keyIdOf(key.keyArn)} through its grant` } : outcome;
    }),
  ];
}

/**
 * What makes a role the key's administrator or user in its key policy: an
 * Allow of a lifecycle action for the one, of Encrypt for the other.
 */
const POLICY_ROLES = {
  administrator: { action: 'kms:ScheduleKeyDeletion', option: '--admin-role', setting: 'keyAdminArns', article: 'an' },
  'key user': { action: 'kms:Encrypt', option: '--user-role', setting: 'keyUserArns', article: 'a' },
} as const;

/**
 * A policy check proves something only about a role the key policy names:
 * Encrypt or ScheduleKeyDeletion denied to a role it does not name is denied
 * by default, whatever the policy says of the key's real administrators and
 * users. Such a role (the lab's own, kept by the roles stack while the lab
 * was deployed with keyAdminArns or keyUserArns that kms-lab was not told, or
 * a mistyped --admin-role) makes the check SKIP, naming the principals the
 * key policy does name: nothing is wrong with the key, only with what
 * verify was asked to test.
 */
function notNamed(keyPolicy: string, key: LabKey, roleArn: string, as: keyof typeof POLICY_ROLES): Outcome | undefined {
  const { action, option, setting, article } = POLICY_ROLES[as];
  const named = principalsAllowed(keyPolicy, action);
  if (named.includes(roleArn)) return undefined;
  const instead = named.length > 0 ? `it names ${named.join(', ')}: pass ${option} <one of them> to check it` : `it names no ${as} but the account root, so there is no ${as} to check`;
  return {
    result: 'SKIP',
    detail:
      `the key policy of ${keyIdOf(key.keyArn)} does not name ${roleArn} as ${article} ${as} (no Allow of ${action}), so a denial to it would prove nothing; ${instead} ` +
      `(if the lab was deployed with ${setting}, tell kms-lab the same ${setting} in cdk.json or with -c)`,
  };
}

function policy(lab: Lab, options: VerifyOptions): PlannedCheck[] {
  const keySpec = spec('a', 'primary');
  const admin = withKey(lab, { scenario: 'policy', check: 'admin-denied-encrypt' }, keySpec, async (key) => {
    const unnamed = notNamed(await getKeyPolicy(lab.clients, key.region, key.keyArn), key, options.adminRoleArn!, 'administrator');
    if (unnamed) return unnamed;
    const credentials = await assumeRole(lab.clients, key.region, options.adminRoleArn!);
    const call: CallContext = { operation: 'Encrypt', region: key.region, resource: key.keyArn };
    try {
      await encrypt(lab.clients.kms(key.region, credentials), key.region, key.keyArn, SAMPLE_PLAINTEXT);
      return judgeDenied({ call, who: `the administrator ${options.adminRoleArn}` });
    } catch (error) {
      return judgeDenied({ error, call, who: `the administrator ${options.adminRoleArn}` });
    }
  });
  // Never a real ScheduleKeyDeletion, which would put a lab key on the way out should the policy let it through: IAM's simulator judges it.
  const user = withKey(lab, { scenario: 'policy', check: 'user-denied-schedule-deletion' }, keySpec, async (key) => {
    const keyPolicy = await getKeyPolicy(lab.clients, key.region, key.keyArn);
    const unnamed = notNamed(keyPolicy, key, options.userRoleArn!, 'key user');
    if (unnamed) return unnamed;
    const simulated = await simulateScheduleDeletion(lab.clients, key.region, options.userRoleArn!, key.keyArn, keyPolicy);
    if (!simulated) return { result: 'FAIL', detail: 'the @aws-sdk/client-iam package could not be loaded' };
    return judgeSimulatedDenial({ ...simulated, who: `the key user ${options.userRoleArn}`, action: 'kms:ScheduleKeyDeletion' });
  });
  const skipped = (check: PlannedCheck, why: string): PlannedCheck =>
    check.run ? { scenario: check.scenario, check: check.check, region: check.region, keyId: check.keyId, skip: why } : check;
  const noRole = (option: string, setting: 'keyAdminArns' | 'keyUserArns') => {
    const listed = (lab.settings[setting] ?? []).length > 0;
    const why = listed
      ? `${setting} names the lab's principals, so the lab made no role of its own`
      : lab.deployment.roles
        ? `the stack ${lab.deployment.roles.name} has no output ${setting === 'keyAdminArns' ? 'KeyAdminRoleArn' : 'KeyUserRoleArn'}`
        : `the stack ${lab.settings.prefix}-roles, which holds the lab's own roles when ${setting} is empty, is not deployed`;
    return `pass ${option} <role ARN> to check it (${why})`;
  };
  const userCheck = !options.userRoleArn
    ? skipped(user, noRole('--user-role', 'keyUserArns'))
    : optionalPackages.iam()
      ? user
      : skipped(
          user,
          'the @aws-sdk/client-iam package is not installed, so IAM\'s policy simulator cannot be asked; the check never schedules a real deletion instead (install it with `npm install @aws-sdk/client-iam`)',
        );
  return [options.adminRoleArn ? admin : skipped(admin, noRole('--admin-role', 'keyAdminArns')), userCheck];
}

/** Every check of the selected scenarios, in the order they run and are reported. */
export function planChecks(lab: Lab, options: VerifyOptions): PlannedCheck[] {
  const builders: Record<CheckScenario, () => PlannedCheck[]> = {
    a: () => scenarioA(lab),
    b: () => scenarioB(lab),
    c: () => [roundTripCheck(lab, spec('c', 'primary'))],
    d: () => scenarioD(lab),
    e: () => scenarioE(lab),
    grant: () => grant(lab),
    policy: () => policy(lab, options),
  };
  return options.scenarios.flatMap((s) => builders[s]());
}
