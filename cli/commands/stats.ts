import { setTimeout as delay } from 'node:timers/promises';
import type { ContainerStats } from '../../core/cri/generated/runtime/v1/ContainerStats';
import type { CriClient } from '../cri-client';
import { formatBytes, formatTable, truncateId } from '../format';
import { printJson, type OutputFormat } from '../output';

export interface StatsOptions {
  readonly pod?: string;
  readonly all?: boolean;
  readonly watch?: boolean;
}

const WATCH_INTERVAL_MS = 2_000;
/** When the daemon has no earlier CPU sample of a container, ask again after this long. */
const SECOND_SAMPLE_MS = 1_000;

/**
 * `caisson stats`: CPU, memory and writable layer use of containers (the running ones unless
 * `-a`, of one pod with `--pod`, or those named). The daemon computes CPU % from two samples; a
 * container it has not sampled before gets a second sample a second later. `--watch` redraws
 * every 2 s until Ctrl-C. `-o json` prints the raw CRI response.
 */
export async function statsCommand(client: CriClient, output: OutputFormat, ids: readonly string[], options: StatsOptions): Promise<void> {
  const podId = options.pod ? await resolvePod(client, options.pod) : undefined;
  const fetch = () => fetchStats(client, ids, podId, options.all === true);
  let stats = await fetch();
  if (stats.some((s) => s.cpu && !s.cpu.usage_nano_cores)) {
    await delay(SECOND_SAMPLE_MS);
    stats = await fetch();
  }
  if (!options.watch) return print(stats, output);

  const interrupted = new AbortController();
  const onSigint = (): void => interrupted.abort();
  process.once('SIGINT', onSigint);
  try {
    for (;;) {
      if (output === 'table' && process.stdout.isTTY) process.stdout.write('\x1b[2J\x1b[H');
      print(stats, output);
      try {
        await delay(WATCH_INTERVAL_MS, undefined, { signal: interrupted.signal });
      } catch {
        return; // Ctrl-C
      }
      stats = await fetch();
    }
  } finally {
    process.removeListener('SIGINT', onSigint);
  }
}

async function resolvePod(client: CriClient, pod: string): Promise<string> {
  const { items = [] } = await client.call('ListPodSandbox', { filter: { id: pod } });
  if (items.length > 1) throw new Error(`pod ID prefix "${pod}" is ambiguous: it matches ${items.length} pods`);
  const found = items[0];
  if (!found) throw new Error(`pod ${pod} not found`);
  return String(found.id);
}

async function fetchStats(client: CriClient, ids: readonly string[], podId: string | undefined, all: boolean): Promise<ContainerStats[]> {
  if (ids.length > 0) {
    const answers = await Promise.all(ids.map((id) => client.call('ContainerStats', { container_id: id })));
    return answers.map((a) => a.stats).filter((s): s is ContainerStats => s !== null && s !== undefined);
  }
  const podFilter = podId === undefined ? {} : { pod_sandbox_id: podId };
  const { stats = [] } = await client.call('ListContainerStats', { filter: podFilter });
  if (all) return stats;
  const { containers = [] } = await client.call('ListContainers', { filter: { ...podFilter, state: { state: 'CONTAINER_RUNNING' } } });
  const running = new Set(containers.map((c) => String(c.id)));
  return stats.filter((s) => running.has(String(s.attributes?.id ?? '')));
}

function print(stats: readonly ContainerStats[], output: OutputFormat): void {
  if (output === 'json') return printJson({ stats });
  process.stdout.write(formatTable(['CONTAINER', 'NAME', 'CPU %', 'MEM', 'DISK', 'INODES'], stats.map(statsRow)));
}

/** One table row; "-" where the daemon reported no value. */
export function statsRow(s: ContainerStats): string[] {
  const number = (value: { value?: unknown } | null | undefined): number | undefined => (value ? Number(String(value.value ?? 0)) : undefined);
  const nanoCores = number(s.cpu?.usage_nano_cores);
  const workingSet = number(s.memory?.working_set_bytes);
  const disk = number(s.writable_layer?.used_bytes);
  const inodes = number(s.writable_layer?.inodes_used);
  return [
    truncateId(String(s.attributes?.id ?? '')),
    String(s.attributes?.metadata?.name ?? ''),
    nanoCores === undefined ? '-' : (nanoCores / 1e7).toFixed(2),
    workingSet === undefined ? '-' : formatBytes(workingSet),
    disk === undefined ? '-' : formatBytes(disk),
    inodes === undefined ? '-' : String(inodes),
  ];
}
