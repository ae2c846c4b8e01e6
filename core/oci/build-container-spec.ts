// Builds the OCI runtime spec (config.json) for a CRI container from its CRI config, the pod
// sandbox, the image and facts about the host. Pure: everything that depends on the host (paths
// of the pod's namespaces, realpath of a bind-mount source, stat of a device node, a Localhost
// seccomp profile file) comes in through `input`, so the rules are tested without root.
//
// The rules follow containerd's CRI plugin and the comments of the CRI API (v1, k8s 1.29).

import * as path from 'node:path';
import { describeError, InvalidArgumentError } from '../errors';
import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig';
import type { PodSandboxConfig__Output } from '../cri/generated/runtime/v1/PodSandboxConfig';
import type { LinuxContainerSecurityContext__Output } from '../cri/generated/runtime/v1/LinuxContainerSecurityContext';
import type { LinuxContainerResources__Output } from '../cri/generated/runtime/v1/LinuxContainerResources';
import type { SecurityProfile__Output } from '../cri/generated/runtime/v1/SecurityProfile';
import type { Mount__Output } from '../cri/generated/runtime/v1/Mount';
import type { ImageConfig } from '../images/media-types';
import { defaultSeccompProfile } from './default-seccomp-profile';
import {
  findGroupByName,
  findUserByName,
  findUserByUid,
  groupsOfUser,
  MAX_ID,
  parseId,
  type ImageUsers,
} from './image-users';
import { criInt64, ociResources } from './container-resources';
import {
  OCI_VERSION,
  type OciDevice,
  type OciDeviceCgroup,
  type OciMount,
  type OciNamespace,
  type OciResources,
  type OciRootfsPropagation,
  type OciSeccomp,
  type OciSpec,
} from './oci-spec';

/** The runtime part of an OCI image config: User, Env, Entrypoint, Cmd, WorkingDir, StopSignal. */
export type ImageRuntimeConfig = NonNullable<ImageConfig['config']>;

export interface DeviceNode {
  readonly type: 'c' | 'b';
  readonly major: number;
  readonly minor: number;
  readonly fileMode: number;
  readonly uid: number;
  readonly gid: number;
}

export interface HostPaths {
  /** realpath of a bind-mount source (symlinks followed); may throw if it cannot be resolved. */
  resolve(path: string): string;
  /** stat of a device node; undefined when the path is not a character or block device. */
  device(path: string): DeviceNode | undefined;
}

export interface SeccompProfiles {
  /** Reads and parses a Localhost profile file; throws if it is missing or not JSON. */
  localhost(ref: string): unknown;
}

export interface ContainerSpecInput {
  readonly containerId: string;
  /** metadata.name, for messages */
  readonly containerName: string;
  readonly config: ContainerConfig__Output;
  readonly sandboxConfig: PodSandboxConfig__Output;
  readonly sandbox: SandboxFacts;
  readonly image: { readonly id: string; readonly name: string; readonly config: ImageRuntimeConfig };
  /** Parsed from the image rootfs /etc/passwd and /etc/group (empty when absent). */
  readonly imageUsers: ImageUsers;
  readonly rootfsPath: string;
  /** Already computed by the cgroup driver. */
  readonly cgroupsPath: string;
  readonly host: HostFacts;
  readonly hostPaths: HostPaths;
  readonly seccompProfiles: SeccompProfiles;
}

export interface SandboxFacts {
  readonly id: string;
  readonly hostname: string;
  /** Paths of the pod's pinned namespaces, or 'host'. pid: the pod holder's pid ns path, 'host', or undefined when the pod has no shared pid namespace. */
  readonly namespaces: {
    readonly network: string | 'host';
    readonly ipc: string | 'host';
    readonly uts: string | 'host';
    readonly pid?: string | 'host';
  };
  /** Host paths bind-mounted at /etc/hostname, /etc/hosts, /etc/resolv.conf, /dev/shm. */
  readonly files: { readonly hostname: string; readonly hosts: string; readonly resolvConf: string; readonly shm: string };
  /** For NamespaceMode TARGET: the target container's /proc/<pid>/ns/pid, or undefined if not running. */
  readonly targetPidNamespace?: (containerId: string) => string | undefined;
}

