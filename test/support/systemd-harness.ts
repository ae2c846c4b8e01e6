import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { packageInfo } from '../../core/package-info';

// Boots a real systemd as PID 1 of new PID, mount, UTS and IPC namespaces on a host whose PID 1
// is not systemd, so the systemd cgroup driver can be tested against it. Inside, /tmp, /run and
// /var/tmp are private tmpfs (systemd's tmpfiles must never touch the host's), /proc is the new
// PID namespace's, and /sys/fs/cgroup is a private tmpfs with the host's hierarchies mounted
// again on it: systemd remounts /sys/fs/cgroup read-only and adds mountpoints for the controllers
// it knows, and on the host's own tmpfs that would change the host. The cgroup hierarchies
// themselves are the host's (no cgroup namespace), so stop() removes the cgroups systemd made.
// The network is not unshared: the test registry on 127.0.0.1 is reachable from inside.

export const SYSTEMD_BINARY = '/lib/systemd/systemd';

/** Units the machine image enables (or systemd pulls in) that must not run in the test systemd. */
export const MASKED_UNITS: readonly string[] = [
  // devices, kernel and clock: these would act on the host
  'systemd-udevd.service', 'systemd-udevd-control.socket', 'systemd-udevd-kernel.socket', 'systemd-udev-trigger.service',
  'systemd-udev-settle.service', 'systemd-hwdb-update.service', 'kmod-static-nodes.service', 'systemd-modules-load.service',
  'systemd-sysctl.service', 'systemd-binfmt.service', 'proc-sys-fs-binfmt_misc.automount', 'systemd-timesyncd.service',
  'systemd-pstore.service', 'systemd-random-seed.service', 'systemd-remount-fs.service', 'systemd-fsck-root.service',
  'systemd-repart.service', 'systemd-pcrphase.service', 'systemd-pcrphase-sysinit.service',
  'sys-kernel-config.mount', 'sys-kernel-debug.mount', 'sys-kernel-tracing.mount', 'sys-fs-fuse-connections.mount',
  'dev-hugepages.mount', 'dev-mqueue.mount', 'cryptsetup.target', 'veritysetup.target', 'integritysetup.target', 'remote-fs.target',
  // files on the host: /etc, /var/lib, /var/log, utmp
  'systemd-firstboot.service', 'systemd-machine-id-commit.service', 'systemd-sysusers.service', 'systemd-tmpfiles-setup.service',
  'systemd-tmpfiles-setup-dev.service', 'systemd-tmpfiles-clean.timer', 'systemd-journal-flush.service', 'systemd-update-utmp.service',
  'ldconfig.service', 'systemd-journal-catalog-update.service', 'systemd-update-done.service',
  // services and timers the image enables
  'timers.target', 'apt-daily.timer', 'apt-daily-upgrade.timer', 'dpkg-db-backup.timer', 'e2scrub_all.timer', 'e2scrub_reap.service',
  'fstrim.timer', 'man-db.timer', 'getty@tty1.service', 'getty-static.service', 'postgresql.service', 'docker-registry.service',
  'docker.service', 'docker.socket', 'containerd.service', 'ssh.service', 'cron.service', 'systemd-logind.service',
  'systemd-ask-password-console.path', 'systemd-ask-password-wall.path',
];

export interface SystemdHarness {
  /** systemd's PID as the host sees it. */
  readonly pid: number;
  /** A directory shared with the host (not under the private /tmp or /run). */
  readonly workDir: string;
  /**
   * This checkout as seen inside: bound at <workDir>/checkout before the private /tmp goes up,
   * so the daemon runs inside even when the checkout lives under /tmp (as CI's clone may).
   */
  readonly checkout: string;
  /** Runs a program in systemd's mount and PID namespaces; resolves with its output, never rejects. */
  runInside(command: string, args: readonly string[], timeoutMs?: number): { status: number | null; stdout: string; stderr: string };
  /** Starts a long-running program in systemd's mount and PID namespaces (nsenter forks it). */
  spawnInside(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): ChildProcess;
  /** SIGKILLs systemd (and with it its PID namespace), removes the cgroups it made; safe to call twice. */
  stop(): Promise<void>;
}

const CGROUP_ROOT = '/sys/fs/cgroup';

interface CgroupMount {
  readonly dir: string;
  readonly fstype: 'cgroup' | 'cgroup2';
  readonly options: string;
}

