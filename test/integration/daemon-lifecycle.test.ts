import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as grpc from '@grpc/grpc-js';
import * as path from 'node:path';
import { loadCriServices } from '../../core/cri/cri-proto';
import type { AnyPluginManifest } from '../../core/plugin/plugin-entry';
import { definePlugin, PluginType } from '../../core/plugin/plugin-manifest';
import { MetadataStore } from '../../core/store/metadata-store';
import { CgroupDriver } from '../../core/tokens';
import { builtinPlugins } from '../../plugins/builtins';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons } from '../support/test-daemon';
import { lockTestDriver } from '../support/lock-test-driver';

// Start-up and shutdown of an in-process daemon: the socket, readiness, failures that must
// leave nothing behind, and the cgroup driver lock.

describe('daemon lifecycle', () => {
  const daemons = useTestDaemons();

  it('makes its socket mode 0660, owned by root and "group"', async () => {
    const d = await daemons.start({ config: { group: 'daemon' } });
    const stat = fs.statSync(d.socket);
    assert.equal(stat.mode & 0o777, 0o660);
    assert.equal(stat.uid, 0);
    assert.equal(stat.gid, 1, 'Debian\'s "daemon" group has gid 1');
  });

  it('warns, and serves root only, when the group does not exist', async () => {
    const d = await daemons.start({ config: { group: 'no-such-group-caisson' } });
    assert.equal(fs.statSync(d.socket).gid, 0);
    assert.ok(d.logs.some((line) => line.includes('group "no-such-group-caisson" does not exist')));
    assert.equal((await d.client().call('Version', {})).runtime_name, 'caisson');
  });

  it('serves on every socket of "hosts"', async () => {
    const root = makeTempRoot('hosts');
    try {
      const second = path.join(root, 'second.sock');
      const d = await daemons.start({ config: { hosts: [`unix://${root}/first.sock`, `unix://${second}`] } });
      assert.ok(fs.existsSync(d.socket));
      const { CriClient } = await import('../../cli/cri-client');
      const client = new CriClient(second);
      try {
        assert.equal((await client.call('Version', {})).runtime_name, 'caisson');
      } finally {
        client.close();
      }
    } finally {
      removeTempRoot(root);
    }
  });

  it('replaces a stale socket left by a dead daemon', async () => {
    const root = makeTempRoot('stale');
    const socket = path.join(root, 'run', 'caisson.sock');
    fs.mkdirSync(path.dirname(socket), { recursive: true });
    // A process that listens on the path and is SIGKILLed leaves the socket file behind.
    const holder = spawn(process.execPath, ['-e', `require('net').createServer().listen(${JSON.stringify(socket)}, () => console.log('up'))`]);
    await new Promise((resolve) => holder.stdout.once('data', resolve));
    holder.kill('SIGKILL');
    await new Promise((resolve) => holder.once('exit', resolve));
    assert.ok(fs.lstatSync(socket).isSocket());
    const d = await daemons.start({ root });
    assert.equal((await d.client().call('Version', {})).runtime_name, 'caisson');
  });

  it('refuses to start where a live daemon serves, and leaves that daemon alone', async () => {
    const first = await daemons.start();
    const second = await daemons.start({
      noStart: true,
      config: { hosts: [`unix://${first.socket}`], pidfile: path.join(first.root, 'other.pid'), graph: path.join(first.root, 'lib2') },
    });
    await assert.rejects(second.daemon.start(), {
      message: `another daemon is already serving on unix://${first.socket}; stop it first or give this one other "hosts" in daemon.json`,
    });
    assert.equal((await first.client().call('Version', {})).runtime_name, 'caisson');
  });

  it('refuses a socket path that is not a socket', async () => {
    const root = makeTempRoot('notsock');
    fs.mkdirSync(path.join(root, 'run'));
    fs.writeFileSync(path.join(root, 'run', 'caisson.sock'), 'precious');
    const d = await daemons.start({ root, noStart: true });
    await assert.rejects(d.daemon.start(), { message: `${d.socket} exists and is not a socket; refusing to replace it (check "hosts" in daemon.json)` });
    assert.equal(fs.readFileSync(d.socket, 'utf8'), 'precious');
  });

  it('answers UNAVAILABLE until start-up completes', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const inInit = new Promise<void>((resolve) => (reached = resolve));
    const slow = definePlugin({
      id: 'slow-start',
      type: PluginType.Service,
      async init() {
        reached();
        await gate;
      },
    });
    const d = await daemons.start({ plugins: [...builtinPlugins, slow], noStart: true });
    const starting = d.daemon.start();
    await inInit;
    await assert.rejects(d.client().call('Version', {}), {
      code: grpc.status.UNAVAILABLE,
      details: 'caissond is not ready: Version is refused until start-up completes',
    });
    release();
    await starting;
    assert.equal((await d.client().call('Version', {})).runtime_name, 'caisson');
  });

  it('removes its socket and pidfile when a plugin fails to start', async () => {
    const broken = definePlugin({
      id: 'broken',
      type: PluginType.Service,
      init() {
        throw new Error('cannot reach the thing');
      },
    });
    const d = await daemons.start({ plugins: [...builtinPlugins, broken], noStart: true });
    await assert.rejects(d.daemon.start(), { message: 'plugin "service.broken" failed to start: cannot reach the thing' });
    assert.equal(fs.existsSync(d.socket), false);
    assert.equal(fs.existsSync(path.join(d.root, 'run', 'caissond.pid')), false);
  });

  it('streams a contributed server-streaming handler and maps its error to a status', async () => {
    const streamer = definePlugin({
      id: 'streamer',
      type: PluginType.Events,
      init(ctx) {
        ctx.cri.handle('GetContainerEvents', async (_request, stream) => {
          for (const id of ['a', 'b', 'c']) {
            await stream.write({ container_id: id, container_event_type: 'CONTAINER_CREATED_EVENT', created_at: '1700000000000000000' });
          }
          throw Object.assign(new Error('subscriber fell behind'), { code: 'RESOURCE_EXHAUSTED' });
        });
      },
    });
    const d = await daemons.start({ plugins: [...builtinPlugins, streamer] });
    const { RuntimeService } = loadCriServices('v1');
    const client = new RuntimeService(`unix://${d.socket}`, grpc.credentials.createInsecure());
    try {
      const call = (client as unknown as { GetContainerEvents(r: object): grpc.ClientReadableStream<{ container_id: string; created_at: string }> }).GetContainerEvents({});
      const ids: string[] = [];
      const status = await new Promise<grpc.ServiceError>((resolve) => {
        call.on('data', (event) => ids.push(`${event.container_id}@${event.created_at}`));
        call.on('error', resolve);
      });
      assert.deepEqual(ids, ['a@1700000000000000000', 'b@1700000000000000000', 'c@1700000000000000000']);
      assert.equal(status.code, grpc.status.RESOURCE_EXHAUSTED);
      assert.equal(status.details, 'subscriber fell behind');
    } finally {
      client.close();
    }
  });

  describe('open streams', () => {
    let handlerSawAbort: Promise<void>;
    const waiter = definePlugin({
      id: 'waiter',
      type: PluginType.Events,
      init(ctx) {
        let aborted!: () => void;
        handlerSawAbort = new Promise<void>((resolve) => (aborted = resolve));
        ctx.cri.handle('GetContainerEvents', async (_request, stream, call) => {
          await stream.write({ container_id: 'first' });
          await new Promise<void>((resolve) => call.signal.addEventListener('abort', () => resolve(), { once: true }));
          aborted();
        });
      },
    });
    const openStream = async (socket: string) => {
      const { RuntimeService } = loadCriServices('v1');
      const client = new RuntimeService(`unix://${socket}`, grpc.credentials.createInsecure());
      const call = (client as unknown as { GetContainerEvents(r: object): grpc.ClientReadableStream<unknown> }).GetContainerEvents({});
      await new Promise((resolve) => call.once('data', resolve));
      return { client, call };
    };

    it('end with UNAVAILABLE when the daemon shuts down', async () => {
      const d = await daemons.start({ plugins: [...builtinPlugins, waiter] });
      const { client, call } = await openStream(d.socket);
      try {
        const ended = new Promise<grpc.ServiceError>((resolve) => call.on('error', resolve));
        const started = Date.now();
        await d.daemon.stop();
        const status = await ended;
        assert.equal(status.code, grpc.status.UNAVAILABLE);
        assert.equal(status.details, 'caissond is shutting down; GetContainerEvents stream ended');
        await handlerSawAbort;
        assert.ok(Date.now() - started < 5000, 'shutdown does not wait for open streams');
      } finally {
        client.close();
      }
    });

    it('tell the handler when the client cancels', async () => {
      const d = await daemons.start({ plugins: [...builtinPlugins, waiter] });
      const { client, call } = await openStream(d.socket);
      call.on('error', () => undefined);
      call.cancel();
      await handlerSawAbort;
      client.close();
    });
  });

  it('says how to enable pod events when GetContainerEvents has no handler', async () => {
    const d = await daemons.start();
    const { RuntimeService } = loadCriServices('v1');
    const client = new RuntimeService(`unix://${d.socket}`, grpc.credentials.createInsecure());
    try {
      const call = (client as unknown as { GetContainerEvents(r: object): grpc.ClientReadableStream<unknown> }).GetContainerEvents({});
      const status = await new Promise<grpc.ServiceError>((resolve) => {
        call.on('data', () => undefined);
        call.on('error', resolve);
      });
      assert.equal(status.code, grpc.status.UNIMPLEMENTED);
      assert.equal(
        status.details,
        'GetContainerEvents is not implemented by this caissond: pod lifecycle events are off; set "enable-pod-events": true in daemon.json and restart caissond',
      );
    } finally {
      client.close();
    }
  });

  describe('cgroup driver lock', () => {
    // An engine builder's own driver plugin standing in as a second driver, so the lock is
    // exercised end to end on a host without systemd (the systemd driver has its own tests).
    const driverNamed = (name: 'systemd' | 'cgroupfs'): AnyPluginManifest =>
      definePlugin({
        id: `lock-test-${name}`,
        type: PluginType.CgroupDriver,
        provides: [CgroupDriver],
        init: (ctx) => ctx.provide(CgroupDriver, lockTestDriver(name)),
      });
    const withDriver = (name: 'systemd' | 'cgroupfs'): AnyPluginManifest[] => [
      driverNamed(name),
      ...builtinPlugins.filter((p) => p.type !== PluginType.CgroupDriver),
    ];

    it('persists the driver and refuses another one while sandboxes exist', async () => {
      const first = await daemons.start();
      assert.deepEqual(await first.client().call('RuntimeConfig', {}), { linux: { cgroup_driver: 'CGROUPFS' } });
      await first.daemon.stop();
      const store = MetadataStore.open(path.join(first.root, 'lib'));
      store.putSandbox('5f0c3ab1', { name: 'web' });
      store.close();

      const second = await daemons.start({ root: first.root, plugins: withDriver('systemd'), noStart: true });
      await assert.rejects(second.daemon.start(), (error: Error) => {
        assert.equal(
          error.message,
          'plugin "cgroup-driver.lock-test-systemd" failed to start: cgroup driver "systemd" was chosen ("systemd-cgroup": true in daemon.json), ' +
            'but the driver in use is "cgroupfs" and 1 sandbox and 0 containers made under it still exist (5f0c3ab1). To switch safely: ' +
            'start caissond with "systemd-cgroup": false, remove every pod and container (for example "crictl rmp -af"), then restart with "systemd-cgroup": true.',
        );
        return true;
      });
      assert.equal(fs.existsSync(second.socket), false);
    });

    it('lets the driver change when nothing was made under the old one', async () => {
      const first = await daemons.start();
      await first.daemon.stop();
      const second = await daemons.start({ root: first.root, plugins: withDriver('systemd') });
      assert.deepEqual(await second.client().call('RuntimeConfig', {}), { linux: { cgroup_driver: 'SYSTEMD' } });
    });
  });
});
