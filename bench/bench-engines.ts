import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { runProgram } from '../core/host-programs/run-program';
import { packageInfo } from '../core/package-info';
import { waitUntilServing } from '../test/support/spawned-daemon';
import { CLOCK_TICKS_PER_SECOND } from './bench-support';

// The two engines the comparison benchmark drives, each a separate process on a private root,
// socket and CNI network of its own under the benchmark's work folder: caissond (bin/caissond,
// from dist/) and Debian's containerd 1.6 with its CRI plugin (cgroupfs, runc v2 shims). Both
// pull from the benchmark's registry on 127.0.0.1. An engine knows its helper processes (the
// per-pod processes that are not the workload: conmon and the PID holder for Caisson, the shim
// and the pause container for containerd), whose memory counts beside the engine's.

export interface BenchEngine {
  readonly name: string;
  readonly socket: string;
  readonly pid: number;
  /** Per-pod processes that are neither the engine nor the workload. */
  helperPids(): number[];
  stop(): Promise<void>;
}

export interface EngineSetup {
  readonly work: string;
  /** "127.0.0.1:PORT" of the registry with the images. */
  readonly registry: string;
  /** The sandbox (pause) image containerd needs, on that registry. */
  readonly pauseImage: string;
  /** Bridge name and subnet of this engine's own CNI network. */
  readonly bridge: string;
  readonly subnet: string;
}

/** A bridge + host-local + portmap network, as a kubelet node has, in `dir`. */
function writeCniNetwork(dir: string, setup: EngineSetup): void {
  fs.mkdirSync(dir, { recursive: true });
  const gateway = setup.subnet.replace(/0\/\d+$/, '1');
  fs.writeFileSync(
    path.join(dir, '10-bench.conflist'),
    JSON.stringify({
      cniVersion: '1.0.0',
      name: `bench-${setup.bridge}`,
      plugins: [
        { type: 'bridge', bridge: setup.bridge, isGateway: true, ipMasq: false, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet: setup.subnet, gateway }]], dataDir: path.join(dir, 'ipam') } },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    }),
  );
}

/** Starts an engine with its output in `log`, and waits until it answers Version on `socket`. */
async function spawnEngine(command: string, args: readonly string[], log: string, socket: string, env: NodeJS.ProcessEnv = {}): Promise<ChildProcess> {
  const out = fs.openSync(log, 'a');
  const child = spawn(command, args, { stdio: ['ignore', out, out], env: { ...process.env, ...env } });
  fs.closeSync(out);
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  // The same wait as the tests' spawned daemons, with the engine's log as what it said.
  await waitUntilServing({ child, output: () => `its log ${log}:\n${readTail(log)}`, exited }, socket, 30_000);
  return child;
}

function readTail(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '(no log)';
  }
}

async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  await Promise.race([exited, delay(20_000)]);
  if (child.exitCode === null && child.signalCode === null) {
    child.kill('SIGKILL');
    await exited;
  }
}

/** rmdir: removes the folder only while it is empty. */
function removeEmptyDir(dir: string): void {
  try {
    fs.rmdirSync(dir);
  } catch {
    // Not empty, or gone.
  }
}

/** Processes whose command line holds `marker`, and all their descendants but the workload's `sleep`. */
export function processesMarkedBy(marker: string): number[] {
  const all = fs.readdirSync('/proc').filter((name) => /^\d+$/.test(name)).map(Number);
  const cmdline = (pid: number): string => {
    try {
      return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ');
    } catch {
      return '';
    }
  };
  const parent = (pid: number): number => {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    } catch {
      return 0;
    }
  };
  const marked = new Set(all.filter((pid) => pid !== process.pid && cmdline(pid).includes(marker)));
  const result = new Set(marked);
  for (const pid of all) {
    for (let up = parent(pid); up > 1; up = parent(up)) {
      if (marked.has(up)) {
        if (!cmdline(pid).startsWith('sleep 3600')) result.add(pid);
        break;
      }
    }
  }
  return [...result];
}

/** Sum of VmRSS of `pids`, in bytes (processes gone meanwhile count 0). */
export function rssOf(pids: readonly number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const match = /^VmRSS:\s+(\d+) kB$/m.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      total += Number(match?.[1] ?? 0) * 1024;
    } catch {
      // Gone.
    }
  }
  return total;
}

/** CPU time (user + system) the process has used so far, in ms. */
export function cpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLOCK_TICKS_PER_SECOND;
}

/**
 * How to start caissond other than as bin/caissond says (for the idle-memory measures): a
 * command that runs bin/caissond (`node` with flags: bin/caissond's own first line no longer
 * applies), and variables added to the environment.
 */
