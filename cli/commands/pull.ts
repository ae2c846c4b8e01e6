import type { CriClient } from '../cri-client';
import { formatBytes } from '../format';

// `caisson pull REF`: pulls through caisson.v1 PullImageWithProgress. On a terminal a progress
// bar redraws in place; otherwise (a pipe, a log) a plain line per layer.

const BAR_WIDTH = 30;

export interface PullOptions {
  readonly username?: string;
  readonly password?: string;
}

export async function pullCommand(client: CriClient, reference: string, options: PullOptions): Promise<void> {
  const tty = process.stdout.isTTY === true;
  let lastLayers = -1;
  const auth = options.username !== undefined ? { username: options.username, password: options.password ?? '' } : undefined;
  const imageRef = await client.pullWithProgress({ image: { image: reference }, ...(auth ? { auth } : {}) }, (p) => {
    const done = Number(p.done_bytes);
    const total = Number(p.total_bytes);
    if (tty) {
      const filled = total > 0 ? Math.round((done / total) * BAR_WIDTH) : BAR_WIDTH;
      const bar = `${'='.repeat(filled)}${filled < BAR_WIDTH ? '>' : ''}`.padEnd(BAR_WIDTH + 1);
      process.stdout.write(`\r${reference} [${bar}] ${formatBytes(done)}/${formatBytes(total)} layers ${p.layers_done}/${p.layers}`);
    } else if (p.layers_done !== lastLayers && !p.image_ref) {
      lastLayers = p.layers_done;
      process.stdout.write(`${reference}: ${p.layers_done}/${p.layers} layers, ${formatBytes(done)} of ${formatBytes(total)}\n`);
    }
  });
  if (tty) process.stdout.write('\n');
  process.stdout.write(`Image is up to date for ${imageRef}\n`);
}
