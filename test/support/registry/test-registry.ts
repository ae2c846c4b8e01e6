import { spawn, type ChildProcess } from 'node:child_process';
import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { runProgram } from '../../../core/exec/run-program';
import { makeTempRoot, removeTempRoot } from '../temp-root';

// A real distribution registry (Debian's docker-registry 2.8) for image tests, on 127.0.0.1 only,
// with its storage, config and certificates in a temporary root. It can serve HTTPS with a
// self-signed certificate, ask for htpasswd Basic auth, or ask for Bearer tokens from a small
// token server run here in-process (the flow Docker Hub, GHCR and Quay use).

export interface TestRegistryOptions {
  /** Serve HTTPS with a self-signed certificate for 127.0.0.1 (its own CA: `caCertPath`). */
  readonly tls?: boolean;
  /** The registry's own htpasswd (bcrypt) Basic auth. */
  readonly basicAuth?: { readonly username: string; readonly password: string };
  /** Bearer tokens from a token server the harness runs; it grants these credentials every scope. */
  readonly tokenAuth?: TokenAuthOptions;
}

export interface TokenAuthOptions {
  /** Accepted as Basic credentials on GET /token (the docker token flow). */
  readonly username: string;
  readonly password: string;
  /**
   * Also accept this OAuth2 refresh token (a docker "identity token") on POST /token with
   * grant_type=refresh_token, as Docker Hub's and ACR's token services do; tokens issued
   * that way are for `username`.
   */
  readonly identityToken?: string;
}

export interface TestRegistry {
  /** "127.0.0.1:PORT", as it appears in image references. */
  readonly host: string;
  /** "http://127.0.0.1:PORT" or "https://127.0.0.1:PORT". */
  readonly url: string;
  /** The self-signed certificate to trust (tls only). */
  readonly caCertPath?: string;
  readonly storageDir: string;
  /** The file where the registry keeps a blob ("sha256:<hex>"). */
  blobPath(digest: string): string;
  /** How many tokens the token server has issued (tokenAuth only; 0 otherwise). */
  readonly tokenRequests: number;
  /** Every token the token server issued, in order (tokenAuth only; empty otherwise). */
  readonly tokenGrants: readonly TokenGrant[];
  /** "http://127.0.0.1:PORT/token", where the registry sends clients for tokens (tokenAuth only). */
  readonly tokenRealm?: string;
  /** The registry's stdout and stderr so far (for a failing test's report). */
  output(): string;
  /** Stops the registry and the token server and removes the temporary root; safe to call twice. */
  stop(): Promise<void>;
}

export const TOKEN_SERVICE = 'test-registry';
export const TOKEN_ISSUER = 'caisson-test-issuer';

const REGISTRY_BINARY = '/usr/bin/docker-registry';
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

// A test process that dies (an uncaught error, mocha killed by ^C) must not leave registries
// listening behind it, so every live child is SIGKILLed when this process exits.
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export async function startTestRegistry(options: TestRegistryOptions = {}): Promise<TestRegistry> {
  if (options.basicAuth && options.tokenAuth) throw new Error('startTestRegistry: choose basicAuth or tokenAuth, not both');
  const root = makeTempRoot('registry');
  let tokenServer: TokenServer | undefined;
  let child: ChildProcess | undefined;
  try {
    const storageDir = path.join(root, 'storage');
    fs.mkdirSync(storageDir);
    const tls = options.tls ? await makeSelfSignedCert(root, 'tls', '/CN=127.0.0.1', ['-addext', 'subjectAltName=IP:127.0.0.1']) : undefined;
    const htpasswdPath = options.basicAuth ? await writeHtpasswd(root, options.basicAuth) : undefined;
    if (options.tokenAuth) {
      const signer = await makeSelfSignedCert(root, 'token', '/CN=caisson-test-token');
      tokenServer = await startTokenServer(signer, options.tokenAuth);
    }

    // A port taken between our probe and the registry's bind is rare but real on a busy CI box.
    let started: RegistryProcess | undefined;
    for (let attempt = 1; !started; attempt++) {
      const port = await findFreePort();
      const configPath = path.join(root, 'config.yml');
      fs.writeFileSync(configPath, registryConfig({ port, storageDir, tls, htpasswdPath, tokenServer }));
      const url = `${tls ? 'https' : 'http'}://127.0.0.1:${port}`;
      const candidate = spawnRegistry(configPath);
      child = candidate.child;
      try {
        await waitUntilReady(candidate, url, tls?.certPath);
        started = { ...candidate, port, url };
      } catch (error) {
        await stopChild(candidate.child);
        if (attempt === 1 && candidate.output().includes('address already in use')) continue;
        throw error;
      }
    }

    const registry = started;
    const server = tokenServer;
    let stopped: Promise<void> | undefined;
    return {
      host: `127.0.0.1:${registry.port}`,
      url: registry.url,
      caCertPath: tls?.certPath,
      storageDir,
      blobPath(digest: string): string {
        const match = /^sha256:([0-9a-f]{64})$/.exec(digest);
        if (!match?.[1]) throw new Error(`not a sha256 digest: ${digest}`);
        const hex = match[1];
        return path.join(storageDir, 'docker', 'registry', 'v2', 'blobs', 'sha256', hex.slice(0, 2), hex, 'data');
      },
      get tokenRequests(): number {
        return server?.grants.length ?? 0;
      },
      get tokenGrants(): readonly TokenGrant[] {
        return [...(server?.grants ?? [])];
      },
      tokenRealm: server?.realm,
      output: registry.output,
      stop(): Promise<void> {
        stopped ??= (async () => {
          try {
            await stopChild(registry.child);
          } finally {
            await server?.close();
            removeTempRoot(root);
          }
        })();
        return stopped;
      },
    };
  } catch (error) {
    if (child) await stopChild(child);
    await tokenServer?.close();
    removeTempRoot(root);
    throw error;
  }
}

