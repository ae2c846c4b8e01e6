import { Counter, Histogram, type Registry } from 'prom-client';
import type { CriCallRecord } from '../../cri/handler-registry';

// Per-RPC request counts and latencies by method and gRPC code, and the lifecycle operations the
// RPCs stand for (a pod's create, a container's start, an image pull, …) with their outcome and
// latency. Both are fed by one CRI call observer, so they count every call, refused ones too.

/** Seconds: a CRI call takes from under a millisecond (List*) to minutes (a large pull). */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];

/** The operation an RPC performs, for the operation metrics; other RPCs only count as requests. */
export const OPERATIONS: Readonly<Record<string, string>> = {
  RunPodSandbox: 'pod_create',
  StopPodSandbox: 'pod_stop',
  RemovePodSandbox: 'pod_remove',
  CreateContainer: 'container_create',
  StartContainer: 'container_start',
  StopContainer: 'container_stop',
  RemoveContainer: 'container_remove',
  PullImage: 'image_pull',
  PullImageWithProgress: 'image_pull',
};

export function criCallMetrics(registry: Registry): (call: CriCallRecord) => void {
  const requests = new Counter({ name: 'caisson_cri_requests_total', help: 'CRI calls answered, by method and gRPC code.', labelNames: ['method', 'code'], registers: [registry] });
  const latency = new Histogram({
    name: 'caisson_cri_request_duration_seconds',
    help: 'Time from receiving a CRI call to answering it, by method and gRPC code.',
    labelNames: ['method', 'code'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  const operations = new Counter({
    name: 'caisson_operations_total',
    help: 'Pod, container and image operations, by operation and outcome (ok or the gRPC code).',
    labelNames: ['operation', 'outcome'],
    registers: [registry],
  });
  const operationLatency = new Histogram({
    name: 'caisson_operation_duration_seconds',
    help: 'Time a pod, container or image operation took, by operation and outcome.',
    labelNames: ['operation', 'outcome'],
    buckets: LATENCY_BUCKETS,
    registers: [registry],
  });
  return (call) => {
    requests.inc({ method: call.rpc, code: call.code });
    latency.observe({ method: call.rpc, code: call.code }, call.seconds);
    const operation = OPERATIONS[call.rpc];
    if (operation === undefined) return;
    const outcome = call.code === 'OK' ? 'ok' : call.code;
    operations.inc({ operation, outcome });
    operationLatency.observe({ operation, outcome }, call.seconds);
  };
}
