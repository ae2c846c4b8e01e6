import { nanosToMillis } from '../../core/clock/unix-nanos';
import type { CriClient } from '../cri-client';
import { formatBytes } from '../format';
import { printJson, printKeyValues, type OutputFormat } from '../output';

/** `caisson imagefsinfo`: what the image store uses. */
export async function imagefsinfoCommand(client: CriClient, output: OutputFormat): Promise<void> {
  const info = await client.call('ImageFsInfo', {});
  if (output === 'json') return printJson(info);
  for (const fs of info.image_filesystems ?? []) {
    printKeyValues([
      ['Mountpoint', String(fs.fs_id?.mountpoint)],
      ['UsedBytes', `${String(fs.used_bytes?.value)} (${formatBytes(Number(fs.used_bytes?.value))})`],
      ['InodesUsed', String(fs.inodes_used?.value)],
      ['Timestamp', new Date(nanosToMillis(String(fs.timestamp))).toISOString()],
    ]);
  }
}
