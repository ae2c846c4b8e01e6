// Shared fixtures for the OCI spec builder tests (test/unit/build-container-spec.test.ts and
// test/unit/oci-*.test.ts): a CRI container config, its pod sandbox, a busybox-like image with a
// small /etc/passwd and /etc/group, and fake host facts (devices, symlinks, seccomp files), so
// that every concern is checked through buildContainerSpec without root.

import assert from 'node:assert/strict';
import type { ContainerConfig__Output } from '../../core/cri/generated/runtime/v1/ContainerConfig';
import type { LinuxContainerResources__Output } from '../../core/cri/generated/runtime/v1/LinuxContainerResources';
import type { LinuxContainerSecurityContext__Output } from '../../core/cri/generated/runtime/v1/LinuxContainerSecurityContext';
import type { Mount__Output } from '../../core/cri/generated/runtime/v1/Mount';
import type { NamespaceOption__Output } from '../../core/cri/generated/runtime/v1/NamespaceOption';
import type { PodSandboxConfig__Output } from '../../core/cri/generated/runtime/v1/PodSandboxConfig';
import { buildContainerSpec } from '../../core/oci/build-container-spec';
import { LINUX_CAPABILITIES } from '../../core/oci/spec-capabilities';
import type {
  ContainerSpecInput,
  DeviceNode,
  HostFacts,
  ImageRuntimeConfig,
  SandboxFacts,
  SeccompProfiles,
} from '../../core/oci/spec-input';
import { parseImageUsers, type ImageUsers } from '../../core/oci/image-users';
import type { OciSpec } from '../../core/oci/oci-spec';
import { emptySecurityContext } from '../../core/containers/empty-configs';


export const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'www-data:x:33:33:www-data:/var/www:/bin/false',
  'alice:x:1000:1000:Alice:/home/alice:/bin/sh',
  'nobody:x:65534:65534:nobody:/home:/bin/false',
].join('\n');
export const GROUP = [
  'root:x:0:',
  'wheel:x:10:root',
  'audio:x:29:alice',
  'www-data:x:33:',
  'video:x:44:alice,root',
  'staff:x:50:',
  'alice:x:1000:',
  'nogroup:x:65534:',
].join('\n');

export const DEFAULT_CAPS_IN_KERNEL_ORDER = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_RAW',
  'CAP_SYS_CHROOT',
  'CAP_MKNOD',
  'CAP_AUDIT_WRITE',
  'CAP_SETFCAP',
];

