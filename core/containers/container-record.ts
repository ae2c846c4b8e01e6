import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig';

// What the metadata store keeps of a container. `imageId` is also what the image service checks
// before removing an image.

export type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

export interface ContainerRecord {
  readonly id: string;
  readonly sandboxId: string;
  /** name + attempt within the pod, unique per sandbox. */
  readonly key: string;
  readonly config: ContainerConfig__Output;
  /** The image as the client named it, and the image's ID. */
  readonly imageName: string;
  readonly imageId: string;
  readonly runtimeName: string;
  readonly cgroupsPath: string;
  readonly logPath: string;
  readonly stopSignal: string;
  readonly state: ContainerState;
  readonly pid: number;
  /** Nanoseconds since the epoch as decimal strings ("0" when it has not happened). */
  readonly createdAt: string;
  readonly startedAt: string;
  readonly finishedAt: string;
  readonly exitCode: number;
  readonly reason: string;
  readonly message: string;
  /** Set (durably) before StopContainer signals: recovery at start-up completes a stop it finds begun. */
  readonly stopping?: boolean;
  /** Set (durably) before RemoveContainer deletes anything: recovery completes a remove it finds begun. */
  readonly removing?: boolean;
  readonly paths: {
    readonly bundle: string;
    readonly rootfs: string;
    readonly persistDir: string;
    readonly exitDir: string;
    readonly socketDir: string;
    readonly upper: string;
    readonly work: string;
  };
}
