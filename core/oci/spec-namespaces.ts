// Which namespaces the container joins or gets (linux.namespaces), and the hostname it sees. A
// container joins its pod's network, IPC and UTS namespaces (none to join for a host pod), gets
// its own mount namespace, and a pid namespace chosen by the CRI NamespaceMode.

import type { NamespaceOption__Output } from '../cri/generated/runtime/v1/NamespaceOption';
import type { OciNamespace } from './oci-spec';
import type { SpecFail } from './spec-fail';
import type { HostFacts, SandboxFacts } from './spec-input';

export function containerNamespaces(
  sandbox: SandboxFacts,
  options: NamespaceOption__Output | null,
  cgroupVersion: HostFacts['cgroupVersion'],
  privileged: boolean,
  fail: SpecFail,
): OciNamespace[] {
  const ns: OciNamespace[] = [];
  const pid = pidNamespace(sandbox, options, fail);
  if (pid) ns.push(pid);
  const join = (type: 'network' | 'ipc' | 'uts', where: string): void => {
    if (where !== 'host') ns.push({ type, path: where });
  };
  join('network', sandbox.namespaces.network);
  join('ipc', sandbox.namespaces.ipc);
  join('uts', sandbox.namespaces.uts);
  ns.push({ type: 'mount' });
  // As containerd: a private cgroup namespace on the unified hierarchy only, and not for
  // privileged containers (which see and may manage the host's cgroup tree).
  if (cgroupVersion === 'v2' && !privileged) ns.push({ type: 'cgroup' });
  return ns;
}

/** The pod's hostname, set only when the pod has its own UTS namespace (a host pod keeps the node's). */
export function containerHostname(sandbox: SandboxFacts): string | undefined {
  return sandbox.namespaces.uts !== 'host' && sandbox.hostname !== '' ? sandbox.hostname : undefined;
}

/** CONTAINER: a new one; NODE: the host's; POD: the pod's shared one; TARGET: another container's. */
function pidNamespace(sandbox: SandboxFacts, options: NamespaceOption__Output | null, fail: SpecFail): OciNamespace | undefined {
  // proto3: an absent NamespaceOption reads as POD, the CRI default.
  const mode = options?.pid ?? 'POD';
  switch (mode) {
    case 'CONTAINER':
      return { type: 'pid' };
    case 'NODE':
      return undefined;
    case 'POD': {
      const podPid = sandbox.namespaces.pid;
      if (podPid === undefined) throw fail('pid namespace mode POD, but the pod has no shared pid namespace');
      return podPid === 'host' ? undefined : { type: 'pid', path: podPid };
    }
    case 'TARGET': {
      const target = options?.target_id ?? '';
      if (target === '') throw fail('pid namespace mode TARGET needs a target_id');
      const nsPath = sandbox.targetPidNamespace?.(target);
      if (nsPath === undefined) throw fail(`pid namespace target container "${target}" is not running`);
      return { type: 'pid', path: nsPath };
    }
    default:
      throw fail(`unknown pid namespace mode ${String(mode)}`);
  }
}
