import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { daemonConfigFileSchema } from '../../config/daemon-config-schema';
import { DEFAULT_CONFIG } from '../../config/defaults';
import { loadDaemonConfig, validateDaemonConfig } from '../../config/load-config';
import { packageInfo } from '../../core/package-info';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';

describe('daemon.json', () => {
  let root: string;
  beforeEach(() => (root = makeTempRoot('config')));
  afterEach(() => removeTempRoot(root));

  it('runs on the embedded defaults when no file exists', async () => {
    const config = await loadDaemonConfig({ defaultFile: path.join(root, 'absent.json') });
    assert.equal(config.source, 'built-in defaults');
    assert.deepEqual(config.hosts, ['unix:///var/run/caisson/caisson.sock']);
    assert.equal(config.graph, '/var/lib/caisson');
    assert.equal(config.state, '/var/run/caisson');
    assert.equal(config.defaultRuntime, 'runc');
    assert.equal(config.enableCriV1, true);
    assert.equal(config.systemdCgroup, false);
    assert.equal(config.enablePodEvents, false);
    assert.equal(config.websocketServerListeningPort, 10350);
    assert.equal(config.websocketServerListeningAddress, '127.0.0.1');
  });

  it('reads the default file when it exists, and --config over it', async () => {
    const defaultFile = path.join(root, 'daemon.json');
    fs.writeFileSync(defaultFile, JSON.stringify({ 'log-level': 'debug' }));
    const other = path.join(root, 'other.json');
    fs.writeFileSync(other, JSON.stringify({ 'log-level': 'warn', 'systemd-cgroup': true }));
    assert.equal((await loadDaemonConfig({ defaultFile })).logLevel, 'debug');
    const explicit = await loadDaemonConfig({ defaultFile, configFile: other });
    assert.equal(explicit.logLevel, 'warn');
    assert.equal(explicit.systemdCgroup, true);
    assert.equal(explicit.source, other);
  });

  it('refuses a --config file that does not exist', async () => {
    const missing = path.join(root, 'nope.json');
    await assert.rejects(loadDaemonConfig({ configFile: missing }), { message: `config file ${missing} (from --config) does not exist` });
  });

  it('refuses a file that is not JSON, naming the file', async () => {
    const file = path.join(root, 'daemon.json');
    fs.writeFileSync(file, '{ "hosts": [ }');
    await assert.rejects(loadDaemonConfig({ configFile: file }), (error: Error) => {
      assert.match(error.message, new RegExp(`^config file ${file} cannot be read: `));
      return true;
    });
  });

  it('names an unknown key and its value', () => {
    assert.throws(() => validateDaemonConfig({ 'log-levl': 'debug' }, 'daemon.json'), {
      message: 'daemon.json: unknown key "log-levl" (value "debug"); remove it or check its spelling',
    });
  });

  it('names a key with the wrong type, its value and what was expected', () => {
    assert.throws(() => validateDaemonConfig({ 'systemd-cgroup': 'yes' }, 'daemon.json'), {
      message: 'daemon.json key "systemd-cgroup": value "yes" is a string; expected a boolean',
    });
    assert.throws(() => validateDaemonConfig({ 'log-level': 'loud' }, 'daemon.json'), {
      message: 'daemon.json key "log-level": value "loud" is not allowed; expected one of "debug", "info", "warn", "error"',
    });
    assert.throws(() => validateDaemonConfig({ 'websocket-server-listening-port': 70000 }, 'daemon.json'), {
      message: 'daemon.json key "websocket-server-listening-port": value 70000 is too big; expected at most 65535',
    });
    assert.throws(() => validateDaemonConfig({ 'websocket-server-listening-address': 'localhost' }, 'daemon.json'), {
      message: /daemon.json key "websocket-server-listening-address": .*must be an IP address/,
    });
  });

  it('checks nested keys: runtimes entries and container-log options', () => {
    assert.throws(() => validateDaemonConfig({ runtimes: { kata: { path: '/usr/bin/kata', args: [] } } }, 'daemon.json'), {
      message: 'daemon.json: unknown key "args" inside "runtimes.kata" (value []); remove it or check its spelling',
    });
    assert.throws(() => validateDaemonConfig({ 'container-log': { opts: { 'max-size': 'huge' } } }, 'daemon.json'), {
      message: 'daemon.json key "container-log.opts.max-size": value "huge" is not valid; expected a size such as "10MB", "512KiB" or "-1" for no limit',
    });
    assert.throws(() => validateDaemonConfig({ hosts: ['tcp://0.0.0.0:2375'] }, 'daemon.json'), {
      message: 'daemon.json key "hosts.0": value "tcp://0.0.0.0:2375" is not valid; expected a unix socket address such as "unix:///var/run/caisson/caisson.sock"',
    });
  });

  it('reports every problem at once', () => {
    assert.throws(() => validateDaemonConfig({ group: 7, 'enable-cri-v1': 'no' }, 'daemon.json'), (error: Error) => {
      assert.equal(error.message.split('\n').length, 2);
      return true;
    });
  });

  it('refuses a top level that is not an object', () => {
    assert.throws(() => validateDaemonConfig([1], 'daemon.json'), { message: 'daemon.json: the top level must be a JSON object, not [1]' });
  });

  it('normalises cni-bin-dir and runtimes', () => {
    const config = validateDaemonConfig(
      { 'cni-bin-dir': '/a:/b', runtimes: { 'runc-debug': { path: '/usr/sbin/runc', 'runtime-args': ['--debug'] } } },
      'daemon.json',
    );
    assert.deepEqual(config.cniBinDirs, ['/a', '/b']);
    assert.deepEqual(config.runtimes, { 'runc-debug': { path: '/usr/sbin/runc', runtimeArgs: ['--debug'] } });
  });

  it('has every key and its default in docs/daemon-json.md', () => {
    const reference = fs.readFileSync(path.join(packageInfo().root, 'docs', 'daemon-json.md'), 'utf8');
    for (const key of Object.keys(daemonConfigFileSchema.shape)) {
      assert.match(reference, new RegExp(`^\\| \`${key}\` \\|`, 'm'), `docs/daemon-json.md has no row for "${key}"`);
    }
    assert.ok(reference.includes(DEFAULT_CONFIG.graph) && reference.includes(DEFAULT_CONFIG.pidfile));
  });
});