export const DEVICES: Record<string, DeviceNode> = {
  '/dev/null': { type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  '/dev/sda': { type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
  '/dev/fuse': { type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
  '/dev/zero-zero': { type: 'c', major: 0, minor: 0, fileMode: 0o600, uid: 0, gid: 0 },
};

export const SYMLINKS: Record<string, string> = { '/var/link': '/var/real', '/srv/data-link': '/mnt/disk/data' };

export function securityContext(over: Partial<LinuxContainerSecurityContext__Output> = {}): LinuxContainerSecurityContext__Output {
  return { ...emptySecurityContext(), namespace_options: namespaceOptions(), ...over };
}

export function namespaceOptions(over: Partial<NamespaceOption__Output> = {}): NamespaceOption__Output {
  return { network: 'POD', pid: 'CONTAINER', ipc: 'POD', target_id: '', userns_options: null, ...over };
}

export function resources(over: Partial<LinuxContainerResources__Output> = {}): LinuxContainerResources__Output {
  return {
    cpu_period: '0',
    cpu_quota: '0',
    cpu_shares: '0',
    memory_limit_in_bytes: '0',
    oom_score_adj: '0',
    cpuset_cpus: '',
    cpuset_mems: '',
    hugepage_limits: [],
    unified: {},
    memory_swap_limit_in_bytes: '0',
    ...over,
  };
}

export function criMount(over: Partial<Mount__Output> = {}): Mount__Output {
  return {
    container_path: '/data',
    host_path: '/srv/data',
    readonly: false,
    selinux_relabel: false,
    propagation: 'PROPAGATION_PRIVATE',
    uidMappings: [],
    gidMappings: [],
    ...over,
  };
}

export interface Overrides {
  config?: Partial<ContainerConfig__Output>;
  security?: Partial<LinuxContainerSecurityContext__Output>;
  /** null: the container config has no linux.security_context at all */
  noSecurityContext?: boolean;
  resources?: Partial<LinuxContainerResources__Output> | null;
  image?: Partial<ImageRuntimeConfig>;
  imageUsers?: ImageUsers;
  sandboxPrivileged?: boolean;
  sandbox?: Partial<SandboxFacts>;
  namespaces?: Partial<SandboxFacts['namespaces']>;
  host?: Partial<HostFacts>;
  resolve?: (path: string) => string;
  seccompProfiles?: SeccompProfiles;
}

export function baseInput(over: Overrides = {}): ContainerSpecInput {
  const config: ContainerConfig__Output = {
    metadata: { name: 'web', attempt: 0 },
    image: { image: 'sha256:abc', annotations: {}, user_specified_image: '', runtime_handler: '' },
    command: [],
    args: [],
    working_dir: '',
    envs: [],
    mounts: [],
    devices: [],
    labels: {},
    annotations: { 'example.com/owner': 'team-a' },
    log_path: 'web/0.log',
    stdin: false,
    stdin_once: false,
    tty: false,
    linux: {
      resources: over.resources === null ? null : resources(over.resources ?? {}),
      security_context: over.noSecurityContext ? null : securityContext(over.security ?? {}),
    },
    windows: null,
    CDI_devices: [],
    ...over.config,
  };
  const sandboxConfig: PodSandboxConfig__Output = {
    metadata: { name: 'web-pod', uid: 'uid-1', namespace: 'default', attempt: 0 },
    hostname: 'web-pod',
    log_directory: '/var/log/pods/default_web-pod_uid-1',
    dns_config: null,
    port_mappings: [],
    labels: {},
    annotations: {},
    linux: {
      cgroup_parent: '/kubepods/pod-uid-1',
      security_context: {
        namespace_options: null,
        selinux_options: null,
        run_as_user: null,
        readonly_rootfs: false,
        supplemental_groups: [],
        privileged: over.sandboxPrivileged ?? false,
        seccomp_profile_path: '',
        run_as_group: null,
        seccomp: null,
        apparmor: null,
      },
      sysctls: {},
      overhead: null,
      resources: null,
    },
    windows: null,
  };
  const sandbox: SandboxFacts = {
    id: 'sandbox-1',
    hostname: 'web-pod',
    files: {
      hostname: '/run/caisson/pods/sandbox-1/hostname',
      hosts: '/run/caisson/pods/sandbox-1/hosts',
      resolvConf: '/run/caisson/pods/sandbox-1/resolv.conf',
      shm: '/run/caisson/pods/sandbox-1/shm',
    },
    targetPidNamespace: (id) => (id === 'running-1' ? '/proc/4242/ns/pid' : undefined),
    ...over.sandbox,
    namespaces: {
      network: '/run/caisson/netns/sandbox-1',
      ipc: '/run/caisson/ipcns/sandbox-1',
      uts: '/run/caisson/utsns/sandbox-1',
      ...over.sandbox?.namespaces,
      ...over.namespaces,
    },
  };
  const host: HostFacts = {
    capabilities: LINUX_CAPABILITIES,
    oomScoreAdj: 0,
    appArmorEnabled: false,
    cgroupVersion: 'v2',
    hostDevices: ['/dev/null', '/dev/sda', '/dev/fuse', '/dev/zero-zero', '/dev/vanished'],
    ...over.host,
  };
  return {
    containerId: 'ctr-1',
    containerName: 'web',
    config,
    sandboxConfig,
    sandbox,
    image: {
      id: 'sha256:abc',
      name: 'docker.io/library/busybox:latest',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], ...over.image },
    },
    imageUsers: over.imageUsers ?? parseImageUsers(PASSWD, GROUP),
    rootfsPath: '/var/lib/caisson/containers/ctr-1/rootfs',
    cgroupsPath: '/kubepods/pod-uid-1/ctr-1',
    host,
    hostPaths: {
      resolve:
        over.resolve ??
        ((p) => {
          if (p === '/missing') throw new Error(`ENOENT: no such file or directory, realpath '${p}'`);
          return SYMLINKS[p] ?? p;
        }),
      device: (p) => DEVICES[p],
    },
    seccompProfiles: over.seccompProfiles ?? {
      localhost: (ref) => {
        if (ref === '/var/lib/kubelet/seccomp/audit.json') return { defaultAction: 'SCMP_ACT_LOG', architectures: [], syscalls: [] };
        if (ref === '/var/lib/kubelet/seccomp/array.json') return [];
        throw new Error(`open ${ref}: no such file or directory`);
      },
    },
  };
}

export function build(over: Overrides = {}): OciSpec {
  return buildContainerSpec(baseInput(over));
}

export function assertInvalid(over: Overrides, message: string): void {
  assert.throws(() => build(over), { name: 'InvalidArgumentError', code: 'INVALID_ARGUMENT', message });
}

/** A privileged container, in the privileged sandbox it needs. */
export function buildPrivileged(over: Overrides = {}): OciSpec {
  return build({ ...over, sandboxPrivileged: true, security: { privileged: true, ...over.security } });
}
