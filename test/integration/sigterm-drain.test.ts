import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CriClient } from '../../cli/cri-client';
import { packageInfo } from '../../core/package-info';
import { startBusyboxRegistry } from '../support/busybox-registry';
import { cleanUpHost } from '../support/host-cleanup';
import { checkHostInvariants } from '../support/host-invariants';
import { podConfig } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { spawnCaissond, waitUntilServing, writeDaemonJson, type SpawnedDaemon, tearDownSpawned } from '../support/spawned-daemon';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { testDaemonConfig, unmountBelow } from '../support/test-daemon';

// Issue 15: caissond under SIGTERM with RPCs in flight stops accepting, lets the in-flight calls
// finish (bounded by DRAIN_BOUND_MS in core/cri/cri-server.ts), then exits 0, leaving nothing
// half-made.

const examplePlugin = path.join(packageInfo().root, 'dist', 'test', 'fixtures', 'example-plugin', 'index.js');

describe('SIGTERM with calls in flight', function () {
  this.timeout(120_000);
  let root: string;
  const spawned: SpawnedDaemon[] = [];
  const clients: CriClient[] = [];

  beforeEach(() => (root = makeTempRoot('sigterm')));
  afterEach(async function () {
    await tearDownSpawned(spawned, clients, socket(), this.currentTest?.state === 'failed');
    await cleanUpHost({ graph: path.join(root, 'lib'), state: path.join(root, 'run'), cgroupParent: `/caisson-sigterm-${process.pid}` });
    await unmountBelow(root);
    removeTempRoot(root);
  });

  const socket = (): string => path.join(root, 'run', 'caisson.sock');
  const clientOn = (): CriClient => {
    const client = new CriClient(socket());
    clients.push(client);
    return client;
  };
  const start = async (config: Record<string, unknown>): Promise<SpawnedDaemon> => {
    const daemon = spawnCaissond(['--config', writeDaemonJson(root, testDaemonConfig(root, config))]);
    spawned.push(daemon);
    await waitUntilServing(daemon, socket());
    return daemon;
  };

  it('answers the in-flight call OK, refuses a new one, and exits 0', async () => {
    const daemon = await start({ plugins: [examplePlugin], 'plugin-config': { 'service.checkpoint-to-file': { 'delay-ms': 3000 } } });
    const location = path.join(root, 'in-flight.json');
    const inFlight = clientOn().call('CheckpointContainer', { container_id: 'slow', location });
    await delay(500);
    daemon.child.kill('SIGTERM');
    await delay(300);
    // A new call while the old one drains: refused (UNAVAILABLE), never served.
    const late = path.join(root, 'late.json');
    await assert.rejects(clientOn().call('CheckpointContainer', { container_id: 'late', location: late }, { timeoutMs: 5_000 }), (error: { code?: number; details?: string }) => {
      assert.equal(error.code, 14, `a call after SIGTERM is refused UNAVAILABLE (got ${error.code}: ${error.details})`);
      return true;
    });
    await inFlight;
    assert.equal(JSON.parse(fs.readFileSync(location, 'utf8')).container_id, 'slow');
    assert.equal(fs.existsSync(late), false, 'the refused call never ran');
    assert.equal(await daemon.exited, 0);
    assert.equal(fs.existsSync(socket()), false);
  });

  it('keeps waiting for a call whose client has gone (deadline) before stopping the plugins', async () => {
    const daemon = await start({ plugins: [examplePlugin], 'plugin-config': { 'service.checkpoint-to-file': { 'delay-ms': 3000 } } });
    const location = path.join(root, 'abandoned.json');
    // The client gives up after 1 s; the handler still runs in the daemon.
    await assert.rejects(clientOn().call('CheckpointContainer', { container_id: 'abandoned', location }, { timeoutMs: 1000 }), { code: 4 });
    daemon.child.kill('SIGTERM');
    assert.equal(await daemon.exited, 0);
    assert.ok(fs.existsSync(location), 'the handler finished before the daemon exited');
    assert.match(daemon.output(), /waiting up to 30000 ms for 1 in-flight call\(s\): CheckpointContainer/);
  });

  describe('with a real RunPodSandbox in flight', () => {
    let registry: TestRegistry;
    before(async () => ({ registry } = await startBusyboxRegistry()));
    after(async () => registry?.stop());

    for (const afterMs of [20, 150]) {
      it(`leaves the pod fully there or fully gone (SIGTERM ${afterMs} ms into the call)`, async () => {
        const config = { 'insecure-registries': [registry.host], 'cgroup-parent': `/caisson-sigterm-${process.pid}` };
        const daemon = await start(config);
        const pod = podConfig(path.join(root, 'logs'));
        const running = clientOn().call('RunPodSandbox', { config: pod }).then(
          (response) => ({ ok: true as const, id: String(response.pod_sandbox_id) }),
          (error: { code?: number; details?: string }) => ({ ok: false as const, error }),
        );
        await delay(afterMs);
        daemon.child.kill('SIGTERM');
        const outcome = await running;
        assert.equal(await daemon.exited, 0);
        await start(config);
        const client = clientOn();
        const { items = [] } = await client.call('ListPodSandbox', {});
        if (outcome.ok) {
          assert.deepEqual(items.map((s) => [s.id, s.state]), [[outcome.id, 'SANDBOX_READY']], 'an answered RunPodSandbox is durable');
        } else {
          // Refused before it started, or undone: either way nothing of it is listed.
          assert.deepEqual(items, [], `RunPodSandbox failed (${outcome.error.code}: ${outcome.error.details}) yet a pod is listed`);
        }
        assert.deepEqual(await checkHostInvariants(client, { graph: path.join(root, 'lib'), state: path.join(root, 'run'), cgroupParent: config['cgroup-parent'] }), []);
      });
    }
  });
});
