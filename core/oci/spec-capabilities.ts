// Which capabilities the container process holds (process.capabilities: the same set in bounding,
// effective and permitted). Docker's and containerd's default set, changed by the CRI add and
// drop lists, never beyond what the daemon itself holds.

import type { Capability__Output } from '../cri/generated/runtime/v1/Capability';
import type { SpecFail } from './spec-fail';

export const DEFAULT_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FSETID',
  'CAP_FOWNER',
  'CAP_MKNOD',
  'CAP_NET_RAW',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETFCAP',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_SYS_CHROOT',
  'CAP_KILL',
  'CAP_AUDIT_WRITE',
];

/** Every Linux capability, in kernel number order (CAP_CHOWN = 0 … CAP_CHECKPOINT_RESTORE = 40). */
export const LINUX_CAPABILITIES: readonly string[] = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_DAC_READ_SEARCH',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_LINUX_IMMUTABLE',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_BROADCAST',
  'CAP_NET_ADMIN',
  'CAP_NET_RAW',
  'CAP_IPC_LOCK',
  'CAP_IPC_OWNER',
  'CAP_SYS_MODULE',
  'CAP_SYS_RAWIO',
  'CAP_SYS_CHROOT',
  'CAP_SYS_PTRACE',
  'CAP_SYS_PACCT',
  'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT',
  'CAP_SYS_NICE',
  'CAP_SYS_RESOURCE',
  'CAP_SYS_TIME',
  'CAP_SYS_TTY_CONFIG',
  'CAP_MKNOD',
  'CAP_LEASE',
  'CAP_AUDIT_WRITE',
  'CAP_AUDIT_CONTROL',
  'CAP_SETFCAP',
  'CAP_MAC_OVERRIDE',
  'CAP_MAC_ADMIN',
  'CAP_SYSLOG',
  'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND',
  'CAP_AUDIT_READ',
  'CAP_PERFMON',
  'CAP_BPF',
  'CAP_CHECKPOINT_RESTORE',
];

/**
 * The container's capabilities in kernel order. A privileged container gets exactly the host's
 * (add and drop are ignored). Otherwise: the defaults the host holds, then ALL in add or drop,
 * then the named adds (each must be held by the host) and drops. Ambient capabilities are not
 * emitted.
 */
export function containerCapabilities(
  requested: Capability__Output | null | undefined,
  hostCapabilities: readonly string[],
  privileged: boolean,
  fail: SpecFail,
): string[] {
  if (privileged) return [...hostCapabilities];
  const held = new Set(hostCapabilities);
  const caps = new Set(DEFAULT_CAPABILITIES.filter((c) => held.has(c)));
  if (requested) {
    const add = requested.add_capabilities.map((c) => capabilityName(c, 'add_capabilities', fail));
    const drop = requested.drop_capabilities.map((c) => capabilityName(c, 'drop_capabilities', fail));
    // ALL first, so that ["ALL"] plus a drop of one (or the reverse) works, as in containerd.
    if (add.includes('ALL')) for (const c of hostCapabilities) caps.add(c);
    if (drop.includes('ALL')) caps.clear();
    for (const c of add) {
      if (c === 'ALL') continue;
      if (!held.has(c)) throw fail(`capability ${c} cannot be added: the host's bounding set lacks it`);
      caps.add(c);
    }
    for (const c of drop) if (c !== 'ALL') caps.delete(c);
  }
  return LINUX_CAPABILITIES.filter((c) => caps.has(c)).concat([...caps].filter((c) => !LINUX_CAPABILITIES.includes(c)));
}

/** "chown", "CAP_CHOWN", "cap_chown" → "CAP_CHOWN"; "all" → "ALL". */
function capabilityName(raw: string, field: string, fail: SpecFail): string {
  const upper = raw.trim().toUpperCase();
  if (upper === 'ALL') return 'ALL';
  const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
  if (!LINUX_CAPABILITIES.includes(name)) throw fail(`unknown capability "${raw}" in ${field}`);
  return name;
}
