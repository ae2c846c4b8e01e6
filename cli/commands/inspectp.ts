import type { CriClient } from '../cri-client';
import { printJson } from '../output';
import { parseInfo } from './inspect';

/** `caisson inspectp POD`: PodSandboxStatus with verbose info, as JSON. */
export async function inspectpCommand(client: CriClient, podId: string): Promise<void> {
  const response = await client.call('PodSandboxStatus', { pod_sandbox_id: podId, verbose: true });
  printJson({ status: response.status, info: parseInfo(response.info), containers_statuses: response.containers_statuses ?? [] });
}
