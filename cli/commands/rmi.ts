import type { CriClient } from '../cri-client';

/** `caisson rmi REF…`: removes images by ID, tag or digest. */
export async function rmiCommand(client: CriClient, references: readonly string[]): Promise<void> {
  for (const reference of references) {
    const status = await client.call('ImageStatus', { image: { image: reference } });
    if (!status.image) throw new Error(`image "${reference}" is not present`);
    await client.call('RemoveImage', { image: { image: reference } });
    process.stdout.write(`Deleted: ${reference}\n`);
  }
}