/** The cgroup hierarchies mounted under /sys/fs/cgroup on the host, with the options to mount them again. */
export function hostCgroupMounts(mountinfo = fs.readFileSync('/proc/self/mountinfo', 'utf8')): CgroupMount[] {
  const mounts: CgroupMount[] = [];
  for (const line of mountinfo.split('\n')) {
    const [left = '', right = ''] = line.split(' - ');
    const mountPoint = left.split(' ')[4] ?? '';
    const [fstype = '', , superOptions = ''] = right.split(' ');
    if (path.dirname(mountPoint) !== CGROUP_ROOT || (fstype !== 'cgroup' && fstype !== 'cgroup2')) continue;
    const wanted = superOptions.split(',').filter((option) => option !== 'rw' && option !== 'ro');
    const options = fstype === 'cgroup' ? (wanted.some((o) => o.startsWith('name=')) && !wanted.some((o) => !o.startsWith('name=')) ? ['none', ...wanted] : wanted) : wanted;
    mounts.push({ dir: mountPoint, fstype, options: options.join(',') });
  }
  return mounts;
}

/** The shell script unshare runs: private tmpfs, proc, cgroup root, masks, then exec systemd. */
export function bootScript(cgroupMounts: readonly CgroupMount[], masked: readonly string[] = MASKED_UNITS, binds: readonly { source: string; target: string }[] = []): string {
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  const lines = [
    'set -e',
    ...binds.flatMap((b) => [`mkdir -p ${q(b.target)}`, `mount --bind ${q(b.source)} ${q(b.target)}`]),
    'mount -t tmpfs tmpfs /tmp',
    'mount -t tmpfs tmpfs /run',
    'mount -t tmpfs tmpfs /var/tmp',
    'mount -t proc proc /proc',
    `mount -t tmpfs -o mode=755 cgroup_root ${CGROUP_ROOT}`,
    ...cgroupMounts.flatMap((m) => [`mkdir -p ${q(m.dir)}`, `mount -t ${m.fstype} ${m.options ? `-o ${q(m.options)} ` : ''}${m.fstype} ${q(m.dir)}`]),
    'mkdir -p /run/systemd/system',
    ...masked.map((unit) => `ln -sf /dev/null /run/systemd/system/${q(unit)}`),
    `exec env container=caisson-test ${SYSTEMD_BINARY} --system --unit=basic.target --log-target=console --log-level=info`,
  ];
  return `${lines.join('\n')}\n`;
}

/** Every cgroup directory below the host's hierarchies (to find what systemd added). */
function cgroupDirs(mounts: readonly CgroupMount[]): Set<string> {
  const found = new Set<string>();
  const walk = (dir: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.isDirectory()) continue;
      const child = path.join(dir, entry.name);
      found.add(child);
      walk(child);
    }
  };
  mounts.forEach((m) => walk(m.dir));
  return found;
}

/** A directory systemd makes: a slice or scope (or service) at the top of a hierarchy. */
function madeBySystemd(dir: string, mounts: readonly CgroupMount[]): boolean {
  const mount = mounts.find((m) => dir.startsWith(`${m.dir}/`));
  if (!mount) return false;
  const top = dir.slice(mount.dir.length + 1).split('/')[0] ?? '';
  return /\.(slice|scope|service)$/.test(top);
}

