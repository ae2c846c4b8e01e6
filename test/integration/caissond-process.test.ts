import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import { setTimeout as delay } from 'node:timers/promises';
import { CriClient } from '../../cli/cri-client';
import { packageInfo } from '../../core/package-info';
import { killIfRunning, spawnCaissond, waitUntilServing, writeDaemonJson, type SpawnedDaemon } from '../support/spawned-daemon';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { testDaemonConfig } from '../support/test-daemon';

// The real bin/caissond and bin/caisson as an operator runs them (from dist/, built by `npm test`).

const examplePlugin = path.join(packageInfo().root, 'dist', 'test', 'fixtures', 'example-plugin', 'index.js');
const run = promisify(execFile);

describe('caissond process', () => {
  let root: string;
  const spawned: SpawnedDaemon[] = [];
  const clients: CriClient[] = [];
  const start = (args: string[]): SpawnedDaemon => {
    const daemon = spawnCaissond(args);
    spawned.push(daemon);
    return daemon;
  };
  const clientOn = (socket: string): CriClient => {
    const client = new CriClient(socket);
    clients.push(client);
    return client;
  };

  beforeEach(() => (root = makeTempRoot('proc')));
  afterEach(async function () {
    clients.splice(0).forEach((client) => client.close());
    for (const daemon of spawned.splice(0)) {
      await killIfRunning(daemon);
      if (this.currentTest?.state === 'failed') process.stderr.write(`--- caissond output ---\n${daemon.output()}\n`);
    }
    removeTempRoot(root);
  });

  const socketOf = (): string => path.join(root, 'run', 'caisson.sock');

  it('loads a third-party plugin from daemon.json "plugins" and serves its handler', async () => {
    assert.ok(fs.existsSync(examplePlugin), `${examplePlugin} is missing: run "npm run build" first`);
    const config = writeDaemonJson(root, testDaemonConfig(root, { plugins: [examplePlugin] }));
    const daemon = start(['--config', config]);
    await waitUntilServing(daemon, socketOf());
    const location = path.join(root, 'checkpoint.json');
    await clientOn(socketOf()).call('CheckpointContainer', { container_id: 'c0ffee', location });
    assert.deepEqual(JSON.parse(fs.readFileSync(location, 'utf8')), { container_id: 'c0ffee', written_by: 'service.checkpoint-to-file' });
    await assert.rejects(clientOn(socketOf()).call('CheckpointContainer', { container_id: 'c0ffee', location: 'relative.json' }), {
      code: 3,
      details: 'checkpoint location "relative.json" for container c0ffee must be an absolute path',
    });
  });

  it('resolves a relative plugin path against daemon.json\'s folder', async () => {
    const relative = path.relative(root, examplePlugin);
    const config = writeDaemonJson(root, testDaemonConfig(root, { plugins: [relative] }));
    const daemon = start(['--config', config]);
    await waitUntilServing(daemon, socketOf());
  });

  it('stops before listening when a plugin\'s config is wrong', async () => {
    const config = writeDaemonJson(
      root,
      testDaemonConfig(root, { plugins: [examplePlugin], 'plugin-config': { 'service.checkpoint-to-file': { 'delay-ms': 'soon' } } }),
    );
    const daemon = start(['--config', config]);
    assert.equal(await daemon.exited, 1);
    assert.equal(
      daemon.output().trim(),
      `caissond: daemon.json "plugin-config"."service.checkpoint-to-file" key "delay-ms": value "soon" is a string; expected a number`,
    );
    assert.equal(fs.existsSync(socketOf()), false);
  });

  it('stops before listening on a bad daemon.json, naming key, value and expectation', async () => {
    const config = writeDaemonJson(root, { ...testDaemonConfig(root), 'enable-pod-event': true });
    const daemon = start(['--config', config]);
    assert.equal(await daemon.exited, 1);
    assert.equal(daemon.output().trim(), `caissond: ${config}: unknown key "enable-pod-event" (value true); remove it or check its spelling`);
    assert.equal(fs.existsSync(socketOf()), false);
  });

  it('exits at start, with the reason, when "systemd-cgroup" is true and systemd is not on D-Bus', async () => {
    const config = writeDaemonJson(root, testDaemonConfig(root, { 'systemd-cgroup': true }));
    // Point the daemon at a bus address where nothing listens, whatever this host runs.
    const bus = path.join(root, 'no-bus');
    const daemon = spawnCaissond(['--config', config], { DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${bus}` });
    spawned.push(daemon);
    assert.equal(await daemon.exited, 1);
    const lastLine = daemon.output().trim().split('\n').pop() ?? '';
    const prefix = `caissond: plugin "cgroup-driver.systemd" failed to start: "systemd-cgroup" is true but systemd is not reachable on D-Bus at unix:path=${bus} (`;
    const suffix = '); run caissond on a host booted with systemd, or set "systemd-cgroup": false to use the cgroupfs driver';
    assert.ok(lastLine.startsWith(prefix) && lastLine.endsWith(suffix), lastLine);
    assert.match(lastLine.slice(prefix.length, -suffix.length), /ENOENT/, 'the cause says the bus socket does not exist');
    assert.equal(fs.existsSync(socketOf()), false);
  });

  it('refuses a second daemon while the pidfile is held', async () => {
    const config = writeDaemonJson(root, testDaemonConfig(root));
    const first = start(['--config', config]);
    await waitUntilServing(first, socketOf());
    const pid = fs.readFileSync(path.join(root, 'run', 'caissond.pid'), 'utf8').trim();
    assert.equal(pid, String(first.child.pid));
    const second = start(['--config', config]);
    assert.equal(await second.exited, 1);
    assert.equal(
      second.output().trim().split('\n').pop(),
      `caissond: pidfile ${root}/run/caissond.pid is held by running process ${pid}; another caissond is using this configuration (stop it, or give this one another "pidfile")`,
    );
    assert.equal((await clientOn(socketOf()).call('Version', {})).runtime_name, 'caisson');
  });

  it('on SIGTERM lets an in-flight call finish, then removes its socket and pidfile and exits 0', async () => {
    const config = writeDaemonJson(
      root,
      testDaemonConfig(root, { plugins: [examplePlugin], 'plugin-config': { 'service.checkpoint-to-file': { 'delay-ms': 1500 } } }),
    );
    const daemon = start(['--config', config]);
    await waitUntilServing(daemon, socketOf());
    const location = path.join(root, 'in-flight.json');
    const inFlight = clientOn(socketOf()).call('CheckpointContainer', { container_id: 'slow', location });
    await delay(300);
    daemon.child.kill('SIGTERM');
    await inFlight;
    assert.equal(JSON.parse(fs.readFileSync(location, 'utf8')).container_id, 'slow');
    assert.equal(await daemon.exited, 0);
    assert.match(daemon.output(), /caissond: SIGTERM received, shutting down/);
    assert.equal(fs.existsSync(socketOf()), false);
    assert.equal(fs.existsSync(path.join(root, 'run', 'caissond.pid')), false);
  });

  it('replaces a pidfile left by a dead daemon', async () => {
    const config = writeDaemonJson(root, testDaemonConfig(root));
    const first = start(['--config', config]);
    await waitUntilServing(first, socketOf());
    first.child.kill('SIGKILL');
    await first.exited;
    assert.ok(fs.existsSync(path.join(root, 'run', 'caissond.pid')));
    const second = start(['--config', config]);
    await waitUntilServing(second, socketOf());
  });

  it('answers the caisson CLI: version, info and runtime-config, as table and JSON', async () => {
    const config = writeDaemonJson(root, testDaemonConfig(root));
    const daemon = start(['--config', config]);
    await waitUntilServing(daemon, socketOf());
    const cli = path.join(packageInfo().root, 'bin', 'caisson');
    const host = `unix://${socketOf()}`;
    const table = await run(process.execPath, [cli, '--host', host, 'version']);
    assert.equal(table.stdout, 'Version            0.1.0\nRuntimeName        caisson\nRuntimeVersion     0.1.0\nRuntimeApiVersion  v1\n');
    const json = await run(process.execPath, [cli, '--host', host, '--output', 'json', 'runtime-config']);
    assert.deepEqual(JSON.parse(json.stdout), { linux: { cgroup_driver: 'CGROUPFS' } });
    const info = JSON.parse((await run(process.execPath, [cli, '-H', host, '-o', 'json', 'info'])).stdout);
    assert.equal(info.conditions[0].type, 'RuntimeReady');
    assert.equal(info.conditions[0].status, true);
    assert.deepEqual(info.info.plugins, ['cgroup-driver.cgroupfs', 'runtime.runc', 'service.runtime-info', 'image.images', 'service.pods', 'service.stats', 'service.exec', 'service.streaming']);
    const infoTable = (await run(process.execPath, [cli, '-H', host, 'info'])).stdout;
    assert.match(infoTable, /^RuntimeReady +true$/m);
    assert.match(infoTable, /^NetworkReady +false \(NetworkPluginNotReady: network plugin "none" is not loaded in this caissond\)$/m);
  });

  it('makes the caisson CLI fail clearly when no daemon answers', async () => {
    const cli = path.join(packageInfo().root, 'bin', 'caisson');
    await assert.rejects(run(process.execPath, [cli, '--host', `unix://${root}/nobody.sock`, 'version']), (error: { code: number; stderr: string }) => {
      assert.equal(error.code, 1);
      assert.match(error.stderr, /^caisson: /);
      return true;
    });
  });
});
