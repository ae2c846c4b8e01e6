import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as path from 'node:path';
import type { CriClient } from '../../cli/cri-client';
import { startBusyboxRegistry } from '../support/busybox-registry';
import { kubeconfigFor, startFakeApiServer, type FakeApiServer, type FakePod } from '../support/fake-apiserver';
import { containerConfig, podConfig, runPod, startContainer } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons } from '../support/test-daemon';
import { findExecutable } from '../../core/host-programs/find-executable';

// The real Go client against Caisson's SPDY/3.1 streaming server: kubectl (client-go,
// apimachinery's httpstream/spdy, moby/spdystream) talks to a fake API server on 127.0.0.1,
// which answers the pod and passes the exec/portforward upgrade through to the URL from the CRI
// Exec or PortForward call, as the kubelet's streaming proxy does. WebSockets are turned off in
// kubectl so that it speaks SPDY, except in the one test of its WebSocket exec (kubectl 1.29 and
// later). The README's test command installs Debian's kubernetes-client (kubectl 1.20, SPDY only)
// when the machine has no kubectl; CAISSON_TEST_KUBECTL names another one.

/** As install-deps decides whether to install one: whatever `kubectl` PATH finds. */
const KUBECTL = process.env.CAISSON_TEST_KUBECTL ?? findExecutable('kubectl');
/** The first kubectl whose exec can speak WebSocket (KUBECTL_REMOTE_COMMAND_WEBSOCKETS). */
const FIRST_WEBSOCKET_EXEC_MINOR = 29;
const POD_NAME = 'web';
const BIG_FILE_BYTES = 300_000;

interface Run {
  readonly code: number | null;
  readonly stdout: Buffer;
  readonly stderr: string;
}