export async function bootSystemd(options: { timeoutMs?: number; workDir?: string } = {}): Promise<SystemdHarness> {
  if (!fs.existsSync(SYSTEMD_BINARY)) throw new Error(`systemd tests need ${SYSTEMD_BINARY} (apt-get install systemd dbus)`);
  const timeoutMs = options.timeoutMs ?? 30_000;
  const workDir = options.workDir ?? fs.mkdtempSync('/var/lib/caisson-test-systemd-');
  const mounts = hostCgroupMounts();
  const before = cgroupDirs(mounts);
  const hostCgroupRootOptions = cgroupRootSuperOptions();
  const script = path.join(workDir, 'boot-systemd.sh');
  const checkout = path.join(workDir, 'checkout');
  fs.writeFileSync(script, bootScript(mounts, MASKED_UNITS, [{ source: packageInfo().root, target: checkout }]));
  const logFile = path.join(workDir, 'systemd-boot.log');
  const log = fs.openSync(logFile, 'w');
  const unshare = spawn('unshare', ['--pid', '--mount', '--uts', '--ipc', '--fork', '--propagation', 'private', 'sh', script], {
    stdio: ['ignore', log, log],
    detached: true,
  });
  fs.closeSync(log);
  const unshareExited = new Promise<void>((resolve) => unshare.once('exit', () => resolve()));
  let unshareDone = false;
  void unshareExited.then(() => (unshareDone = true));

  let pid = 0;
  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    if (pid > 0) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // already gone
      }
    } else if (unshare.pid !== undefined && !unshareDone) {
      try {
        process.kill(unshare.pid, 'SIGKILL');
      } catch {
        // already gone
      }
    }
    await Promise.race([unshareExited, delay(10_000)]);
    // The PID namespace is gone; its cgroups empty out as the kernel reaps the processes.
    const added = [...cgroupDirs(mounts)].filter((dir) => !before.has(dir) && madeBySystemd(dir, mounts));
    added.sort((a, b) => b.split('/').length - a.split('/').length);
    for (const dir of added) await removeCgroupDir(dir);
    // Never leave the host's /sys/fs/cgroup changed (it is ours to keep rw).
    if (cgroupRootSuperOptions() !== hostCgroupRootOptions && hostCgroupRootOptions.split(',').includes('rw')) {
      spawnSync('mount', ['-o', 'remount,rw', CGROUP_ROOT]);
    }
    fs.rmSync(workDir, { recursive: true, force: true });
  };

  const runInside = (command: string, args: readonly string[], runTimeoutMs = 30_000): { status: number | null; stdout: string; stderr: string } => {
    const result = spawnSync('nsenter', ['-t', String(pid), '-m', '-p', '--', command, ...args], { encoding: 'utf8', timeout: runTimeoutMs });
    return { status: result.status, stdout: result.stdout ?? '', stderr: `${result.stderr ?? ''}${result.error ? String(result.error) : ''}` };
  };
  const spawnInside = (command: string, args: readonly string[], env: NodeJS.ProcessEnv = {}): ChildProcess =>
    spawn('nsenter', ['-t', String(pid), '-m', '-p', '--', command, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });

  try {
    const deadline = Date.now() + timeoutMs;
    while (pid === 0) {
      if (unshareDone) throw new Error(`systemd did not start:\n${fs.readFileSync(logFile, 'utf8')}`);
      if (Date.now() > deadline) throw new Error('unshare did not fork systemd');
      const children = readChildren(unshare.pid ?? 0);
      const child = children[0];
      if (child !== undefined && fs.readlinkSync(`/proc/${child}/exe`).includes('systemd')) pid = child;
      else await delay(50);
    }
    let last = '';
    for (;;) {
      if (unshareDone) throw new Error(`systemd exited while booting:\n${fs.readFileSync(logFile, 'utf8')}`);
      // systemd answers on the system bus once dbus.socket and dbus.service are up.
      const answer = runInside('busctl', ['--system', 'get-property', 'org.freedesktop.systemd1', '/org/freedesktop/systemd1', 'org.freedesktop.systemd1.Manager', 'SystemState'], 5_000);
      last = `${answer.stdout}${answer.stderr}`.trim();
      if (answer.status === 0 && /"(running|degraded)"/.test(answer.stdout)) break;
      if (Date.now() > deadline) {
        const failed = runInside('systemctl', ['list-units', '--failed', '--no-pager'], 5_000).stdout;
        throw new Error(`systemd (pid ${pid}) was not running with D-Bus within ${timeoutMs} ms: ${last}\n${failed}`);
      }
      await delay(200);
    }
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid, workDir, checkout, runInside, spawnInside, stop };
}

function readChildren(pid: number): number[] {
  try {
    return fs
      .readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8')
      .trim()
      .split(/\s+/)
      .filter(Boolean)
      .map(Number);
  } catch {
    return [];
  }
}

function cgroupRootSuperOptions(): string {
  const line = fs
    .readFileSync('/proc/self/mountinfo', 'utf8')
    .split('\n')
    .find((l) => l.split(' ')[4] === CGROUP_ROOT);
  return line?.split(' - ')[1]?.split(' ')[2] ?? '';
}

async function removeCgroupDir(dir: string): Promise<void> {
  for (let attempt = 0; attempt < 50; attempt += 1) {
    try {
      fs.rmdirSync(dir);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return;
      if (code !== 'EBUSY') throw error;
      await delay(100);
    }
  }
  throw new Error(`cgroup ${dir} is still busy after systemd was stopped`);
}
