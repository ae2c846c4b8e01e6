import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { podConfig } from '../support/pod-fixtures';
import { useTestDaemons } from '../support/test-daemon';

// Issue 15, sandboxes: RunPodSandbox holds `pod-name:<key>` from its duplicate check to its
// record write, so two calls with the same metadata give one sandbox and one ALREADY_EXISTS
// (before, both passed the check many awaits before either wrote its record, and both won);
// Stop and Remove of one sandbox at once end in the state a serial order gives.

const ALREADY_EXISTS = 6;

describe('sandboxes: concurrent RPCs on one pod', function () {
  this.timeout(120_000);
  const daemons = useTestDaemons();

  it('two RunPodSandbox with the same metadata: exactly one succeeds, the other is ALREADY_EXISTS (20 rounds)', async () => {
    const d = await daemons.start();
    const client = d.client();
    const logs = path.join(d.root, 'logs');
    fs.mkdirSync(logs);
    for (let round = 0; round < 20; round++) {
      const config = podConfig(logs);
      const results = await Promise.allSettled([client.call('RunPodSandbox', { config }), client.call('RunPodSandbox', { config })]);
      const won = results.filter((r) => r.status === 'fulfilled');
      const lost = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
      assert.equal(won.length, 1, `round ${round}: one RunPodSandbox succeeds (${results.map((r) => r.status).join(', ')})`);
      assert.equal((lost[0]?.reason as { code?: number }).code, ALREADY_EXISTS, `round ${round}: the other is ALREADY_EXISTS: ${String(lost[0]?.reason)}`);
      const { items = [] } = await client.call('ListPodSandbox', {});
      assert.equal(items.length, 1, `round ${round}: one sandbox is listed`);
      await client.call('RemovePodSandbox', { pod_sandbox_id: items[0]?.id ?? '' });
    }
    assert.deepEqual(fs.readdirSync(path.join(d.root, 'run', 'sandboxes')), []);
  });

  it('StopPodSandbox and RemovePodSandbox at once: the sandbox is gone and nothing is left (10 rounds)', async () => {
    const d = await daemons.start();
    const client = d.client();
    const logs = path.join(d.root, 'logs');
    fs.mkdirSync(logs);
    for (let round = 0; round < 10; round++) {
      const { pod_sandbox_id: id = '' } = await client.call('RunPodSandbox', { config: podConfig(logs) });
      const [stop, remove] = await Promise.allSettled([client.call('StopPodSandbox', { pod_sandbox_id: id }), client.call('RemovePodSandbox', { pod_sandbox_id: id })]);
      assert.equal(remove.status, 'fulfilled', `round ${round}: RemovePodSandbox succeeds`);
      // Serial outcomes: stop then remove (both OK), or remove then stop (NOT_FOUND).
      if (stop.status === 'rejected') assert.equal((stop.reason as { code?: number }).code, 5, `round ${round}: ${String(stop.reason)}`);
      assert.deepEqual((await client.call('ListPodSandbox', {})).items ?? [], []);
    }
    assert.deepEqual(fs.readdirSync(path.join(d.root, 'run', 'sandboxes')), []);
  });
});
