import type { Container } from '../../cri/generated/runtime/v1/Container';
import type { ContainerStatus } from '../../cri/generated/runtime/v1/ContainerStatus';
import type { ContainerRecord } from '../../containers/container-record';

// CRI messages for a container record.

export function containerMessage(record: ContainerRecord): Container {
  return {
    id: record.id,
    pod_sandbox_id: record.sandboxId,
    metadata: record.config.metadata,
    image: { image: record.imageName },
    image_ref: record.imageId,
    state: record.state,
    created_at: record.createdAt,
    labels: record.config.labels,
    annotations: record.config.annotations,
  };
}

export function containerStatusMessage(record: ContainerRecord): ContainerStatus {
  return {
    id: record.id,
    metadata: record.config.metadata,
    state: record.state,
    created_at: record.createdAt,
    started_at: record.startedAt,
    finished_at: record.finishedAt,
    exit_code: record.exitCode,
    image: { image: record.imageName },
    image_ref: record.imageId,
    reason: record.reason,
    message: record.message,
    labels: record.config.labels,
    annotations: record.config.annotations,
    mounts: record.config.mounts,
    log_path: record.logPath === '/dev/null' ? '' : record.logPath,
    ...(record.config.linux?.resources ? { resources: { linux: record.config.linux.resources } } : {}),
  };
}
