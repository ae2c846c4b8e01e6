import { containerStatusMessage, podSandboxStatusMessage, type ContainerEventResponse, type ContainerRecord, type LifecycleEvent, type PodSandboxStatus, type SandboxRecord } from '../../core/plugin-api';

// Turns a lifecycle event into the ContainerEventResponse the kubelet's evented PLEG reads: the
// pod's status and all its containers' statuses, taken right when the event is published (so
// after the change). A removed sandbox has no record any more: its DELETED event carries the
// last status seen for it (kept per sandbox, updated on every event of the pod, then dropped).

/** Where the builder reads the current state (the pods service in the daemon, fakes in tests). */
export interface PodStateSource {
  /** The sandbox with exactly this ID, or undefined once it is removed. */
  sandbox(id: string): SandboxRecord | undefined;
  /** Every container of the sandbox. */
  containers(sandboxId: string): readonly ContainerRecord[];
}

export class PodEventBuilder {
  private readonly lastStatus = new Map<string, PodSandboxStatus>();

  constructor(private readonly source: PodStateSource) {}

  /** Remembers the sandboxes that exist when the plugin starts (they may be removed later). */
  seed(sandboxes: readonly SandboxRecord[]): void {
    for (const sandbox of sandboxes) this.lastStatus.set(sandbox.id, structuredClone(podSandboxStatusMessage(sandbox)));
  }

  build(event: LifecycleEvent): ContainerEventResponse {
    const sandbox = this.source.sandbox(event.sandboxId);
    let podStatus: PodSandboxStatus;
    if (sandbox) {
      podStatus = podSandboxStatusMessage(sandbox);
      // A copy: the message sent may be serialised later; the record may change meanwhile.
      this.lastStatus.set(sandbox.id, structuredClone(podStatus));
    } else {
      // Gone: the last status seen, but no longer ready (a removed sandbox was stopped first).
      const last = this.lastStatus.get(event.sandboxId);
      podStatus = { ...(last ? structuredClone(last) : { id: event.sandboxId }), state: 'SANDBOX_NOTREADY' };
    }
    if (event.type === 'CONTAINER_DELETED_EVENT' && event.containerId === event.sandboxId) this.lastStatus.delete(event.sandboxId);
    return {
      container_id: event.containerId,
      container_event_type: event.type,
      created_at: event.createdAtNanos.toString(),
      pod_sandbox_status: podStatus,
      containers_statuses: sandbox ? this.source.containers(sandbox.id).map(containerStatusMessage) : [],
    };
  }

  /** Sandboxes whose last status is kept (for tests and logs). */
  get rememberedSandboxes(): number {
    return this.lastStatus.size;
  }
}
