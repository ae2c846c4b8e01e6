import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { CriClient } from '../../cli/cri-client';
import { runProgram } from '../../core/host-programs/run-program';
import { startBusyboxRegistry } from '../support/busybox-registry';
import { buildExamplePackage } from '../support/example-packages';
import { containerConfig, podConfig, runPod, startContainer } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { killIfRunning, spawnCaissond, waitUntilServing, writeDaemonJson, type SpawnedDaemon } from '../support/spawned-daemon';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { removeEverything, testDaemonConfig, unmountBelow } from '../support/test-daemon';

// The two example plugin packages of examples/, built as their authors would (linked caisson,
// their own tsc), loaded by a real bin/caissond from the package directory named in daemon.json
// "plugins", and driven through the CRI with real runc, conmon and busybox from a local registry.
// Needs dist/ (`npm run build`; `npm test` builds it), runc, conmon, ip and nsenter, and root.

describe('example plugin packages loaded from daemon.json', function () {
  this.timeout(180_000);
  let registry: TestRegistry | undefined;
  let image = '';
  let recordingRuntime = '';
  let dummyNetwork = '';
  /** network.dummy's "linkType": dummy where this kernel has dummy links, else ifb (also peerless). */
  let linkType: 'dummy' | 'ifb' = 'dummy';
  let root = '';
  const daemons: SpawnedDaemon[] = [];
  const clients: CriClient[] = [];

  before(async () => {
    recordingRuntime = await buildExamplePackage('recording-runtime');
    dummyNetwork = await buildExamplePackage('dummy-network');
    linkType = (await kernelHasDummyLinks()) ? 'dummy' : 'ifb';
    ({ registry, image } = await startBusyboxRegistry());
  });
  after(async () => registry?.stop());
  beforeEach(() => (root = makeTempRoot('examples')));
  afterEach(async function () {
    const failed = this.currentTest?.state === 'failed';
    const socket = socketOf();
    const live = daemons.filter((daemon) => daemon.child.exitCode === null && daemon.child.signalCode === null);
    if (live.length > 0) await removeEverything(socket).catch((error: unknown) => process.stderr.write(`teardown: ${String(error)}\n`));
    clients.splice(0).forEach((client) => client.close());
    for (const daemon of daemons.splice(0)) {
      daemon.child.kill('SIGTERM');
      await Promise.race([daemon.exited, delay(15_000)]);
      await killIfRunning(daemon);
      if (failed) process.stderr.write(`--- caissond output ---\n${daemon.output()}\n`);
    }
    // A daemon that died mid-test leaves its containers: end them with runc itself.
    await deleteLeftoverContainers(path.join(root, 'run', 'runtimes'));
    await unmountBelow(root);
    removeTempRoot(root);
  });

  const socketOf = (): string => path.join(root, 'run', 'caisson.sock');
  /** Writes daemon.json into the test root and starts caissond on it, serving. */
  const startDaemon = async (config: Record<string, unknown>): Promise<CriClient> => {
    const file = writeDaemonJson(root, testDaemonConfig(root, { 'insecure-registries': [registry?.host ?? ''], ...config }));
    const daemon = spawnCaissond(['--config', file]);
    daemons.push(daemon);
    await waitUntilServing(daemon, socketOf());
    const client = new CriClient(socketOf());
    clients.push(client);
    await client.call('PullImage', { image: { image } });
    return client;
  };
  const verboseStatus = async (client: CriClient): Promise<Record<string, string>> => (await client.call('Status', { verbose: true })).info ?? {};
  const condition = async (client: CriClient, type: string) => (await client.call('Status', {})).status?.conditions?.find((c) => c.type === type);
  const podInfo = async (client: CriClient, podId: string) => {
    const response = await client.call('PodSandboxStatus', { pod_sandbox_id: podId, verbose: true });
    return { ip: String(response.status?.network?.ip ?? ''), info: JSON.parse(response.info?.['info'] ?? '{}') as { runtime?: string; networkCheck?: string } };
  };
  const execSync = async (client: CriClient, containerId: string, cmd: string[]): Promise<string> => {
    const response = await client.call('ExecSync', { container_id: containerId, cmd, timeout: 10 });
    assert.equal(response.exit_code, 0, `${cmd.join(' ')}: ${String(response.stderr)}`);
    return String(response.stdout);
  };

  it('runtime.recording-runc (an ES module package): runs a pod\'s container through runc with its extra arguments and journals every call', async () => {
    const journal = path.join(root, 'journal.jsonl');
    const runcLog = path.join(root, 'runc-log.json');
    const client = await startDaemon({
      plugins: [recordingRuntime],
      'cri-runtimes': { recorded: 'recording-runc' },
      'plugin-config': { 'runtime.recording-runc': { runtimeArgs: ['--debug', '--log', runcLog, '--log-format', 'json'], journal } },
    });
    const info = await verboseStatus(client);
    assert.ok(JSON.parse(info['plugins'] ?? '[]').includes('runtime.recording-runc'), info['plugins']);
    const described = JSON.parse(info['runtimes'] ?? '{}')['recording-runc'] as Record<string, string> | undefined;
    assert.equal(described?.journal, journal);
    assert.equal(described?.runtimeArgs, `--debug --log ${runcLog} --log-format json`);
    assert.equal((await condition(client, 'RuntimeReady'))?.status, true);

    const logs = path.join(root, 'logs');
    fs.mkdirSync(logs);
    const pod = podConfig(logs);
    const podId = await runPod(client, pod, 'recorded');
    assert.equal((await podInfo(client, podId)).info.runtime, 'recording-runc');
    const id = await startContainer(client, podId, pod, containerConfig('main', image, ['sh', '-c', 'echo recorded hello; exec sleep 300']));
    assert.equal((await execSync(client, id, ['echo', 'exec ok'])).trim(), 'exec ok');
    await waitForText(path.join(logs, 'main.log'), 'recorded hello');
    await client.call('StopContainer', { container_id: id, timeout: 5 });
    await client.call('RemoveContainer', { container_id: id });
    await client.call('RemovePodSandbox', { pod_sandbox_id: podId });

    const entries = fs.readFileSync(journal, 'utf8').trim().split('\n').map((line) => JSON.parse(line) as { method: string; id: string; ok: boolean; time: string });
    const lifecycle = entries.filter((entry) => entry.id === id && ['create', 'start', 'kill', 'delete'].includes(entry.method));
    const methods = lifecycle.map((entry) => entry.method).filter((method, index, all) => method !== all[index - 1]);
    assert.deepEqual(methods, ['create', 'start', 'kill', 'delete'], JSON.stringify(entries, null, 1));
    for (const entry of lifecycle.filter((e) => e.method !== 'kill')) assert.equal(entry.ok, true, JSON.stringify(entry));
    assert.ok(entries.some((entry) => entry.id === id && entry.method === 'execCommand'), 'ExecSync asked the runtime for its command line');
    assert.ok(entries.every((entry) => !Number.isNaN(Date.parse(entry.time))));
    // runc wrote the log its arguments asked for, as JSON lines: the arguments reached runc.
    const runcLines = fs.readFileSync(runcLog, 'utf8').trim().split('\n');
    assert.ok(runcLines.length > 0 && runcLines[0] !== '', 'runc --log file is empty');
    assert.equal(typeof (JSON.parse(runcLines[0] ?? '') as { msg?: unknown }).msg, 'string');
  });

  it('network.dummy (a CommonJS package): gives each pod a peerless eth0 (dummy, or ifb where the kernel has no dummy links) with the lowest free address, kept across a restart', async () => {
    const daemonJson = { plugins: [dummyNetwork], 'network-plugin': 'dummy', 'plugin-config': { 'network.dummy': { subnet: '10.213.9.0/24', linkType } } };
    let client = await startDaemon(daemonJson);
    const ready = await condition(client, 'NetworkReady');
    assert.deepEqual({ status: ready?.status, reason: ready?.reason }, { status: true, reason: '' });
    assert.ok(JSON.parse((await verboseStatus(client))['plugins'] ?? '[]').includes('network.dummy'));

    const logs = path.join(root, 'logs');
    fs.mkdirSync(logs);
    const podA = podConfig(logs);
    const a = await runPod(client, podA);
    assert.equal((await podInfo(client, a)).ip, '10.213.9.2');
    const inA = await startContainer(client, a, podA, containerConfig('a', image, ['sleep', '300']));
    assert.match(await execSync(client, inA, ['ip', '-o', '-4', 'addr', 'show', 'dev', 'eth0']), /\binet 10\.213\.9\.2\/24\b/);
    assert.match(await execSync(client, inA, ['cat', '/proc/net/dev']), /^\s*eth0:/m);
    assert.equal((await podInfo(client, a)).info.networkCheck, `eth0 10.213.9.2/24 (${linkType} link)`);

    const b = await runPod(client, podConfig(logs));
    assert.equal((await podInfo(client, b)).ip, '10.213.9.3');
    await client.call('RemovePodSandbox', { pod_sandbox_id: a });
    const c = await runPod(client, podConfig(logs));
    assert.equal((await podInfo(client, c)).ip, '10.213.9.2', 'the removed pod\'s address is given again');
    const book = path.join(root, 'run', 'dummy-network', 'addresses.json');
    assert.deepEqual(JSON.parse(fs.readFileSync(book, 'utf8')).pods, { [b]: '10.213.9.3', [c]: '10.213.9.2' });

    // A restarted daemon reads the book: b and c keep theirs, a new pod gets the next one.
    const first = daemons[0];
    first?.child.kill('SIGTERM');
    if (first) assert.equal(await first.exited, 0);
    client = await startDaemon(daemonJson);
    const d = await runPod(client, podConfig(logs));
    assert.equal((await podInfo(client, d)).ip, '10.213.9.4');

    // Stop and remove both run the teardown: the second finds nothing to do.
    for (const pod of [b, c, d]) {
      await client.call('StopPodSandbox', { pod_sandbox_id: pod });
      await client.call('RemovePodSandbox', { pod_sandbox_id: pod });
    }
    assert.deepEqual(JSON.parse(fs.readFileSync(book, 'utf8')).pods, {});
  });

  it('refuses to start when a package named in "plugins" exports no manifest', async () => {
    const dir = path.join(root, 'not-a-plugin');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: 'not-a-plugin', version: '1.0.0', main: 'lib.js' }));
    fs.writeFileSync(path.join(dir, 'lib.js'), 'exports.somethingElse = 1;\n');
    const file = writeDaemonJson(root, testDaemonConfig(root, { plugins: ['not-a-plugin'] }));
    const daemon = spawnCaissond(['--config', file]);
    daemons.push(daemon);
    assert.equal(await daemon.exited, 1);
    assert.equal(
      daemon.output().trim().split('\n').pop(),
      `caissond: plugin module ${dir} (from "plugins" in daemon.json) exports neither "caissonPlugin" nor "caissonPlugins"`,
    );
    assert.equal(fs.existsSync(socketOf()), false);
  });
});

