import * as crypto from 'node:crypto';
import * as fs from 'node:fs';
import * as http from 'node:http';
import type { CertFiles } from './certificates';

// The Bearer token server the test registry can send clients to (the flow Docker Hub, GHCR and
// Quay use), run in-process on 127.0.0.1: the docker GET with Basic credentials, and the OAuth2
// POST with an identity (refresh) token. Its tokens are JWTs the registry verifies against the
// signing certificate in its rootcertbundle.

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

export const TOKEN_SERVICE = 'test-registry';
export const TOKEN_ISSUER = 'caisson-test-issuer';

export interface TokenServer {
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

export async function startTokenServer(signer: CertFiles, credentials: TokenAuthOptions): Promise<TokenServer> {
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
