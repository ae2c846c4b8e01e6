import assert from 'node:assert/strict';
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseProcNetDev } from '../../core/stats/proc-net-dev';
import { readProcNetDev } from '../../core/stats/read-pod-net-dev';
import { makeTempRoot } from '../support/temp-root';

// Pod network counters are read through a pod process's /proc/<pid>/net/dev when one is in the
// pinned namespace, and through nsenter otherwise; neither may ever read another namespace.

describe('reading a pod network namespace\'s /proc/net/dev', function () {
  this.timeout(20_000);
  let dir: string;
  let pinned: string;
  let inside: ChildProcess | undefined;

  before(async () => {
    dir = makeTempRoot('net-dev');
    pinned = path.join(dir, 'net');
    fs.writeFileSync(pinned, '');
    execFileSync('unshare', [`--net=${pinned}`, 'true']);
    inside = spawn('nsenter', [`--net=${pinned}`, 'sleep', '30'], { stdio: 'ignore' });
    const pid = inside.pid ?? 0;
    // nsenter execs sleep in place: wait until the pid is in the namespace.
    const target = fs.statSync(pinned).ino;
    for (let i = 0; i < 200 && fs.statSync(`/proc/${pid}/ns/net`).ino !== target; i++) await new Promise((r) => setTimeout(r, 10));
  });

  after(() => {
    inside?.kill('SIGKILL');
    execFileSync('umount', [pinned]);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  const names = (text: string): string[] => parseProcNetDev(text).map((i) => i.name);

  it('reads through a process of the pod: only the namespace\'s loopback', async () => {
    assert.deepEqual(names(await readProcNetDev(pinned, [inside?.pid ?? 0])), ['lo']);
  });

  it('skips a process in another namespace and falls back to nsenter', async () => {
    const hostInterfaces = names(fs.readFileSync('/proc/self/net/dev', 'utf8'));
    assert.ok(hostInterfaces.length > 1, 'the host has more than a loopback');
    assert.deepEqual(names(await readProcNetDev(pinned, [process.pid, 0, -1])), ['lo']);
  });

  it('uses nsenter when the pod has no running process', async () => {
    assert.deepEqual(names(await readProcNetDev(pinned, [])), ['lo']);
  });
});
