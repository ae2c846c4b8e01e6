import assert from 'node:assert/strict';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import { CriClient } from '../../cli/cri-client';
import { loadCriServices } from '../../core/cri/cri-proto';
import type { ContainerEventResponse__Output } from '../../core/cri/generated/runtime/v1/ContainerEventResponse';
import { startBusyboxRegistry } from '../support/busybox-registry';
import { containerConfig, podConfig, runPod, startContainer } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { spawnCaissond, waitUntilServing, writeDaemonJson, type SpawnedDaemon, tearDownSpawned } from '../support/spawned-daemon';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { testDaemonConfig, unmountBelow } from '../support/test-daemon';

// Issue 15: a GetContainerEvents subscriber connected when caissond was SIGKILLed reconnects after
// the restart and must hear of what changed meanwhile: a container whose process ended while the
// daemon was down gives CONTAINER_STOPPED_EVENT on the first stream after the restart.

type Event = ContainerEventResponse__Output;

describe('pod events across a daemon restart', function () {
  this.timeout(120_000);
  let registry: TestRegistry;
  let image: string;
  let root: string;
  const spawned: SpawnedDaemon[] = [];
  const clients: CriClient[] = [];
  const streams: (() => void)[] = [];

  before(async () => ({ registry, image } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => (root = makeTempRoot('events-restart')));
  afterEach(async function () {
    for (const close of streams.splice(0)) close();
    // Everything the test made goes through a live daemon, so conmon and runc end too.
    await tearDownSpawned(spawned, clients, socket(), this.currentTest?.state === 'failed');
    await unmountBelow(root);
    removeTempRoot(root);
  });

  const socket = (): string => path.join(root, 'run', 'caisson.sock');
  const start = async (): Promise<CriClient> => {
    const config = writeDaemonJson(root, testDaemonConfig(root, { 'insecure-registries': [registry.host], 'enable-pod-events': true, 'log-level': 'debug' }));
    const daemon = spawnCaissond(['--config', config]);
    spawned.push(daemon);
    await waitUntilServing(daemon, socket());
    const client = new CriClient(socket());
    clients.push(client);
    return client;
  };

  /** A GetContainerEvents stream on its own connection; collects events until closed. */
  const openEvents = (): { events: Event[]; ended: Promise<grpc.ServiceError | undefined> } => {
    const { RuntimeService } = loadCriServices('v1');
    const client = new RuntimeService(`unix://${socket()}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    const call = (client as unknown as { GetContainerEvents(r: object): grpc.ClientReadableStream<Event> }).GetContainerEvents({});
    const events: Event[] = [];
    call.on('data', (event: Event) => events.push(event));
    const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
      call.on('error', resolve);
      call.on('end', () => resolve(undefined));
    });
    streams.push(() => {
      call.cancel();
      client.close();
    });
    return { events, ended };
  };

  const waitUntil = async (what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await delay(50);
    }
  };

  it('gives the first subscriber after a restart CONTAINER_STOPPED_EVENT for a container that exited while the daemon was down', async () => {
    let client = await start();
    await client.call('PullImage', { image: { image } });
    const pod = podConfig(path.join(root, 'logs'));
    const podId = await runPod(client, pod);
    const before = openEvents();
    const containerId = await startContainer(client, podId, pod, containerConfig('sleeper', image, ['sleep', '300']));
    await waitUntil('the STARTED event on the first subscriber', () => before.events.some((e) => e.container_id === containerId && e.container_event_type === 'CONTAINER_STARTED_EVENT'));
    const { info } = await client.call('ContainerStatus', { container_id: containerId, verbose: true });
    const pid = Number((JSON.parse(String(info?.['info'])) as { pid: number }).pid);
    assert.ok(pid > 1, `the container's pid is known (${pid})`);

    const first = spawned[0] as SpawnedDaemon;
    first.child.kill('SIGKILL');
    await first.exited;
    const ended = await before.ended;
    assert.equal(ended?.code, grpc.status.UNAVAILABLE, 'the stream of the killed daemon ends UNAVAILABLE');
    // The container's process ends while no daemon runs: conmon records the exit.
    process.kill(pid, 'SIGKILL');
    await waitUntil(`process ${pid} to end`, () => {
      try {
        process.kill(pid, 0);
        return false;
      } catch {
        return true;
      }
    });
    await delay(500);

    client = await start();
    const after = openEvents();
    await waitUntil(`CONTAINER_STOPPED_EVENT for ${containerId} on the first stream after the restart`, () =>
      after.events.some((e) => e.container_id === containerId && e.container_event_type === 'CONTAINER_STOPPED_EVENT'),
    10_000).catch((error: Error) => {
      throw new Error(`${error.message}; it got: ${JSON.stringify(after.events.map((e) => `${e.container_event_type} ${e.container_id}`))}`);
    });
    const stopped = after.events.find((e) => e.container_id === containerId && e.container_event_type === 'CONTAINER_STOPPED_EVENT') as Event;
    const status = stopped.containers_statuses.find((c) => c.id === containerId);
    assert.equal(status?.state, 'CONTAINER_EXITED');
    assert.equal(status?.exit_code, 137);
    assert.equal(stopped.pod_sandbox_status?.id, podId);

    // The replay is for the first stream only: a second one gets only new events.
    const second = openEvents();
    await delay(500);
    assert.deepEqual(second.events.map((e) => e.container_event_type), []);
  });
});
