import type { CriClient } from '../../cli/cri-client';
import { argAfter, cgroupsUnder, contentOf, hostLocalReservations, imageContent, liveHolders, mountsUnder, objectDirs, processesNaming, runcContainers, type HostRoots } from './host-state';

export type { HostRoots } from './host-state';

// Issue 15's invariants after a kill: every object the CRI lists has its parts, and nothing on
// the host is owned by no listed object. `checkHostInvariants` answers one human-readable line
// per violation ("mount /… owned by no listed container or sandbox"); an empty list means clean.
// Any crash test can call it with its daemon's client and roots.

export interface CriView {
  readonly sandboxes: { id: string; state: string }[];
  readonly containers: { id: string; sandboxId: string; state: string }[];
  readonly images: string[];
}

/** ListPodSandbox, ListContainers and ListImages through the daemon. */
export async function criView(client: CriClient): Promise<CriView> {
  const { items = [] } = await client.call('ListPodSandbox', {}, { timeoutMs: 15_000 });
  const { containers = [] } = await client.call('ListContainers', {}, { timeoutMs: 15_000 });
  const { images = [] } = await client.call('ListImages', {}, { timeoutMs: 15_000 });
  return {
    sandboxes: items.map((s) => ({ id: String(s.id), state: String(s.state) })),
    containers: containers.map((c) => ({ id: String(c.id), sandboxId: String(c.pod_sandbox_id), state: String(c.state) })),
    images: images.map((i) => String(i.id)),
  };
}

export async function checkHostInvariants(client: CriClient, roots: HostRoots): Promise<string[]> {
  return compareWithHost(await criView(client), roots);
}

/** The violations, given what the CRI listed (split out so a test can list once and check twice). */
export async function compareWithHost(view: CriView, roots: HostRoots): Promise<string[]> {
  const violations: string[] = [];
  const sandboxIds = new Set(view.sandboxes.map((s) => s.id));
  const containerIds = new Set(view.containers.map((c) => c.id));
  const known = new Set([...sandboxIds, ...containerIds]);
  const ownerIn = (file: string): string | undefined => file.split('/').find((part) => known.has(part));
  const rootDirs = [roots.graph, roots.state];

  for (const mountpoint of mountsUnder(rootDirs)) {
    if (!ownerIn(mountpoint)) violations.push(`mount ${mountpoint} owned by no listed container or sandbox`);
  }
  for (const cgroup of cgroupsUnder(roots.cgroupParent)) {
    if (!ownerIn(cgroup)) violations.push(`cgroup ${cgroup} owned by no listed container or sandbox`);
  }
  for (const { dir, id, kind } of objectDirs(roots)) {
    const listed = kind === 'sandbox' ? sandboxIds.has(id) : containerIds.has(id);
    if (!listed) violations.push(`directory ${dir} of ${kind} ${id}, which the CRI does not list`);
  }
  for (const { sandboxId, pid } of liveHolders(roots.state)) {
    if (!sandboxIds.has(sandboxId)) violations.push(`PID-namespace holder ${pid} of sandbox ${sandboxId}, which the CRI does not list`);
  }
  const conmons = new Map<string, number>();
  for (const proc of processesNaming(rootDirs)) {
    const name = proc.argv[0]?.split('/').pop() ?? '';
    const id = name === 'conmon' ? argAfter(proc.argv, '-c') : undefined;
    if (id !== undefined) conmons.set(id, proc.pid);
    if (id === undefined || !known.has(id)) violations.push(`process ${proc.pid} (${proc.argv.slice(0, 6).join(' ')}) owned by no listed container or sandbox`);
  }
  const runc = await runcContainers(roots.state);
  for (const { runtime, id, status } of runc) {
    if (!known.has(id)) violations.push(`runc state of container ${id} (${status}, runtime ${runtime}) owned by no listed container or sandbox`);
  }
  for (const { network, ip, owner } of hostLocalReservations(roots.hostLocalDataDir)) {
    if (!known.has(owner)) violations.push(`host-local IP ${ip} in network ${network} reserved for ${owner}, which the CRI does not list`);
  }

  // Listed objects have their parts: a running container runs in runc under a live conmon.
  const runcById = new Map(runc.map((c) => [c.id, c.status]));
  for (const container of view.containers.filter((c) => c.state === 'CONTAINER_RUNNING')) {
    if (runcById.get(container.id) !== 'running') violations.push(`container ${container.id} is listed RUNNING but runc says ${runcById.get(container.id) ?? 'it does not exist'}`);
    if (!conmons.has(container.id)) violations.push(`container ${container.id} is listed RUNNING but no conmon watches it`);
    if (!sandboxIds.has(container.sandboxId)) violations.push(`container ${container.id} is listed but its sandbox ${container.sandboxId} is not`);
  }

  const content = imageContent(roots.graph);
  const needed = contentOf(roots.graph, new Set(view.images));
  for (const name of content.ingest) violations.push(`partial download ${name} left in the image store's ingest/`);
  for (const blob of content.blobs) if (!needed.blobs.has(blob)) violations.push(`content blob ${blob} owned by no listed image`);
  for (const snapshot of content.snapshots) if (!needed.snapshots.has(snapshot)) violations.push(`snapshot ${snapshot} owned by no listed image`);
  return violations;
}
