import assert from 'node:assert/strict';
import type { ContainerRecord } from '../../core/containers/container-record';
import type { ContainerEventResponse } from '../../core/cri/generated/runtime/v1/ContainerEventResponse';
import { EventBus, type LifecycleEvent, type LifecycleEventType } from '../../core/events/event-bus';
import { createLogger } from '../../core/log/logger';
import type { SandboxRecord } from '../../core/pods/sandbox-record';
import { PodEventBuilder } from '../../plugins/pod-events/event-builder';
import { PodEventsService } from '../../plugins/pod-events/pod-events-service';

// Building ContainerEventResponse messages from lifecycle events over a fake pod state.

const sandboxRecord = (id: string, state: SandboxRecord['state']): SandboxRecord =>
  ({
    id,
    key: `pod_ns_uid_0`,
    config: { metadata: { name: 'pod', namespace: 'ns', uid: 'uid', attempt: 0 }, labels: { app: 'x' }, annotations: {}, linux: null },
    runtimeHandler: '',
    runtimeName: 'runc',
    createdAt: '1000',
    state,
    ips: ['10.0.0.2'],
  }) as unknown as SandboxRecord;

const containerRecord = (id: string, sandboxId: string, state: ContainerRecord['state'], exitCode = 0): ContainerRecord =>
  ({
    id,
    sandboxId,
    config: { metadata: { name: id, attempt: 0 }, labels: {}, annotations: {}, mounts: [], linux: null },
    imageName: 'busybox',
    imageId: 'sha256:1',
    state,
    createdAt: '1',
    startedAt: '2',
    finishedAt: '3',
    exitCode,
    reason: state === 'CONTAINER_EXITED' ? 'Error' : '',
    message: '',
    logPath: '/logs/c.log',
  }) as unknown as ContainerRecord;

class FakeState {
  sandboxes = new Map<string, SandboxRecord>();
  containers = new Map<string, ContainerRecord>();
  onList: () => void = () => undefined;
  readonly source = {
    sandbox: (id: string) => this.sandboxes.get(id),
    containers: (sandboxId: string) => {
      this.onList();
      return [...this.containers.values()].filter((c) => c.sandboxId === sandboxId);
    },
  };
}

const event = (type: LifecycleEventType, containerId: string, sandboxId: string, at = 5n): LifecycleEvent => ({ type, containerId, sandboxId, createdAtNanos: at });

