import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { MetadataStore } from '../../core/store/metadata-store';

// The store's group commit: writes go to the WAL unsynced, and flush() makes them durable with
// one fsync shared by everyone waiting, off the event loop.

describe('metadata store: flush', () => {
  let dir: string;
  let store: MetadataStore;
  let walOpens: number;
  const realOpen = fs.promises.open;

  beforeEach(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'store-flush-'));
    store = MetadataStore.open(dir);
    walOpens = 0;
    fs.promises.open = (async (...args: Parameters<typeof realOpen>) => {
      if (String(args[0]).endsWith('-wal')) walOpens += 1;
      return realOpen(...args);
    }) as typeof realOpen;
  });

  afterEach(() => {
    fs.promises.open = realOpen;
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('syncs nothing when nothing was written', async () => {
    assert.equal(store.getSandbox('none'), undefined);
    await store.flush();
    assert.equal(walOpens, 0);
  });

  it('covers the writes of every caller waiting together with one fsync of the WAL', async () => {
    store.putSandbox('a', { id: 'a' });
    store.putContainer('c', 'a', { id: 'c' });
    await Promise.all([store.flush(), store.flush(), store.flush()]);
    assert.equal(walOpens, 1);
    await store.flush();
    assert.equal(walOpens, 1, 'nothing new to sync');
  });

  it('syncs again for a write made while a sync was running', async () => {
    store.putSandbox('a', { id: 'a' });
    const first = store.flush();
    store.putSandbox('b', { id: 'b' });
    const second = store.flush();
    await Promise.all([first, second]);
    assert.equal(walOpens, 2);
  });

  it('keeps every write across a reopen', async () => {
    store.putSandbox('a', { id: 'a', n: 1 });
    await store.flush();
    store.close();
    store = MetadataStore.open(dir);
    assert.deepEqual(store.getSandbox('a'), { id: 'a', n: 1 });
  });
});
