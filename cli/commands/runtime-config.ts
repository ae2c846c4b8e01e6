import type { CriClient } from '../cri-client';
import { printJson, printKeyValues, type OutputFormat } from '../output';

export async function runtimeConfigCommand(client: CriClient, output: OutputFormat): Promise<void> {
  const config = await client.call('RuntimeConfig', {});
  if (output === 'json') return printJson(config);
  printKeyValues([['CgroupDriver', String(config.linux?.cgroup_driver)]]);
}
