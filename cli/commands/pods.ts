import { filterRegExp, newestFirst } from '../command-helpers';
import type { CriClient } from '../cri-client';
import { createdAgo, formatTable, podStateName, truncateId } from '../format';
import { printJson, type OutputFormat } from '../output';

export interface PodsOptions {
  readonly id?: string;
  readonly name?: string;
  readonly namespace?: string;
  readonly state?: string;
  readonly label?: Record<string, string>;
  readonly quiet?: boolean;
}

/** `ready`/`notready` (any case, as crictl) → the CRI state name. */
export function parsePodState(value: string): 'SANDBOX_READY' | 'SANDBOX_NOTREADY' {
  switch (value.toLowerCase()) {
    case 'ready':
    case 'sandbox_ready':
      return 'SANDBOX_READY';
    case 'notready':
    case 'sandbox_notready':
      return 'SANDBOX_NOTREADY';
    default:
      throw new Error(`--state must be "ready" or "notready", not "${value}"`);
  }
}

/** `caisson pods`: the pod sandboxes, newest first (like crictl pods). */
export async function podsCommand(client: CriClient, output: OutputFormat, options: PodsOptions): Promise<void> {
  const name = filterRegExp('--name', options.name);
  const namespace = filterRegExp('--namespace', options.namespace);
  const filter = {
    ...(options.id ? { id: options.id } : {}),
    ...(options.state ? { state: { state: parsePodState(options.state) } } : {}),
    ...(options.label ? { label_selector: options.label } : {}),
  };
  const { items = [] } = await client.call('ListPodSandbox', { filter });
  const pods = items
    .filter((pod) => !name || name.test(pod.metadata?.name ?? ''))
    .filter((pod) => !namespace || namespace.test(pod.metadata?.namespace ?? ''))
    .sort(newestFirst);
  if (options.quiet) {
    for (const pod of pods) process.stdout.write(`${String(pod.id)}\n`);
    return;
  }
  if (output === 'json') return printJson({ items: pods });
  const now = Date.now();
  const rows = pods.map((pod) => [
    truncateId(String(pod.id)),
    createdAgo(pod.created_at, now),
    podStateName(pod.state),
    String(pod.metadata?.name ?? ''),
    String(pod.metadata?.namespace ?? ''),
    String(pod.metadata?.attempt ?? 0),
    pod.runtime_handler ? pod.runtime_handler : '(default)',
  ]);
  process.stdout.write(formatTable(['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT', 'RUNTIME'], rows));
}
