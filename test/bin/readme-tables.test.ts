import * as fs from 'node:fs';
import * as path from 'node:path';
import { CONNECTION_ERROR_REMEDIES } from '../../lambda/custom-key-store/connection-errors';
import { IMPORT_REMEDIES } from '../../lambda/import-key-material/remedies';
import { SETTINGS } from '../../lib/config/settings';
import { withGeneratedSections } from '../../bin/readme-tables';

describe('README tables generated from the code', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

  test('are up to date (refresh with `npm run docs`)', () => {
    expect(readme).toBe(withGeneratedSections(readme));
  });

  test('list every setting, every explained import error and every key store connection error', () => {
    for (const key of Object.keys(SETTINGS)) expect(readme).toContain(`| \`${key}\` |`);
    for (const name of Object.keys(IMPORT_REMEDIES)) expect(readme).toContain(`| \`${name}\` |`);
    for (const name of Object.keys(CONNECTION_ERROR_REMEDIES)) expect(readme).toContain(`| \`${name}\` |`);
    expect(Object.keys(CONNECTION_ERROR_REMEDIES)).toHaveLength(10);
  });
});
