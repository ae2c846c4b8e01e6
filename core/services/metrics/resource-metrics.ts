import type { Registry } from 'prom-client';
import type { ListPodSandboxMetricsResponse } from '../../cri/generated/runtime/v1/ListPodSandboxMetricsResponse';
import type { Metric } from '../../cri/generated/runtime/v1/Metric';
import { metricFamilies } from '../../stats/metrics';

// Container and pod resource metrics as cAdvisor names them (container_cpu_usage_seconds_total,
// container_memory_working_set_bytes, … with container, pod, namespace and the other cAdvisor
// labels), taken from the ListPodSandboxMetrics answer itself, so the endpoint and the CRI never
// disagree. The answer is read once per scrape (`refresh`), before the registry renders.

type Snapshot = ListPodSandboxMetricsResponse;

export interface ResourceMetrics {
  /** Reads the metrics for the scrape that is about to render. */
  refresh(): Promise<void>;
}

export function resourceMetrics(registry: Registry, read: () => Promise<Snapshot>): ResourceMetrics {
  let snapshot: Snapshot = { pod_metrics: [] };
  const byName = (name: string): Metric[] =>
    (snapshot.pod_metrics ?? []).flatMap((pod) => [...(pod.metrics ?? []), ...(pod.container_metrics ?? []).flatMap((container) => container.metrics ?? [])]).filter((m) => m.name === name);

  for (const family of metricFamilies()) {
    registry.registerMetric({
      name: family.name,
      help: family.help,
      type: family.type === 'COUNTER' ? 'counter' : 'gauge',
      async get() {
        return {
          name: family.name,
          help: family.help,
          type: family.type === 'COUNTER' ? 'counter' : 'gauge',
          aggregator: 'sum',
          values: byName(family.name).map((m) => ({
            value: Number(m.value?.value ?? 0),
            labels: Object.fromEntries(family.labelKeys.map((key, i) => [key, m.label_values?.[i] ?? ''])),
          })),
        };
      },
      reset() {
        // Nothing kept between scrapes.
      },
    } as never);
  }
  return {
    async refresh() {
      snapshot = await read();
    },
  };
}
