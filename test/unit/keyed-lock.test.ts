import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { KeyedLock } from '../../core/locks/keyed-lock';

describe('keyed lock', () => {
  it('serialises exclusive holders of one key, in arrival order', async () => {
    const lock = new KeyedLock();
    const journal: string[] = [];
    const job = (name: string, ms: number) =>
      lock.exclusive('pod-a', async () => {
        journal.push(`${name} in`);
        await delay(ms);
        journal.push(`${name} out`);
      });
    await Promise.all([job('first', 20), job('second', 1), job('third', 1)]);
    assert.deepEqual(journal, ['first in', 'first out', 'second in', 'second out', 'third in', 'third out']);
    assert.equal(lock.size, 0, 'a released key is forgotten');
  });

  it('lets different keys run at once', async () => {
    const lock = new KeyedLock();
    let together = 0;
    let most = 0;
    const job = (key: string) =>
      lock.exclusive(key, async () => {
        together += 1;
        most = Math.max(most, together);
        await delay(10);
        together -= 1;
      });
    await Promise.all([job('a'), job('b'), job('c')]);
    assert.equal(most, 3);
  });

  it('runs shared holders together and keeps an exclusive one apart from them', async () => {
    const lock = new KeyedLock();
    const journal: string[] = [];
    const shared = (name: string) =>
      lock.shared('sandbox', async () => {
        journal.push(`${name} in`);
        await delay(10);
        journal.push(`${name} out`);
      });
    const remove = () =>
      lock.exclusive('sandbox', async () => {
        journal.push('remove in');
        await delay(1);
        journal.push('remove out');
      });
    await Promise.all([shared('create-1'), shared('create-2'), remove(), delay(1).then(() => shared('create-3'))]);
    assert.deepEqual(journal.slice(0, 2), ['create-1 in', 'create-2 in']);
    const removeIn = journal.indexOf('remove in');
    assert.ok(removeIn > journal.indexOf('create-1 out') && removeIn > journal.indexOf('create-2 out'), journal.join(', '));
    assert.ok(journal.indexOf('create-3 in') > journal.indexOf('remove out'), `a shared holder arriving after a waiting exclusive one waits too: ${journal.join(', ')}`);
  });

  it('takes several keys in a fixed order, so crossed requests do not deadlock', async () => {
    const lock = new KeyedLock();
    const one = lock.hold([{ key: 'b', mode: 'exclusive' }, { key: 'a', mode: 'exclusive' }], () => delay(5));
    const two = lock.hold([{ key: 'a', mode: 'exclusive' }, { key: 'b', mode: 'exclusive' }], () => delay(5));
    await Promise.race([Promise.all([one, two]), delay(2_000).then(() => assert.fail('deadlocked'))]);
  });

  it('releases the key when the work throws', async () => {
    const lock = new KeyedLock();
    await assert.rejects(lock.exclusive('x', async () => Promise.reject(new Error('boom'))), { message: 'boom' });
    assert.equal(await lock.exclusive('x', async () => 'free again'), 'free again');
  });
});
