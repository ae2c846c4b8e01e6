import assert from 'node:assert/strict';
import { z } from 'zod';
import { validateDaemonConfig } from '../../config/load-config';
import type { DaemonConfigFile } from '../../config/daemon-config-schema';
import type { AnyPluginManifest, PluginEntry } from '../../core/plugin/plugin-entry';
import { definePlugin, PluginType } from '../../core/plugin/plugin-manifest';
import { optional } from '../../core/plugin/token';
import { validatePlugins } from '../../core/plugin/validate-plugins';
import { CgroupDriver, Logger, NetworkPlugin, SandboxService } from '../../core/tokens';
import { builtinPlugins } from '../../plugins/builtins';

const noop = (): void => undefined;

function given(...manifests: AnyPluginManifest[]): PluginEntry[] {
  return manifests.map((manifest) => ({ manifest, origin: { kind: 'given' } }));
}

function config(file: DaemonConfigFile = {}) {
  return validateDaemonConfig(file, 'daemon.json');
}

const driver = definePlugin({ id: 'fs', type: PluginType.CgroupDriver, init: noop });
const runtime = definePlugin({ id: 'rt', type: PluginType.Runtime, runtimes: () => ['runc'], init: noop });

describe('plugin validation', () => {
  it('orders the built-ins: driver, then runtime, then services', () => {
    const order = validatePlugins(given(...builtinPlugins), config()).map((p) => p.identity);
    assert.deepEqual(order, ['cgroup-driver.cgroupfs', 'runtime.runc', 'network.cni', 'service.runtime-info', 'image.images', 'service.pods', 'service.stats', 'service.exec', 'service.streaming']);
  });

  it('selects the systemd driver with "systemd-cgroup": true', () => {
    const order = validatePlugins(given(...builtinPlugins), config({ 'systemd-cgroup': true })).map((p) => p.identity);
    assert.deepEqual(order, ['cgroup-driver.systemd', 'runtime.runc', 'network.cni', 'service.runtime-info', 'image.images', 'service.pods', 'service.stats', 'service.exec', 'service.streaming']);
  });

  it('puts the plugins named in "after" first, whatever the list order', () => {
    const events = definePlugin({ id: 'ev', type: PluginType.Events, after: ['service.svc'], init: noop });
    const service = definePlugin({ id: 'svc', type: PluginType.Service, after: [PluginType.Runtime], init: noop });
    const order = validatePlugins(given(events, service, runtime, driver), config()).map((p) => p.identity);
    assert.deepEqual(order, ['runtime.rt', 'service.svc', 'events.ev', 'cgroup-driver.fs']);
  });

  it('refuses a duplicate identity, naming where both came from', () => {
    const again = { manifest: definePlugin({ id: 'rt', type: PluginType.Runtime, init: noop }), origin: { kind: 'module', path: '/opt/p.js' } } as const;
    assert.throws(() => validatePlugins([...given(driver, runtime), again], config()), {
      message: 'duplicate plugin "runtime.rt": the plugin list given to createDaemon and module /opt/p.js (from "plugins" in daemon.json) both define it',
    });
  });

  it('refuses an "after" naming no enabled plugin', () => {
    const needsNetwork = definePlugin({ id: 'x', type: PluginType.Service, after: [PluginType.Network], init: noop });
    assert.throws(() => validatePlugins(given(driver, runtime, needsNetwork), config()), {
      message: 'plugin "service.x" runs after a "network" plugin, and none is enabled',
    });
    const needsOne = definePlugin({ id: 'y', type: PluginType.Service, after: ['events.pod-events'], init: noop });
    assert.throws(() => validatePlugins(given(driver, runtime, needsOne), config()), {
      message: 'plugin "service.y" runs after "events.pod-events", which is not an enabled plugin',
    });
  });

  it('refuses a cycle and prints its path', () => {
    const a = definePlugin({ id: 'a', type: PluginType.Service, after: ['service.b'], init: noop });
    const b = definePlugin({ id: 'b', type: PluginType.Service, after: ['service.c'], init: noop });
    const c = definePlugin({ id: 'c', type: PluginType.Service, after: ['service.a'], init: noop });
    assert.throws(() => validatePlugins(given(driver, runtime, a, b, c), config()), {
      message: 'plugin dependency cycle: service.a -> service.b -> service.c -> service.a',
    });
  });

  it('wants exactly one cgroup driver, naming the plugins and the key that chose them', () => {
    assert.throws(() => validatePlugins(given(runtime), config()), {
      message:
        'no cgroup driver plugin is enabled: "systemd-cgroup" in daemon.json chooses cgroup-driver.cgroupfs or cgroup-driver.systemd, and the plugin list has neither',
    });
    const extra = { manifest: definePlugin({ id: 'other', type: PluginType.CgroupDriver, init: noop }), origin: { kind: 'module', path: '/opt/driver.js' } } as const;
    assert.throws(() => validatePlugins([...given(...builtinPlugins), extra], config()), {
      message:
        'more than one cgroup driver plugin is enabled: cgroup-driver.cgroupfs (chosen by "systemd-cgroup" in daemon.json) and ' +
        'cgroup-driver.other (loaded from "plugins" in daemon.json: /opt/driver.js); a daemon runs with exactly one',
    });
  });

  it('wants exactly one provider of the default runtime and of every cri-runtimes target', () => {
    assert.throws(() => validatePlugins(given(...builtinPlugins), config({ 'default-runtime': 'kata' })), {
      message: 'runtime "kata" ("default-runtime" in daemon.json) is not provided by any runtime plugin; runtime.runc provides runc',
    });
    const twin = definePlugin({ id: 'twin', type: PluginType.Runtime, runtimes: () => ['runc'], init: noop });
    assert.throws(() => validatePlugins(given(...builtinPlugins, twin), config()), {
      message: 'runtime "runc" ("default-runtime" in daemon.json) is provided by more than one plugin: runtime.runc and runtime.twin',
    });
    assert.throws(() => validatePlugins(given(...builtinPlugins), config({ 'cri-runtimes': { gvisor: 'runsc' } })), {
      message: 'runtime "runsc" ("cri-runtimes"."gvisor" in daemon.json) is not provided by any runtime plugin; runtime.runc provides runc',
    });
    const ok = validatePlugins(
      given(...builtinPlugins),
      config({ runtimes: { 'runc-debug': { path: 'runc', 'runtime-args': ['--debug'] } }, 'cri-runtimes': { debug: 'runc-debug' } }),
    );
    assert.equal(ok.length, 9);
  });

  it('checks manifest shape: id pattern, type, init', () => {
    assert.throws(() => validatePlugins(given({ ...runtime, id: 'Bad_Id' }), config()), {
      message: 'plugin manifest has id "Bad_Id"; an id is lower-case letters, digits and dashes',
    });
    assert.throws(() => validatePlugins(given({ ...runtime, type: 'gadget' as PluginType }), config()), {
      message: 'plugin "gadget.rt" has unknown type "gadget"; known types: runtime, cgroup-driver, events, network, image, service',
    });
    assert.throws(() => validatePlugins(given({ ...runtime, init: undefined } as unknown as AnyPluginManifest), config()), {
      message: 'plugin "runtime.rt" has no init function',
    });
  });

  it('validates each plugin\'s "plugin-config" section with its schema', () => {
    const configured = definePlugin({
      id: 'cfg',
      type: PluginType.Service,
      configSchema: z.object({ interval: z.number().int().default(5) }).strict(),
      init: noop,
    });
    const resolved = validatePlugins(given(driver, runtime, configured), config({ 'plugin-config': { 'service.cfg': {} } }));
    assert.deepEqual(resolved.find((p) => p.identity === 'service.cfg')?.config, { interval: 5 });
    assert.throws(() => validatePlugins(given(driver, runtime, configured), config({ 'plugin-config': { 'service.cfg': { interval: 'often' } } })), {
      message: 'daemon.json "plugin-config"."service.cfg" key "interval": value "often" is a string; expected a number',
    });
    assert.throws(() => validatePlugins(given(driver, runtime, configured), config({ 'plugin-config': { 'service.nope': {} } })), {
      message:
        'daemon.json "plugin-config" has a section for "service.nope", which is not an enabled plugin; enabled plugins: cgroup-driver.fs, runtime.rt, service.cfg',
    });
  });

  it('puts the provider of every required token first, and an optional one only when enabled', () => {
    const reader = definePlugin({ id: 'reader', type: PluginType.Service, requires: { driver: CgroupDriver, network: optional(NetworkPlugin), logger: Logger }, init: noop });
    const fs = definePlugin({ id: 'fs', type: PluginType.CgroupDriver, provides: [CgroupDriver], init: noop });
    const net = definePlugin({ id: 'net', type: PluginType.Network, provides: [NetworkPlugin], init: noop });
    const withNetwork = validatePlugins(given(reader, runtime, net, fs), config()).map((p) => p.identity);
    assert.deepEqual(withNetwork, ['cgroup-driver.fs', 'network.net', 'service.reader', 'runtime.rt']);
    const without = validatePlugins(given(reader, runtime, fs), config()).map((p) => p.identity);
    assert.deepEqual(without, ['cgroup-driver.fs', 'service.reader', 'runtime.rt']);
  });

  it('refuses a required token nobody binds, naming it and the name init gets it by', () => {
    const needsPods = definePlugin({ id: 'x', type: PluginType.Service, requires: { pods: SandboxService }, init: noop });
    assert.throws(() => validatePlugins(given(driver, runtime, needsPods), config()), {
      message: 'plugin "service.x" requires SandboxService (as "pods"), which the core does not bind and no enabled plugin provides',
    });
  });

  it('refuses two providers of one token, and a plugin providing a token the core binds', () => {
    const a = definePlugin({ id: 'a', type: PluginType.Network, provides: [NetworkPlugin], init: noop });
    const b = definePlugin({ id: 'b', type: PluginType.Network, provides: [NetworkPlugin], init: noop });
    assert.throws(() => validatePlugins(given(driver, runtime, a, b), config()), {
      message: 'NetworkPlugin is provided by both "network.a" and "network.b"; a daemon binds it once',
    });
    const logs = definePlugin({ id: 'logs', type: PluginType.Service, provides: [Logger], init: noop });
    assert.throws(() => validatePlugins(given(driver, runtime, logs), config()), {
      message: 'plugin "service.logs" provides Logger, which the core binds itself',
    });
  });

  it('refuses "requires" written as a list (ordering goes in "after")', () => {
    const oldStyle = { id: 'old', type: PluginType.Service, requires: ['service.pods'], init: noop } as unknown as AnyPluginManifest;
    assert.throws(() => validatePlugins(given(driver, runtime, oldStyle), config()), {
      message: 'plugin "service.old" has "requires" that is not a map of names to tokens (e.g. { driver: CgroupDriver }); list plugins to start first in "after"',
    });
  });
});
