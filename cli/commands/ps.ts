import { filterRegExp, newestFirst } from '../command-helpers';
import type { CriClient } from '../cri-client';
import { containerStateName, createdAgo, formatTable, truncateId } from '../format';
import { printJson, type OutputFormat } from '../output';

export interface PsOptions {
  readonly all?: boolean;
  readonly id?: string;
  readonly pod?: string;
  readonly name?: string;
  readonly state?: string;
  readonly label?: Record<string, string>;
  readonly quiet?: boolean;
}

type ContainerState = 'CONTAINER_CREATED' | 'CONTAINER_RUNNING' | 'CONTAINER_EXITED' | 'CONTAINER_UNKNOWN';

/** `created`/`running`/`exited`/`unknown` (any case) → the CRI state name. */
export function parseContainerState(value: string): ContainerState {
  const word = value.toLowerCase().replace(/^container_/, '');
  if (word === 'created' || word === 'running' || word === 'exited' || word === 'unknown') return `CONTAINER_${word.toUpperCase()}` as ContainerState;
  throw new Error(`--state must be created, running, exited or unknown, not "${value}"`);
}

/**
 * `caisson ps`: containers, newest first. As in crictl, only running ones unless `-a` or
 * `--state` says otherwise.
 */
export async function psCommand(client: CriClient, output: OutputFormat, options: PsOptions): Promise<void> {
  const name = filterRegExp('--name', options.name);
  const state = options.state !== undefined ? parseContainerState(options.state) : options.all ? undefined : 'CONTAINER_RUNNING';
  let podId: string | undefined;
  if (options.pod) {
    // ListContainers filters on a full pod ID: resolve a prefix first.
    const { items = [] } = await client.call('ListPodSandbox', { filter: { id: options.pod } });
    if (items.length > 1) throw new Error(`pod ID prefix "${options.pod}" is ambiguous: it matches ${items.length} pods`);
    podId = items[0]?.id ?? options.pod;
  }
  const filter = {
    ...(options.id ? { id: options.id } : {}),
    ...(podId ? { pod_sandbox_id: podId } : {}),
    ...(state ? { state: { state } } : {}),
    ...(options.label ? { label_selector: options.label } : {}),
  };
  const { containers = [] } = await client.call('ListContainers', { filter });
  const shown = containers.filter((c) => !name || name.test(c.metadata?.name ?? '')).sort(newestFirst);
  if (options.quiet) {
    for (const container of shown) process.stdout.write(`${String(container.id)}\n`);
    return;
  }
  if (output === 'json') return printJson({ containers: shown });
  const now = Date.now();
  const rows = shown.map((c) => [
    truncateId(String(c.id)),
    String(c.image?.image ?? c.image_ref ?? ''),
    createdAgo(c.created_at, now),
    containerStateName(c.state),
    String(c.metadata?.name ?? ''),
    String(c.metadata?.attempt ?? 0),
    truncateId(String(c.pod_sandbox_id)),
  ]);
  process.stdout.write(formatTable(['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID'], rows));
}
