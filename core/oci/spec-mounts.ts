// What the container sees mounted (spec.mounts, and linux.rootfsPropagation): the system
// filesystems every Linux container needs, the pod's shared files (/etc/hostname, /etc/hosts,
// /etc/resolv.conf, /dev/shm), and the CRI bind mounts, which win at their destination.

import * as path from 'node:path';
import { describeError } from '../errors';
import type { Mount__Output } from '../cri/generated/runtime/v1/Mount';
import type { OciMount, OciRootfsPropagation } from './oci-spec';
import type { SpecFail } from './spec-fail';
import type { HostPaths, SandboxFacts } from './spec-input';

export interface MountsRequest {
  readonly criMounts: readonly Mount__Output[];
  /** Host paths of the pod's shared files. */
  readonly podFiles: SandboxFacts['files'];
  /** A privileged container may write /sys and its cgroup tree. */
  readonly privileged: boolean;
  /** A read-only rootfs also makes the pod's /etc files read-only (not /dev/shm). */
  readonly readonlyRootfs: boolean;
  readonly hostPaths: Pick<HostPaths, 'resolve'>;
}

export interface ContainerMounts {
  readonly mounts: OciMount[];
  /** rshared or rslave when a CRI mount propagates that way (the rootfs must too); else unset. */
  readonly rootfsPropagation: OciRootfsPropagation | undefined;
}

const ETC_HOSTNAME = '/etc/hostname';
const ETC_HOSTS = '/etc/hosts';
const ETC_RESOLV_CONF = '/etc/resolv.conf';
const DEV_SHM = '/dev/shm';

const PROPAGATION: Readonly<Record<string, string>> = {
  PROPAGATION_PRIVATE: 'rprivate',
  PROPAGATION_HOST_TO_CONTAINER: 'rslave',
  PROPAGATION_BIDIRECTIONAL: 'rshared',
};

export function containerMounts(request: MountsRequest, fail: SpecFail): ContainerMounts {
  const files = request.podFiles;
  const sysOption = request.privileged ? 'rw' : 'ro';
  const podFileOption = request.readonlyRootfs ? 'ro' : 'rw';
  const defaults: OciMount[] = [
    { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
    {
      destination: '/dev/pts',
      type: 'devpts',
      source: 'devpts',
      options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
    },
    { destination: DEV_SHM, type: 'bind', source: files.shm, options: ['rbind', 'rprivate', 'rw'] },
    { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
    { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', sysOption] },
    {
      destination: '/sys/fs/cgroup',
      type: 'cgroup',
      source: 'cgroup',
      options: ['nosuid', 'noexec', 'nodev', 'relatime', sysOption],
    },
    { destination: ETC_HOSTNAME, type: 'bind', source: files.hostname, options: ['rbind', 'rprivate', podFileOption] },
    { destination: ETC_HOSTS, type: 'bind', source: files.hosts, options: ['rbind', 'rprivate', podFileOption] },
    { destination: ETC_RESOLV_CONF, type: 'bind', source: files.resolvConf, options: ['rbind', 'rprivate', podFileOption] },
  ];

  let rootfsPropagation: OciRootfsPropagation | undefined;
  const criMounts: OciMount[] = [];
  for (const m of request.criMounts) {
    const { mount, propagation } = criBindMount(m, request.hostPaths, fail);
    criMounts.push(mount);
    if (propagation === 'rshared') rootfsPropagation = 'rshared';
    else if (propagation === 'rslave' && rootfsPropagation !== 'rshared') rootfsPropagation = 'rslave';
  }

  // A CRI mount replaces the default mount at its destination; a CRI /dev replaces all of /dev.
  const taken = new Set(criMounts.map((m) => cleanPath(m.destination)));
  const kept = defaults.filter((m) => {
    const dst = cleanPath(m.destination);
    return !taken.has(dst) && !(taken.has('/dev') && dst.startsWith('/dev/'));
  });

  // Parents before children: a stable sort by the number of path components.
  const mounts = [...kept, ...criMounts].sort((a, b) => depth(a.destination) - depth(b.destination));
  return { mounts, rootfsPropagation };
}

/** A CRI mount as a bind mount of its resolved host path (symlinks followed on the host). */
function criBindMount(m: Mount__Output, hostPaths: Pick<HostPaths, 'resolve'>, fail: SpecFail): { mount: OciMount; propagation: string } {
  if (!path.posix.isAbsolute(m.container_path)) {
    throw fail(`mount container_path "${m.container_path}" is not an absolute path`);
  }
  if (!path.posix.isAbsolute(m.host_path)) {
    throw fail(`mount host_path "${m.host_path}" (at ${m.container_path}) is not an absolute path`);
  }
  if (m.uidMappings.length > 0 || m.gidMappings.length > 0) {
    throw fail(`mount ${m.container_path}: idmapped mounts (uidMappings/gidMappings) are not supported`);
  }
  let source: string;
  try {
    source = hostPaths.resolve(m.host_path);
  } catch (error) {
    throw fail(`mount host_path "${m.host_path}" (at ${m.container_path}) cannot be resolved: ${describeError(error)}`, error);
  }
  const propagation = PROPAGATION[m.propagation] ?? 'rprivate';
  return {
    mount: { destination: m.container_path, type: 'bind', source, options: ['rbind', propagation, m.readonly ? 'ro' : 'rw'] },
    propagation,
  };
}

function cleanPath(p: string): string {
  const normalized = path.posix.normalize(p);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

function depth(p: string): number {
  const clean = cleanPath(p);
  return clean === '/' ? 0 : clean.split('/').length - 1;
}
