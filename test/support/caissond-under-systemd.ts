import * as fs from 'node:fs';
import * as path from 'node:path';
import { bootSystemd } from './systemd-harness';

// caissond with the systemd cgroup driver, under a real systemd booted by the test harness (its
// own PID and mount namespaces, private /tmp, /run and /var/tmp): for the conformance run with
// `--driver systemd`. The daemon.json must put the socket and the graph where the host sees
// them (not under /tmp or /run). It runs until SIGTERM or SIGINT, then stops caissond, then
// systemd (which removes the cgroups systemd made).
//
//   node dist/test/support/caissond-under-systemd.js DAEMON_JSON LOG_FILE

async function main(): Promise<void> {
  const [configFile, logFile] = process.argv.slice(2);
  if (!configFile || !logFile) {
    process.stderr.write('usage: caissond-under-systemd.js DAEMON_JSON LOG_FILE\n');
    process.exit(2);
  }
  const systemd = await bootSystemd();
  const log = fs.openSync(logFile, 'a');
  const daemon = systemd.spawnInside(process.execPath, [path.join(systemd.checkout, 'bin', 'caissond'), '--config', path.resolve(configFile)]);
  daemon.stdout?.on('data', (chunk: Buffer) => fs.writeSync(log, chunk));
  daemon.stderr?.on('data', (chunk: Buffer) => fs.writeSync(log, chunk));
  const daemonExited = new Promise<void>((resolve) => daemon.once('exit', () => resolve()));
  process.stdout.write(`systemd pid ${systemd.pid}, caissond started inside\n`);

  let stopping = false;
  const stop = async (): Promise<void> => {
    if (stopping) return;
    stopping = true;
    // nsenter forked caissond into systemd's PID namespace and only waits for it: the signal
    // goes to caissond itself (nsenter's child), which shuts down in order.
    const caissond = childOf(daemon.pid ?? 0);
    signal(caissond ?? daemon.pid ?? 0, 'SIGTERM');
    const timer = setTimeout(() => signal(caissond ?? daemon.pid ?? 0, 'SIGKILL'), 15_000);
    await daemonExited;
    clearTimeout(timer);
    await systemd.stop();
    fs.closeSync(log);
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  void daemonExited.then(() => {
    if (stopping) return;
    fs.writeSync(log, 'caissond-under-systemd: caissond exited on its own; stopping systemd\n');
    void systemd.stop().then(() => process.exit(1));
  });
}

function childOf(pid: number): number | undefined {
  try {
    const first = fs.readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/)[0];
    return first ? Number(first) : undefined;
  } catch {
    return undefined;
  }
}

function signal(pid: number, name: NodeJS.Signals): void {
  if (pid <= 0) return;
  try {
    process.kill(pid, name);
  } catch {
    // Already gone.
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`caissond-under-systemd: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
