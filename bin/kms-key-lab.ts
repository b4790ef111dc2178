#!/usr/bin/env node
import { App } from 'aws-cdk-lib';
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