describe('pod-events message builder', () => {
  it('carries the pod status and every container status taken at publish time, created_at as a string', () => {
    const state = new FakeState();
    state.sandboxes.set('s1', sandboxRecord('s1', 'SANDBOX_READY'));
    state.containers.set('c1', containerRecord('c1', 's1', 'CONTAINER_EXITED', 3));
    state.containers.set('c2', containerRecord('c2', 's1', 'CONTAINER_RUNNING'));
    state.containers.set('other', containerRecord('other', 's2', 'CONTAINER_RUNNING'));
    const message = new PodEventBuilder(state.source).build(event('CONTAINER_STOPPED_EVENT', 'c1', 's1', 1_700_000_000_123_456_789n));
    assert.equal(message.container_id, 'c1');
    assert.equal(message.container_event_type, 'CONTAINER_STOPPED_EVENT');
    assert.equal(message.created_at, '1700000000123456789');
    assert.equal(message.pod_sandbox_status?.id, 's1');
    assert.equal(message.pod_sandbox_status?.state, 'SANDBOX_READY');
    assert.equal(message.pod_sandbox_status?.network?.ip, '10.0.0.2');
    assert.deepEqual(
      message.containers_statuses?.map((c) => [c.id, c.state, c.exit_code]),
      [
        ['c1', 'CONTAINER_EXITED', 3],
        ['c2', 'CONTAINER_RUNNING', 0],
      ],
    );
  });

  it('describes a deleted sandbox from the last status seen, NOTREADY and without containers, then forgets it', () => {
    const state = new FakeState();
    const builder = new PodEventBuilder(state.source);
    state.sandboxes.set('s1', sandboxRecord('s1', 'SANDBOX_READY'));
    builder.build(event('CONTAINER_STARTED_EVENT', 's1', 's1'));
    state.sandboxes.set('s1', sandboxRecord('s1', 'SANDBOX_NOTREADY'));
    builder.build(event('CONTAINER_STOPPED_EVENT', 's1', 's1'));
    state.sandboxes.delete('s1');
    assert.equal(builder.rememberedSandboxes, 1);
    const deleted = builder.build(event('CONTAINER_DELETED_EVENT', 's1', 's1'));
    assert.equal(deleted.pod_sandbox_status?.id, 's1');
    assert.equal(deleted.pod_sandbox_status?.state, 'SANDBOX_NOTREADY');
    assert.deepEqual(deleted.pod_sandbox_status?.labels, { app: 'x' });
    assert.deepEqual(deleted.pod_sandbox_status?.metadata, { name: 'pod', namespace: 'ns', uid: 'uid', attempt: 0 });
    assert.deepEqual(deleted.containers_statuses, []);
    assert.equal(builder.rememberedSandboxes, 0);
  });

  it('remembers sandboxes that existed when it started (seed)', () => {
    const state = new FakeState();
    const builder = new PodEventBuilder(state.source);
    builder.seed([sandboxRecord('old', 'SANDBOX_READY')]);
    const deleted = builder.build(event('CONTAINER_DELETED_EVENT', 'old', 'old'));
    assert.deepEqual([deleted.pod_sandbox_status?.id, deleted.pod_sandbox_status?.state, deleted.pod_sandbox_status?.metadata?.name], ['old', 'SANDBOX_NOTREADY', 'pod']);
  });

  it('keeps the remembered status apart from the message sent', () => {
    const state = new FakeState();
    const builder = new PodEventBuilder(state.source);
    state.sandboxes.set('s1', sandboxRecord('s1', 'SANDBOX_READY'));
    const first = builder.build(event('CONTAINER_CREATED_EVENT', 's1', 's1'));
    (first.pod_sandbox_status?.labels as Record<string, string>)['app'] = 'mutated';
    state.sandboxes.delete('s1');
    const deleted = builder.build(event('CONTAINER_DELETED_EVENT', 's1', 's1'));
    assert.deepEqual(deleted.pod_sandbox_status?.labels, { app: 'x' });
  });
});

describe('pod-events service', () => {
  const logger = createLogger('error', () => undefined);

  it('keeps publish order when building one event publishes another (an exit folded in while listing)', async () => {
    const state = new FakeState();
    state.sandboxes.set('s1', sandboxRecord('s1', 'SANDBOX_READY'));
    const bus = new EventBus((error) => {
      throw error;
    });
    const service = new PodEventsService({ bufferSize: 10, logger, source: state.source });
    bus.subscribe(service.onEvent);
    let nested = true;
    state.onList = () => {
      if (!nested) return;
      nested = false;
      bus.publish(event('CONTAINER_STOPPED_EVENT', 'c2', 's1', 2n));
    };
    const received: ContainerEventResponse[] = [];
    const controller = new AbortController();
    const streaming = service.handle({}, { write: async (m) => void received.push(m) }, { apiVersion: 'v1', signal: controller.signal });
    bus.publish(event('CONTAINER_STARTED_EVENT', 'c1', 's1', 1n));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(received.map((m) => `${m.container_id}@${String(m.created_at)}`), ['c1@1', 'c2@2']);
    controller.abort();
    await streaming;
    assert.equal(service.subscriberCount, 0);
  });

  it('ends a stream whose client stalls with RESOURCE_EXHAUSTED while a write is pending, naming the config key', async () => {
    const state = new FakeState();
    state.sandboxes.set('s1', sandboxRecord('s1', 'SANDBOX_READY'));
    const service = new PodEventsService({ bufferSize: 2, logger, source: state.source });
    const stalled = service.handle({}, { write: () => new Promise<void>(() => undefined) }, { apiVersion: 'v1', signal: new AbortController().signal });
    for (let i = 0; i < 4; i += 1) service.onEvent(event('CONTAINER_CREATED_EVENT', `c${i}`, 's1'));
    await assert.rejects(stalled, (error: Error & { code?: string }) => {
      assert.equal(error.code, 'RESOURCE_EXHAUSTED');
      assert.match(error.message, /buffer-size 2\b/);
      assert.match(error.message, /raise "buffer-size" under plugin-config "events\.pod-events" in daemon\.json/);
      return true;
    });
    assert.equal(service.subscriberCount, 0);
  });
});
