#!/usr/bin/env node
import * as path from 'node:path';
import { processIo } from '../cli/io';
import { main as kmsLab } from '../cli/main';
import { IntegDeps, runIntegCli } from '../integ/flow';

/**
 * `npm run integ -- [-c key=value ...] [--profile p] [--admin-role arn] [--user-role arn]`:
 * the lab end to end against a real account (integ/flow.ts). Needs AWS credentials.
 */
const ROOT = path.join(__dirname, '..');

// The SDK warns on every client under Node 20 that versions from 2027 need Node 22.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

const out = (text: string) => void process.stdout.write(text);
const err = (text: string) => void process.stderr.write(text);

const deps: IntegDeps = {
  io: { out, err, cwd: ROOT, now: () => new Date() },
  synthAndDeploy: (request) => {
    // Loaded only once a deploy starts: --help and usage mistakes never load the toolkit.
    const { synthAndDeployWithToolkit } = require('../integ/toolkit') as typeof import('../integ/toolkit');
    return synthAndDeployWithToolkit({ ...request, root: ROOT, out, err });
  },
  // kms-lab in-process, as the CLI's tests run it: stdout (the JSON report) is kept, stderr (progress, failures) shown.
  kmsLab: async (argv) => {
    let stdout = '';
    const code = await kmsLab(argv, { ...processIo(), cwd: ROOT, stdout: (text) => void (stdout += text) });
    return { code, stdout };
  },
};

void runIntegCli(process.argv.slice(2), deps).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    err(`npm run integ stopped on an unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
