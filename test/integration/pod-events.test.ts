import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as grpc from '@grpc/grpc-js';
import type { CriClient } from '../../cli/cri-client';
import { loadCriServices } from '../../core/cri/cri-proto';
import type { ContainerEventResponse__Output } from '../../core/cri/generated/runtime/v1/ContainerEventResponse';
import type { ContainerStatus__Output } from '../../core/cri/generated/runtime/v1/ContainerStatus';
import { packageInfo } from '../../core/package-info';
import { containerConfig, podConfig, runPod, startContainer, waitForExit } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';
import { startBusyboxRegistry } from '../support/busybox-registry';

// GetContainerEvents through the pod-events plugin, with real runc and conmon and busybox from a
// local docker-registry: the sequence for a pod's life, several subscribers, OOM, a subscriber
// that falls behind, cancel, shutdown, the feature off, and `caisson events`.

type Event = ContainerEventResponse__Output;

interface EventStream {
  readonly events: Event[];
  /** Date.now() when each event arrived. */
  readonly arrivals: number[];
  readonly call: grpc.ClientReadableStream<Event>;
  /** Resolves with the status the stream ended with (undefined for a clean end). */
  readonly ended: Promise<grpc.ServiceError | undefined>;
  close(): void;
}

const CLI = path.join(packageInfo().root, 'bin', 'caisson');

