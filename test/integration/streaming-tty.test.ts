import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { CriClient } from '../../cli/cri-client';
import { containerConfig, startContainer } from '../support/pod-fixtures';
import { useBusyboxPods } from '../support/busybox-pods';
import { ChannelClient, WAIT_MS } from '../support/channel-client';

// Exec with a TTY over WebSocket (v5.channel.k8s.io) with real runc and conmon, driven as a
// person at a terminal drives it: resize messages on channel 4, typed lines on stdin, output read
// back from stdout. Waits are generous (the machine is shared) and nothing is timed.

let markers = 0;

/** Sleep durations only this test process uses, so its process checks see only its own sleeps. */
const uniqueSeconds = (n: number): string => String(100_000 + (process.pid % 100_000) * 10 + n);

/**
 * Output with each line end as \n. A terminal ends lines with \r\n; runc turns that off on the
 * container's terminal and leaves it to ours, but only once the command may already be writing
 * (and a shell that saved its terminal's settings before then restores them), so some lines end
 * in \r\r\n, which a terminal shows the same.
 */
function lines(output: string): string {
  return output.replace(/\r+\n/g, '\n');
}

/**
 * Types `command` followed by an echo of a marker the shell computes ($((…))), so the echoed
 * input never contains it, and resolves with the output between the command and the marker.
 */
async function run(client: ChannelClient, command: string): Promise<string> {
  markers += 1;
  const value = 100_000 + markers;
  client.send(0, `${command}; echo "@@$((${value - 1}+1))@@"\n`);
  const pattern = new RegExp(`\\n([^@]*)@@${value}@@`);
  const match = (await client.waitFor(1, pattern)).match(pattern);
  return lines(match?.[1] ?? '');
}

/**
 * `stty size` until it reports `expected`: runc copies a new size to the container's terminal when
 * its SIGWINCH arrives, which may be just after the next typed line is read.
 */
async function sttySizeBecomes(client: ChannelClient, expected: string): Promise<void> {
  const seen: string[] = [];
  for (let attempt = 0; attempt < 20; attempt++) {
    const size = (await run(client, 'stty size')).trim();
    if (size === expected) return;
    seen.push(size);
    await delay(250);
  }
  assert.fail(`stty size never said "${expected}"; it said ${JSON.stringify(seen)}`);
}

/** The host pids whose command line is exactly `argv`. */
function hostProcesses(argv: readonly string[]): number[] {
  const wanted = `${argv.join('\0')}\0`;
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8') === wanted) found.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

/** Host pids of runtime exec clients (`runc … exec … --pid-file …`) for container `id`. */
function runtimeExecClients(id: string): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const args = fs.readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0');
      if (args.includes('exec') && args.includes('--pid-file') && args.includes(id)) found.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

/** Children of this process (the in-process daemon) that exited and were never reaped. */
function zombieChildren(): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const [state, ppid] = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (state === 'Z' && Number(ppid) === process.pid) found.push(Number(entry));
    } catch {
      // Exited while we looked.
    }
  }
  return found;
}

