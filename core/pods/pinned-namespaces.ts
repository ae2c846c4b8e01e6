import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors';
import { runProgram } from '../exec/run-program';

// A pod's network, IPC and UTS namespaces, pinned as bind-mounted files (util-linux
// `unshare --net=FILE …`), so the pod needs no process to keep them: containers join them by
// path. The hostname is set inside the UTS namespace, loopback brought up in the network one,
// and the pod's sysctls written in the namespace each belongs to.

export type PinnedKind = 'net' | 'ipc' | 'uts';

export function namespaceFile(dir: string, kind: PinnedKind): string {
  return path.join(dir, kind);
}

export async function pinNamespaces(dir: string, kinds: readonly PinnedKind[]): Promise<void> {
  if (kinds.length === 0) return;
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const kind of kinds) fs.writeFileSync(namespaceFile(dir, kind), '', { mode: 0o600 });
  await runProgram('unshare', [...kinds.map((kind) => `--${kind}=${namespaceFile(dir, kind)}`), 'true']);
}

export async function setHostname(dir: string, hostname: string): Promise<void> {
  await runProgram('nsenter', [`--uts=${namespaceFile(dir, 'uts')}`, 'hostname', hostname]);
}

export async function bringUpLoopback(dir: string): Promise<void> {
  await runProgram('nsenter', [`--net=${namespaceFile(dir, 'net')}`, 'ip', 'link', 'set', 'lo', 'up']);
}

const SYSCTL_NAME = /^[a-z0-9_]+(\.[a-zA-Z0-9_-]+)+$/;
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
  if (name === 'kernel.domainname' || name === 'kernel.hostname') return 'uts';
  throw new InvalidArgumentError(`sysctl "${name}" is not namespaced; it cannot be set per pod`);
}

/** Refuses, before anything is made, a sysctl no pod namespace owns or a value with a control character. */
export function checkSysctls(sysctls: Readonly<Record<string, string>>, hostNetwork: boolean, hostIpc: boolean): void {
  for (const [name, value] of Object.entries(sysctls)) {
    sysctlNamespace(name, hostNetwork, hostIpc);
    if (/[\u0000-\u001f\u007f]/.test(value)) throw new InvalidArgumentError(`sysctl "${name}" value ${JSON.stringify(value)} holds a control character`);
  }
}

export async function applySysctls(dir: string, sysctls: Readonly<Record<string, string>>, hostNetwork: boolean, hostIpc: boolean): Promise<void> {
  checkSysctls(sysctls, hostNetwork, hostIpc);
  for (const [name, value] of Object.entries(sysctls)) {
    const kind = sysctlNamespace(name, hostNetwork, hostIpc);
    await runProgram('nsenter', [`--${kind}=${namespaceFile(dir, kind)}`, 'sysctl', '-w', `${name}=${value}`]);
  }
}

/** Unmounts and removes the pinned files; a namespace nothing else holds disappears with them. */
export async function unpinNamespaces(dir: string): Promise<void> {
  for (const kind of ['net', 'ipc', 'uts'] as const) {
    const file = namespaceFile(dir, kind);
    if (!fs.existsSync(file)) continue;
    await runProgram('umount', [file]).catch(() => undefined);
    fs.rmSync(file, { force: true });
  }
}
