import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import WebSocket from 'ws';
import type { CriClient } from '../../cli/cri-client';
import { containerConfig, startContainer } from '../support/pod-fixtures';
import { useBusyboxPods } from '../support/busybox-pods';

// Exec with a TTY over WebSocket (v5.channel.k8s.io) with real runc and conmon, driven as a
// person at a terminal drives it: resize messages on channel 4, typed lines on stdin, output read
// back from stdout. Waits are generous (the machine is shared) and nothing is timed.

/** Long enough for a busy machine; a wait that runs out fails with what was seen so far. */
const WAIT_MS = 30_000;

/** A WebSocket exec session whose output can be awaited as it arrives. */
class TerminalClient {
  stdout = '';
  stderr = '';
  error = '';
  closeCode: number | undefined;
  private readonly changed = new Set<() => void>();

  private constructor(readonly ws: WebSocket) {
    ws.on('message', (data: Buffer) => {
      const text = data.subarray(1).toString();
      if (data[0] === 1) this.stdout += text;
      if (data[0] === 2) this.stderr += text;
      if (data[0] === 3) this.error += text;
      this.notify();
    });
    ws.on('close', (code) => {
      this.closeCode = code;
      this.notify();
    });
  }

  static open(url: string): Promise<TerminalClient> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(url, ['v5.channel.k8s.io']);
      const client = new TerminalClient(ws);
      ws.once('open', () => resolve(client));
      ws.once('error', reject);
    });
  }

  type(line: string): void {
    this.ws.send(Buffer.concat([Buffer.from([0]), Buffer.from(line)]));
  }

  resize(width: number, height: number): void {
    this.ws.send(Buffer.concat([Buffer.from([4]), Buffer.from(JSON.stringify({ Width: width, Height: height }))]));
  }

  halfCloseStdin(): void {
    this.ws.send(Buffer.from([255, 0]));
  }

  /** Resolves with the first match of `pattern` in stdout; rejects after WAIT_MS or on close. */
  waitForOutput(pattern: RegExp): Promise<RegExpMatchArray> {
    return this.waitUntil(`stdout matching ${pattern}`, () => this.stdout.match(pattern) ?? undefined);
  }

  /** Resolves with the close code once the server has closed the socket. */
  waitForClose(): Promise<number> {
    return this.waitUntil('the socket to close', () => this.closeCode, true);
  }

  private waitUntil<T>(what: string, check: () => T | undefined, closeIsFine = false): Promise<T> {
    return new Promise((resolve, reject) => {
      const attempt = (): void => {
        const value = check();
        if (value !== undefined) return done(() => resolve(value));
        if (this.closeCode !== undefined && !closeIsFine) done(() => reject(new Error(`socket closed while waiting for ${what}; ${this.seen()}`)));
      };
      const timer = setTimeout(() => done(() => reject(new Error(`no ${what} within ${WAIT_MS} ms; ${this.seen()}`))), WAIT_MS);
      const done = (settle: () => void): void => {
        clearTimeout(timer);
        this.changed.delete(attempt);
        settle();
      };
      this.changed.add(attempt);
      attempt();
    });
  }

  private notify(): void {
    for (const listener of [...this.changed]) listener();
  }

  private seen(): string {
    return `stdout so far: ${JSON.stringify(this.stdout)}, error channel: ${JSON.stringify(this.error)}`;
  }
}

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
async function run(client: TerminalClient, command: string): Promise<string> {
  markers += 1;
  const value = 100_000 + markers;
  client.type(`${command}; echo "@@$((${value - 1}+1))@@"\n`);
  const match = await client.waitForOutput(new RegExp(`\\n([^@]*)@@${value}@@`));
  return lines(match[1] ?? '');
}

/**
 * `stty size` until it reports `expected`: runc copies a new size to the container's terminal when
 * its SIGWINCH arrives, which may be just after the next typed line is read.
 */
