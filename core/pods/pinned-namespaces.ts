import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeError, InvalidArgumentError } from '../errors';
import { runProgram } from '../host-programs/run-program';
import { mountFilesystem, unmountAll } from '../syscalls/mounts';
import { nativeSyscalls } from '../syscalls/native-addon';
import { isMountPoint, POD_SHM_MOUNT_OPTIONS } from './pod-shm';

// A pod's network, IPC and UTS namespaces, pinned as bind-mounted files, so the pod needs no
// process to keep them: containers join them by path. The hostname is set inside the UTS
// namespace, loopback brought up in the network one, and the pod's sysctls written in the
// namespace each belongs to. The native addon does it all in a thread of its own, with no
// program; without it, one util-linux `unshare --net=FILE …` does, with a shell inside.

export type PinnedKind = 'net' | 'ipc' | 'uts';

export function namespaceFile(dir: string, kind: PinnedKind): string {
  return path.join(dir, kind);
}

export interface PodNamespaceSetup {
  /** Set in the UTS namespace (pinned when 'uts' is among the kinds). */
  readonly hostname: string;
  /** The pod's sysctls, each in the namespace it belongs to (see sysctlNamespace). */
  readonly sysctls: Readonly<Record<string, string>>;
  /** Where to mount the pod's /dev/shm tmpfs (a pod in the host IPC namespace has none). */
  readonly shm?: string;
}

/**
 * Pins the pod's namespaces, sets them up, and mounts the pod's shm tmpfs (in the daemon's mount
 * namespace). Every sysctl of a pod belongs to a namespace pinned here, as sysctlNamespace
 * refuses the others. The caller unpins and unmounts on failure (a failed step may leave the
 * files bound).
 */
export async function pinAndSetUpNamespaces(dir: string, kinds: readonly PinnedKind[], setup: PodNamespaceSetup): Promise<void> {
  if (kinds.length === 0 && setup.shm === undefined) return;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const kind of kinds) fs.writeFileSync(namespaceFile(dir, kind), '', { mode: 0o600 });
  if (setup.shm !== undefined) fs.mkdirSync(setup.shm, { recursive: true, mode: 0o1777 });
  const sysctls = Object.entries(setup.sysctls).flatMap(([name, value]) => [sysctlFile(name), value]);
  const native = nativeSyscalls();
  if (!native) {
    await pinWithUnshare(dir, kinds, setup, sysctls);
    return;
  }
  if (kinds.length > 0) {
    const file = (kind: PinnedKind): string => (kinds.includes(kind) ? namespaceFile(dir, kind) : '');
    await native.pinNamespaces(file('net'), file('ipc'), file('uts'), kinds.includes('uts') ? setup.hostname : '', kinds.includes('net'), sysctls);
  }
  if (setup.shm !== undefined) await mountFilesystem({ type: 'tmpfs', source: 'shm', target: setup.shm, options: POD_SHM_MOUNT_OPTIONS });
}

/**
 * The same with programs: `unshare` makes and binds the namespaces, then a shell inside them
 * writes the hostname and the sysctls to /proc/sys (builtins, no program per step), runs
 * `ip link set lo up` (with a network namespace), and mounts the shm tmpfs (unshare makes no
 * mount namespace, so the mount is the daemon's).
 */
async function pinWithUnshare(dir: string, kinds: readonly PinnedKind[], setup: PodNamespaceSetup, sysctls: readonly string[]): Promise<void> {
  // Values are passed as arguments ($1 hostname, $2 shm folder, then a /proc/sys file and its
  // value for each sysctl), never pasted into the script. The UTS namespace's hostname is its
  // /proc/sys/kernel/hostname, as `hostname` would set it.
  const steps = [
    'set -e',
    ...(kinds.includes('uts') ? [`printf '%s' "$1" > /proc/sys/kernel/hostname`] : []),
    ...(kinds.includes('net') ? ['ip link set lo up'] : []),
    ...(setup.shm !== undefined ? [`mount -t tmpfs -o ${POD_SHM_MOUNT_OPTIONS} shm "$2"`] : []),
    'shift 2',
    `while [ "$#" -gt 1 ]; do printf '%s' "$2" > "$1"; shift 2; done`,
  ];
  const script = ['sh', '-c', steps.join('\n'), 'pod-namespaces', setup.hostname, setup.shm ?? '', ...sysctls];
  await runProgram('unshare', [...kinds.map((kind) => `--${kind}=${namespaceFile(dir, kind)}`), '--', ...script]);
}

const SYSCTL_NAME = /^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/;

/** The /proc/sys file of a sysctl name (the names sysctlNamespace accepts hold no '/'). */
export function sysctlFile(name: string): string {
  return `/proc/sys/${name.split('.').join('/')}`;
}
const IPC_SYSCTLS = /^(kernel\.(shm[a-z_]+|msg[a-z_]+|sem)|fs\.mqueue\.[a-z_]+)$/;

/** Which pinned namespace a sysctl belongs to; a sysctl no pod namespace owns is refused. */
export function sysctlNamespace(name: string, hostNetwork: boolean, hostIpc: boolean): PinnedKind {
  if (!SYSCTL_NAME.test(name)) throw new InvalidArgumentError(`sysctl "${name}" is not a valid sysctl name`);
  if (name.startsWith('net.')) {
    if (hostNetwork) throw new InvalidArgumentError(`sysctl "${name}" cannot be set for a pod on the host network`);
    return 'net';
  }
  if (IPC_SYSCTLS.test(name)) {
    if (hostIpc) throw new InvalidArgumentError(`sysctl "${name}" cannot be set for a pod in the host IPC namespace`);
    return 'ipc';
  }
  if (name === 'kernel.domainname' || name === 'kernel.hostname') {
    // A host-network pod keeps the host's UTS namespace: the sysctl would rename the node.
    if (hostNetwork) throw new InvalidArgumentError(`sysctl "${name}" cannot be set for a pod on the host network`);
    return 'uts';
  }
  throw new InvalidArgumentError(`sysctl "${name}" is not namespaced; it cannot be set per pod`);
}

/** Refuses, before anything is made, a sysctl no pod namespace owns or a value with a control character. */
export function checkSysctls(sysctls: Readonly<Record<string, string>>, hostNetwork: boolean, hostIpc: boolean): void {
  for (const [name, value] of Object.entries(sysctls)) {
    sysctlNamespace(name, hostNetwork, hostIpc);
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidArgumentError(`sysctl "${name}" value ${JSON.stringify(value)} holds a control character`);
  }
}


/**
 * Unmounts the pinned files and the pod's shm (when given), then removes the
 * files; a namespace nothing else holds disappears with them. A pinned file that will not unmount
 * is left (nothing uses it once the pod is gone); an shm still mounted afterwards is an error, as
 * its tmpfs would hold memory.
 */
export async function unpinNamespaces(dir: string, shm?: string): Promise<void> {
  const pinned = (['net', 'ipc', 'uts'] as const).map((kind) => namespaceFile(dir, kind)).filter((file) => fs.existsSync(file));
  const targets = [...pinned, ...(shm !== undefined && isMountPoint(shm) ? [shm] : [])];
  if (targets.length === 0) return;
  const failure = await unmountAll(targets).then(
    () => undefined,
    (error: unknown) => error,
  );
  for (const file of pinned) fs.rmSync(file, { force: true });
  if (shm !== undefined && isMountPoint(shm)) throw new Error(`the pod's shm ${shm} could not be unmounted: ${describeError(failure)}`, { cause: failure });
}
