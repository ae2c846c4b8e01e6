import * as http from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';

// Just enough of a Kubernetes API server for `kubectl exec` and `kubectl port-forward` to reach
// Caisson's streaming server, on 127.0.0.1 over plain HTTP: discovery for the core group, GET of
// the pods it is told about, and the exec and portforward subresources. Those are upgrade
// requests (SPDY/3.1, or WebSocket); for each, the backend makes the CRI call (Exec or
// PortForward) and the request is passed on raw over TCP to the URL the runtime answered, with
// only the path rewritten, and bytes are then copied both ways: what the kubelet's streaming
// proxy does between the API server and the runtime.

export interface FakePod {
  readonly name: string;
  /** Container names, in the order of the pod spec (kubectl execs in the first by default). */
  readonly containers: readonly string[];
}

/** What kubectl asked to run, from the exec subresource's query. */
export interface ExecRequest {
  readonly container: string;
  readonly command: readonly string[];
  readonly stdin: boolean;
  readonly stdout: boolean;
  readonly stderr: boolean;
  readonly tty: boolean;
}

export interface FakeApiServerBackend {
  pod(name: string): FakePod | undefined;
  /** Makes the CRI Exec call; answers the streaming URL. */
  exec(pod: FakePod, request: ExecRequest): Promise<string>;
  /** Makes the CRI PortForward call; answers the streaming URL. */
  portForward(pod: FakePod, ports: readonly number[]): Promise<string>;
}

export interface FakeApiServer {
  readonly url: string;
  /** Every request line seen, in order ("GET /api/v1/..."), for messages when something fails. */
  readonly requests: readonly string[];
  stop(): Promise<void>;
}

const NAMESPACE = 'default';
const SUBRESOURCE = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)\/(exec|portforward)$/;
const POD = /^\/api\/v1\/namespaces\/([^/]+)\/pods\/([^/]+)$/;

export async function startFakeApiServer(backend: FakeApiServerBackend): Promise<FakeApiServer> {
  const requests: string[] = [];
  const sockets = new Set<Duplex>();
  const server = http.createServer((req, res) => {
    requests.push(`${req.method} ${req.url}`);
    answer(backend, req, res);
  });
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    requests.push(`${req.method} ${req.url} (upgrade: ${req.headers.upgrade})`);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    proxyUpgrade(backend, req, socket, head, sockets).catch((error: Error) => refuse(socket, 500, `proxying ${req.url}: ${error.message}`));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    stop: async () => {
      for (const socket of sockets) socket.destroy();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await closed;
    },
  };
}

/** A kubeconfig for `server`: one cluster, one context in the default namespace, no credentials. */
export function kubeconfigFor(server: string): string {
  return [
    'apiVersion: v1',
    'kind: Config',
    'clusters:',
    '- name: fake',
    '  cluster:',
    `    server: ${server}`,
    'contexts:',
    '- name: fake',
    '  context:',
    '    cluster: fake',
    '    user: fake',
    `    namespace: ${NAMESPACE}`,
    'current-context: fake',
    'users:',
    '- name: fake',
    '  user: {}',
    '',
  ].join('\n');
}

function answer(backend: FakeApiServerBackend, req: http.IncomingMessage, res: http.ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://apiserver');
  const path = url.pathname.replace(/\/$/, '');
  if (req.method !== 'GET') return status(res, 405, 'MethodNotAllowed', `${req.method} ${path}: this fake API server only answers GETs and exec/portforward upgrades`);
  if (path === '/api') return json(res, 200, { kind: 'APIVersions', versions: ['v1'], serverAddressByClientCIDRs: [{ clientCIDR: '0.0.0.0/0', serverAddress: '127.0.0.1' }] });
  if (path === '/apis') return json(res, 200, { kind: 'APIGroupList', apiVersion: 'v1', groups: [] });
  if (path === '/api/v1') {
    return json(res, 200, {
      kind: 'APIResourceList',
      groupVersion: 'v1',
      resources: [
        { name: 'pods', singularName: 'pod', namespaced: true, kind: 'Pod', verbs: ['get', 'list'], shortNames: ['po'] },
        { name: 'pods/exec', singularName: '', namespaced: true, kind: 'PodExecOptions', verbs: ['create', 'get'] },
        { name: 'pods/portforward', singularName: '', namespaced: true, kind: 'PodPortForwardOptions', verbs: ['create', 'get'] },
      ],
    });
  }
  if (path === '/version') return json(res, 200, { major: '1', minor: '32', gitVersion: 'v1.32.0-fake', platform: 'linux/amd64' });
  const match = POD.exec(path);
  if (match) {
    const pod = match[1] === NAMESPACE ? backend.pod(decodeURIComponent(match[2] ?? '')) : undefined;
    if (!pod) return status(res, 404, 'NotFound', `pods "${match[2]}" not found`);
    return json(res, 200, podObject(pod));
  }
  status(res, 404, 'NotFound', `the server could not find the requested resource (${path})`);
}

