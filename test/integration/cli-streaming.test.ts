import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as http from 'node:http';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import * as nodePty from 'node-pty';
import type { IPty } from 'node-pty';
import type { CriClient } from '../../cli/cri-client';
import { packageInfo } from '../../core/package-info';
import { startBusyboxRegistry } from '../support/busybox-registry';
import { containerConfig, podConfig, runPod, startContainer } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';

// The streaming commands of bin/caisson (from dist/, built by `npm test`): `exec -i/-t`, `attach`
// and `port-forward`, run as child processes (under a real pseudo-terminal for -t, via node-pty)
// against an in-process daemon with real runc and conmon, and busybox from a local registry.

const CLI = path.join(packageInfo().root, 'bin', 'caisson');

interface Finished {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

interface Running {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly finished: Promise<Finished>;
}

/** A pseudo-terminal running the CLI: what it printed so far, and how it ended. */
interface OnTerminal {
  readonly pty: IPty;
  output: string;
  readonly exited: Promise<number>;
}

/** The answers of `stty size` ("rows cols" lines) in a terminal's output, in order. */
const sizeAnswers = (text: string): string[] => [...text.matchAll(/^(\d+ \d+)\r?$/gm)].map((m) => m[1] ?? '');

describe('caisson exec -i/-t, attach and port-forward', function () {
  this.timeout(120_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let image: string;
  let logs: string;
  const children = new Set<ChildProcess>();
  const terminals = new Set<IPty>();

  before(async () => ({ registry, image } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => (logs = makeTempRoot('cli-streaming')));
  // Registered after useTestDaemons' hook, so it runs once the daemon and conmon are gone.
  afterEach(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.clear();
    for (const pty of terminals) {
      try {
        pty.kill('SIGKILL');
      } catch {
        // Already gone.
      }
    }
    terminals.clear();
    removeTempRoot(logs);
  });

  const start = async (): Promise<{ d: TestDaemon; client: CriClient; podId: string; pod: Record<string, unknown> }> => {
    const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
    const client = d.client();
    await client.call('PullImage', { image: { image } });
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    return { d, client, podId, pod };
  };
  const argv = (d: TestDaemon, args: string[]): string[] => [CLI, '--host', `unix://${d.socket}`, ...args];

  /** Starts the CLI with piped stdio; `input`, when given, is written to its stdin, which then ends. */
  const run = (d: TestDaemon, args: string[], input?: string): Running => {
    const child = spawn(process.execPath, argv(d, args), { stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    const running: Running = {
      child,
      stdout: '',
      stderr: '',
      finished: new Promise((resolve) => child.on('close', (code) => resolve({ code, stdout: running.stdout, stderr: running.stderr }))),
    };
    child.stdout?.on('data', (chunk: Buffer) => (running.stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (running.stderr += chunk.toString()));
    if (input !== undefined) child.stdin?.end(input);
    return running;
  };
  /** Runs the CLI (or `command`, when given) on a new pseudo-terminal of `cols` x `rows`. */
  const onTerminal = (d: TestDaemon, args: string[], cols: number, rows: number, command?: string[]): OnTerminal => {
    const [file, ...rest] = command ?? [process.execPath, ...argv(d, args)];
    const pty = nodePty.spawn(file ?? process.execPath, rest, { cols, rows, name: 'xterm', env: { ...process.env, TERM: 'xterm' } as Record<string, string> });
    terminals.add(pty);
    const terminal: OnTerminal = { pty, output: '', exited: new Promise((resolve) => pty.onExit(({ exitCode }) => resolve(exitCode))) };
    pty.onData((data) => (terminal.output += data));
    return terminal;
  };
  /** Polls `check` (every 50 ms) until it holds; the deadline only turns a hang into a failure. */
  const waitFor = async (what: string, check: () => boolean, ms = 30_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!check()) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await delay(50);
    }
  };
  /** Asks the remote shell for its terminal size until it answers `expected` (a resize and the keys travel separately). */
  const waitForSize = async (terminal: OnTerminal, expected: string): Promise<void> => {
    for (let attempt = 1; sizeAnswers(terminal.output).at(-1) !== expected; attempt++) {
      assert.ok(attempt <= 50, `the terminal never became ${expected}; output: ${JSON.stringify(terminal.output)}`);
      const before = sizeAnswers(terminal.output).length;
      terminal.pty.write('stty size\r');
      await waitFor(`an answer to stty size (attempt ${attempt}); output: ${JSON.stringify(terminal.output)}`, () => sizeAnswers(terminal.output).length > before);
    }
  };
  const httpGet = (port: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const request = http.get({ host: '127.0.0.1', port, path: '/', agent: false }, (response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (chunk: string) => (body += chunk));
        response.on('end', () => resolve(`${response.statusCode} ${body}`));
        response.on('error', reject);
      });
      request.on('error', reject);
    });

  it('exec -i passes stdin and its end to the command: echo hello | caisson exec -i CTR cat', async () => {
    const { d, client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('sleeper', image, ['sleep', '300']));
    assert.deepEqual(await run(d, ['exec', '-i', id, 'cat'], 'hello\n').finished, { code: 0, stdout: 'hello\n', stderr: '' });
    // stdout and stderr stay apart without -t; a prefix of the ID works as for ExecSync.
    const both = await run(d, ['exec', '-i', id.slice(0, 12), '--', 'sh', '-c', 'cat; echo to-stderr >&2'], 'in\n').finished;
    assert.deepEqual(both, { code: 0, stdout: 'in\n', stderr: 'to-stderr\n' });
  });

  it("exec -i exits with the command's exit code, and reports what is not one", async () => {
    const { d, client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('sleeper', image, ['sleep', '300']));
    assert.deepEqual(await run(d, ['exec', '-i', id, 'sh', '-c', 'exit 3'], '').finished, { code: 3, stdout: '', stderr: '' });
    // -s keeps ExecSync (no stdin): the same exit code the other way.
    assert.deepEqual(await run(d, ['exec', '-i', '-s', id, 'sh', '-c', 'echo sync; exit 4'], '').finished, { code: 4, stdout: 'sync\n', stderr: '' });
    const missing = await run(d, ['exec', '-i', 'nope', 'true'], '').finished;
    assert.deepEqual(missing, { code: 1, stdout: '', stderr: 'caisson: container nope not found\n' });
    // --timeout on a streaming exec closes the session, which ends the command.
    const timedOut = await run(d, ['exec', '-i', '--timeout', '1', id, 'sleep', '300']).finished;
    assert.deepEqual(timedOut, { code: 1, stdout: '', stderr: `caisson: the exec session in container ${id} timed out after 1 s and was closed\n` });
  });

  it('port-forward 0:80 listens on a free loopback port and serves concurrent connections, each on its own session', async () => {
    const { d, client, podId, pod } = await start();
    const serve = 'mkdir -p /www && echo hello through port-forward > /www/index.html && exec httpd -f -p 80 -h /www';
    await startContainer(client, podId, pod, containerConfig('web', image, ['sh', '-c', serve]));
    const forwarding = run(d, ['port-forward', podId, '0:80']);
    await waitFor(`"Forwarding from" in ${JSON.stringify(forwarding.stdout)} ${JSON.stringify(forwarding.stderr)}`, () => /Forwarding from/.test(forwarding.stdout) || forwarding.child.exitCode !== null);
    const match = /^Forwarding from 127\.0\.0\.1:(\d+) -> 80\n/.exec(forwarding.stdout);
    assert.ok(match, `unexpected output: ${JSON.stringify(forwarding.stdout)}`);
    const port = Number(match[1]);
    assert.ok(port > 0);

    // httpd may not listen yet: a refused relay ends that connection, so try again until it answers.
    let page = '';
    for (let attempt = 0; attempt < 50 && !page.includes('hello through port-forward'); attempt++) {
      page = await httpGet(port).catch((error: Error) => error.message);
      if (!page.includes('hello through port-forward')) await delay(100);
    }
    assert.equal(page, '200 hello through port-forward\n');

    const pages = await Promise.all([httpGet(port), httpGet(port)]);
    assert.deepEqual(pages, ['200 hello through port-forward\n', '200 hello through port-forward\n']);
    const handled = forwarding.stdout.split('\n').filter((line) => line === `Handling connection for ${port}`).length;
    assert.ok(handled >= 3, `one "Handling connection" line per connection: ${JSON.stringify(forwarding.stdout)}`);

    forwarding.child.kill('SIGTERM');
    assert.equal((await forwarding.finished).code, 0);
  });

  it('port-forward refuses a bad port and an unknown pod before listening', async () => {
    const { d } = await start();
    const bad = await run(d, ['port-forward', 'somepod', '8080:0']).finished;
    assert.equal(bad.code, 1);
    assert.equal(bad.stderr, 'caisson: port-forward: "8080:0" is not [LOCAL_PORT:]REMOTE_PORT (ports 1-65535; PORT alone uses the same local port, :REMOTE or 0:REMOTE a free one)\n');
    const unknown = await run(d, ['port-forward', 'nope', '80']).finished;
    assert.deepEqual(unknown, { code: 1, stdout: '', stderr: 'caisson: sandbox nope not found\n' });
  });

  it('attach -i relays stdin to a container and its output back; stdin\'s end detaches, the container runs on', async () => {
    const { d, client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('cat', image, ['cat'], { stdin: true }));
    const attached = run(d, ['attach', '-i', id]);
    attached.child.stdin?.write('hello attach\n');
    await waitFor(`the echo in ${JSON.stringify(attached.stdout)} ${JSON.stringify(attached.stderr)}`, () => attached.stdout.includes('hello attach\n') || attached.child.exitCode !== null);
    attached.child.stdin?.end();
    assert.deepEqual(await attached.finished, { code: 0, stdout: 'hello attach\n', stderr: '' });
    const { status } = await client.call('ContainerStatus', { container_id: id });
    assert.equal(status?.state, 'CONTAINER_RUNNING');
  });

  it('exec -it runs on the local terminal: raw mode (Ctrl-C goes to the remote shell), the size, a resize, the exit code, the terminal restored', async () => {
    const { d, client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('sleeper', image, ['sleep', '300']));
    // A local shell runs the client, then shows how it left the terminal.
    const quoted = argv(d, ['exec', '-it', id, 'sh']).map((arg) => `'${arg}'`).join(' ');
    const script = `'${process.execPath}' ${quoted}; echo "client-exit=$?"; stty -a`;
    const terminal = onTerminal(d, [], 100, 37, ['/bin/sh', '-c', script]);
    await waitForSize(terminal, '37 100');
    // In raw mode Ctrl-C is a byte for the remote shell, not a SIGINT for the client.
    terminal.pty.write('\x03');
    terminal.pty.resize(120, 40);
    await waitForSize(terminal, '40 120');
    terminal.pty.write('exit 5\r');
    assert.equal(await terminal.exited, 0, `output: ${JSON.stringify(terminal.output)}`);
    assert.match(terminal.output, /client-exit=5\r?\n/);
    const settings = terminal.output.slice(terminal.output.indexOf('client-exit='));
    assert.match(settings, /(^|\s)icanon(\s|$)/m, `canonical mode restored: ${settings}`);
    assert.match(settings, /(^|\s)echo(\s|$)/m, `echo restored: ${settings}`);
  });

  it('attach -it to a TTY container: its shell sees the local size and a resize; exit ends the session', async () => {
    const { d, client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('shell', image, ['sh'], { stdin: true, tty: true }));
    const terminal = onTerminal(d, ['attach', '-it', id], 90, 33);
    await waitForSize(terminal, '33 90');
    terminal.pty.resize(110, 44);
    await waitForSize(terminal, '44 110');
    terminal.pty.write('exit\r');
    assert.equal(await terminal.exited, 0, `output: ${JSON.stringify(terminal.output)}`);
  });
});
