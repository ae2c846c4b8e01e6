import * as fs from 'node:fs';
import * as path from 'node:path';
import { detectCgroupMode } from '../cgroup/cgroup-mode';
import type { ContainerSpecInput } from '../oci/build-container-spec';
import { checkHostPath, type DaemonRoots } from '../pods/host-path-rules';

// The host facts and host I/O the pure spec builder is given: the capabilities this daemon holds
// (privileged containers get exactly these; this host's bounding set may lack some, such as
// CAP_SYS_RESOURCE), its oom_score_adj (a container cannot go below it without
// CAP_SYS_RESOURCE), AppArmor, device nodes, bind-mount sources and seccomp profile files.

const CAPABILITY_NAMES = [
  'CAP_CHOWN', 'CAP_DAC_OVERRIDE', 'CAP_DAC_READ_SEARCH', 'CAP_FOWNER', 'CAP_FSETID', 'CAP_KILL', 'CAP_SETGID', 'CAP_SETUID',
  'CAP_SETPCAP', 'CAP_LINUX_IMMUTABLE', 'CAP_NET_BIND_SERVICE', 'CAP_NET_BROADCAST', 'CAP_NET_ADMIN', 'CAP_NET_RAW', 'CAP_IPC_LOCK',
  'CAP_IPC_OWNER', 'CAP_SYS_MODULE', 'CAP_SYS_RAWIO', 'CAP_SYS_CHROOT', 'CAP_SYS_PTRACE', 'CAP_SYS_PACCT', 'CAP_SYS_ADMIN',
  'CAP_SYS_BOOT', 'CAP_SYS_NICE', 'CAP_SYS_RESOURCE', 'CAP_SYS_TIME', 'CAP_SYS_TTY_CONFIG', 'CAP_MKNOD', 'CAP_LEASE',
  'CAP_AUDIT_WRITE', 'CAP_AUDIT_CONTROL', 'CAP_SETFCAP', 'CAP_MAC_OVERRIDE', 'CAP_MAC_ADMIN', 'CAP_SYSLOG', 'CAP_WAKE_ALARM',
  'CAP_BLOCK_SUSPEND', 'CAP_AUDIT_READ', 'CAP_PERFMON', 'CAP_BPF', 'CAP_CHECKPOINT_RESTORE',
];

/** Capability names of a /proc/<pid>/status mask such as "000001fffeffffff". */
export function capabilityNames(hexMask: string): string[] {
  const mask = BigInt(`0x${hexMask}`);
  return CAPABILITY_NAMES.filter((_, bit) => (mask >> BigInt(bit)) & 1n);
}

let cachedFacts: ContainerSpecInput['host'] | undefined;

export function hostFacts(): ContainerSpecInput['host'] {
  if (cachedFacts) return cachedFacts;
  const status = fs.readFileSync('/proc/self/status', 'utf8');
  const bounding = /^CapBnd:\s*([0-9a-f]+)$/m.exec(status)?.[1] ?? '0';
  cachedFacts = {
    capabilities: capabilityNames(bounding),
    oomScoreAdj: Number(fs.readFileSync('/proc/self/oom_score_adj', 'utf8').trim()),
    appArmorEnabled: readIfExists('/sys/module/apparmor/parameters/enabled').trim() === 'Y',
    appArmorDefaultLoaded: /^caisson-default /m.test(readIfExists('/sys/kernel/security/apparmor/profiles')),
    cgroupVersion: detectCgroupMode(),
    hostDevices: deviceNodes('/dev'),
    arch: process.arch,
  };
  return cachedFacts;
}

export function hostPathAccess(): ContainerSpecInput['hostPaths'] {
  return {
    resolve(hostPath: string): string {
      // The spec builder wraps a failure with the mount it belongs to.
      return fs.realpathSync(hostPath);
    },
    device(devicePath: string) {
      let stat: fs.Stats;
      try {
        stat = fs.statSync(devicePath);
      } catch {
        return undefined;
      }
      if (!stat.isCharacterDevice() && !stat.isBlockDevice()) return undefined;
      return {
        type: stat.isCharacterDevice() ? 'c' : 'b',
        major: Number((BigInt(stat.rdev) >> 8n) & 0xfffn) | Number((BigInt(stat.rdev) >> 32n) & ~0xfffn),
        minor: Number(BigInt(stat.rdev) & 0xffn) | Number((BigInt(stat.rdev) >> 12n) & ~0xffn),
        fileMode: stat.mode & 0o7777,
        uid: stat.uid,
        gid: stat.gid,
      };
    },
  };
}

/** The largest seccomp profile read (the default profile is about 10 KiB). */
export const MAX_SECCOMP_PROFILE_BYTES = 1024 * 1024;

export function localhostSeccompProfiles(roots: DaemonRoots): ContainerSpecInput['seccompProfiles'] {
  return {
    // The spec builder names the profile and the container when this throws. The file must be a
    // regular file the daemon may read (host-path-rules), opened without blocking: a FIFO or a
    // device named as a profile must not hang the daemon.
    localhost(ref: string): unknown {
      checkHostPath(ref, 'the profile path', roots);
      const fd = fs.openSync(ref, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
      try {
        const stat = fs.fstatSync(fd);
        if (!stat.isFile()) throw new Error('it is not a regular file');
        if (stat.size > MAX_SECCOMP_PROFILE_BYTES) throw new Error(`it is ${stat.size} bytes; a profile has at most ${MAX_SECCOMP_PROFILE_BYTES}`);
        return JSON.parse(fs.readFileSync(fd, 'utf8'));
      } finally {
        fs.closeSync(fd);
      }
    },
  };
}

/** Device nodes under /dev (not under /dev/pts, whose nodes belong to other sessions). */
function deviceNodes(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && full !== '/dev/pts' && full !== '/dev/shm' && full !== '/dev/mqueue') walk(full);
      else if (entry.isCharacterDevice() || entry.isBlockDevice()) found.push(full);
    }
  };
  walk(root);
  return found.sort();
}

function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
