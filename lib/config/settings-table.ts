import { SETTINGS } from './settings';

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
const shown = (value: unknown) => (value === undefined ? '_(unset)_' : `\`${JSON.stringify(value)}\``);

/** The README's settings table, generated from the settings catalogue so the two agree. */
export function settingsTable(): string {
  const rows = Object.values(SETTINGS).map(
    (s) => `| \`${s.key}\` | ${shown(s.defaultValue)} | ${cell(s.accepted)} | ${cell(s.description)} |`,
  );
  return ['| Setting | Default | Accepted | What it does |', '|---|---|---|---|', ...rows].join('\n');
}