/** The Pod as kubectl needs to see it: Running, with its containers. */
function podObject(pod: FakePod): unknown {
  return {
    kind: 'Pod',
    apiVersion: 'v1',
    metadata: { name: pod.name, namespace: NAMESPACE, uid: `fake-${pod.name}`, resourceVersion: '1' },
    spec: { containers: pod.containers.map((name) => ({ name, image: 'busybox' })) },
    status: {
      phase: 'Running',
      containerStatuses: pod.containers.map((name) => ({ name, ready: true, restartCount: 0, image: 'busybox', imageID: '', state: { running: {} } })),
    },
  };
}

async function proxyUpgrade(backend: FakeApiServerBackend, req: http.IncomingMessage, socket: Duplex, head: Buffer, sockets: Set<Duplex>): Promise<void> {
  const url = new URL(req.url ?? '/', 'http://apiserver');
  const match = SUBRESOURCE.exec(url.pathname);
  const pod = match && match[1] === NAMESPACE ? backend.pod(decodeURIComponent(match[2] ?? '')) : undefined;
  if (!match || !pod) return refuse(socket, 404, `no pod subresource at ${url.pathname}`);
  const q = url.searchParams;
  const flag = (name: string): boolean => q.get(name) === 'true' || q.get(name) === '1';
  const target =
    match[3] === 'exec'
      ? await backend.exec(pod, {
          container: q.get('container') ?? pod.containers[0] ?? '',
          command: q.getAll('command'),
          stdin: flag('stdin'),
          stdout: flag('stdout'),
          stderr: flag('stderr'),
          tty: flag('tty'),
        })
      : await backend.portForward(pod, q.getAll('ports').map(Number));
  if (socket.destroyed) return;

  const upstreamUrl = new URL(target);
  const upstream = net.connect(Number(upstreamUrl.port), upstreamUrl.hostname.replace(/^\[|\]$/g, ''));
  sockets.add(upstream);
  upstream.on('close', () => {
    sockets.delete(upstream);
    socket.destroy();
  });
  upstream.on('error', () => socket.destroy());
  socket.on('close', () => upstream.destroy());
  const headers: string[] = [];
  for (let i = 0; i + 1 < req.rawHeaders.length; i += 2) {
    const name = req.rawHeaders[i] ?? '';
    const value = req.rawHeaders[i + 1] ?? '';
    headers.push(`${name}: ${name.toLowerCase() === 'host' ? upstreamUrl.host : value}\r\n`);
  }
  upstream.write(`${req.method} ${upstreamUrl.pathname}${upstreamUrl.search} HTTP/1.1\r\n${headers.join('')}\r\n`);
  if (head.length > 0) upstream.write(head);
  upstream.pipe(socket);
  socket.pipe(upstream);
}

function json(res: http.ServerResponse, code: number, body: unknown): void {
  res.writeHead(code, { 'content-type': 'application/json' }).end(JSON.stringify(body));
}

function status(res: http.ServerResponse, code: number, reason: string, message: string): void {
  json(res, code, { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code });
}

function refuse(socket: Duplex, code: number, message: string): void {
  if (socket.destroyed) return;
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, code });
  socket.end(`HTTP/1.1 ${code} ${http.STATUS_CODES[code] ?? ''}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}