async function waitForText(file: string, text: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(fs.existsSync(file) && fs.readFileSync(file, 'utf8').includes(text))) {
    if (Date.now() > deadline) throw new Error(`${file} has no "${text}" after ${timeoutMs} ms`);
    await delay(100);
  }
}

/** Whether the kernel makes dummy links (built without CONFIG_DUMMY, some VM kernels do not): tried in a throwaway netns. */
async function kernelHasDummyLinks(): Promise<boolean> {
  try {
    await runProgram('unshare', ['--net', 'ip', 'link', 'add', 'probe0', 'type', 'dummy']);
    return true;
  } catch (error) {
    if (/Unknown device type/.test(String(error))) return false;
    throw error;
  }
}


/** `runc delete --force` for whatever each runtime's --root still lists. */
async function deleteLeftoverContainers(runtimesDir: string): Promise<void> {
  if (!fs.existsSync(runtimesDir)) return;
  for (const name of fs.readdirSync(runtimesDir)) {
    const runcRoot = path.join(runtimesDir, name);
    const listed = await runProgram('runc', ['--root', runcRoot, 'list', '-q']).catch(() => ({ stdout: '' }));
    for (const id of listed.stdout.split('\n').filter(Boolean)) {
      await runProgram('runc', ['--root', runcRoot, 'delete', '--force', id]).catch(() => undefined);
    }
  }
}