export interface HostFacts {
  /** Capabilities the daemon holds (its bounding set), e.g. 'CAP_CHOWN'; privileged containers get exactly these. */
  readonly capabilities: readonly string[];
  /** The daemon's own oom_score_adj: a lower requested value is raised to it. */
  readonly oomScoreAdj: number;
  readonly appArmorEnabled: boolean;
  /**
   * Whether the default profile (caisson-default) is loaded in the kernel. Nothing in Caisson
   * loads it yet, so where it is absent a container runs without an AppArmor profile rather than
   * failing in runc.
   */
  readonly appArmorDefaultLoaded?: boolean;
  readonly cgroupVersion: 'v1' | 'hybrid' | 'v2';
  /** Device node paths under /dev, for privileged containers. */
  readonly hostDevices: readonly string[];
  /** Node's process.arch; narrows the RuntimeDefault seccomp architectures. Both x86 and arm when absent. */
  readonly arch?: string;
}

export const DEFAULT_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** The AppArmor profile a RuntimeDefault container runs under (loaded by the daemon). */
export const DEFAULT_APPARMOR_PROFILE = 'caisson-default';

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

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

/** Device cgroup rules after "deny all": mknod of anything, and the usual pseudo-devices and ttys. */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceCgroup[] = [
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // /dev/console
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
];

/** Annotation keys, named as containerd's CRI plugin names them. */
export const CriAnnotation = {
  ContainerType: 'io.kubernetes.cri.container-type',
  SandboxId: 'io.kubernetes.cri.sandbox-id',
  SandboxName: 'io.kubernetes.cri.sandbox-name',
  SandboxNamespace: 'io.kubernetes.cri.sandbox-namespace',
  ContainerName: 'io.kubernetes.cri.container-name',
  ImageName: 'io.kubernetes.cri.image-name',
} as const;

const ETC_HOSTNAME = '/etc/hostname';
const ETC_HOSTS = '/etc/hosts';
const ETC_RESOLV_CONF = '/etc/resolv.conf';
const DEV_SHM = '/dev/shm';

export function buildContainerSpec(input: ContainerSpecInput): OciSpec {
  return new SpecBuilder(input).build();
}

type ResolvedProfile = { kind: 'RuntimeDefault' } | { kind: 'Unconfined' } | { kind: 'Localhost'; ref: string } | { kind: 'unset' };

class SpecBuilder {
  private readonly sc: LinuxContainerSecurityContext__Output | null;
  private readonly privileged: boolean;

  constructor(private readonly input: ContainerSpecInput) {
    this.sc = input.config.linux?.security_context ?? null;
    this.privileged = this.sc?.privileged ?? false;
  }