describe('pod lifecycle events (events.pod-events)', function () {
  this.timeout(120_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let image: string;
  let logs: string;
  const streams: EventStream[] = [];
  const children = new Set<ChildProcess>();

  before(async () => ({ registry, image } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => (logs = makeTempRoot('pod-events')));
  // Registered after useTestDaemons' hook, so it runs once the daemon is gone.
  afterEach(() => {
    for (const stream of streams.splice(0)) stream.close();
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.clear();
    removeTempRoot(logs);
  });

  const start = async (options: { config?: Record<string, unknown>; events?: boolean } = {}): Promise<{ d: TestDaemon; client: CriClient }> => {
    const d = await daemons.start({
      config: { 'insecure-registries': [registry.host], ...(options.events === false ? {} : { 'enable-pod-events': true }), ...options.config },
    });
    const client = d.client();
    await client.call('PullImage', { image: { image } });
    return { d, client };
  };

  /** A GetContainerEvents stream on its own connection (so pausing one never stalls another). */
  const openEvents = (d: TestDaemon): EventStream => {
    const { RuntimeService } = loadCriServices('v1');
    const client = new RuntimeService(`unix://${d.socket}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
    const call = (client as unknown as { GetContainerEvents(r: object): grpc.ClientReadableStream<Event> }).GetContainerEvents({});
    const events: Event[] = [];
    const arrivals: number[] = [];
    call.on('data', (event: Event) => {
      events.push(event);
      arrivals.push(Date.now());
    });
    const ended = new Promise<grpc.ServiceError | undefined>((resolve) => {
      call.on('error', resolve);
      call.on('end', () => resolve(undefined));
    });
    const stream = {
      events,
      arrivals,
      call,
      ended,
      close: () => {
        call.cancel();
        client.close();
      },
    };
    streams.push(stream);
    return stream;
  };

  const openCount = (d: TestDaemon): number => {
    const lines = d.logs.filter((line) => line.includes('GetContainerEvents stream '));
    const last = lines[lines.length - 1];
    return last ? Number(/; (\d+) open/.exec(last)?.[1] ?? -1) : 0;
  };

  const waitUntil = async (what: string, predicate: () => boolean, timeoutMs = 15_000): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (!predicate()) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await delay(20);
    }
  };

  /** Opens `n` streams and waits until the daemon has subscribed them all. */
  const subscribe = async (d: TestDaemon, n = 1): Promise<EventStream[]> => {
    const before = openCount(d);
    const opened = Array.from({ length: n }, () => openEvents(d));
    await waitUntil(`${n} open event stream(s)`, () => openCount(d) === before + n);
    return opened;
  };

  const short = (e: Event): string => `${e.container_event_type.replace(/^CONTAINER_|_EVENT$/g, '')} ${e.container_id}`;
  const statusOf = (e: Event, id: string): ContainerStatus__Output | undefined => e.containers_statuses.find((c) => c.id === id);

  /** A pod with two containers through create, start, exit, stop and remove; answers the IDs. */
  const podLife = async (client: CriClient, afterC1Exit: () => Promise<void> = async () => undefined) => {
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const c1 = await startContainer(client, podId, pod, containerConfig('c1', image, ['sh', '-c', 'sleep 1; exit 3']));
    await waitForExit(client, c1);
    await afterC1Exit();
    const c2 = await startContainer(client, podId, pod, containerConfig('c2', image, ['sleep', '300']));
    await client.call('StopPodSandbox', { pod_sandbox_id: podId }, { timeoutMs: 60_000 });
    await client.call('RemoveContainer', { container_id: c1 });
    await client.call('RemoveContainer', { container_id: c2 });
    await client.call('RemovePodSandbox', { pod_sandbox_id: podId }, { timeoutMs: 60_000 });
    return { podId, c1, c2 };
  };

  const expectedSequence = ({ podId, c1, c2 }: { podId: string; c1: string; c2: string }): string[] => [
    `CREATED ${podId}`,
    `STARTED ${podId}`,
    `CREATED ${c1}`,
    `STARTED ${c1}`,
    `STOPPED ${c1}`,
    `CREATED ${c2}`,
    `STARTED ${c2}`,
    `STOPPED ${c2}`,
    `STOPPED ${podId}`,
    `DELETED ${c1}`,
    `DELETED ${c2}`,
    `DELETED ${podId}`,
  ];

  it('streams the exact sequence of a pod with two containers, each with the statuses after the change', async () => {
    const { d, client } = await start();
    const [stream] = await subscribe(d);
    assert.ok(stream);
    let c1StoppedLatencyMs = -1;
    const ids = await podLife(client, async () => {
      // The exit reaches the subscriber through inotify, not through the status poll.
      await waitUntil('c1 STOPPED event', () => stream.events.some((e) => e.container_event_type === 'CONTAINER_STOPPED_EVENT'));
      const index = stream.events.findIndex((e) => e.container_event_type === 'CONTAINER_STOPPED_EVENT');
      const finished = Number(BigInt(String(stream.events[index]?.containers_statuses[0]?.finished_at ?? '0')) / 1_000_000n);
      c1StoppedLatencyMs = (stream.arrivals[index] ?? Infinity) - finished;
    });
    const expected = expectedSequence(ids);
    await waitUntil('every event', () => stream.events.length >= expected.length);
    await delay(300);
    assert.deepEqual(stream.events.map(short), expected);
    assert.ok(c1StoppedLatencyMs >= 0 && c1StoppedLatencyMs < 2000, `c1's exit reached the subscriber ${c1StoppedLatencyMs} ms after it happened`);

    const { podId, c1, c2 } = ids;
    const [sCreated, sStarted, c1Created, c1Started, c1Stopped, c2Created, c2Started, c2Stopped, sStopped, c1Deleted, c2Deleted, sDeleted] = stream.events as [Event, Event, Event, Event, Event, Event, Event, Event, Event, Event, Event, Event];
    for (const e of stream.events) {
      assert.equal(e.pod_sandbox_status?.id, podId);
      assert.match(e.created_at, /^\d{19}$/);
    }
    const times = stream.events.map((e) => BigInt(e.created_at));
    assert.deepEqual([...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), times, 'created_at never goes back');
    const states = (e: Event): string[] => e.containers_statuses.map((c) => `${c.id === c1 ? 'c1' : c.id === c2 ? 'c2' : c.id}:${c.state}`).sort();

    for (const e of [sCreated, sStarted]) {
      assert.equal(e.pod_sandbox_status?.state, 'SANDBOX_READY');
      assert.equal(e.pod_sandbox_status?.metadata?.namespace, 'caisson-test');
      assert.deepEqual(e.containers_statuses, []);
    }
    assert.deepEqual(states(c1Created), ['c1:CONTAINER_CREATED']);
    assert.deepEqual(states(c1Started), ['c1:CONTAINER_RUNNING']);
    assert.deepEqual(states(c1Stopped), ['c1:CONTAINER_EXITED']);
    assert.deepEqual([statusOf(c1Stopped, c1)?.exit_code, statusOf(c1Stopped, c1)?.reason], [3, 'Error']);
    assert.equal(statusOf(c1Stopped, c1)?.metadata?.name, 'c1');
    assert.deepEqual(states(c2Created), ['c1:CONTAINER_EXITED', 'c2:CONTAINER_CREATED']);
    assert.deepEqual(states(c2Started), ['c1:CONTAINER_EXITED', 'c2:CONTAINER_RUNNING']);
    assert.deepEqual(states(c2Stopped), ['c1:CONTAINER_EXITED', 'c2:CONTAINER_EXITED']);
    assert.equal(statusOf(c2Stopped, c2)?.exit_code, 137);
    assert.equal(sStopped.pod_sandbox_status?.state, 'SANDBOX_NOTREADY');
    assert.deepEqual(states(sStopped), ['c1:CONTAINER_EXITED', 'c2:CONTAINER_EXITED']);
    assert.deepEqual(states(c1Deleted), ['c2:CONTAINER_EXITED']);
    assert.deepEqual(states(c2Deleted), []);
    // The sandbox record is gone: its last known status, NOTREADY.
    assert.equal(sDeleted.pod_sandbox_status?.state, 'SANDBOX_NOTREADY');
    assert.equal(sDeleted.pod_sandbox_status?.metadata?.name, sCreated.pod_sandbox_status?.metadata?.name);
    assert.deepEqual(sDeleted.pod_sandbox_status?.labels, { app: 'test' });
    assert.deepEqual(sDeleted.containers_statuses, []);
  });

  it('orders STARTED before STOPPED for a container that exits while it is being started', async () => {
    const { d, client } = await start();
    const [stream] = await subscribe(d);
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const quick = [];
    for (let i = 0; i < 5; i++) quick.push(await startContainer(client, podId, pod, containerConfig(`quick-${i}`, image, ['true'])));
    for (const id of quick) await waitForExit(client, id);
    await waitUntil('every STOPPED', () => (stream?.events ?? []).filter((e) => e.container_event_type === 'CONTAINER_STOPPED_EVENT').length === quick.length);
    for (const id of quick) {
      assert.deepEqual(
        (stream?.events ?? []).filter((e) => e.container_id === id).map(short),
        [`CREATED ${id}`, `STARTED ${id}`, `STOPPED ${id}`],
      );
    }
  });

  it('gives two subscribers the same sequence', async () => {
    const { d, client } = await start();
    const [a, b] = await subscribe(d, 2);
    assert.ok(a && b);
    const ids = await podLife(client);
    const expected = expectedSequence(ids);
    await waitUntil('every event on both', () => a.events.length >= expected.length && b.events.length >= expected.length);
    await delay(300);
    assert.deepEqual(a.events.map(short), expected);
    assert.deepEqual(b.events, a.events);
  });

  it('reports an OOM kill as STOPPED with reason OOMKilled', async () => {
    const { d, client } = await start();
    const [stream] = await subscribe(d);
    assert.ok(stream);
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const limit = String(32 * 1024 * 1024);
    const id = await startContainer(client, podId, pod, containerConfig('hog', image, ['sh', '-c', 'x=$(head -c 67108864 /dev/zero | tr "\\0" a)'], {
      linux: { resources: { memory_limit_in_bytes: limit, memory_swap_limit_in_bytes: limit } },
    }));
    await waitUntil('the STOPPED event', () => stream.events.some((e) => e.container_event_type === 'CONTAINER_STOPPED_EVENT' && e.container_id === id), 30_000);
    const stopped = stream.events.find((e) => e.container_event_type === 'CONTAINER_STOPPED_EVENT' && e.container_id === id);
    const status = stopped && statusOf(stopped, id);
    assert.deepEqual([status?.state, status?.reason, status?.exit_code], ['CONTAINER_EXITED', 'OOMKilled', 137]);
    assert.deepEqual(stream.events.filter((e) => e.container_id === id).map(short), [`CREATED ${id}`, `STARTED ${id}`, `STOPPED ${id}`]);
  });

  it('cuts off a subscriber that stops reading with RESOURCE_EXHAUSTED while another receives everything in order', async () => {
    const { d, client } = await start({ config: { 'plugin-config': { 'events.pod-events': { 'buffer-size': 4 } } } });
    const [reader, stalled] = await subscribe(d, 2);
    assert.ok(reader && stalled);
    stalled.call.pause();
    // Large annotations make each event large, so HTTP/2 windows and socket buffers fill quickly.
    const bulk = 'x'.repeat(32 * 1024);
    const expected: string[] = [];
    const cutOff = (): boolean => d.logs.some((line) => line.includes('GetContainerEvents stream cut off (it fell behind)'));
    for (let i = 0; i < 80 && !cutOff(); i += 1) {
      const podId = await runPod(client, podConfig(logs, { annotations: { bulk } }));
      await client.call('RemovePodSandbox', { pod_sandbox_id: podId });
      expected.push(`CREATED ${podId}`, `STARTED ${podId}`, `STOPPED ${podId}`, `DELETED ${podId}`);
    }
    assert.ok(cutOff(), 'the stalled subscriber was cut off');
    assert.equal(openCount(d), 1, 'only the reader is still subscribed');
    await waitUntil('the reader has every event', () => reader.events.length >= expected.length);
    await delay(200);
    assert.deepEqual(reader.events.map(short), expected);

    stalled.call.resume();
    const status = await stalled.ended;
    assert.equal(status?.code, grpc.status.RESOURCE_EXHAUSTED);
    assert.equal(
      status?.details,
      'the event subscriber fell behind: 4 events were already waiting to be sent to it (buffer-size 4); the stream is ended so that the client relists; raise "buffer-size" under plugin-config "events.pod-events" in daemon.json (now 4) if this client is often this slow',
    );
    // What it did get before the cut-off is a prefix of the whole sequence, with no gaps.
    assert.ok(stalled.events.length < expected.length);
    assert.deepEqual(stalled.events.map(short), expected.slice(0, stalled.events.length));
  });

  it('frees the subscription of a cancelled stream', async () => {
    const { d } = await start();
    const [a, b] = await subscribe(d, 2);
    assert.ok(a && b);
    assert.equal(openCount(d), 2);
    a.close();
    await waitUntil('the cancelled stream to be freed', () => openCount(d) === 1);
    b.close();
    await waitUntil('every stream to be freed', () => openCount(d) === 0);
  });

  it('ends an open stream with UNAVAILABLE when the daemon shuts down', async () => {
    const { d } = await start();
    const [stream] = await subscribe(d);
    assert.ok(stream);
    await d.daemon.stop();
    const status = await stream.ended;
    assert.equal(status?.code, grpc.status.UNAVAILABLE);
    assert.equal(status?.details, 'caissond is shutting down; GetContainerEvents stream ended');
  });

  it('answers UNIMPLEMENTED saying how to enable it when enable-pod-events is off (the default)', async () => {
    const { d } = await start({ events: false });
    const stream = openEvents(d);
    const status = await stream.ended;
    assert.equal(status?.code, grpc.status.UNIMPLEMENTED);
    assert.equal(status?.details, 'GetContainerEvents is not implemented by this caissond: pod lifecycle events are off; set "enable-pod-events": true in daemon.json and restart caissond');
  });

  it('prints JSON lines with `caisson events --json` until interrupted', async () => {
    const { d, client } = await start();
    const child = spawn(process.execPath, [CLI, '--host', `unix://${d.socket}`, 'events', '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const closed = new Promise<number | null>((resolve) => child.on('close', resolve));
    await waitUntil('the CLI to subscribe', () => openCount(d) === 1);
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('echo', image, ['sh', '-c', 'sleep 0.5']));
    await waitUntil('the STOPPED line', () => stdout.includes('CONTAINER_STOPPED_EVENT'));
    assert.ok(child.pid !== undefined);
    process.kill(child.pid, 'SIGINT');
    assert.equal(await closed, 0, stderr);
    const lines = stdout.trim().split('\n').map((line) => JSON.parse(line) as Event);
    assert.deepEqual(lines.map(short), [`CREATED ${podId}`, `STARTED ${podId}`, `CREATED ${id}`, `STARTED ${id}`, `STOPPED ${id}`]);
    assert.equal(lines[4]?.containers_statuses[0]?.reason, 'Completed');
    assert.equal(lines[0]?.pod_sandbox_status?.id, podId);
  });
});
