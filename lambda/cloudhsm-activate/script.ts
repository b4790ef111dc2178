import { CLI, KMS_USER, prepareCli, printUserList, readSecretInto } from '../shared/cloudhsm-users';

export interface ActivationScriptInput {
  readonly region: string;
  readonly hsmIp: string;
  readonly trustAnchorPem: string;
  /** Where to install the CloudHSM CLI from when the host's user data did not. */
  readonly cliPackageUrl?: string;
  readonly adminSecretName: string;
  readonly kmsUserSecretName: string;
  /** False once the cluster is ACTIVE: activation happens once, and a second `cluster activate` fails. */
  readonly activate: boolean;
}

/**
 * The script SSM runs on the client host: activate the cluster with the admin
 * password, then create kmsuser as a crypto user unless it exists, then print
 * `user list` so the handler can check that kmsuser reached every HSM. Both
 * passwords are read from Secrets Manager on the host at run time: the text
 * SSM records names the secrets, never their values.
 */
export function activationScript(input: ActivationScriptInput): string[] {
  const asAdmin = `CLOUDHSM_ROLE=admin CLOUDHSM_PIN="admin:$ADMIN_PW" ${CLI}`;
  const hasKmsUser = `${asAdmin} user list | python3 -c 'import json,sys; users=json.load(sys.stdin)["data"]["users"]; sys.exit(0 if any(u.get("username")=="${KMS_USER}" for u in users) else 1)'`;
  return [
    ...prepareCli(input.hsmIp, input.trustAnchorPem, input.cliPackageUrl),
    readSecretInto('ADMIN_PW', input.adminSecretName, input.region),
    readSecretInto('KMSUSER_PW', input.kmsUserSecretName, input.region),
    ...(input.activate
      ? [`${CLI} cluster activate --password "$ADMIN_PW" >/dev/null`, 'echo "KMSLAB step=activate result=done"']
      : ['echo "KMSLAB step=activate result=already-active"']),
    `if ${hasKmsUser}; then echo "KMSLAB step=kmsuser result=present"; else ${asAdmin} user create --username ${KMS_USER} --role crypto-user --password "$KMSUSER_PW" >/dev/null && echo "KMSLAB step=kmsuser result=created"; fi`,
    ...printUserList(),
  ];
}
