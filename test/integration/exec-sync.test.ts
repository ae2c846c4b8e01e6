import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { promisify } from 'node:util';
import * as grpc from '@grpc/grpc-js';
import type { CriClient } from '../../cli/cri-client';
import { withExecOption } from '../../core/containers/exec-sync';
import { EXEC_SYNC_MAX_OUTPUT_BYTES } from '../../core/containers/exec-output-budget';
import { loadCriServices } from '../../core/cri/cri-proto';
import type { ExecSyncResponse__Output } from '../../core/cri/generated/runtime/v1/ExecSyncResponse';
import { packageInfo } from '../../core/package-info';
import { containerConfig, podConfig, runPod, startContainer, waitForExit } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';
import { startBusyboxRegistry } from '../support/busybox-registry';

// ExecSync with real runc and conmon (service.exec on top of service.pods), busybox from a local
// docker-registry, and `caisson exec` (bin/caisson from dist/: run `npm run build` first).

const execFileAsync = promisify(execFile);
const CLI = path.join(packageInfo().root, 'bin', 'caisson');
const MiB = 1024 * 1024;

describe('ExecSync', function () {
  this.timeout(120_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let image: string;
  let logs: string;
  const rawClients: grpc.Client[] = [];

  before(async () => ({ registry, image } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => (logs = makeTempRoot('exec-logs')));
  // Registered after useTestDaemons' hook, so it runs once the daemon and its containers are gone.
  afterEach(() => {
    for (const client of rawClients.splice(0)) client.close();
    removeTempRoot(logs);
  });

  const start = async (): Promise<{ d: TestDaemon; client: CriClient }> => {
    const d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
    const client = d.client();
    await client.call('PullImage', { image: { image } });
    return { d, client };
  };

  /** A pod with one running container (`sleep 300` unless told otherwise); resolves with its ID. */
  const runningContainer = async (client: CriClient, overrides: Record<string, unknown> = {}): Promise<string> => {
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    return startContainer(client, podId, pod, containerConfig('main', image, ['sleep', '300'], overrides));
  };

  /**
   * ExecSync on a channel without grpc-js's 4 MiB default receive limit (an answer may carry
   * up to 16 MiB; the shared CriClient keeps the default).
   */
  const execSync = (d: TestDaemon, containerId: string, cmd: string[], timeout = 0): Promise<ExecSyncResponse__Output> => {
    const { RuntimeService } = loadCriServices('v1');
    const client = new RuntimeService(`unix://${d.socket}`, grpc.credentials.createInsecure(), { 'grpc.max_receive_message_length': -1 });
    rawClients.push(client);
    const method = (client as unknown as Record<string, Function>)['ExecSync'] as Function;
    return new Promise((resolve, reject) => {
      method.call(client, { container_id: containerId, cmd, timeout }, { deadline: Date.now() + 60_000 }, (error: grpc.ServiceError | null, response: ExecSyncResponse__Output) =>
        error ? reject(error) : resolve(response),
      );
    });
  };

  /** The container's state directory, where exec writes its process and pid files. */
  const stateDir = async (client: CriClient, id: string): Promise<string> => {
    const { info } = await client.call('ContainerStatus', { container_id: id, verbose: true });
    const { paths } = JSON.parse(info?.info ?? '{}') as { paths: { bundle: string } };
    return path.dirname(paths.bundle);
  };
  const execFiles = (dir: string): string[] => fs.readdirSync(dir).filter((name) => name.startsWith('exec-'));

  it('answers stdout, stderr and the exit code of a command, and leaves no files behind', async () => {
    const { d, client } = await start();
    const id = await runningContainer(client);
    const response = await execSync(d, id, ['sh', '-c', 'echo hello; echo oops >&2; exit 3']);
    assert.equal(response.stdout.toString(), 'hello\n');
    assert.equal(response.stderr.toString(), 'oops\n');
    assert.equal(response.exit_code, 3);
    const ok = await execSync(d, id, ['true']);
    assert.deepEqual([ok.stdout.length, ok.stderr.length, ok.exit_code], [0, 0, 0]);
    assert.deepEqual(execFiles(await stateDir(client, id)), []);
  });

  it("runs the command as the container's process: user, environment, working directory, no terminal", async () => {
    const { d, client } = await start();
    const id = await runningContainer(client, {
      envs: [{ key: 'GREETING', value: 'from-the-spec' }],
      working_dir: '/tmp',
      linux: { security_context: { run_as_user: { value: '1234' } } },
    });
    const response = await execSync(d, id, ['sh', '-c', 'id -u; pwd; echo "$GREETING"; test -t 0 || echo no-tty']);
    assert.equal(response.stdout.toString(), '1234\n/tmp\nfrom-the-spec\nno-tty\n');
    assert.equal(response.exit_code, 0);
  });

  it('keeps the first 16 MiB (less the framing) of the two streams, reads and drops the rest, and keeps memory bounded', async () => {
    const { d, client } = await start();
    const id = await runningContainer(client);
    const started = Date.now();
    const response = await execSync(d, id, ['sh', '-c', 'head -c 20971520 /dev/zero; echo done >&2']);
    assert.equal(response.stdout.length, EXEC_SYNC_MAX_OUTPUT_BYTES - 'done\n'.length);
    assert.ok(response.stdout.every((byte) => byte === 0));
    assert.equal(response.stderr.toString(), 'done\n', 'the command went on after the cap: it was not blocked or killed');
    assert.equal(response.exit_code, 0);
    assert.ok(Date.now() - started < 30_000);

    // Far more output than the cap: memory does not grow with it. (The bound leaves room for the
    // in-process test client decoding the 16 MiB answer; 512 MiB kept in memory would blow it.)
    const rssBeforeBig = process.memoryUsage().rss;
    const big = await execSync(d, id, ['sh', '-c', 'head -c 536870912 /dev/zero; exit 5']);
    const bigGrowth = process.memoryUsage().rss - rssBeforeBig;
    assert.deepEqual([big.stdout.length, big.stderr.length, big.exit_code], [EXEC_SYNC_MAX_OUTPUT_BYTES, 0, 5]);
    assert.ok(bigGrowth < 160 * MiB, `rss grew by ${(bigGrowth / MiB).toFixed(1)} MiB for 512 MiB of output`);

    // stderr shares the budget the same way.
    const errors = await execSync(d, id, ['sh', '-c', 'echo out; head -c 17825792 /dev/zero >&2']);
    assert.deepEqual([errors.stdout.toString(), errors.stderr.length, errors.exit_code], ['out\n', EXEC_SYNC_MAX_OUTPUT_BYTES - 'out\n'.length, 0]);
  });

  it('kills the command in the container after the timeout and answers DEADLINE_EXCEEDED', async () => {
    const { d, client } = await start();
    const id = await runningContainer(client);
    const started = Date.now();
    await assert.rejects(execSync(d, id, ['sleep', '10'], 1), {
      code: grpc.status.DEADLINE_EXCEEDED,
      details: `command sleep in container ${id} timed out after 1 s`,
    });
    const elapsed = Date.now() - started;
    assert.ok(elapsed >= 1000 && elapsed < 3000, `answered after ${elapsed} ms`);
    const ps = await execSync(d, id, ['ps', '-o', 'pid,args']);
    assert.match(ps.stdout.toString(), /sleep 300/);
    assert.doesNotMatch(ps.stdout.toString(), /sleep 10\b/, 'the timed-out command is gone from the container');
    assert.deepEqual(execFiles(await stateDir(client, id)), []);

    // A shell's children go with it (the exec'd process leads its own process group).
    await assert.rejects(execSync(d, id, ['sh', '-c', 'sleep 11 & sleep 12; echo never'], 1), { code: grpc.status.DEADLINE_EXCEEDED });
    const after = (await execSync(d, id, ['ps', '-o', 'pid,args'])).stdout.toString();
    assert.doesNotMatch(after, /sleep 1[12]/, after);
  });

  it('refuses a container that is not running, an unknown container and an empty command', async () => {
    const { d, client } = await start();
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const exited = await startContainer(client, podId, pod, containerConfig('quick', image, ['true']));
    await waitForExit(client, exited);
    await assert.rejects(execSync(d, exited, ['echo', 'hi']), {
      code: grpc.status.FAILED_PRECONDITION,
      details: `container ${exited} is not running (CONTAINER_EXITED); ExecSync needs a running container`,
    });
    const created = (await client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig('idle', image, ['sleep', '300']), sandbox_config: pod })).container_id ?? '';
    await assert.rejects(execSync(d, created, ['echo', 'hi']), {
      code: grpc.status.FAILED_PRECONDITION,
      details: `container ${created} is not running (CONTAINER_CREATED); ExecSync needs a running container`,
    });
    await assert.rejects(execSync(d, 'nope', ['echo', 'hi']), { code: grpc.status.NOT_FOUND, details: 'container nope not found' });
    const running = await startContainer(client, podId, pod, containerConfig('runner', image, ['sleep', '300']));
    await assert.rejects(execSync(d, running, []), { code: grpc.status.INVALID_ARGUMENT, details: `ExecSync in container ${running} needs a command` });
  });

  it('caisson exec prints the output and exits with the exit code of the command', async () => {
    const { d, client } = await start();
    const id = await runningContainer(client);
    const host = ['--host', `unix://${d.socket}`];
    const failed = await execFileAsync(process.execPath, [CLI, ...host, 'exec', id, 'sh', '-c', 'echo cli; echo err >&2; exit 4']).then(
      () => assert.fail('caisson exec should exit 4'),
      (error: { code: number; stdout: string; stderr: string }) => error,
    );
    assert.deepEqual([failed.code, failed.stdout, failed.stderr], [4, 'cli\n', 'err\n']);
    // Options after the container belong to the command, with or without "--".
    const ps = await execFileAsync(process.execPath, [CLI, ...host, 'exec', '--timeout', '5', id, 'ps', '-o', 'pid,args']);
    assert.match(ps.stdout, /^\s*PID\s+COMMAND$/m);
    const dashed = await execFileAsync(process.execPath, [CLI, ...host, 'exec', id.slice(0, 12), '--', 'sh', '-c', 'echo "$0" "$1"', '-h', '--timeout']);
    assert.equal(dashed.stdout, '-h --timeout\n');
    const timedOut = await execFileAsync(process.execPath, [CLI, ...host, 'exec', '--timeout', '1', id, 'sleep', '10']).then(
      () => assert.fail('caisson exec should time out'),
      (error: { code: number; stderr: string }) => error,
    );
    assert.deepEqual([timedOut.code, timedOut.stderr], [1, `caisson: command sleep in container ${id} timed out after 1 s\n`]);
  });

  it('adds options to the exec subcommand of a runtime command line', () => {
    assert.deepEqual(withExecOption(['runc', '--root', 'exec', 'exec', '--process', '/p.json', 'id'], '/p.json', ['--pid-file', '/x.pid']), [
      'runc', '--root', 'exec', 'exec', '--pid-file', '/x.pid', '--process', '/p.json', 'id',
    ]);
    assert.throws(() => withExecOption(['runc', 'run', '/p.json'], '/p.json', ['--pid-file', '/x.pid']), /no "exec" subcommand before the process file/);
  });
});