/** How many pseudo-terminal masters this process (the in-process daemon) has open. */
function openPtyMasters(): number {
  let count = 0;
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`) === '/dev/ptmx') count += 1;
    } catch {
      // Closed while we looked (readdir's own fd).
    }
  }
  return count;
}

/** Process and pid files of execs left under `root`. */
function leftoverExecFiles(root: string): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name);
      if (entry.isDirectory() && !entry.isSymbolicLink()) {
        if (!full.includes(`${path.sep}overlay`) && !full.includes(`${path.sep}rootfs`)) walk(full);
      } else if (/^exec-[0-9a-f]+\.(json|pid)$/.test(entry.name)) {
        found.push(full);
      }
    }
  };
  walk(root);
  return found;
}

async function eventually(what: string, check: () => boolean): Promise<void> {
  const deadline = Date.now() + WAIT_MS;
  while (!check()) {
    if (Date.now() > deadline) assert.fail(`still not true after ${WAIT_MS} ms: ${what}`);
    await delay(100);
  }
}

describe('streaming: Exec with a TTY over WebSocket', function () {
  this.timeout(180_000);
  const pods = useBusyboxPods('ttylogs');

  const start = async (): Promise<{ client: CriClient; id: string; root: string }> => {
    const { daemon, client, podId, pod } = await pods.startPod();
    const id = await startContainer(client, podId, pod, containerConfig('sleeper', pods.image, ['sleep', '300']));
    return { client, id, root: daemon.root };
  };

  it('runs an interactive shell on a terminal: resize, stty size, tty, TERM, exit 3', async () => {
    const { client, id, root } = await start();
    const mastersBefore = openPtyMasters();
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh'], tty: true, stdin: true, stdout: true });
    const term = await ChannelClient.open(String(url), ['v5.channel.k8s.io']);
    assert.equal(openPtyMasters(), mastersBefore + 1, 'the exec runs on a terminal of the daemon');

    term.resize(100, 30);
    // Typed once the shell prompts. A line typed ahead of the prompt is echoed twice whatever the
    // engine does: by the container's terminal while it is still cooked, and again by ash's line
    // editor when it starts and finds the line waiting (CI saw this once under load).
    await eventually('the shell prompts', () => term.text(1).includes('/ # '));
    const firstLine = `stty size; echo "@@$((${100_000 + markers}+1))@@"`;
    await sttySizeBecomes(term, '30 100');
    // Echoed once, by ash; had the daemon's own terminal been left cooked it would be echoed again.
    assert.equal(term.text(1).split(firstLine).length - 1, 1, `the first line typed is echoed once: ${JSON.stringify(term.text(1))}`);
    term.resize(120, 40);
    await sttySizeBecomes(term, '40 120');
    assert.match(await run(term, 'tty'), /^\/dev\/pts\/\d+\n$/);
    assert.equal(await run(term, 'echo "T=$TERM"'), 'T=xterm\n');
    // stderr is the terminal too, so it arrives on stdout.
    assert.equal(await run(term, 'echo to-stderr >&2'), 'to-stderr\n');

    term.send(0, 'exit 3\n');
    assert.equal(await term.waitForClose(), 1000);
    assert.deepEqual(JSON.parse(term.text(3)), {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command, exit status 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    assert.equal(term.text(2), '', 'a terminal has no separate stderr');
    await eventually('the terminal of the exec is closed', () => openPtyMasters() === mastersBefore);
    await eventually('no runtime exec client is left', () => runtimeExecClients(id).length === 0);
    await eventually('runc exec was reaped', () => zombieChildren().length === 0);
    assert.deepEqual(leftoverExecFiles(root), []);
  });

  it('starts at 80x24 without a resize, and runs a command without stdin', async () => {
    const { client, id } = await start();
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', 'stty size; tty'], tty: true, stdout: true });
    const term = await ChannelClient.open(String(url), ['v5.channel.k8s.io']);
    assert.equal(await term.waitForClose(), 1000);
    assert.match(lines(term.text(1)), /^24 80\n\/dev\/pts\/\d+\n$/);
    assert.deepEqual(JSON.parse(term.text(3)), { metadata: {}, status: 'Success' });
  });

  it('a stdin half-close is the end of input at the terminal: the shell runs what it got and exits', async () => {
    const { client, id } = await start();
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh'], tty: true, stdin: true, stdout: true });
    const term = await ChannelClient.open(String(url), ['v5.channel.k8s.io']);
    term.send(0, 'echo "half-$((40+2))"\n');
    term.halfCloseStdin();
    assert.equal(await term.waitForClose(), 1000);
    assert.match(lines(term.text(1)), /half-42\n/);
    assert.deepEqual(JSON.parse(term.text(3)), { metadata: {}, status: 'Success' });
  });

  it('kills the command when the client goes away: a shell and its foreground job', async () => {
    const { client, id, root } = await start();
    const mastersBefore = openPtyMasters();
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh'], tty: true, stdin: true, stdout: true });
    const term = await ChannelClient.open(String(url), ['v5.channel.k8s.io']);
    await run(term, 'true');
    const seconds = uniqueSeconds(1);
    term.send(0, `sleep ${seconds}\n`);
    await eventually('the foreground sleep runs in the container', () => hostProcesses(['sleep', seconds]).length === 1);
    term.ws.terminate();

    await eventually('the foreground sleep is gone', () => hostProcesses(['sleep', seconds]).length === 0);
    await eventually('the shell and runc exec are gone', () => runtimeExecClients(id).length === 0);
    await eventually('the terminal of the exec is closed', () => openPtyMasters() === mastersBefore);
    await eventually('the exec files are removed', () => leftoverExecFiles(root).length === 0);
    await eventually('runc exec was reaped', () => zombieChildren().length === 0);
  });

  it('kills a command that never reads stdin when the client disconnects', async () => {
    const { client, id } = await start();
    const seconds = uniqueSeconds(2);
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', `echo started; exec sleep ${seconds}`], tty: true, stdout: true });
    const term = await ChannelClient.open(String(url), ['v5.channel.k8s.io']);
    await term.waitFor(1, /started\r+\n/);
    await eventually('the sleep runs', () => hostProcesses(['sleep', seconds]).length === 1);
    term.ws.close();
    await eventually('the sleep is gone', () => hostProcesses(['sleep', seconds]).length === 0);
    await eventually('runc exec is gone', () => runtimeExecClients(id).length === 0);

    // Gone before runc has even written the pid: the command is killed once it has.
    const earlySeconds = uniqueSeconds(3);
    const early = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', `exec sleep ${earlySeconds}`], tty: true, stdout: true });
    (await ChannelClient.open(String(early.url), ['v5.channel.k8s.io'])).ws.terminate();
    await eventually('runc exec is gone after an early disconnect', () => runtimeExecClients(id).length === 0);
    assert.deepEqual(hostProcesses(['sleep', earlySeconds]), []);
  });
});
