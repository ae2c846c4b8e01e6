import * as path from 'node:path';
import type { CriClient } from '../cli/cri-client';
import { checkInterrupted, RPC_TIMEOUT_MS } from './bench-support';

// The pod the engine benchmarks start on an engine of their own (bench/bench-engines.ts): what
// the kubelet sends for a pod with one busybox `sleep 3600` container, and its removal.

let podCounter = 0;

function podConfig(logs: string, network: 'POD' | 'NODE'): Record<string, unknown> {
  podCounter += 1;
  // As the kubelet sends a pod: a generated name and uid, a log folder, and a hostname of its
  // own unless it is on the host network (which keeps the node's).
  return {
    metadata: { name: `bench-pod-${podCounter}`, namespace: 'bench', uid: `uid-${process.pid}-${podCounter}`, attempt: 0 },
    ...(network === 'POD' ? { hostname: `bench-pod-${podCounter}` } : {}),
    log_directory: path.join(logs, String(podCounter)),
    linux: { security_context: { namespace_options: { network, pid: 'CONTAINER', ipc: 'POD' } } },
  };
}

/** RunPodSandbox, CreateContainer and StartContainer of one pod; resolves with the pod's id. */
export async function startPod(client: CriClient, image: string, logs: string, network: 'POD' | 'NODE'): Promise<string> {
  checkInterrupted();
  const config = podConfig(logs, network);
  const { pod_sandbox_id } = await client.call('RunPodSandbox', { config }, { timeoutMs: RPC_TIMEOUT_MS });
  const container = { metadata: { name: 'sleep', attempt: 0 }, image: { image }, command: ['sleep', '3600'], log_path: 'sleep.log' };
  const { container_id } = await client.call('CreateContainer', { pod_sandbox_id, config: container, sandbox_config: config }, { timeoutMs: RPC_TIMEOUT_MS });
  await client.call('StartContainer', { container_id }, { timeoutMs: RPC_TIMEOUT_MS });
  return String(pod_sandbox_id);
}

/** StopPodSandbox, then RemovePodSandbox, as the kubelet removes a pod. */
export async function removePod(client: CriClient, podId: string): Promise<void> {
  await client.call('StopPodSandbox', { pod_sandbox_id: podId }, { timeoutMs: RPC_TIMEOUT_MS });
  await client.call('RemovePodSandbox', { pod_sandbox_id: podId }, { timeoutMs: RPC_TIMEOUT_MS });
}

/** Removes every pod the engine still lists (cleanup after a failed run; errors are ignored). */
export async function removeEveryPod(client: CriClient): Promise<void> {
  const { items = [] } = await client.call('ListPodSandbox', {}, { timeoutMs: 5_000 }).catch(() => ({ items: [] }));
  for (const pod of items ?? []) await removePod(client, String(pod.id)).catch(() => undefined);
}
