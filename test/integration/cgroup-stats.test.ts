import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CGROUP_ROOT, detectCgroupMode } from '../../core/cgroup/cgroup-mode';
import { CgroupfsDriver } from '../../plugins/cgroupfs/cgroupfs-driver';

// Reads the stats of a real v1 cgroup that this test makes for itself, with a process in it that
// has used some CPU and memory. Needs: root, and cgroup v1 memory, cpuacct and pids hierarchies
// mounted under /sys/fs/cgroup (v1 or hybrid). It fails, not skips, when they are missing.

const MiB = 1024 * 1024;
const HIERARCHIES = ['memory', 'cpuacct', 'pids'] as const;

describe('cgroup stats of a real cgroup (cgroupfs driver, v1)', function () {
  this.timeout(30_000);

  const cgroupsPath = `/caisson-stats-test-${process.pid}`;
  const dirs = HIERARCHIES.map((hierarchy) => path.join(CGROUP_ROOT, hierarchy, cgroupsPath));
  let child: ChildProcess | undefined;

  before(() => {
    assert.equal(process.getuid?.(), 0, 'this test makes cgroups under /sys/fs/cgroup and must run as root');
    const mode = detectCgroupMode();
    assert.notEqual(mode, 'v2', 'this test needs cgroup v1 hierarchies (v1 or hybrid); the host has a unified v2 tree');
    for (const hierarchy of HIERARCHIES) {
      assert.ok(fs.existsSync(path.join(CGROUP_ROOT, hierarchy, 'cgroup.procs')), `the v1 ${hierarchy} hierarchy is not mounted at ${CGROUP_ROOT}/${hierarchy}`);
    }
  });

  afterEach(async () => {
    const problems: string[] = [];
    // Kill what is in our cgroups (only processes this test started can be there), then the child.
    for (const pid of pidsIn(dirs)) killQuietly(pid);
    if (child?.pid !== undefined && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise<void>((resolve) => child?.once('exit', () => resolve()));
      killQuietly(child.pid);
      await Promise.race([exited, delay(5_000)]);
    }
    child = undefined;
    // A killed process leaves its cgroup a moment after it exits; rmdir fails with EBUSY until then.
    for (const dir of [...dirs].reverse()) {
      if (!fs.existsSync(dir)) continue;
      const deadline = Date.now() + 5_000;
      for (;;) {
        try {
          fs.rmdirSync(dir);
          break;
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code;
          if (code === 'ENOENT') break;
          if (code !== 'EBUSY' || Date.now() > deadline) {
            problems.push(`could not remove ${dir}: ${(error as Error).message} (processes: ${pidsIn([dir]).join(' ') || 'none'})`);
            break;
          }
          for (const pid of pidsIn([dir])) killQuietly(pid);
          await delay(50);
        }
      }
    }
    assert.deepEqual(problems, [], 'cleaning up the test cgroups');
  });

  it('reads cpu, memory, the memory limit and pids of a cgroup with a process in it', async () => {
    for (const dir of dirs) fs.mkdirSync(dir);
    fs.writeFileSync(path.join(CGROUP_ROOT, 'memory', cgroupsPath, 'memory.limit_in_bytes'), `${64 * MiB}`);

    // The shell waits for a line on stdin, so it is in the cgroups before it forks its work.
    const spawned = spawn('sh', ['-c', 'read go; head -c 20000000 /dev/zero | tail -c 1 >/dev/null; echo done; exec sleep 30'], {
      stdio: ['pipe', 'pipe', 'inherit'],
    });
    child = spawned;
    const pid = spawned.pid;
    assert.ok(pid !== undefined, 'sh did not start');
    for (const dir of dirs) fs.writeFileSync(path.join(dir, 'cgroup.procs'), `${pid}`);
    const done = new Promise<void>((resolve, reject) => {
      let output = '';
      spawned.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        if (output.includes('done')) resolve();
      });
      spawned.once('exit', (code, signal) => reject(new Error(`sh exited (code ${code}, signal ${signal}) before it finished its work`)));
    });
    spawned.stdin?.write('go\n');
    await Promise.race([done, delay(10_000).then(() => Promise.reject(new Error('sh did not finish its work within 10 s')))]);

    const before = BigInt(Date.now()) * 1_000_000n;
    const stats = await new CgroupfsDriver('hybrid', '/caisson').readStats(cgroupsPath);
    const after = BigInt(Date.now()) * 1_000_000n;

    assert.ok(stats !== undefined, 'readStats found no cgroup');
    assert.ok(stats.timestampNanos >= before && stats.timestampNanos <= after);
    assert.ok(stats.cpuUsageNanos > 0n, `cpu usage ${stats.cpuUsageNanos}`);
    assert.ok(stats.memory.usageBytes > 0, `memory usage ${stats.memory.usageBytes}`);
    assert.ok(stats.memory.workingSetBytes <= stats.memory.usageBytes);
    assert.ok(stats.memory.pageFaults > 0, `page faults ${stats.memory.pageFaults}`);
    assert.equal(stats.memory.limitBytes, 64 * MiB);
    assert.ok(stats.pids >= 1, `pids ${stats.pids}`);
    // Swap accounting depends on the kernel: both known, or both unknown on a host without it.
    const memsw = fs.existsSync(path.join(CGROUP_ROOT, 'memory', cgroupsPath, 'memory.memsw.usage_in_bytes'));
    assert.equal(stats.memory.swapUsageBytes !== undefined, memsw);
  });

  it('reads a cgroup that does not exist as undefined', async () => {
    assert.equal(await new CgroupfsDriver('hybrid', '/caisson').readStats(`${cgroupsPath}-absent`), undefined);
  });
});

function pidsIn(dirs: readonly string[]): number[] {
  const pids: number[] = [];
  for (const dir of dirs) {
    try {
      for (const line of fs.readFileSync(path.join(dir, 'cgroup.procs'), 'utf8').split('\n')) {
        if (/^\d+$/.test(line)) pids.push(Number(line));
      }
    } catch {
      // The directory is gone or was never made.
    }
  }
  return [...new Set(pids)];
}

function killQuietly(pid: number): void {
  try {
    process.kill(pid, 'SIGKILL');
  } catch {
    // Already gone.
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