describe('streaming: kubectl exec and port-forward over SPDY/3.1', function () {
  this.timeout(120_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let image: string;
  let root: string;
  let apiserver: FakeApiServer | undefined;
  const children = new Set<ChildProcess>();

  before(async function () {
    if (KUBECTL === undefined || !fs.existsSync(KUBECTL)) {
      const why = `no kubectl (${KUBECTL ?? 'none on PATH'}); \`scripts/install-deps.sh --test\`, which the README's test command runs, installs Debian's kubernetes-client`;
      // CI installs it: there a missing kubectl is a failure, not a skip (CONVENTIONS.md).
      if (process.env['CI']) throw new Error(why);
      console.log(`    (skipped: ${why})`);
      this.skip();
    }
    ({ registry, image } = await startBusyboxRegistry());
  });
  after(async () => registry?.stop());
  beforeEach(() => (root = makeTempRoot('kubectl')));
  afterEach(async () => {
    for (const child of children) {
      if (child.pid !== undefined && child.exitCode === null && child.signalCode === null) process.kill(child.pid, 'SIGKILL');
    }
    children.clear();
    await apiserver?.stop();
    apiserver = undefined;
    removeTempRoot(root);
  });

  /** A pod with one container running busybox httpd on 8080, behind a fake API server. */
  const startPod = async (): Promise<{ client: CriClient; podId: string }> => {
    const d = await daemons.start({ config: { 'insecure-registries': [registry.host], 'websocket-server-listening-port': 0 } });
    const client = d.client();
    await client.call('PullImage', { image: { image } });
    const pod = podConfig(path.join(root, 'logs'));
    const podId = await runPod(client, pod);
    const script = `mkdir -p /www && echo hello from the pod > /www/index.html && dd if=/dev/zero bs=1000 count=${BIG_FILE_BYTES / 1000} 2>/dev/null | tr "\\0" x > /www/big && exec httpd -f -p 8080 -h /www`;
    const containerId = await startContainer(client, podId, pod, containerConfig(POD_NAME, image, ['sh', '-c', script]));
    const fakePod: FakePod = { name: POD_NAME, containers: [POD_NAME] };
    apiserver = await startFakeApiServer({
      pod: (name) => (name === POD_NAME ? fakePod : undefined),
      exec: async (_pod, request) => {
        assert.equal(request.container, POD_NAME);
        const { url } = await client.call('Exec', { container_id: containerId, cmd: [...request.command], stdin: request.stdin, stdout: request.stdout, stderr: request.stderr, tty: request.tty });
        return String(url);
      },
      portForward: async (_pod, ports) => {
        const { url } = await client.call('PortForward', { pod_sandbox_id: podId, port: [...ports] });
        return String(url);
      },
    });
    fs.writeFileSync(path.join(root, 'kubeconfig'), kubeconfigFor(apiserver.url));
    return { client, podId };
  };

  /** SPDY unless `websockets`: then kubectl's exec speaks v5.channel.k8s.io, straight through to Caisson. */
  const kubectlEnv = (websockets: boolean): NodeJS.ProcessEnv => ({
    PATH: process.env.PATH,
    HOME: root, // discovery cache and anything else kubectl keeps under ~/.kube
    KUBECONFIG: path.join(root, 'kubeconfig'),
    KUBECTL_REMOTE_COMMAND_WEBSOCKETS: String(websockets),
    KUBECTL_PORT_FORWARD_WEBSOCKETS: 'false',
  });
  const startKubectl = (args: string[], websockets = false): ChildProcess => {
    const child = spawn(KUBECTL ?? 'kubectl', args, { env: kubectlEnv(websockets), stdio: ['pipe', 'pipe', 'pipe'] });
    children.add(child);
    return child;
  };
  /** Runs kubectl to its end with `input` on its stdin. */
  const kubectl = (args: string[], input = '', websockets = false): Promise<Run> => {
    const child = startKubectl(args, websockets);
    const stdout: Buffer[] = [];
    let stderr = '';
    child.stdout?.on('data', (chunk: Buffer) => stdout.push(chunk));
    child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin?.end(input);
    return new Promise((resolve, reject) => {
      child.on('error', reject);
      child.on('close', (code) => resolve({ code, stdout: Buffer.concat(stdout), stderr }));
    });
  };
  const kubectlMinorVersion = async (): Promise<number> => {
    const run = await kubectl(['version', '--client', '-o', 'json']);
    const minor = Number.parseInt(String((JSON.parse(run.stdout.toString()) as { clientVersion?: { minor?: string } }).clientVersion?.minor), 10);
    assert.ok(Number.isInteger(minor), `cannot read kubectl's version: ${run.stdout.toString()} ${run.stderr}`);
    return minor;
  };
  const explain = (run: Run): string => `kubectl exited ${run.code}; stderr: ${run.stderr}; API requests: ${apiserver?.requests.join(', ')}`;

  it('kubectl exec: stdout and stderr, and the exit code of the command', async () => {
    await startPod();
    const run = await kubectl(['exec', POD_NAME, '--', 'sh', '-c', 'echo out; echo err >&2; exit 3']);
    assert.equal(run.code, 3, explain(run));
    assert.equal(run.stdout.toString(), 'out\n');
    assert.match(run.stderr, /^err\n/);
    assert.match(run.stderr, /command terminated with exit code 3/);
    assert.ok(apiserver?.requests.some((r) => /^POST \/api\/v1\/namespaces\/default\/pods\/web\/exec\?.* \(upgrade: SPDY\/3\.1\)$/.test(r)), explain(run));
  });

  it('kubectl exec -i: stdin to the command, ended when kubectl reaches the end of its own', async () => {
    await startPod();
    const run = await kubectl(['exec', '-i', POD_NAME, '--', 'cat'], 'hi\n');
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.stdout.toString(), 'hi\n');
    assert.equal(run.stderr, '');
  });

  it('kubectl exec over WebSocket (v5.channel.k8s.io): stdin, both streams and the exit code', async function () {
    const minor = await kubectlMinorVersion();
    if (minor < FIRST_WEBSOCKET_EXEC_MINOR) {
      const why = `kubectl 1.${minor} predates WebSocket exec, which came in 1.${FIRST_WEBSOCKET_EXEC_MINOR}`;
      if (process.env['CI']) throw new Error(`CI installs a kubectl that speaks WebSocket exec, but found: ${why}`);
      console.log(`    (skipped: ${why})`);
      this.skip();
    }
    await startPod();
    const run = await kubectl(['exec', '-i', POD_NAME, '--', 'sh', '-c', 'cat; echo err >&2; exit 4'], 'hi over websocket\n', true);
    assert.equal(run.code, 4, explain(run));
    assert.equal(run.stdout.toString(), 'hi over websocket\n');
    assert.match(run.stderr, /^err\n/);
    assert.ok(apiserver?.requests.some((r) => /^(GET|POST) \/api\/v1\/namespaces\/default\/pods\/web\/exec\?.* \(upgrade: websocket\)$/i.test(r)), explain(run));
  });

  it('kubectl exec: a MiB of output each way (kubectl does no SPDY flow control)', async () => {
    await startPod();
    const input = Buffer.alloc(1 << 20, 'abcdefghijklmnopqrstuvwxyz\n');
    const run = await kubectl(['exec', '-i', POD_NAME, '--', 'sh', '-c', 'cat; echo done >&2'], input.toString());
    assert.equal(run.code, 0, explain(run));
    assert.equal(run.stdout.length, input.length);
    assert.ok(run.stdout.equals(input), 'what came back differs from what was sent');
    assert.equal(run.stderr, 'done\n');
  });

  it('kubectl port-forward: serves the pod httpd on a local port, two connections at once', async () => {
    await startPod();
    const child = startKubectl(['port-forward', '--address', '127.0.0.1', `pod/${POD_NAME}`, ':8080']);
    let output = '';
    child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
    const localPort = await new Promise<number>((resolve, reject) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        output += chunk.toString();
        const match = /Forwarding from 127\.0\.0\.1:(\d+) -> 8080/.exec(output);
        if (match) resolve(Number(match[1]));
      });
      void exited.then((code) => reject(new Error(`kubectl port-forward exited ${code} before forwarding: ${output}; API requests: ${apiserver?.requests.join(', ')}`)));
    });

    // httpd starts in its own time; each try is a new forwarded connection.
    let first: HttpReply | undefined;
    for (let attempt = 0; attempt < 50 && first?.status !== 200; attempt++) {
      if (attempt > 0) await new Promise((r) => setTimeout(r, 200));
      first = await httpGet(localPort, '/').catch(() => undefined);
    }
    assert.equal(first?.status, 200, `no answer through kubectl port-forward: ${output}`);
    assert.equal(first?.body.toString(), 'hello from the pod\n');

    const [page, big] = await Promise.all([httpGet(localPort, '/'), httpGet(localPort, '/big')]);
    assert.equal(page.body.toString(), 'hello from the pod\n');
    assert.equal(big.status, 200);
    assert.equal(big.body.length, BIG_FILE_BYTES);
    assert.ok(big.body.every((b) => b === 0x78), 'the body of /big is not all x');
    assert.equal(child.exitCode, null, `kubectl port-forward stopped: ${output}`);
    assert.doesNotMatch(output, /error|lost connection/i);
    assert.ok(apiserver?.requests.some((r) => /^POST \/api\/v1\/namespaces\/default\/pods\/web\/portforward(\?.*)? \(upgrade: SPDY\/3\.1\)$/.test(r)), apiserver?.requests.join(', '));

    if (child.pid !== undefined) process.kill(child.pid, 'SIGTERM');
    await exited;
  });
});

interface HttpReply {
  readonly status: number;
  readonly body: Buffer;
}

/** A GET on 127.0.0.1:`port`, on a connection of its own. */
function httpGet(port: number, urlPath: string): Promise<HttpReply> {
  return new Promise((resolve, reject) => {
    const req = http.get({ host: '127.0.0.1', port, path: urlPath, agent: false, headers: { connection: 'close' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.setTimeout(20_000, () => req.destroy(new Error(`GET ${urlPath} through port-forward: no answer in 20 s`)));
  });
}