/**
 * For a describe block: start() registries that an afterEach stops (printing their logs when the
 * test failed), so no test leaves one running whatever happens to it.
 */
export function useTestRegistries(): { start(options?: TestRegistryOptions): Promise<TestRegistry> } {
  const running: TestRegistry[] = [];
  afterEach(async function () {
    const failed = this.currentTest?.state === 'failed';
    for (const registry of running.splice(0)) {
      if (failed) process.stderr.write(`--- docker-registry ${registry.url} ---\n${registry.output()}\n`);
      await registry.stop();
    }
  });
  return {
    async start(options?: TestRegistryOptions): Promise<TestRegistry> {
      const registry = await startTestRegistry(options);
      running.push(registry);
      return registry;
    },
  };
}

// ---- the registry process ----

interface RegistryProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<string>;
  readonly port: number;
  readonly url: string;
}

function spawnRegistry(configPath: string): Omit<RegistryProcess, 'port' | 'url'> {
  const child = spawn(REGISTRY_BINARY, ['serve', configPath], { stdio: ['ignore', 'pipe', 'pipe'] });
  liveChildren.add(child);
  let output = '';
  child.stdout?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<string>((resolve) => {
    child.once('error', (error) => {
      liveChildren.delete(child);
      resolve(`failed to start: ${error.message}`);
    });
    child.once('exit', (code, signal) => {
      liveChildren.delete(child);
      resolve(signal ? `killed by ${signal}` : `exit status ${code}`);
    });
  });
  return { child, output: () => output, exited };
}

async function waitUntilReady(registry: Omit<RegistryProcess, 'port' | 'url'>, url: string, caCertPath?: string): Promise<void> {
  const deadline = Date.now() + READY_TIMEOUT_MS;
  let exitReason: string | undefined;
  void registry.exited.then((reason) => (exitReason = reason));
  const ca = caCertPath ? fs.readFileSync(caCertPath) : undefined;
  let lastError = '';
  while (Date.now() < deadline) {
    if (exitReason !== undefined) throw new Error(`docker-registry ${exitReason} before serving ${url}:\n${registry.output()}`);
    try {
      const status = await probe(`${url}/v2/`, ca);
      // 401 is "up, and asking for credentials", which is just as ready.
      if (status === 200 || status === 401) return;
      lastError = `GET /v2/ answered ${status}`;
    } catch (error) {
      lastError = (error as Error).message;
    }
    await delay(50);
  }
  throw new Error(`docker-registry did not serve ${url}/v2/ within ${READY_TIMEOUT_MS} ms (${lastError}):\n${registry.output()}`);
}

function probe(url: string, ca?: Buffer): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = (url.startsWith('https:') ? https : http).get(url, { ca, timeout: 1000 }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on('timeout', () => request.destroy(new Error('timed out')));
    request.on('error', reject);
  });
}

/** SIGTERM, then SIGKILL if the registry is still there after a grace period. */
async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return;
  const pid = child.pid;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  signal(pid, 'SIGTERM');
  const timer = setTimeout(() => {
    if (child.exitCode === null && child.signalCode === null) signal(pid, 'SIGKILL');
  }, STOP_GRACE_MS);
  await exited;
  clearTimeout(timer);
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch (error) {
    // ESRCH: it exited between our check and the signal, which is what we wanted.
    if ((error as NodeJS.ErrnoException).code !== 'ESRCH') throw error;
  }
}

function findFreePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => (port ? resolve(port) : reject(new Error('could not read the probe port'))));
    });
  });
}

interface RegistryConfigInput {
  readonly port: number;
  readonly storageDir: string;
  readonly tls?: CertFiles;
  readonly htpasswdPath?: string;
  readonly tokenServer?: TokenServer;
}

