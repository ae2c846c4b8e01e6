import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { packageInfo } from '../../core/package-info';
import { podConfig } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';
import { startBusyboxRegistry } from '../support/busybox-registry';

// The crictl-like pod and container commands of bin/caisson (from dist/, built by `npm test`),
// run as child processes against an in-process daemon with real runc and conmon, and busybox from
// a local docker-registry.

const execFileAsync = promisify(execFile);
const CLI = path.join(packageInfo().root, 'bin', 'caisson');

interface CliResult {
  readonly stdout: string;
  readonly stderr: string;
}

interface Following {
  readonly child: ChildProcess;
  stdout: string;
  stderr: string;
  readonly closed: Promise<number | null>;
}

describe('caisson pod and container commands', function () {
  this.timeout(60_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let image: string;
  let dir: string;
  const children = new Set<ChildProcess>();

  before(async () => ({ registry, image } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => (dir = makeTempRoot('cli-pods')));
  // Registered after useTestDaemons' hook, so it runs once the daemon and conmon are gone.
  afterEach(() => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    children.clear();
    removeTempRoot(dir);
  });

  const start = (): Promise<TestDaemon> => daemons.start({ config: { 'insecure-registries': [registry.host] } });
  const hostArgs = (d: TestDaemon): string[] => [CLI, '--host', `unix://${d.socket}`];
  const cli = async (d: TestDaemon, ...args: string[]): Promise<CliResult> => {
    const { stdout, stderr } = await execFileAsync(process.execPath, [...hostArgs(d), ...args]);
    return { stdout, stderr };
  };
  /** Runs a command that must fail: resolves with its exit code and output. */
  const cliFails = async (d: TestDaemon, ...args: string[]): Promise<CliResult & { code: number }> => {
    try {
      const { stdout } = await execFileAsync(process.execPath, [...hostArgs(d), ...args]);
      throw new assert.AssertionError({ message: `caisson ${args.join(' ')} succeeded: ${stdout}` });
    } catch (error) {
      if (error instanceof assert.AssertionError) throw error;
      const failed = error as { code: number; stdout: string; stderr: string };
      return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
    }
  };
  const follow = (d: TestDaemon, ...args: string[]): Following => {
    const child = spawn(process.execPath, [...hostArgs(d), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    children.add(child);
    const following: Following = {
      child,
      stdout: '',
      stderr: '',
      closed: new Promise((resolve) => child.on('close', (code) => resolve(code))),
    };
    child.stdout?.on('data', (chunk: Buffer) => (following.stdout += chunk.toString()));
    child.stderr?.on('data', (chunk: Buffer) => (following.stderr += chunk.toString()));
    return following;
  };
  const writeConfig = (name: string, config: unknown): string => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, JSON.stringify(config, null, 2));
    return file;
  };
  const waitFor = async (what: string, check: () => boolean | Promise<boolean>, ms = 10_000): Promise<void> => {
    const deadline = Date.now() + ms;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
      await delay(100);
    }
  };
  const within = async <T>(what: string, promise: Promise<T>, ms: number): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)));
    try {
      return await Promise.race([promise, timeout]);
    } finally {
      clearTimeout(timer);
    }
  };
  /** A table's rows (header first), cells split on the three-space column gaps. */
  const table = (text: string): string[][] => text.trimEnd().split('\n').map((line) => line.split(/ {3,}/));
  const lines = (text: string): string[] => text.split('\n').filter(Boolean);

  it('run, ps, logs, logs -f until stop, stop, ps -a, inspect, rm, stopp, rmp', async () => {
    const d = await start();
    const podFile = writeConfig('pod.json', podConfig(dir));
    // The container config in protobuf-JSON camelCase; label keys are user data and stay as written.
    const containerFile = writeConfig('container.json', {
      metadata: { name: 'talker', attempt: 0 },
      image: { image },
      command: ['sh', '-c', 'echo hello; echo oops >&2; sleep 30'],
      logPath: 'talker.log',
      labels: { tier: 'web', camelKey: 'kept' },
    });

    const id = (await cli(d, 'run', containerFile, podFile)).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    const podId = (await cli(d, 'pods', '-q')).stdout.trim();
    assert.match(podId, /^[0-9a-f]{64}$/);

    const ps = table((await cli(d, 'ps')).stdout);
    assert.deepEqual(ps[0], ['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID']);
    assert.equal(ps.length, 2);
    const [shortId, shownImage, created, state, name, attempt, shortPod] = ps[1] ?? [];
    assert.deepEqual([shortId, shownImage, state, name, attempt, shortPod], [id.slice(0, 13), image, 'Running', 'talker', '0', podId.slice(0, 13)]);
    assert.match(created ?? '', /^(Less than a second|\d+ seconds?) ago$/);
    assert.equal((await cli(d, 'ps', '-q')).stdout, `${id}\n`);

    // Messages go back to the stream they came from.
    let logs: CliResult = { stdout: '', stderr: '' };
    await waitFor('hello and oops in the log', async () => {
      logs = await cli(d, 'logs', id);
      return logs.stdout !== '' && logs.stderr !== '';
    });
    assert.deepEqual(logs, { stdout: 'hello\n', stderr: 'oops\n' });
    const stamped = await cli(d, 'logs', '--timestamps', id.slice(0, 8));
    assert.match(stamped.stdout, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(Z|[+-]\d\d:\d\d) hello\n$/);
    assert.match(stamped.stderr, /^\d{4}-\d\d-\d\dT\S+ oops\n$/);
    const tail = await cli(d, 'logs', '--tail', '1', id);
    assert.equal(lines(tail.stdout).length + lines(tail.stderr).length, 1);
    assert.deepEqual(await cli(d, 'logs', '--tail', '0', id), { stdout: '', stderr: '' });

    // logs -f ends cleanly on SIGINT.
    const interrupted = follow(d, 'logs', '--follow', id);
    await waitFor('logs --follow to print hello', () => interrupted.stdout.includes('hello'));
    interrupted.child.kill('SIGINT');
    assert.equal(await within('logs -f to end on SIGINT', interrupted.closed, 5_000), 0);
    assert.deepEqual([interrupted.stdout, interrupted.stderr], ['hello\n', 'oops\n']);

    // logs -f follows until the container is stopped, then ends by itself.
    const following = follow(d, 'logs', '-f', id);
    await waitFor('logs -f to print hello', () => following.stdout.includes('hello'));
    assert.equal(following.child.exitCode, null, 'still following while the container runs');
    assert.equal((await cli(d, 'stop', '-t', '1', id)).stdout, `${id}\n`);
    assert.equal(await within('logs -f to end after stop', following.closed, 10_000), 0);
    assert.equal(following.stdout, 'hello\n');
    assert.equal(following.stderr, 'oops\n');

    assert.deepEqual(table((await cli(d, 'ps')).stdout), [['CONTAINER', 'IMAGE', 'CREATED', 'STATE', 'NAME', 'ATTEMPT', 'POD ID']]);
    assert.equal(table((await cli(d, 'ps', '-a')).stdout)[1]?.[3], 'Exited');
    assert.equal((await cli(d, 'ps', '--state', 'exited', '-q')).stdout, `${id}\n`);

    const inspected = JSON.parse((await cli(d, 'inspect', id.slice(0, 12))).stdout) as {
      status: { id: string; state: string; exit_code: number; log_path: string; labels: Record<string, string>; metadata: { name: string } };
      info: { sandboxId: string; config: { log_path: string } };
    };
    assert.equal(inspected.status.id, id);
    assert.equal(inspected.status.state, 'CONTAINER_EXITED');
    assert.equal(inspected.status.exit_code, 137, 'sh as PID 1 ignores SIGTERM, so stop -t 1 ends with SIGKILL');
    assert.equal(inspected.status.log_path, path.join(dir, 'talker.log'));
    assert.deepEqual(inspected.status.labels, { tier: 'web', camelKey: 'kept' });
    assert.equal(inspected.info.sandboxId, podId);
    assert.equal(inspected.info.config.log_path, 'talker.log');

    assert.equal((await cli(d, 'rm', id.slice(0, 10))).stdout, `${id.slice(0, 10)}\n`);
    assert.equal((await cli(d, 'ps', '-a', '-q')).stdout, '');

    const running = await cliFails(d, 'rmp', podId);
    assert.equal(running.stderr, `caisson: pod sandbox ${podId} is running, please stop it first (or use -f)\n`);
    assert.equal((await cli(d, 'stopp', podId)).stdout, `Stopped sandbox ${podId}\n`);
    assert.equal(table((await cli(d, 'pods')).stdout)[1]?.[2], 'NotReady');
    assert.equal((await cli(d, 'rmp', podId.slice(0, 9))).stdout, `Removed sandbox ${podId.slice(0, 9)}\n`);
    assert.equal((await cli(d, 'pods', '-q')).stdout, '');
  });

  it('runp, create (--with-pull), start, ps and pods filters, logs -f across a log rotation, rm -f, rmp -a -f', async () => {
    const d = await start();
    const client = d.client();
    const pod1 = podConfig(dir);
    const pod1File = writeConfig('pod1.json', pod1);
    // A second pod, in camelCase.
    const pod2File = writeConfig('pod2.json', {
      metadata: { name: 'other-pod', namespace: 'other-ns', uid: `uid-other-${process.pid}`, attempt: 1 },
      logDirectory: dir,
      labels: { app: 'other', someKey: 'x' },
      linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    });
    const containerFile = writeConfig('ticker.json', {
      metadata: { name: 'ticker', attempt: 0 },
      image: { image },
      command: ['sh', '-c', 'i=0; while true; do echo tick $i; i=$((i+1)); sleep 0.1; done'],
      log_path: 'ticker.log',
      labels: { container: 'ticker' },
    });

    const pod1Id = (await cli(d, 'runp', pod1File)).stdout.trim();
    const pod2Id = (await cli(d, 'runp', '--runtime', '', pod2File)).stdout.trim();
    assert.match(pod1Id, /^[0-9a-f]{64}$/);
    assert.match(pod2Id, /^[0-9a-f]{64}$/);

    const absent = await cliFails(d, 'create', pod1Id, containerFile, pod1File);
    assert.equal(absent.code, 1);
    assert.equal(absent.stderr, `caisson: image "${image}" for container "ticker" is not present; pull it first\n`);
    const id = (await cli(d, 'create', '--with-pull', pod1Id.slice(0, 12), containerFile, pod1File)).stdout.trim();
    assert.match(id, /^[0-9a-f]{64}$/);
    assert.equal((await cli(d, 'ps', '--state', 'created', '-q')).stdout, `${id}\n`);
    assert.equal((await cli(d, 'ps', '-q')).stdout, '', 'ps without -a shows running containers only');
    assert.equal((await cli(d, 'start', id)).stdout, `${id}\n`);

    assert.equal((await cli(d, 'ps', '--pod', pod1Id.slice(0, 6), '-q')).stdout, `${id}\n`);
    assert.equal((await cli(d, 'ps', '--pod', pod2Id, '-q')).stdout, '');
    assert.equal((await cli(d, 'ps', '--name', '^tick', '--label', 'container=ticker', '-q')).stdout, `${id}\n`);
    assert.equal((await cli(d, 'ps', '--name', 'talker', '-q')).stdout, '');
    assert.equal((await cli(d, 'ps', '--label', 'container=other', '-q')).stdout, '');

    assert.equal((await cli(d, 'stopp', pod2Id)).stdout, `Stopped sandbox ${pod2Id}\n`);
    const pods = table((await cli(d, 'pods')).stdout);
    assert.deepEqual(pods[0], ['POD ID', 'CREATED', 'STATE', 'NAME', 'NAMESPACE', 'ATTEMPT', 'RUNTIME']);
    assert.equal(pods.length, 3);
    // Newest first.
    assert.deepEqual([...(pods[1] ?? []).slice(0, 1), ...(pods[1] ?? []).slice(2)], [pod2Id.slice(0, 13), 'NotReady', 'other-pod', 'other-ns', '1', '(default)']);
    assert.deepEqual([...(pods[2] ?? []).slice(0, 1), ...(pods[2] ?? []).slice(2)], [pod1Id.slice(0, 13), 'Ready', String((pod1['metadata'] as { name: string }).name), 'caisson-test', '0', '(default)']);
    assert.match(pods[1]?.[1] ?? '', / ago$/);
    assert.equal((await cli(d, 'pods', '-q')).stdout, `${pod2Id}\n${pod1Id}\n`);
    assert.equal((await cli(d, 'pods', '--name', '^other', '-q')).stdout, `${pod2Id}\n`);
    assert.equal((await cli(d, 'pods', '--namespace', 'caisson-test', '-q')).stdout, `${pod1Id}\n`);
    assert.equal((await cli(d, 'pods', '--state', 'ready', '-q')).stdout, `${pod1Id}\n`);
    assert.equal((await cli(d, 'pods', '--state', 'NotReady', '-q')).stdout, `${pod2Id}\n`);
    assert.equal((await cli(d, 'pods', '--label', 'app=other', '-q')).stdout, `${pod2Id}\n`);
    assert.equal((await cli(d, 'pods', '--label', 'app=test', '--label', 'nosuch=x', '-q')).stdout, '');
    assert.equal((JSON.parse((await cli(d, '-o', 'json', 'pods')).stdout) as { items: unknown[] }).items.length, 2);

    const inspected2 = JSON.parse((await cli(d, 'inspectp', pod2Id)).stdout) as {
      status: { state: string; labels: Record<string, string> };
      info: { config: { log_directory: string } };
      containers_statuses: unknown[];
    };
    assert.equal(inspected2.status.state, 'SANDBOX_NOTREADY');
    assert.deepEqual(inspected2.status.labels, { app: 'other', someKey: 'x' });
    assert.equal(inspected2.info.config.log_directory, dir);
    assert.deepEqual(inspected2.containers_statuses, []);
    const inspected1 = JSON.parse((await cli(d, 'inspectp', pod1Id.slice(0, 7))).stdout) as { containers_statuses: { id: string; state: string }[] };
    assert.deepEqual(inspected1.containers_statuses.map((c) => [c.id, c.state]), [[id, 'CONTAINER_RUNNING']]);

    // logs -f across a rotation: the file is renamed and conmon told to reopen it (as kubelet does).
    const logFile = path.join(dir, 'ticker.log');
    const following = follow(d, 'logs', '-f', id);
    await waitFor('logs -f to print tick 3', () => following.stdout.includes('tick 3\n'));
    fs.renameSync(logFile, `${logFile}.1`);
    await client.call('ReopenContainerLog', { container_id: id });
    let firstAfterRotation = '';
    await waitFor('lines in the new log file', () => {
      const newLines = fs.existsSync(logFile) ? lines(fs.readFileSync(logFile, 'utf8')) : [];
      firstAfterRotation = / (tick \d+)$/.exec(newLines[0] ?? '')?.[1] ?? '';
      return newLines.length >= 3;
    });
    await waitFor(`logs -f to print ${firstAfterRotation} (from the new file)`, () => following.stdout.includes(`${firstAfterRotation}\n`));

    const stillRunning = await cliFails(d, 'rm', id);
    assert.equal(stillRunning.stderr, `caisson: container ${id} is running, please stop it first (or use -f)\n`);
    assert.equal((await cli(d, 'rm', '-f', id)).stdout, `${id}\n`);
    assert.equal(await within('logs -f to end once the container is gone', following.closed, 10_000), 0);
    // Every tick once and in order, across both files.
    const ticks = lines(following.stdout);
    assert.ok(ticks.length > Number(firstAfterRotation.split(' ')[1]));
    assert.deepEqual(ticks, ticks.map((_, i) => `tick ${i}`));
    assert.equal(following.stderr, '');

    const removed = lines((await cli(d, 'rmp', '-a', '-f')).stdout).sort();
    assert.deepEqual(removed, [`Removed sandbox ${pod1Id}`, `Removed sandbox ${pod2Id}`].sort());
    assert.equal((await cli(d, 'pods', '-q')).stdout, '');
  });

  it('fails with the daemon\'s message and exit code 1 for unknown IDs and bad input', async () => {
    const d = await start();
    const stop = await cliFails(d, 'stop', 'nosuchid');
    assert.equal(stop.code, 1);
    assert.equal(stop.stderr, 'caisson: container nosuchid not found\n');
    assert.equal(stop.stdout, '');
    const two = await cliFails(d, 'stop', 'nosuch1', 'nosuch2');
    assert.equal(two.stderr, 'caisson: container nosuch1 not found\ncaisson: container nosuch2 not found\n');
    assert.equal((await cliFails(d, 'rm', 'nosuchid')).stderr, 'caisson: container nosuchid not found\n');
    assert.equal((await cliFails(d, 'inspect', 'nosuchid')).stderr, 'caisson: container nosuchid not found\n');
    assert.equal((await cliFails(d, 'logs', 'nosuchid')).stderr, 'caisson: container nosuchid not found\n');
    assert.equal((await cliFails(d, 'inspectp', 'nosuchpod')).stderr, 'caisson: sandbox nosuchpod not found\n');
    assert.equal((await cliFails(d, 'stopp', 'nosuchpod')).stderr, 'caisson: sandbox nosuchpod not found\n');
    assert.equal((await cliFails(d, 'rmp', 'nosuchpod')).stderr, 'caisson: sandbox nosuchpod not found\n');
    assert.equal((await cliFails(d, 'pods', '--state', 'bogus')).stderr, 'caisson: --state must be "ready" or "notready", not "bogus"\n');
    const missing = path.join(dir, 'missing.json');
    assert.match((await cliFails(d, 'runp', missing)).stderr, new RegExp(`^caisson: cannot read the pod config ${missing}: ENOENT`));
    const bad = writeConfig('bad.json', 'not an object');
    assert.equal((await cliFails(d, 'runp', bad)).stderr, `caisson: the pod config ${bad} must hold a JSON object\n`);
    assert.equal((await cli(d, 'pods', '-q')).stdout, '');
  });
});
