import { errorText, imageOf, pullIfAbsent, REMOVE_TIMEOUT_MS } from '../command-helpers';
import { readCriConfig } from '../config-file';
import type { CriClient } from '../cri-client';

/**
 * `caisson run [--runtime H] CONTAINER.json POD.json`: RunPodSandbox, PullImage when the image
 * is absent, CreateContainer, StartContainer; prints the container ID. If a step after the pod
 * fails, the pod is removed again (with anything made in it) so nothing is left half-made.
 */
export async function runCommand(client: CriClient, containerConfigFile: string, podConfigFile: string, runtimeHandler = ''): Promise<void> {
  const config = readCriConfig(containerConfigFile, 'container');
  const sandboxConfig = readCriConfig(podConfigFile, 'pod');
  const image = imageOf(config);
  const { pod_sandbox_id: podId } = await client.call('RunPodSandbox', { config: sandboxConfig, runtime_handler: runtimeHandler }, { timeoutMs: 5 * 60_000 });
  try {
    await pullIfAbsent(client, image, sandboxConfig);
    const { container_id } = await client.call('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: sandboxConfig }, { timeoutMs: 5 * 60_000 });
    await client.call('StartContainer', { container_id }, { timeoutMs: 2 * 60_000 });
    process.stdout.write(`${String(container_id)}\n`);
  } catch (error) {
    await client.call('RemovePodSandbox', { pod_sandbox_id: podId }, { timeoutMs: REMOVE_TIMEOUT_MS }).catch((cleanup: unknown) => {
      process.stderr.write(`caisson: pod ${String(podId)} was not removed after the failure: ${errorText(cleanup)}\n`);
    });
    throw error;
  }
}