/** The registry's config.yml; JSON strings are valid YAML scalars, so paths need no escaping. */
export function registryConfig(input: RegistryConfigInput): string {
  const q = (value: string): string => JSON.stringify(value);
  const lines = [
    'version: 0.1',
    'log:',
    '  level: warn',
    '  accesslog:',
    '    disabled: true',
    'storage:',
    '  filesystem:',
    `    rootdirectory: ${q(input.storageDir)}`,
    '  delete:',
    '    enabled: true',
    'http:',
    `  addr: ${q(`127.0.0.1:${input.port}`)}`,
    // Without a secret the registry logs a warning and makes one up; a fixed one keeps it quiet.
    `  secret: ${q(crypto.randomBytes(16).toString('hex'))}`,
  ];
  if (input.tls) lines.push('  tls:', `    certificate: ${q(input.tls.certPath)}`, `    key: ${q(input.tls.keyPath)}`);
  if (input.htpasswdPath) lines.push('auth:', '  htpasswd:', '    realm: caisson-test-realm', `    path: ${q(input.htpasswdPath)}`);
  if (input.tokenServer) {
    lines.push(
      'auth:',
      '  token:',
      `    realm: ${q(input.tokenServer.realm)}`,
      `    service: ${q(TOKEN_SERVICE)}`,
      `    issuer: ${q(TOKEN_ISSUER)}`,
      `    rootcertbundle: ${q(input.tokenServer.signer.certPath)}`,
    );
  }
  return `${lines.join('\n')}\n`;
}

// ---- certificates and htpasswd ----

interface CertFiles {
  readonly certPath: string;
  readonly keyPath: string;
}

async function makeSelfSignedCert(root: string, name: string, subject: string, extra: readonly string[] = []): Promise<CertFiles> {
  const dir = path.join(root, name);
  fs.mkdirSync(dir);
  const certPath = path.join(dir, 'cert.pem');
  const keyPath = path.join(dir, 'key.pem');
  await runProgram(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', subject, '-days', '2', '-keyout', keyPath, '-out', certPath, ...extra],
    { timeoutMs: 20_000 },
  );
  return { certPath, keyPath };
}

async function writeHtpasswd(root: string, credentials: { username: string; password: string }): Promise<string> {
  // The registry accepts bcrypt entries only.
  const { stdout } = await runProgram('htpasswd', ['-Bbn', credentials.username, credentials.password], { timeoutMs: 10_000 });
  const file = path.join(root, 'htpasswd');
  fs.writeFileSync(file, `${stdout.trim()}\n`);
  return file;
}

// ---- the token server ----

interface TokenServer {
  readonly realm: string;
  readonly signer: CertFiles;
  readonly grants: readonly TokenGrant[];
  close(): Promise<void>;
}

/** One token the token server issued, and how it was asked for. */
export interface TokenGrant {
  /** "basic": GET with Basic credentials; "refresh_token": the OAuth2 POST with an identity token. */
  readonly grantType: 'basic' | 'refresh_token';
  readonly service: string;
  readonly scopes: readonly string[];
  /** The OAuth2 client_id (refresh_token only). */
  readonly clientId?: string;
}

export interface TokenAccess {
  readonly type: string;
  readonly name: string;
  readonly actions: string[];
}

