import type { CriClient } from '../cri-client';
import { printJson } from '../output';

/** The verbose `info` map of a status response: its "info" key, parsed. */
export function parseInfo(info: Record<string, string> | undefined | null): unknown {
  const text = info?.['info'];
  if (text === undefined) return {};
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `caisson inspect CONTAINER`: ContainerStatus with verbose info, as JSON. */
export async function inspectCommand(client: CriClient, containerId: string): Promise<void> {
  const response = await client.call('ContainerStatus', { container_id: containerId, verbose: true });
  printJson({ status: response.status, info: parseInfo(response.info) });
}
