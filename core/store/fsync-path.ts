import * as fs from 'node:fs';

/** fsync of a file, or of a directory so that the entries renamed into it survive a power cut. */
export async function fsyncPath(file: string): Promise<void> {
  const handle = await fs.promises.open(file, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