export interface CaissonLaunch {
  readonly command?: readonly string[];
  readonly env?: NodeJS.ProcessEnv;
}

export async function startCaisson(setup: EngineSetup, launch: CaissonLaunch = {}): Promise<BenchEngine> {
  const root = path.join(setup.work, 'caisson');
  const state = path.join(root, 'run');
  const socket = path.join(state, 'caisson.sock');
  const cni = path.join(root, 'cni');
  writeCniNetwork(cni, setup);
  const config = path.join(root, 'daemon.json');
  fs.writeFileSync(
    config,
    JSON.stringify({
      hosts: [`unix://${socket}`],
      graph: path.join(root, 'lib'),
      state,
      pidfile: path.join(state, 'caissond.pid'),
      group: 'root',
      'log-level': 'warn',
      'insecure-registries': [setup.registry],
      'cni-conf-dir': cni,
      'websocket-server-listening-port': 0,
    }),
  );
  // As an operator starts it: the executable itself, with the node flags of its first line.
  const executable = path.join(packageInfo().root, 'bin', 'caissond');
  const [command = executable, ...args] = launch.command ? [...launch.command, executable] : [];
  const child = await spawnEngine(command, [...args, '--config', config], path.join(root, 'caissond.log'), socket, launch.env);
  return {
    name: 'caisson',
    socket,
    pid: child.pid ?? 0,
    // conmon's command line and the PID holder's name the daemon's state folder.
    helperPids: () => processesMarkedBy(state).filter((pid) => pid !== child.pid),
    stop: () => stopProcess(child),
  };
}

export async function startContainerd(setup: EngineSetup): Promise<BenchEngine> {
  const root = path.join(setup.work, 'containerd');
  const socket = path.join(root, 'containerd.sock');
  const cni = path.join(root, 'cni');
  writeCniNetwork(cni, setup);
  const certs = path.join(root, 'certs.d', setup.registry);
  fs.mkdirSync(certs, { recursive: true });
  fs.writeFileSync(path.join(certs, 'hosts.toml'), `server = "http://${setup.registry}"\n\n[host."http://${setup.registry}"]\n  capabilities = ["pull", "resolve"]\n  skip_verify = true\n`);
  const config = path.join(root, 'config.toml');
  fs.writeFileSync(
    config,
    `version = 2
root = "${root}/root"
state = "${root}/state"
disabled_plugins = ["io.containerd.snapshotter.v1.aufs", "io.containerd.snapshotter.v1.btrfs", "io.containerd.snapshotter.v1.zfs", "io.containerd.snapshotter.v1.devmapper"]
[grpc]
  address = "${socket}"
[ttrpc]
  address = "${socket}.ttrpc"
[plugins]
  [plugins."io.containerd.internal.v1.opt"]
    path = "${root}/opt"
  [plugins."io.containerd.grpc.v1.cri"]
    sandbox_image = "${setup.pauseImage}"
    stream_server_address = "127.0.0.1"
    stream_server_port = "0"
    disable_apparmor = true
    restrict_oom_score_adj = true
    netns_mounts_under_state_dir = true
    [plugins."io.containerd.grpc.v1.cri".containerd]
      snapshotter = "overlayfs"
      default_runtime_name = "runc"
      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
        runtime_type = "io.containerd.runc.v2"
        [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
          Root = "${root}/runc"
          SystemdCgroup = false
    [plugins."io.containerd.grpc.v1.cri".cni]
      bin_dir = "/usr/lib/cni"
      conf_dir = "${cni}"
      max_conf_num = 1
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "${root}/certs.d"
`,
  );
  // The shims put their sockets under /run/containerd/s whatever the config says (the lab notes
  // it too): removed afterwards when this run made it.
  const madeRunDir = !fs.existsSync('/run/containerd');
  const child = await spawnEngine('/usr/bin/containerd', ['--config', config], path.join(root, 'containerd.log'), socket);
  return {
    name: 'containerd',
    socket,
    pid: child.pid ?? 0,
    // A shim's command line names the containerd socket it serves.
    helperPids: () => processesMarkedBy(`-address ${socket}`),
    stop: async () => {
      await stopProcess(child);
      // containerd leaves its shims' state and the overlay mounts of a failed run: unmount them.
      await runProgram('sh', ['-c', `grep -o " ${root}/[^ ]*" /proc/mounts | sort -r | xargs -r -n1 umount -l`]).catch(() => undefined);
      if (madeRunDir) for (const dir of ['/run/containerd/s', '/run/containerd']) removeEmptyDir(dir);
    },
  };
}
