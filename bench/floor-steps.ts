// What the floors of the engine comparison (bench/runc-floor.ts) do for one pod's container.

/** One pod of a floor with network: its container's id and bundle, its pinned namespace. */
export interface FloorPod {
  readonly id: string;
  readonly podBundle: string;
  readonly netns: string;
  readonly results: unknown[];
}

/** How a floor starts a pod's container, and removes it. */
export interface ContainerSteps {
  /** Untimed preparation before start (files the container needs of its own). */
  prepare?(pod: Pick<FloorPod, 'id' | 'podBundle'>): void;
  start(pod: Pick<FloorPod, 'id' | 'podBundle'>): Promise<void>;
  remove(pod: Pick<FloorPod, 'id'>): Promise<void>;
  /** Sum of VmRSS (bytes) of the per-container processes it leaves running (conmon), if any. */
  helperRss?(): number;
}
