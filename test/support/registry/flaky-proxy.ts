import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import { pipeline } from 'node:stream/promises';

// An HTTP proxy on 127.0.0.1 in front of a test registry that fails chosen requests on purpose:
// the first N requests matching a rule get an injected status (503 for "the registry is having a
// bad moment"), or every matching request does (403 for "this manifest is off limits"). All
// other requests go to the registry unchanged, bodies streamed both ways, so a puller sees a
// registry that misbehaves only where the test says. Clients use `proxy.host` as the registry.

export interface FlakyRule {
  /** Only this method (GET, HEAD, …); any method when omitted. */
  readonly method?: string;
  /** Matched against the request's path and query, e.g. /\/blobs\/sha256:/. */
  readonly path: RegExp;
  /** The status to answer instead of forwarding. */
  readonly status: number;
  /** Inject for the first `times` matching requests, then forward; for every one when omitted. */
  readonly times?: number;
}

export interface FlakyProxyOptions {
  /** The registry behind the proxy ("http://127.0.0.1:PORT" or https with its CA). */
  readonly target: { readonly url: string; readonly caCertPath?: string };
  readonly rules: readonly FlakyRule[];
}

export interface ProxiedRequest {
  readonly method: string;
  readonly path: string;
  /** What the client got: the injected status, or the registry's (0 if the registry failed). */
  readonly status: number;
  /** True when the proxy answered itself instead of forwarding. */
  readonly injected: boolean;
  /** Date.now() when the request arrived. */
  readonly at: number;
}

export interface FlakyProxy {
  /** "127.0.0.1:PORT", as it appears in image references and insecure-registries. */
  readonly host: string;
  /** "http://127.0.0.1:PORT". */
  readonly url: string;
  /** Every HTTP request so far, in arrival order. */
  readonly requests: readonly ProxiedRequest[];
  /** Stops listening and drops every connection; safe to call twice. */
  stop(): Promise<void>;
}

// Connection-level headers that describe one hop, not the message (RFC 9110 section 7.6.1).
const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-authenticate', 'proxy-authorization', 'proxy-connection', 'te', 'trailer', 'transfer-encoding', 'upgrade']);

export async function startFlakyProxy(options: FlakyProxyOptions): Promise<FlakyProxy> {
  const target = new URL(options.target.url);
  const transport = target.protocol === 'https:' ? https : http;
  const agent = new transport.Agent({ keepAlive: true });
  const ca = options.target.caCertPath ? fs.readFileSync(options.target.caCertPath) : undefined;
  const injectedSoFar = options.rules.map(() => 0);
  const requests: ProxiedRequest[] = [];
  let proxyOrigin = '';

  const server = http.createServer((request, response) => {
    const method = request.method ?? 'GET';
    const requestPath = request.url ?? '/';
    const record = { method, path: requestPath, status: 0, injected: false, at: Date.now() };
    requests.push(record);

    const index = options.rules.findIndex(
      (rule, i) => (rule.method === undefined || rule.method === method) && rule.path.test(requestPath) && (rule.times === undefined || (injectedSoFar[i] ?? 0) < rule.times),
    );
    const rule = options.rules[index];
    if (rule) {
      injectedSoFar[index] = (injectedSoFar[index] ?? 0) + 1;
      record.status = rule.status;
      record.injected = true;
      request.resume();
      const body = JSON.stringify({ errors: [{ code: errorCode(rule.status), message: `flaky proxy: injected ${rule.status} for ${method} ${requestPath}` }] });
      response.writeHead(rule.status, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      response.end(method === 'HEAD' ? undefined : body);
      return;
    }

    // The client's Host header goes through unchanged, so the registry builds the URLs it hands
    // out (upload locations) for the proxy; a Location naming the registry itself is rewritten
    // in case it does not.
    const upstream = transport.request(
      new URL(requestPath, target),
      { method, headers: endToEnd(request.headers), agent, ...(ca ? { ca } : {}) },
      (answer) => {
        record.status = answer.statusCode ?? 0;
        const headers = endToEnd(answer.headers);
        const location = answer.headers.location;
        if (location && /^[a-z][a-z0-9+.-]*:/i.test(location)) {
          const absolute = new URL(location);
          if (absolute.origin === target.origin) headers['location'] = `${proxyOrigin}${absolute.pathname}${absolute.search}${absolute.hash}`;
        }
        response.writeHead(answer.statusCode ?? 502, answer.statusMessage, headers);
        pipeline(answer, response).catch(() => response.destroy());
      },
    );
    upstream.on('error', (error) => {
      if (response.headersSent) {
        response.destroy(error);
        return;
      }
      const body = JSON.stringify({ errors: [{ code: 'UNKNOWN', message: `flaky proxy: registry unreachable: ${error.message}` }] });
      response.writeHead(502, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) }).end(body);
    });
    // A client that goes away mid-request takes the upstream request with it.
    response.on('close', () => {
      if (!response.writableFinished) upstream.destroy();
    });
    pipeline(request, upstream).catch(() => upstream.destroy());
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('flaky proxy has no address');
  const host = `127.0.0.1:${address.port}`;
  proxyOrigin = `http://${host}`;
  let stopped: Promise<void> | undefined;
  return {
    host,
    url: proxyOrigin,
    requests,
    stop() {
      stopped ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        agent.destroy();
      });
      return stopped;
    },
  };
}

/** For a describe block: start() proxies that an afterEach stops. */
export function useFlakyProxies(): { start(options: FlakyProxyOptions): Promise<FlakyProxy> } {
  const running: FlakyProxy[] = [];
  afterEach(async function () {
    const failed = this.currentTest?.state === 'failed';
    for (const proxy of running.splice(0)) {
      if (failed) {
        const log = proxy.requests.map((r) => `${r.method} ${r.path} -> ${r.status}${r.injected ? ' (injected)' : ''}`).join('\n');
        process.stderr.write(`--- flaky proxy ${proxy.url} ---\n${log}\n`);
      }
      await proxy.stop();
    }
  });
  return {
    async start(options: FlakyProxyOptions): Promise<FlakyProxy> {
      const proxy = await startFlakyProxy(options);
      running.push(proxy);
      return proxy;
    },
  };
}

function endToEnd(headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders {
  const kept: http.OutgoingHttpHeaders = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value !== undefined && !HOP_BY_HOP.has(name)) kept[name] = value;
  }
  return kept;
}

/** The distribution error code a registry would send with this status. */
function errorCode(status: number): string {
  if (status === 401) return 'UNAUTHORIZED';
  if (status === 403) return 'DENIED';
  if (status === 404) return 'NOT_FOUND';
  if (status === 429) return 'TOOMANYREQUESTS';
  return 'UNAVAILABLE';
}
