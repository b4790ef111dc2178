#!/usr/bin/env node
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { LabConfigError, readLabConfig } from '../lib/config/lab-config';
import { buildLab } from '../lib/lab-app';

const app = new App();
try {
  buildLab(app, readLabConfig(app.node));
} catch (error) {
  if (!(error instanceof LabConfigError)) throw error;
  // A settings mistake is the user's to fix: say what, without a stack trace.
  console.error(error.message);
  process.exit(1);
}
// Every synth is checked: an unacknowledged AwsSolutions finding fails it.
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
