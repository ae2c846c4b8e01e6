import { readCriConfig } from '../config-file';
import type { CriClient } from '../cri-client';

/** `caisson runp [--runtime H] POD.json`: RunPodSandbox; prints the pod ID. */
export async function runpCommand(client: CriClient, podConfigFile: string, runtimeHandler = ''): Promise<void> {
  const config = readCriConfig(podConfigFile, 'pod');
  const { pod_sandbox_id } = await client.call('RunPodSandbox', { config, runtime_handler: runtimeHandler }, { timeoutMs: 5 * 60_000 });
  process.stdout.write(`${String(pod_sandbox_id)}\n`);
}
