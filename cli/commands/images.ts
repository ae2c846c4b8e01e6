import type { CriClient } from '../cri-client';
import { formatBytes, formatTable, shortId } from '../format';
import { printJson, type OutputFormat } from '../output';

/** `caisson images [REF]`: the images, one line per tag (like crictl images). */
export async function imagesCommand(client: CriClient, output: OutputFormat, reference?: string): Promise<void> {
  const { images = [] } = await client.call('ListImages', reference ? { filter: { image: { image: reference } } } : {});
  if (output === 'json') return printJson(images);
  const rows: string[][] = [];
  for (const image of images) {
    const tags = image.repo_tags?.length ? image.repo_tags : ['<none>:<none>'];
    for (const tag of tags) {
      const colon = tag.lastIndexOf(':');
      rows.push([tag.slice(0, colon), tag.slice(colon + 1), shortId(String(image.id)), formatBytes(Number(image.size))]);
    }
  }
  process.stdout.write(formatTable(['IMAGE', 'TAG', 'IMAGE ID', 'SIZE'], rows));
}
