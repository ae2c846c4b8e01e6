// How CLI commands print: `--output json` for scripts, `table` (the default) for people.

export type OutputFormat = 'json' | 'table';

export function parseOutputFormat(value: string): OutputFormat {
  if (value === 'json' || value === 'table') return value;
  throw new Error(`--output must be "json" or "table", not "${value}"`);
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

/** Two columns, keys padded to line up. */
export function printKeyValues(rows: readonly (readonly [string, string])[]): void {
  const width = Math.max(0, ...rows.map(([key]) => key.length));
  for (const [key, value] of rows) process.stdout.write(`${key.padEnd(width)}  ${value}\n`);
}