async function sttySizeBecomes(client: TerminalClient, expected: string): Promise<void> {
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
    const term = await TerminalClient.open(String(url));
    assert.equal(openPtyMasters(), mastersBefore + 1, 'the exec runs on a terminal of the daemon');

    // Sent at once: the engine holds typed input until runc has put its terminal in raw mode.
    term.resize(100, 30);
    const firstLine = `stty size; echo "@@$((${100_000 + markers}+1))@@"`;
    await sttySizeBecomes(term, '30 100');
    // Echoed once, by the container's terminal; typed into a cooked terminal it would be echoed again.
    assert.equal(term.stdout.split(firstLine).length - 1, 1, `the first line typed is echoed once: ${JSON.stringify(term.stdout)}`);
    term.resize(120, 40);
    await sttySizeBecomes(term, '40 120');
    assert.match(await run(term, 'tty'), /^\/dev\/pts\/\d+\n$/);
    assert.equal(await run(term, 'echo "T=$TERM"'), 'T=xterm\n');
    // stderr is the terminal too, so it arrives on stdout.
    assert.equal(await run(term, 'echo to-stderr >&2'), 'to-stderr\n');

    term.type('exit 3\n');
    assert.equal(await term.waitForClose(), 1000);
    assert.deepEqual(JSON.parse(term.error), {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command, exit status 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
    assert.equal(term.stderr, '', 'a terminal has no separate stderr');
    await eventually('the terminal of the exec is closed', () => openPtyMasters() === mastersBefore);
    await eventually('no runtime exec client is left', () => runtimeExecClients(id).length === 0);
    await eventually('runc exec was reaped', () => zombieChildren().length === 0);
    assert.deepEqual(leftoverExecFiles(root), []);
  });

  it('starts at 80x24 without a resize, and runs a command without stdin', async () => {
    const { client, id } = await start();
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', 'stty size; tty'], tty: true, stdout: true });
    const term = await TerminalClient.open(String(url));
    assert.equal(await term.waitForClose(), 1000);
    assert.match(lines(term.stdout), /^24 80\n\/dev\/pts\/\d+\n$/);
    assert.deepEqual(JSON.parse(term.error), { metadata: {}, status: 'Success' });
  });

  it('a stdin half-close is the end of input at the terminal: the shell runs what it got and exits', async () => {
    const { client, id } = await start();
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh'], tty: true, stdin: true, stdout: true });
    const term = await TerminalClient.open(String(url));
    term.type('echo "half-$((40+2))"\n');
    term.halfCloseStdin();
    assert.equal(await term.waitForClose(), 1000);
    assert.match(lines(term.stdout), /half-42\n/);
    assert.deepEqual(JSON.parse(term.error), { metadata: {}, status: 'Success' });
  });

  it('kills the command when the client goes away: a shell and its foreground job', async () => {
    const { client, id, root } = await start();
    const mastersBefore = openPtyMasters();
    const { url } = await client.call('Exec', { container_id: id, cmd: ['sh'], tty: true, stdin: true, stdout: true });
    const term = await TerminalClient.open(String(url));
    await run(term, 'true');
    const seconds = uniqueSeconds(1);
    term.type(`sleep ${seconds}\n`);
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
    const term = await TerminalClient.open(String(url));
    await term.waitForOutput(/started\r+\n/);
    await eventually('the sleep runs', () => hostProcesses(['sleep', seconds]).length === 1);
    term.ws.close();
    await eventually('the sleep is gone', () => hostProcesses(['sleep', seconds]).length === 0);
    await eventually('runc exec is gone', () => runtimeExecClients(id).length === 0);

    // Gone before runc has even written the pid: the command is killed once it has.
    const earlySeconds = uniqueSeconds(3);
    const early = await client.call('Exec', { container_id: id, cmd: ['sh', '-c', `exec sleep ${earlySeconds}`], tty: true, stdout: true });
    (await TerminalClient.open(String(early.url))).ws.terminate();
    await eventually('runc exec is gone after an early disconnect', () => runtimeExecClients(id).length === 0);
    assert.deepEqual(hostProcesses(['sleep', earlySeconds]), []);
  });
});
