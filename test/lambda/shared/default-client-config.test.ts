import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import { cfnEvent } from '../../helpers/events';

/**
 * The handlers build their SDK clients with the default configuration, so the
 * standard environment variables point them anywhere. Here a loopback server
 * stands in for KMS and Secrets Manager and records the calls that reach it.
 */
describe('SDK clients use the default configuration', () => {
  const saved = { ...process.env };
  const received: { target: string; body: Record<string, unknown> }[] = [];
  let server: http.Server;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target']);
        received.push({ target, body: JSON.parse(body || '{}') });
        res.setHeader('content-type', 'application/x-amz-json-1.1');
        if (target === 'secretsmanager.DescribeSecret') {
          res.statusCode = 400;
          res.end(JSON.stringify({ __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." }));
          return;
        }
        res.end('{}');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    Object.assign(process.env, {
      AWS_REGION: 'ap-southeast-1',
      AWS_ACCESS_KEY_ID: 'AKIDEXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'test-only',
      AWS_ENDPOINT_URL_KMS: url,
      AWS_ENDPOINT_URL: url,
      AWS_MAX_ATTEMPTS: '1',
    });
  });

  afterAll(async () => {
    process.env = saved;
    await new Promise((resolve) => server.close(resolve));
  });

  test('AWS_ENDPOINT_URL_KMS and AWS_ENDPOINT_URL route the import handler to another endpoint', async () => {
    jest.spyOn(console, 'log').mockImplementation(() => undefined);
    let handler: typeof import('../../../lambda/import-key-material/index');
    jest.isolateModules(() => {
      handler = require('../../../lambda/import-key-material/index');
    });
    const keyArn = 'arn:aws:kms:ap-southeast-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab';
    await handler!.onEvent(
      cfnEvent(
        'Delete',
        {
          KeyArn: keyArn,
          WrappingAlgorithm: 'RSAES_OAEP_SHA_256',
          WrappingKeySpec: 'RSA_4096',
          ExpirationModel: 'KEY_MATERIAL_DOES_NOT_EXPIRE',
          MaterialSource: 'generate',
          EscrowSecretName: 'kms-key-lab/imported-material/escrow-1234abcd-12ab-34cd-56ef-1234567890ab',
          EscrowSecretPolicy: { Version: '2012-10-17', Statement: [] },
          PendingWindowDays: '7',
          DeleteMaterialOnDelete: 'true',
        },
        { physicalId: keyArn },
      ),
    );
    expect(received.map((r) => r.target)).toEqual(['TrentService.DeleteImportedKeyMaterial', 'secretsmanager.DescribeSecret']);
    expect(received[0].body).toEqual({ KeyId: keyArn });
  });
});
