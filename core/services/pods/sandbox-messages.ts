import type { PodSandbox } from '../../cri/generated/runtime/v1/PodSandbox';
import type { PodSandboxStatus } from '../../cri/generated/runtime/v1/PodSandboxStatus';
import type { SandboxRecord } from '../../pods/sandbox-record';

// CRI messages for a sandbox record.

export function podSandboxMessage(record: SandboxRecord): PodSandbox {
  return {
    id: record.id,
    metadata: record.config.metadata,
    state: record.state,
    created_at: record.createdAt,
    labels: record.config.labels,
    annotations: record.config.annotations,
    runtime_handler: record.runtimeHandler,
  };
}

export function podSandboxStatusMessage(record: SandboxRecord): PodSandboxStatus {
  const options = record.config.linux?.security_context?.namespace_options;
  return {
    id: record.id,
    metadata: record.config.metadata,
    state: record.state,
    created_at: record.createdAt,
    network: { ip: record.ips?.[0] ?? '', additional_ips: (record.ips ?? []).slice(1).map((ip) => ({ ip })) },
    linux: {
      namespaces: {
        options: {
          network: options?.network ?? 'POD',
          pid: options?.pid ?? 'POD',
          ipc: options?.ipc ?? 'POD',
          target_id: options?.target_id ?? '',
        },
      },
    },
    labels: record.config.labels,
    annotations: record.config.annotations,
    runtime_handler: record.runtimeHandler,
  };
}