  build(): OciSpec {
    const { input, sc } = this;
    if (this.privileged && !input.sandboxConfig.linux?.security_context?.privileged) {
      throw this.fail("privileged container in a sandbox that is not privileged (the pod sandbox's security_context.privileged must be true)");
    }

    const capabilities = this.capabilities();
    const resources = this.resources();
    const { devices, rules } = this.devices();
    resources.devices = rules;
    const { mounts, rootfsPropagation } = this.mounts();
    const oomScoreAdj = this.oomScoreAdj();

    const spec: OciSpec = {
      ociVersion: OCI_VERSION,
      process: {
        terminal: input.config.tty,
        user: this.user(),
        args: this.args(),
        env: this.env(),
        cwd: this.cwd(),
        capabilities: { bounding: [...capabilities], effective: [...capabilities], permitted: [...capabilities] },
        noNewPrivileges: sc?.no_new_privs ?? false,
      },
      root: { path: input.rootfsPath, readonly: sc?.readonly_rootfs ?? false },
      mounts,
      linux: {
        namespaces: this.namespaces(),
        resources,
        cgroupsPath: input.cgroupsPath,
        devices,
        maskedPaths: this.privileged ? [] : pathsOrDefault(sc?.masked_paths, DEFAULT_MASKED_PATHS),
        readonlyPaths: this.privileged ? [] : pathsOrDefault(sc?.readonly_paths, DEFAULT_READONLY_PATHS),
      },
      annotations: this.annotations(),
    };

    const apparmor = this.apparmorProfile();
    if (apparmor !== undefined) spec.process.apparmorProfile = apparmor;
    spec.process.oomScoreAdj = oomScoreAdj;

    if (input.sandbox.namespaces.uts !== 'host' && input.sandbox.hostname !== '') spec.hostname = input.sandbox.hostname;

    const seccomp = this.seccomp(capabilities);
    if (seccomp !== undefined) spec.linux.seccomp = seccomp;
    if (rootfsPropagation !== undefined) spec.linux.rootfsPropagation = rootfsPropagation;
    return spec;
  }

  private fail(cause: string, error?: unknown): InvalidArgumentError {
    return new InvalidArgumentError(`container "${this.input.containerName}": ${cause}`, error === undefined ? undefined : { cause: error });
  }

  // ---- rule 1: command --------------------------------------------------------------------------

  private args(): string[] {
    const { config, image } = this.input;
    const imageEntrypoint = image.config.Entrypoint ?? [];
    // An image built with ENTRYPOINT [""] means "no entrypoint" (Docker's way to reset it).
    const entrypoint = imageEntrypoint.length === 1 && imageEntrypoint[0] === '' ? [] : imageEntrypoint;
    let command: readonly string[] = config.command;
    let args: readonly string[] = config.args;
    if (command.length === 0) {
      command = entrypoint;
      if (args.length === 0) args = image.config.Cmd ?? [];
    }
    const result = [...command, ...args];
    if (result.length === 0) {
      throw this.fail(`no command to run: neither the container config nor image ${image.name} gives one`);
    }
    return result;
  }

  // ---- rule 2: environment and working directory -------------------------------------------------

  private env(): string[] {
    const { config, image, sandbox } = this.input;
    const order: string[] = [];
    const values = new Map<string, string>();
    const set = (entry: string): void => {
      const eq = entry.indexOf('=');
      const key = eq < 0 ? entry : entry.slice(0, eq);
      if (!values.has(key)) order.push(key);
      values.set(key, entry);
    };
    set(`HOSTNAME=${sandbox.hostname}`);
    for (const entry of image.config.Env ?? []) set(entry);
    config.envs.forEach((kv, i) => {
      // A key with '=' would split elsewhere than the client meant: "A=B" + "C" reads as A="B=C".
      if (kv.key === '' || kv.key.includes('=')) throw this.fail(`config.envs[${i}] key ${JSON.stringify(kv.key)} must be non-empty and hold no "="`);
      set(`${kv.key}=${kv.value}`);
    });
    if (!values.has('PATH')) {
      order.splice(1, 0, 'PATH');
      values.set('PATH', `PATH=${DEFAULT_PATH_ENV}`);
    }
    return order.map((key) => values.get(key) ?? key);
  }

  private cwd(): string {
    const cwd = this.input.config.working_dir || this.input.image.config.WorkingDir || '/';
    if (!path.posix.isAbsolute(cwd)) throw this.fail(`working directory "${cwd}" is not an absolute path`);
    return cwd;
  }

  // ---- rule 3: user and groups -------------------------------------------------------------------

