import type { CriClient } from '../cri-client';
import { printJson } from '../output';

/** `caisson inspecti REF`: ImageStatus with verbose info, as JSON. */
export async function inspectiCommand(client: CriClient, reference: string): Promise<void> {
  const status = await client.call('ImageStatus', { image: { image: reference }, verbose: true });
  if (!status.image) throw new Error(`image "${reference}" is not present`);
  const info = status.info?.['info'];
  printJson({ status: status.image, info: info ? JSON.parse(info) : {} });
}
