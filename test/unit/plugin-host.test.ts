import assert from 'node:assert/strict';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { validateDaemonConfig } from '../../config/load-config';
import { HandlerRegistry } from '../../core/cri/handler-registry';
import { createLogger } from '../../core/log/logger';
import type { AnyPluginManifest } from '../../core/plugin/plugin-entry';
import { PluginHost } from '../../core/plugin/plugin-host';
import { definePlugin, PluginType } from '../../core/plugin/plugin-manifest';
import { validatePlugins } from '../../core/plugin/validate-plugins';
import { optional } from '../../core/plugin/token';
import { CgroupDriver, NetworkPlugin } from '../../core/tokens';
import { lockTestDriver } from '../support/lock-test-driver';

// The plugin host with plugins written for the test: it records what ran, in which order.

const fakeDriver: CgroupDriver = lockTestDriver('cgroupfs');

function hostFor(manifests: AnyPluginManifest[]) {
  const config = validateDaemonConfig({}, 'daemon.json');
  const container: DependencyContainer = rootContainer.createChildContainer();
  const registry = new HandlerRegistry();
  const logs: string[] = [];
  const host = new PluginHost({ container, config, registry, logger: createLogger('debug', (l) => logs.push(l)) });
  const plugins = validatePlugins(
    manifests.map((manifest) => ({ manifest, origin: { kind: 'given' } })),
    config,
  );
  return { host, plugins, registry, container, logs };
}

describe('plugin host', () => {
  const journal: string[] = [];
  beforeEach(() => journal.splice(0));

  const plugin = (id: string, type: PluginType, after: string[] = [], extra: Partial<AnyPluginManifest> = {}): AnyPluginManifest =>
    definePlugin({
      id,
      type,
      after,
      runtimes: type === PluginType.Runtime ? () => ['runc'] : undefined,
      init(ctx) {
        journal.push(`init ${ctx.identity}`);
        ctx.onStop(() => {
          journal.push(`stop ${ctx.identity}`);
        });
      },
      ...extra,
    });

  it('starts in dependency order and stops in reverse, once', async () => {
    const { host, plugins } = hostFor([
      plugin('svc', PluginType.Service, [PluginType.Runtime]),
      plugin('rt', PluginType.Runtime, [PluginType.CgroupDriver]),
      plugin('fs', PluginType.CgroupDriver),
    ]);
    await host.start(plugins);
    await host.stop();
    await host.stop();
    assert.deepEqual(journal, [
      'init cgroup-driver.fs', 'init runtime.rt', 'init service.svc',
      'stop service.svc', 'stop runtime.rt', 'stop cgroup-driver.fs',
    ]);
  });

  it('names the plugin whose init failed, keeps the cause, and stops the ones started', async () => {
    const cause = new Error('runc binary is missing');
    const failing = plugin('rt', PluginType.Runtime, [PluginType.CgroupDriver], {
      init() {
        throw cause;
      },
    });
    const { host, plugins } = hostFor([plugin('fs', PluginType.CgroupDriver), failing, plugin('svc', PluginType.Service, [PluginType.Runtime])]);
    await assert.rejects(host.start(plugins), (error: Error) => {
      assert.equal(error.message, 'plugin "runtime.rt" failed to start: runc binary is missing');
      assert.equal(error.cause, cause);
      return true;
    });
    assert.deepEqual(journal, ['init cgroup-driver.fs', 'stop cgroup-driver.fs']);
  });

  it('keeps stopping the others when one stop hook throws', async () => {
    const badStop = plugin('rt', PluginType.Runtime, [], {
      init(ctx) {
        ctx.onStop(() => {
          throw new Error('stuck');
        });
      },
    });
    const { host, plugins, logs } = hostFor([plugin('fs', PluginType.CgroupDriver), badStop]);
    await host.start(plugins);
    await host.stop();
    assert.deepEqual(journal, ['init cgroup-driver.fs', 'stop cgroup-driver.fs']);
    assert.ok(logs.some((line) => line.includes('plugin "runtime.rt" failed to stop cleanly: stuck')));
  });

  it('refuses a binding the manifest does not declare in "provides"', async () => {
    const undeclared = plugin('fs', PluginType.CgroupDriver, [], {
      init(ctx) {
        ctx.provide(CgroupDriver, fakeDriver);
      },
    });
    const { host, plugins, container } = hostFor([undeclared, plugin('rt', PluginType.Runtime)]);
    await assert.rejects(host.start(plugins), {
      message: 'plugin "cgroup-driver.fs" binds CgroupDriver without listing it in its manifest\'s "provides"',
    });
    assert.equal(container.isRegistered(CgroupDriver), false);
  });

  it('refuses bindings after start-up', async () => {
    let late: ((value: CgroupDriver) => void) | undefined;
    const lateBinder = plugin('late', PluginType.Service, [], {
      provides: [CgroupDriver],
      init(ctx) {
        late = (value) => ctx.provide(CgroupDriver, value);
      },
    });
    const { host, plugins } = hostFor([plugin('fs', PluginType.CgroupDriver), plugin('rt', PluginType.Runtime), lateBinder]);
    await host.start(plugins);
    assert.throws(() => late?.(fakeDriver), {
      message: 'plugin "service.late" tried to bind CgroupDriver after start-up; bindings are fixed for the daemon\'s lifetime',
    });
  });

  it('refuses a second handler for one RPC, naming both plugins', async () => {
    const contributor = (id: string): AnyPluginManifest =>
      plugin(id, PluginType.Events, [], {
        init(ctx) {
          ctx.cri.handle('GetContainerEvents', async () => undefined);
        },
      });
    const { host, plugins, registry } = hostFor([plugin('fs', PluginType.CgroupDriver), plugin('rt', PluginType.Runtime), contributor('first'), contributor('second')]);
    await assert.rejects(host.start(plugins), {
      message: 'CRI handler for "GetContainerEvents" is contributed by both "events.first" and "events.second"; only one plugin may answer an RPC',
    });
    assert.equal(registry.lookup('GetContainerEvents')?.plugin, 'events.first');
  });

  it('refuses a handler for something that is not a CRI RPC', async () => {
    const wrong = plugin('wrong', PluginType.Service, [], {
      init(ctx) {
        ctx.cri.handle('RunPod' as 'RunPodSandbox', async () => ({ pod_sandbox_id: '' }));
      },
    });
    const { host, plugins } = hostFor([plugin('fs', PluginType.CgroupDriver), plugin('rt', PluginType.Runtime), wrong]);
    await assert.rejects(host.start(plugins), {
      message: 'plugin "service.wrong" contributes a handler for "RunPod", which is not a CRI v1 or Caisson RPC',
    });
  });

  it('injects what "requires" names, bound by an earlier plugin, and undefined for an unbound optional token', async () => {
    let seen: { driver: CgroupDriver; network: unknown } | undefined;
    const fs = plugin('fs', PluginType.CgroupDriver, [], { provides: [CgroupDriver], init: (ctx) => ctx.provide(CgroupDriver, fakeDriver) });
    const reader = definePlugin({
      id: 'reader',
      type: PluginType.Service,
      requires: { driver: CgroupDriver, network: optional(NetworkPlugin) },
      init(_ctx, injected) {
        seen = injected;
      },
    });
    const { host, plugins } = hostFor([reader, plugin('rt', PluginType.Runtime), fs]);
    await host.start(plugins);
    assert.equal(seen?.driver, fakeDriver);
    assert.equal(seen?.network, undefined);
    assert.ok(seen && 'network' in seen, 'the optional name is present, as undefined');
  });
});
