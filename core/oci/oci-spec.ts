// The subset of the OCI runtime-spec (config.json, version 1.0.2) that Caisson emits for a
// container. Field names are the spec's JSON names, so a value of these types serialises to a
// config.json runc accepts as is. Optional fields are left out of the object (never `undefined`
// with a key present) by the builder, so JSON.stringify and deep equality agree.

export const OCI_VERSION = '1.0.2';

export interface OciSpec {
  ociVersion: string;
  process: OciProcess;
  root: OciRoot;
  hostname?: string;
  mounts: OciMount[];
  linux: OciLinux;
  annotations: Record<string, string>;
}

export interface OciProcess {
  terminal: boolean;
  user: OciUser;
  args: string[];
  env: string[];
  cwd: string;
  capabilities: OciCapabilities;
  noNewPrivileges: boolean;
  apparmorProfile?: string;
  oomScoreAdj?: number;
  /** The first size of the terminal the runtime allocates (with `terminal`). */
  consoleSize?: { height: number; width: number };
}

export interface OciUser {
  uid: number;
  gid: number;
  additionalGids: number[];
}

/** Capability names with the CAP_ prefix, e.g. 'CAP_CHOWN'. */
export interface OciCapabilities {
  bounding: string[];
  effective: string[];
  permitted: string[];
}

export interface OciRoot {
  path: string;
  readonly: boolean;
}

export interface OciMount {
  destination: string;
  type: string;
  source: string;
  options: string[];
}

export type OciNamespaceType = 'pid' | 'network' | 'ipc' | 'uts' | 'mount' | 'user' | 'cgroup';

/** Without `path` the runtime creates a new namespace; with it, the process joins that one. */
export interface OciNamespace {
  type: OciNamespaceType;
  path?: string;
}

export interface OciIdMapping {
  containerID: number;
  hostID: number;
  size: number;
}

export type OciRootfsPropagation = 'private' | 'rprivate' | 'slave' | 'rslave' | 'shared' | 'rshared';

export interface OciLinux {
  namespaces: OciNamespace[];
  uidMappings?: OciIdMapping[];
  gidMappings?: OciIdMapping[];
  resources: OciResources;
  cgroupsPath: string;
  devices: OciDevice[];
  seccomp?: OciSeccomp;
  maskedPaths: string[];
  readonlyPaths: string[];
  sysctl?: Record<string, string>;
  /** Set to rshared / rslave when a CRI mount asks for bidirectional / host-to-container propagation. */
  rootfsPropagation?: OciRootfsPropagation;
}

export interface OciResources {
  /** Device cgroup rules, applied in order (the last matching rule wins). */
  devices: OciDeviceCgroup[];
  memory: OciMemory;
  cpu: OciCpu;
  hugepageLimits: OciHugepageLimit[];
  /** cgroup v2 files and values, e.g. { 'memory.high': '1073741824' }. */
  unified?: Record<string, string>;
  pids?: { limit: number };
}

export interface OciMemory {
  limit?: number;
  /** Memory plus swap, like the CRI's memory_swap_limit_in_bytes. */
  swap?: number;
}

export interface OciCpu {
  shares?: number;
  quota?: number;
  period?: number;
  cpus?: string;
  mems?: string;
}

export interface OciHugepageLimit {
  /** e.g. '2MB', '1GB' */
  pageSize: string;
  limit: number;
}

export type OciDeviceType = 'c' | 'b' | 'u' | 'p';

/** A device cgroup rule. No type/major/minor means every device; access is a subset of "rwm". */
export interface OciDeviceCgroup {
  allow: boolean;
  type?: 'a' | 'c' | 'b';
  major?: number;
  minor?: number;
  access?: string;
}

/** A device node the runtime creates in the container's /dev. */
export interface OciDevice {
  path: string;
  type: OciDeviceType;
  major: number;
  minor: number;
  fileMode: number;
  uid: number;
  gid: number;
}

export type OciSeccompAction =
  | 'SCMP_ACT_KILL'
  | 'SCMP_ACT_KILL_PROCESS'
  | 'SCMP_ACT_KILL_THREAD'
  | 'SCMP_ACT_TRAP'
  | 'SCMP_ACT_ERRNO'
  | 'SCMP_ACT_TRACE'
  | 'SCMP_ACT_ALLOW'
  | 'SCMP_ACT_LOG';

export type OciSeccompArch =
  | 'SCMP_ARCH_X86'
  | 'SCMP_ARCH_X86_64'
  | 'SCMP_ARCH_X32'
  | 'SCMP_ARCH_ARM'
  | 'SCMP_ARCH_AARCH64'
  | 'SCMP_ARCH_MIPS'
  | 'SCMP_ARCH_MIPS64'
  | 'SCMP_ARCH_MIPS64N32'
  | 'SCMP_ARCH_MIPSEL'
  | 'SCMP_ARCH_MIPSEL64'
  | 'SCMP_ARCH_MIPSEL64N32'
  | 'SCMP_ARCH_PPC'
  | 'SCMP_ARCH_PPC64'
  | 'SCMP_ARCH_PPC64LE'
  | 'SCMP_ARCH_S390'
  | 'SCMP_ARCH_S390X'
  | 'SCMP_ARCH_RISCV64';

export type OciSeccompOperator =
  | 'SCMP_CMP_NE'
  | 'SCMP_CMP_LT'
  | 'SCMP_CMP_LE'
  | 'SCMP_CMP_EQ'
  | 'SCMP_CMP_GE'
  | 'SCMP_CMP_GT'
  | 'SCMP_CMP_MASKED_EQ';

export interface OciSeccomp {
  defaultAction: OciSeccompAction;
  architectures: OciSeccompArch[];
  syscalls: OciSyscall[];
}

export interface OciSyscall {
  names: string[];
  action: OciSeccompAction;
  /** The errno returned for SCMP_ACT_ERRNO (EPERM when absent). */
  errnoRet?: number;
  args?: OciSeccompArg[];
}

export interface OciSeccompArg {
  index: number;
  value: number;
  valueTwo?: number;
  op: OciSeccompOperator;
}
