import type { CriClient } from '../../cli/cri-client';
import { startBusyboxRegistry } from './busybox-registry';
import { podConfig, runPod } from './pod-fixtures';
import type { TestRegistry } from './registry/test-registry';
import { makeTempRoot, removeTempRoot } from './temp-root';
import { useTestDaemons, type TestDaemon } from './test-daemon';

// The setup most container tests share: the busybox image on a test registry (once per file), a
// log folder per test, and `startPod()`: a test daemon that trusts the registry, the image pulled
// and one pod running. Call it at the top of a describe block; it registers its own hooks.

export interface BusyboxPod {
  readonly daemon: TestDaemon;
  readonly client: CriClient;
  readonly podId: string;
  /** The PodSandboxConfig the pod was run with (CreateContainer needs it again). */
  readonly pod: Record<string, unknown>;
}

export interface BusyboxPods {
  /** The busybox image reference on the test registry (set once the file's `before` ran). */
  readonly image: string;
  /** This test's log folder (pods' log_directory). */
  readonly logs: string;
  /** `overrides` are PodSandboxConfig fields (see podConfig); `daemonConfig` more daemon.json keys. */
  startPod(overrides?: Record<string, unknown>, daemonConfig?: Record<string, unknown>): Promise<BusyboxPod>;
}

export function useBusyboxPods(logPrefix: string): BusyboxPods {
  const daemons = useTestDaemons();
  let registry: TestRegistry | undefined;
  let image = '';
  let logs = '';

  before(async () => ({ registry, image } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => (logs = makeTempRoot(logPrefix)));
  afterEach(() => removeTempRoot(logs));

  return {
    get image() {
      return image;
    },
    get logs() {
      return logs;
    },
    async startPod(overrides = {}, daemonConfig = {}) {
      if (!registry) throw new Error('useBusyboxPods: the registry is not up yet (call startPod inside a test)');
      const daemon = await daemons.start({ config: { 'insecure-registries': [registry.host], ...daemonConfig } });
      const client = daemon.client();
      await client.call('PullImage', { image: { image } });
      const pod = podConfig(logs, overrides);
      const podId = await runPod(client, pod);
      return { daemon, client, podId, pod };
    },
  };
}
