#!/usr/bin/env node
import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import * as kms from 'aws-cdk-lib/aws-kms';

// The smallest app of the same kind: one stack, one KMS key. `npm run bench` times the lab against it.
const app = new App();
const stack = new Stack(app, 'kms-key-lab-baseline', { env: { region: 'ap-southeast-1' } });
new kms.Key(stack, 'Key', { enableKeyRotation: true, removalPolicy: RemovalPolicy.DESTROY });