  private user(): { uid: number; gid: number; additionalGids: number[] } {
    const { sc, input } = this;
    const users = input.imageUsers;
    const runAsUser = sc?.run_as_user ?? null;
    const runAsUsername = sc?.run_as_username ?? '';
    const runAsGroup = sc?.run_as_group ?? null;

    if (runAsGroup && !runAsUser && !runAsUsername) {
      throw this.fail('run_as_group is set but neither run_as_user nor run_as_username is (the CRI requires a user with a group)');
    }

    let uid: number;
    let gid: number;
    let name: string | undefined;
    if (runAsUser) {
      uid = this.criId('run_as_user', runAsUser.value);
      const entry = findUserByUid(users, uid);
      gid = entry?.gid ?? 0;
      name = entry?.name;
    } else if (runAsUsername) {
      const entry = findUserByName(users, runAsUsername);
      if (!entry) throw this.fail(`run_as_username "${runAsUsername}" is not a user in the image's /etc/passwd`);
      ({ uid, gid, name } = entry);
    } else if (input.image.config.User) {
      ({ uid, gid, name } = this.imageUser(input.image.config.User));
    } else {
      uid = 0;
      const entry = findUserByUid(users, 0);
      gid = entry?.gid ?? 0;
      name = entry?.name;
    }
    if (runAsGroup) gid = this.criId('run_as_group', runAsGroup.value);

    const extra = new Set<number>();
    if (name !== undefined) for (const g of groupsOfUser(users, name)) extra.add(g.gid);
    for (const g of sc?.supplemental_groups ?? []) extra.add(this.criId('supplemental_groups', g));
    extra.delete(gid);
    return { uid, gid, additionalGids: [...extra].sort((a, b) => a - b) };
  }

  /** The image's User: "uid", "uid:gid", "name", "name:group" (and mixes), resolved in the image. */
  private imageUser(userSpec: string): { uid: number; gid: number; name: string | undefined } {
    const { image, imageUsers: users } = this.input;
    const parts = userSpec.split(':');
    const [userPart = '', groupPart] = parts;
    if (parts.length > 2 || userPart === '' || groupPart === '') {
      throw this.fail(`user "${userSpec}" of image ${image.name} is not valid (want uid, uid:gid, name or name:group)`);
    }
    let uid: number;
    let gid: number;
    let name: string | undefined;
    const numericUid = parseId(userPart);
    if (numericUid !== undefined) {
      uid = numericUid;
      const entry = findUserByUid(users, uid);
      gid = entry?.gid ?? 0;
      name = entry?.name;
    } else {
      const entry = findUserByName(users, userPart);
      if (!entry) throw this.fail(`user "${userPart}" of image ${image.name} is not in the image's /etc/passwd`);
      ({ uid, gid, name } = entry);
    }
    if (groupPart !== undefined) {
      const numericGid = parseId(groupPart);
      if (numericGid !== undefined) {
        gid = numericGid;
      } else {
        const group = findGroupByName(users, groupPart);
        if (!group) throw this.fail(`group "${groupPart}" of image ${image.name} is not in the image's /etc/group`);
        gid = group.gid;
      }
    }
    return { uid, gid, name };
  }

  private criId(field: string, value: string): number {
    const id = parseId(value);
    if (id === undefined) throw this.fail(`${field} ${value} is not a valid id (0 to ${MAX_ID})`);
    return id;
  }

  // ---- rule 4: capabilities ----------------------------------------------------------------------

  private capabilities(): string[] {
    const host = this.input.host.capabilities;
    if (this.privileged) return [...host];
    const held = new Set(host);
    const caps = new Set(DEFAULT_CAPABILITIES.filter((c) => held.has(c)));
    const requested = this.sc?.capabilities;
    if (requested) {
      const add = requested.add_capabilities.map((c) => this.capabilityName(c, 'add_capabilities'));
      const drop = requested.drop_capabilities.map((c) => this.capabilityName(c, 'drop_capabilities'));
      // ALL first, so that ["ALL"] plus a drop of one (or the reverse) works, as in containerd.
      if (add.includes('ALL')) for (const c of host) caps.add(c);
      if (drop.includes('ALL')) caps.clear();
      for (const c of add) {
        if (c === 'ALL') continue;
        if (!held.has(c)) throw this.fail(`capability ${c} cannot be added: the host's bounding set lacks it`);
        caps.add(c);
      }
      for (const c of drop) if (c !== 'ALL') caps.delete(c);
    }
    return LINUX_CAPABILITIES.filter((c) => caps.has(c)).concat([...caps].filter((c) => !LINUX_CAPABILITIES.includes(c)));
  }

