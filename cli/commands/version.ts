import type { CriClient } from '../cri-client';
import { printJson, printKeyValues, type OutputFormat } from '../output';

export async function versionCommand(client: CriClient, output: OutputFormat): Promise<void> {
  const version = await client.call('Version', { version: '0.1.0' });
  if (output === 'json') return printJson(version);
  printKeyValues([
    ['Version', String(version.version)],
    ['RuntimeName', String(version.runtime_name)],
    ['RuntimeVersion', String(version.runtime_version)],
    ['RuntimeApiVersion', String(version.runtime_api_version)],
  ]);
}