async function startTokenServer(signer: CertFiles, credentials: TokenAuthOptions): Promise<TokenServer> {
  const privateKey = crypto.createPrivateKey(fs.readFileSync(signer.keyPath));
  // distribution 2.8 verifies the x5c chain against rootcertbundle; our cert is both leaf and root.
  const x5c = [new crypto.X509Certificate(fs.readFileSync(signer.certPath)).raw.toString('base64')];
  const grants: TokenGrant[] = [];

  const issue = (response: http.ServerResponse, grant: TokenGrant): void => {
    const token = signToken({ privateKey, x5c, subject: credentials.username, audience: grant.service, access: grant.scopes.flatMap(parseScope) });
    grants.push(grant);
    const common = { access_token: token, expires_in: TOKEN_LIFETIME_S, issued_at: new Date().toISOString() };
    // The GET answer carries `token` (and access_token, for OAuth clients); the OAuth2 POST
    // answer is access_token and scope only, so a client must read access_token.
    const body = grant.grantType === 'basic' ? { token, ...common } : { ...common, scope: grant.scopes.join(' ') };
    response.writeHead(200, { 'Content-Type': 'application/json' });
    response.end(JSON.stringify(body));
  };
  const refuse = (response: http.ServerResponse, status: number, body: object, headers: http.OutgoingHttpHeaders = {}): void => {
    response.writeHead(status, { ...headers, 'Content-Type': 'application/json' });
    response.end(JSON.stringify(body));
  };

  // The OAuth2 form of the docker token spec ("Docker Registry v2 authentication using OAuth2"):
  // form-encoded, client_id required, and a refresh token we did not hand out is refused with
  // 401, as distribution's contrib token server refuses an unknown refresh token.
  const answerRefreshToken = (form: URLSearchParams, response: http.ServerResponse): void => {
    const grantType = form.get('grant_type');
    if (grantType !== 'refresh_token') {
      refuse(response, 400, { error: 'unsupported_grant_type', error_description: `grant_type ${JSON.stringify(grantType)} is not supported (refresh_token only)` });
      return;
    }
    if (!form.get('client_id')) {
      refuse(response, 400, { error: 'invalid_request', error_description: 'client_id is required' });
      return;
    }
    if (credentials.identityToken === undefined || form.get('refresh_token') !== credentials.identityToken) {
      refuse(response, 401, { error: 'invalid_grant', error_description: 'the refresh token is not valid' });
      return;
    }
    issue(response, { grantType: 'refresh_token', service: form.get('service') ?? TOKEN_SERVICE, scopes: form.getAll('scope'), clientId: form.get('client_id') ?? '' });
  };

  const server = http.createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    if (url.pathname !== '/token' || (request.method !== 'GET' && request.method !== 'POST')) {
      response.writeHead(404).end();
      return;
    }
    if (request.method === 'POST') {
      void readForm(request).then(
        (form) => answerRefreshToken(form, response),
        (error: Error) => refuse(response, 400, { error: 'invalid_request', error_description: error.message }),
      );
      return;
    }
    if (!basicCredentialsMatch(request.headers.authorization, credentials)) {
      refuse(response, 401, { errors: [{ code: 'UNAUTHORIZED', message: 'bad or missing credentials' }] }, { 'WWW-Authenticate': 'Basic realm="caisson-test-token"' });
      return;
    }
    issue(response, { grantType: 'basic', service: url.searchParams.get('service') ?? TOKEN_SERVICE, scopes: url.searchParams.getAll('scope') });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const address = server.address();
  if (!address || typeof address !== 'object') throw new Error('token server has no address');
  let closed: Promise<void> | undefined;
  return {
    realm: `http://127.0.0.1:${address.port}/token`,
    signer,
    get grants() {
      return grants;
    },
    close() {
      closed ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      return closed;
    },
  };
}

const TOKEN_LIFETIME_S = 300;
const MAX_FORM_BYTES = 64 * 1024;

/** An application/x-www-form-urlencoded request body. */
async function readForm(request: http.IncomingMessage): Promise<URLSearchParams> {
  const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (type !== 'application/x-www-form-urlencoded') {
    request.resume();
    throw new Error(`Content-Type must be application/x-www-form-urlencoded, not ${JSON.stringify(type ?? '')}`);
  }
  let body = '';
  for await (const chunk of request as AsyncIterable<Buffer>) {
    body += chunk.toString('utf8');
    if (body.length > MAX_FORM_BYTES) throw new Error(`form larger than ${MAX_FORM_BYTES} bytes`);
  }
  return new URLSearchParams(body);
}

function basicCredentialsMatch(header: string | undefined, expected: { username: string; password: string }): boolean {
  const match = /^Basic\s+(\S+)$/i.exec(header ?? '');
  if (!match?.[1]) return false;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  return colon >= 0 && decoded.slice(0, colon) === expected.username && decoded.slice(colon + 1) === expected.password;
}

/** "repository:library/busybox:pull,push" → one access entry; the name may itself hold ':' (a port). */
export function parseScope(scope: string): TokenAccess[] {
  return scope
    .split(' ')
    .filter((item) => item !== '')
    .flatMap((item) => {
      const first = item.indexOf(':');
      const last = item.lastIndexOf(':');
      if (first < 0 || last === first) return [];
      return [{ type: item.slice(0, first), name: item.slice(first + 1, last), actions: item.slice(last + 1).split(',').filter(Boolean) }];
    });
}

function signToken(input: { privateKey: crypto.KeyObject; x5c: string[]; subject: string; audience: string; access: TokenAccess[] }): string {
  const now = Math.floor(Date.now() / 1000);
  const header = { typ: 'JWT', alg: 'RS256', x5c: input.x5c };
  const claims = {
    iss: TOKEN_ISSUER,
    sub: input.subject,
    aud: input.audience,
    exp: now + TOKEN_LIFETIME_S,
    nbf: now - 10,
    iat: now,
    jti: crypto.randomBytes(16).toString('hex'),
    access: input.access,
  };
  const signingInput = `${base64url(JSON.stringify(header))}.${base64url(JSON.stringify(claims))}`;
  const signature = crypto.sign('sha256', Buffer.from(signingInput), input.privateKey);
  return `${signingInput}.${base64url(signature)}`;
}

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}
