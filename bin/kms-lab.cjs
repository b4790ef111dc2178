#!/usr/bin/env node
// `npx kms-lab` in a clone: the CLI is TypeScript (cli/), compiled on the fly by tsx, which npm ci installs.
require('tsx/cjs/api').register();
require('../cli/main.ts');
