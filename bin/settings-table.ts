#!/usr/bin/env node
import * as fs from 'node:fs';
import * as path from 'node:path';
import { settingsTable, withSettingsTable } from '../lib/config/settings-table';

// Prints the settings table, or with --write refreshes it in README.md.
const readmePath = path.join(__dirname, '..', 'README.md');
if (process.argv.includes('--write')) {
  fs.writeFileSync(readmePath, withSettingsTable(fs.readFileSync(readmePath, 'utf8')));
  console.log(`Updated the settings table in ${path.relative(process.cwd(), readmePath)}`);
} else {
  console.log(settingsTable());
}
