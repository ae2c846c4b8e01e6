import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';

// A small client of the distribution HTTP API for the test harness (pushing test images, reading
// what a registry holds), deliberately independent of Caisson's own image service. It answers
// the registry's 401 challenge the standard way: Basic with the credentials, or Bearer with a
// token fetched from the challenge's realm for the challenge's scope plus pull,push on the
// repository at hand.

export interface RegistryTarget {
  /** "http://127.0.0.1:PORT" or "https://…". */
  readonly url: string;
  /** A PEM certificate to trust (a test registry's self-signed one). */
  readonly caCertPath?: string;
  readonly auth?: { readonly username: string; readonly password: string };
}

export interface RegistryResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: Buffer;
}

export interface RegistryRequest {
  /** The repository the request is about, for the token's scope ("" for /v2/ itself). */
  readonly repository?: string;
  readonly headers?: Record<string, string>;
  readonly body?: Buffer;
}

export interface AuthChallenge {
  readonly scheme: string;
  readonly params: Record<string, string>;
}

const REQUEST_TIMEOUT_MS = 30_000;

export class RegistryClient {
  private readonly ca?: Buffer;
  /** The Authorization header that worked last, per repository. */
  private readonly authorization = new Map<string, string>();

  constructor(private readonly target: RegistryTarget) {
    this.ca = target.caCertPath ? fs.readFileSync(target.caCertPath) : undefined;
  }

  get baseUrl(): string {
    return this.target.url;
  }

  /** Sends one request (a path such as "/v2/x/manifests/latest", or an absolute URL), answering one auth challenge. */
  async request(method: string, pathOrUrl: string, request: RegistryRequest = {}): Promise<RegistryResponse> {
    const url = new URL(pathOrUrl, this.target.url);
    const repository = request.repository ?? '';
    const send = (authorization?: string): Promise<RegistryResponse> =>
      httpRequest(method, url, { ...request.headers, ...(authorization ? { Authorization: authorization } : {}) }, request.body, this.ca);

    const first = await send(this.authorization.get(repository));
    if (first.status !== 401) return first;
    const authorization = await this.answerChallenge(first, repository);
    this.authorization.set(repository, authorization);
    return send(authorization);
  }

  /** Like request(), but fails unless the status is one of `expected`, quoting the registry's answer. */
  async expect(expected: number[], method: string, pathOrUrl: string, request: RegistryRequest = {}): Promise<RegistryResponse> {
    const response = await this.request(method, pathOrUrl, request);
    if (!expected.includes(response.status)) {
      throw new Error(`${method} ${pathOrUrl} on ${this.target.url}: expected ${expected.join(' or ')}, got ${response.status}: ${response.body.toString().trim()}`);
    }
    return response;
  }

  private async answerChallenge(response: RegistryResponse, repository: string): Promise<string> {
    const header = response.headers['www-authenticate'];
    const challenge = header ? parseAuthChallenge(header) : undefined;
    if (!challenge) throw new Error(`${this.target.url} answered 401 without a usable WWW-Authenticate challenge (${header ?? 'none'})`);
    const credentials = this.target.auth;
    if (challenge.scheme === 'basic') {
      if (!credentials) throw new Error(`${this.target.url} asks for Basic credentials and none were given`);
      return `Basic ${basic(credentials)}`;
    }
    if (challenge.scheme !== 'bearer') throw new Error(`${this.target.url} asks for unsupported auth scheme "${challenge.scheme}"`);
    const realm = challenge.params.realm;
    if (!realm) throw new Error(`${this.target.url} sent a Bearer challenge without a realm: ${header}`);

    const tokenUrl = new URL(realm);
    if (challenge.params.service) tokenUrl.searchParams.set('service', challenge.params.service);
    const scopes = new Set((challenge.params.scope ?? '').split(' ').filter(Boolean));
    if (repository) scopes.add(`repository:${repository}:pull,push`);
    for (const scope of scopes) tokenUrl.searchParams.append('scope', scope);
    const answer = await httpRequest('GET', tokenUrl, credentials ? { Authorization: `Basic ${basic(credentials)}` } : {}, undefined, this.ca);
    if (answer.status !== 200) throw new Error(`token server ${realm} answered ${answer.status}: ${answer.body.toString().trim()}`);
    const parsed = JSON.parse(answer.body.toString()) as { token?: string; access_token?: string };
    const token = parsed.token ?? parsed.access_token;
    if (!token) throw new Error(`token server ${realm} answered without a token: ${answer.body.toString()}`);
    return `Bearer ${token}`;
  }
}

/** `Bearer realm="https://auth",service="registry",scope="repository:a:pull"` → scheme and params. */
export function parseAuthChallenge(header: string): AuthChallenge | undefined {
  const match = /^\s*([A-Za-z][\w-]*)\s*(.*)$/.exec(header);
  if (!match?.[1]) return undefined;
  const params: Record<string, string> = {};
  const pattern = /([\w-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^,\s]*))/g;
  for (const param of (match[2] ?? '').matchAll(pattern)) {
    const key = param[1];
    if (key) params[key.toLowerCase()] = param[2] !== undefined ? param[2].replace(/\\(.)/g, '$1') : (param[3] ?? '');
  }
  return { scheme: match[1].toLowerCase(), params };
}

function basic(credentials: { username: string; password: string }): string {
  return Buffer.from(`${credentials.username}:${credentials.password}`).toString('base64');
}

function httpRequest(method: string, url: URL, headers: Record<string, string>, body: Buffer | undefined, ca: Buffer | undefined): Promise<RegistryResponse> {
  return new Promise((resolve, reject) => {
    const requestHeaders: Record<string, string> = { ...headers };
    if (body) requestHeaders['Content-Length'] = String(body.length);
    // agent: false — one connection per request, so no idle keep-alive socket outlives a test.
    const options: https.RequestOptions = { method, headers: requestHeaders, ca, agent: false, timeout: REQUEST_TIMEOUT_MS };
    const request = (url.protocol === 'https:' ? https : http).request(url, options, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (chunk: Buffer) => chunks.push(chunk));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks) }));
      response.on('error', reject);
    });
    request.on('timeout', () => request.destroy(new Error(`${method} ${url.href} timed out after ${REQUEST_TIMEOUT_MS} ms`)));
    request.on('error', reject);
    request.end(body);
  });
}
