import * as fs from 'node:fs';
import * as path from 'node:path';
import type { DaemonConfigFile } from '../../config/daemon-config-schema';
import { validateDaemonConfig } from '../../config/load-config';
import { createDaemon, type Daemon } from '../../core/daemon/create-daemon';
import { createLogger, type Logger } from '../../core/log/logger';
import type { AnyPluginManifest } from '../../core/plugin/plugin-entry';
import { builtinPlugins } from '../../plugins/builtins';
import { runProgram } from '../../core/host-programs/run-program';
import { CriClient } from '../../cli/cri-client';
import { makeTempRoot, removeTempRoot } from './temp-root';

// One helper builds every in-process test daemon: a temporary root holding its socket, state,
// graph and pidfile, its own DI container, and a log kept in memory (printed when a test fails).
// `useTestDaemons()` registers an afterEach that stops every daemon and removes its root.

export interface TestDaemon {
  readonly daemon: Daemon;
  readonly root: string;
  readonly socket: string;
  readonly logs: string[];
  /** A CRI client on the daemon's socket (closed at teardown). */
  client(apiVersion?: 'v1' | 'v1alpha2'): CriClient;
}

export interface TestDaemonOptions {
  /** daemon.json keys; hosts, graph, state and pidfile default to the temporary root. */
  readonly config?: DaemonConfigFile;
  /** Defaults to the built-in plugins. */
  readonly plugins?: readonly AnyPluginManifest[];
  /** Reuse a root (a restart); otherwise a new one is made. */
  readonly root?: string;
  /** Do not call start() (the test starts it and expects a failure). */
  readonly noStart?: boolean;
}

export function testDaemonConfig(root: string, config: DaemonConfigFile = {}): DaemonConfigFile {
  return {
    hosts: [`unix://${path.join(root, 'run', 'caisson.sock')}`],
    graph: path.join(root, 'lib'),
    state: path.join(root, 'run'),
    pidfile: path.join(root, 'run', 'caissond.pid'),
    group: 'root',
    // Pods get loopback only unless a test sets up a CNI network of its own (cni tests do).
    'network-plugin': 'none',
    // A free port for the streaming server, so test daemons never collide.
    'websocket-server-listening-port': 0,
    ...config,
  };
}

export function useTestDaemons(): { start(options?: TestDaemonOptions): Promise<TestDaemon> } {
  const running: { daemon: Daemon; clients: CriClient[]; logs: string[]; socket: string }[] = [];
  const roots = new Set<string>();

  afterEach(async function () {
    const failed = this.currentTest?.state === 'failed';
    for (const entry of running.splice(0)) {
      await removeEverything(entry.socket).catch((error: unknown) => entry.logs.push(`teardown: ${String(error)}\n`));
      entry.clients.forEach((client) => client.close());
      await entry.daemon.stop();
      if (failed) process.stderr.write(`--- daemon log ---\n${entry.logs.join('')}\n`);
    }
    for (const root of roots) {
      await unmountBelow(root);
      removeTempRoot(root);
    }
    roots.clear();
  });

  return {
    async start(options = {}) {
      const root = options.root ?? makeTempRoot('daemon');
      roots.add(root);
      fs.mkdirSync(root, { recursive: true });
      const fileConfig = testDaemonConfig(root, options.config);
      const config = validateDaemonConfig(fileConfig, path.join(root, 'daemon.json'));
      const logs: string[] = [];
      const logger: Logger = createLogger('debug', (line) => logs.push(line));
      const daemon = createDaemon({ config, plugins: options.plugins ?? builtinPlugins, logger });
      const clients: CriClient[] = [];
      const socket = (fileConfig.hosts?.[0] ?? '').replace(/^unix:\/\//, '');
      running.push({ daemon, clients, logs, socket });
      if (!options.noStart) await daemon.start();
      return {
        daemon,
        root,
        socket,
        logs,
        client(apiVersion = 'v1') {
          const client = new CriClient(socket, apiVersion);
          clients.push(client);
          return client;
        },
      };
    },
  };
}

/** Removes every pod and container the test left, through the daemon (so runc and conmon end too). */
export async function removeEverything(socket: string): Promise<void> {
  if (!fs.existsSync(socket)) return;
  const client = new CriClient(socket);
  try {
    const { items = [] } = await client.call('ListPodSandbox', {}, { timeoutMs: 5_000 });
    for (const pod of items) await client.call('RemovePodSandbox', { pod_sandbox_id: pod.id }, { timeoutMs: 60_000 });
    const { containers = [] } = await client.call('ListContainers', {}, { timeoutMs: 5_000 });
    for (const container of containers) await client.call('RemoveContainer', { container_id: container.id }, { timeoutMs: 60_000 });
  } catch (error) {
    // A daemon that never started, or serves no pods, has nothing to remove.
    if ((error as { code?: number }).code !== 12 && (error as { code?: number }).code !== 14) throw error;
  } finally {
    client.close();
  }
}

/** Safety net after a failed test: unmounts whatever is still mounted below a test root. */
export async function unmountBelow(root: string): Promise<void> {
  const mounts = fs
    .readFileSync('/proc/self/mounts', 'utf8')
    .split('\n')
    .map((line) => line.split(' ')[1] ?? '')
    .filter((mountpoint) => mountpoint.startsWith(`${root}/`))
    .sort()
    .reverse();
  for (const mountpoint of mounts) await runProgram('umount', ['-l', mountpoint]).catch(() => undefined);
}
