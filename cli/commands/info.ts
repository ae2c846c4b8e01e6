import type { CriClient } from '../cri-client';
import { printJson, printKeyValues, type OutputFormat } from '../output';

/** `caisson info`: Status with verbose info, the daemon's conditions and configuration facts. */
export async function infoCommand(client: CriClient, output: OutputFormat): Promise<void> {
  const status = await client.call('Status', { verbose: true });
  const info = Object.fromEntries(Object.entries(status.info ?? {}).map(([key, value]) => [key, parseJson(value)]));
  const conditions = status.status?.conditions ?? [];
  if (output === 'json') return printJson({ conditions, info });
  const rows: [string, string][] = conditions.map((c) => [
    String(c.type),
    c.status ? 'true' : `false (${String(c.reason)}: ${String(c.message)})`,
  ]);
  for (const [key, value] of Object.entries(info)) {
    if (key === 'config') continue;
    rows.push([key, typeof value === 'string' ? value : JSON.stringify(value)]);
  }
  printKeyValues(rows);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}