  /** "chown", "CAP_CHOWN", "cap_chown" → "CAP_CHOWN"; "all" → "ALL". */
  private capabilityName(raw: string, field: string): string {
    const upper = raw.trim().toUpperCase();
    if (upper === 'ALL') return 'ALL';
    const name = upper.startsWith('CAP_') ? upper : `CAP_${upper}`;
    if (!LINUX_CAPABILITIES.includes(name)) throw this.fail(`unknown capability "${raw}" in ${field}`);
    return name;
  }

  // ---- rule 7: mounts ----------------------------------------------------------------------------

  private mounts(): { mounts: OciMount[]; rootfsPropagation: OciRootfsPropagation | undefined } {
    const { input, sc } = this;
    const files = input.sandbox.files;
    const sysOption = this.privileged ? 'rw' : 'ro';
    const podFileOption = sc?.readonly_rootfs ? 'ro' : 'rw';
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
    for (const m of input.config.mounts) {
      const { mount, propagation } = this.criMount(m);
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

  private criMount(m: Mount__Output): { mount: OciMount; propagation: string } {
    if (!path.posix.isAbsolute(m.container_path)) {
      throw this.fail(`mount container_path "${m.container_path}" is not an absolute path`);
    }
    if (!path.posix.isAbsolute(m.host_path)) {
      throw this.fail(`mount host_path "${m.host_path}" (at ${m.container_path}) is not an absolute path`);
    }
    if (m.uidMappings.length > 0 || m.gidMappings.length > 0) {
      throw this.fail(`mount ${m.container_path}: idmapped mounts (uidMappings/gidMappings) are not supported`);
    }
    let source: string;
    try {
      source = this.input.hostPaths.resolve(m.host_path);
    } catch (error) {
      throw this.fail(`mount host_path "${m.host_path}" (at ${m.container_path}) cannot be resolved: ${describeError(error)}`, error);
    }
    const propagation = PROPAGATION[m.propagation] ?? 'rprivate';
    return {
      mount: { destination: m.container_path, type: 'bind', source, options: ['rbind', propagation, m.readonly ? 'ro' : 'rw'] },
      propagation,
    };
  }

  // ---- rule 8: namespaces ------------------------------------------------------------------------

  private namespaces(): OciNamespace[] {
    const { sandbox, host } = this.input;
    const ns: OciNamespace[] = [];
    const pid = this.pidNamespace();
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
    if (host.cgroupVersion === 'v2' && !this.privileged) ns.push({ type: 'cgroup' });
    return ns;
  }

  private pidNamespace(): OciNamespace | undefined {
    const { sandbox } = this.input;
    const options = this.sc?.namespace_options ?? null;
    // proto3: an absent NamespaceOption reads as POD, the CRI default.
    const mode = options?.pid ?? 'POD';
    switch (mode) {
      case 'CONTAINER':
        return { type: 'pid' };
      case 'NODE':
        return undefined;
      case 'POD': {
        const podPid = sandbox.namespaces.pid;
        if (podPid === undefined) throw this.fail('pid namespace mode POD, but the pod has no shared pid namespace');
        return podPid === 'host' ? undefined : { type: 'pid', path: podPid };
      }
      case 'TARGET': {
        const target = options?.target_id ?? '';
        if (target === '') throw this.fail('pid namespace mode TARGET needs a target_id');
        const nsPath = sandbox.targetPidNamespace?.(target);
        if (nsPath === undefined) throw this.fail(`pid namespace target container "${target}" is not running`);
        return { type: 'pid', path: nsPath };
      }
      default:
        throw this.fail(`unknown pid namespace mode ${String(mode)}`);
    }
  }

  // ---- rule 9: resources and devices -------------------------------------------------------------

  private resources(): OciResources {
    return ociResources(this.input.config.linux?.resources ?? null, this.input.host.cgroupVersion, (cause) => this.fail(cause));
  }

  /** oom_score_adj, always set so the container never inherits the daemon's (lower) score. */
  private oomScoreAdj(): number {
    const r = this.input.config.linux?.resources ?? null;
    const requested = r ? this.int64('oom_score_adj', r.oom_score_adj, -Infinity) : 0;
    const floor = this.input.host.oomScoreAdj;
    return Math.min(1000, Math.max(requested, floor));
  }

  private int64(field: string, value: string, min: number): number {
    return criInt64(field, value, min, (cause) => this.fail(cause));
  }

  private devices(): { devices: OciDevice[]; rules: OciDeviceCgroup[] } {
    const { input } = this;
    const devices: OciDevice[] = [];
    const add = (device: OciDevice): void => {
      const i = devices.findIndex((d) => d.path === device.path);
      if (i >= 0) devices[i] = device;
      else devices.push(device);
    };

    let rules: OciDeviceCgroup[];
    if (this.privileged) {
      for (const hostPath of input.host.hostDevices) {
        const node = input.hostPaths.device(hostPath);
        if (!node || (node.major === 0 && node.minor === 0)) continue;
        add(deviceEntry(hostPath, node));
      }
      rules = [{ allow: true, access: 'rwm' }];
    } else {
      rules = [{ allow: false, access: 'rwm' }, ...DEFAULT_DEVICE_RULES.map((r) => ({ ...r }))];
    }

    for (const d of input.config.devices) {
      if (!path.posix.isAbsolute(d.host_path)) throw this.fail(`device host_path "${d.host_path}" is not an absolute path`);
      if (!path.posix.isAbsolute(d.container_path)) {
        throw this.fail(`device container_path "${d.container_path}" (for ${d.host_path}) is not an absolute path`);
      }
      const access = d.permissions === '' ? 'rwm' : d.permissions;
      if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) {
        throw this.fail(`device ${d.host_path} has invalid permissions "${d.permissions}" (a combination of r, w and m)`);
      }
      const node = input.hostPaths.device(d.host_path);
      if (!node) throw this.fail(`device ${d.host_path} is not a character or block device on the host`);
      add(deviceEntry(d.container_path, node));
      if (!this.privileged) rules.push({ allow: true, type: node.type, major: node.major, minor: node.minor, access });
    }
    return { devices, rules };
  }

  // ---- rule 10: seccomp and AppArmor -------------------------------------------------------------

  private seccomp(capabilities: readonly string[]): OciSeccomp | undefined {
    if (this.privileged) return undefined;
    const profile = this.profile('seccomp', this.sc?.seccomp ?? null, this.sc?.seccomp_profile_path ?? '');
    switch (profile.kind) {
      case 'unset':
      case 'Unconfined':
        return undefined;
      case 'RuntimeDefault':
        return defaultSeccompProfile(capabilities, this.input.host.arch);
      case 'Localhost': {
        let loaded: unknown;
        try {
          loaded = this.input.seccompProfiles.localhost(profile.ref);
        } catch (error) {
          throw this.fail(`seccomp profile ${profile.ref} cannot be loaded: ${describeError(error)}`, error);
        }
        if (typeof loaded !== 'object' || loaded === null || Array.isArray(loaded)) {
          throw this.fail(`seccomp profile ${profile.ref} is not a JSON object`);
        }
        return loaded as OciSeccomp;
      }
    }
  }

  private apparmorProfile(): string | undefined {
    if (this.privileged) return undefined;
    const profile = this.profile('AppArmor', this.sc?.apparmor ?? null, this.sc?.apparmor_profile ?? '');
    const enabled = this.input.host.appArmorEnabled;
    switch (profile.kind) {
      case 'Unconfined':
        return undefined;
      case 'unset': // as containerd (kubernetes#51746): no profile asked for means the default one
      case 'RuntimeDefault':
        return enabled && this.input.host.appArmorDefaultLoaded ? DEFAULT_APPARMOR_PROFILE : undefined;
      case 'Localhost':
        if (!enabled) throw this.fail(`AppArmor profile "${profile.ref}" requested, but AppArmor is not enabled on this host`);
        return profile.ref;
    }
  }

  /** A SecurityProfile, else the deprecated string form ("runtime/default", "unconfined", "localhost/<ref>"). */
  private profile(what: string, sp: SecurityProfile__Output | null, legacy: string): ResolvedProfile {
    if (sp) {
      const ref = sp.localhost_ref;
      switch (sp.profile_type) {
        case 'RuntimeDefault':
        case 'Unconfined':
          if (ref !== '') throw this.fail(`${what} localhost_ref "${ref}" is only valid with profile type Localhost`);
          return { kind: sp.profile_type };
        case 'Localhost': {
          const trimmed = ref.startsWith(LOCALHOST_PREFIX) ? ref.slice(LOCALHOST_PREFIX.length) : ref;
          if (trimmed === '') throw this.fail(`${what} profile type Localhost needs a localhost_ref`);
          return { kind: 'Localhost', ref: trimmed };
        }
        default:
          throw this.fail(`unknown ${what} profile type ${String(sp.profile_type)}`);
      }
    }
    switch (legacy) {
      case '':
        return { kind: 'unset' };
      case 'runtime/default':
      case 'docker/default':
        return { kind: 'RuntimeDefault' };
      case 'unconfined':
        return { kind: 'Unconfined' };
      default:
        if (legacy.startsWith(LOCALHOST_PREFIX) && legacy.length > LOCALHOST_PREFIX.length) {
          return { kind: 'Localhost', ref: legacy.slice(LOCALHOST_PREFIX.length) };
        }
        throw this.fail(`invalid ${what} profile "${legacy}" (want runtime/default, unconfined or localhost/<name>)`);
    }
  }

  // ---- rule 11: annotations ----------------------------------------------------------------------

  private annotations(): Record<string, string> {
    const { input } = this;
    const metadata = input.sandboxConfig.metadata;
    return {
      ...input.config.annotations,
      [CriAnnotation.ContainerType]: 'container',
      [CriAnnotation.SandboxId]: input.sandbox.id,
      [CriAnnotation.SandboxName]: metadata?.name ?? '',
      [CriAnnotation.SandboxNamespace]: metadata?.namespace ?? '',
      [CriAnnotation.ContainerName]: input.containerName,
      [CriAnnotation.ImageName]: input.image.name,
    };
  }
}

const LOCALHOST_PREFIX = 'localhost/';

const PROPAGATION: Readonly<Record<string, string>> = {
  PROPAGATION_PRIVATE: 'rprivate',
  PROPAGATION_HOST_TO_CONTAINER: 'rslave',
  PROPAGATION_BIDIRECTIONAL: 'rshared',
};

function deviceEntry(containerPath: string, node: DeviceNode): OciDevice {
  return {
    path: containerPath,
    type: node.type,
    major: node.major,
    minor: node.minor,
    fileMode: node.fileMode,
    uid: node.uid,
    gid: node.gid,
  };
}

/** CRI masked/readonly paths when the client sent some, else the defaults. */
function pathsOrDefault(sent: readonly string[] | undefined, defaults: readonly string[]): string[] {
  return sent && sent.length > 0 ? [...sent] : [...defaults];
}

function cleanPath(p: string): string {
  const normalized = path.posix.normalize(p);
  return normalized.length > 1 && normalized.endsWith('/') ? normalized.slice(0, -1) : normalized;
}

function depth(p: string): number {
  const clean = cleanPath(p);
  return clean === '/' ? 0 : clean.split('/').length - 1;
}
