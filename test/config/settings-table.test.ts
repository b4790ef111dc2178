import * as fs from 'node:fs';
import * as path from 'node:path';
import { withSettingsTable } from '../../lib/config/settings-table';
import { SETTINGS } from '../../lib/config/settings';

describe('README settings table', () => {
  const readme = fs.readFileSync(path.join(__dirname, '..', '..', 'README.md'), 'utf8');

  test('matches the settings catalogue (refresh with `npm run docs:settings`)', () => {
    expect(readme).toBe(withSettingsTable(readme));
  });

  test('lists every setting', () => {
    for (const key of Object.keys(SETTINGS)) expect(readme).toContain(`| \`${key}\` |`);
  });
});
