import { imageOf, pullIfAbsent } from '../command-helpers';
import { readCriConfig } from '../config-file';
import type { CriClient } from '../cri-client';

/** `caisson create [--with-pull] POD CONTAINER.json POD.json`: CreateContainer; prints its ID. */
export async function createCommand(
  client: CriClient,
  podId: string,
  containerConfigFile: string,
  podConfigFile: string,
  options: { withPull?: boolean },
): Promise<void> {
  const config = readCriConfig(containerConfigFile, 'container');
  const sandboxConfig = readCriConfig(podConfigFile, 'pod');
  if (options.withPull) await pullIfAbsent(client, imageOf(config), sandboxConfig);
  const { container_id } = await client.call('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: sandboxConfig }, { timeoutMs: 5 * 60_000 });
  process.stdout.write(`${String(container_id)}\n`);
}
