import type { Readable } from 'node:stream';
import { DataLossError, NotFoundError, PermissionDeniedError, UnauthenticatedError, UnavailableError, describeError } from '../../errors';
import { checkDigest, digestWith, sha256Digest } from '../digest';
import { parseRegistryJson } from '../manifest-checks';
import { MANIFEST_ACCEPT } from '../media-types';
import { parseAuthChallenge } from './auth-challenge';
import { discardBody, httpRequest, readBody, type HttpResponse } from './http-request';
import type { RegistryEndpoint } from './registry-endpoints';
import { TransientError, withRetries } from './retry';
import type { TokenFetcher } from './token-fetcher';

// The distribution API for one repository at one endpoint: manifests by tag or digest, and
// blobs as streams. It answers auth challenges (Basic or Bearer), follows redirects (blob
// storage often lives elsewhere; credentials are not sent to another host), retries transient
// failures, and turns HTTP answers into errors that name the registry and the object.

const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
const MAX_REDIRECTS = 5;

export interface FetchedManifest {
  readonly mediaType: string;
  readonly bytes: Buffer;
  readonly digest: string;
}

/** The endpoint could not be reached at all (refused, TLS, DNS): the caller may try the next one. */
export class EndpointUnreachableError extends UnavailableError {}

export class RegistryClient {
  private authorization: string | undefined;

  constructor(
    readonly endpoint: RegistryEndpoint,
    private readonly repository: string,
    private readonly tokens: TokenFetcher,
  ) {}

  /**
   * Fetches a manifest or index. When `reference` is a digest (sha256 or sha512) the bytes must
   * match it, whatever its algorithm; `digest` is always the bytes' sha256 (the store's key).
   */
  async manifest(reference: string): Promise<FetchedManifest> {
    const what = `manifest ${this.repository}:${reference} from ${this.endpoint.base.host}`;
    const algorithm = reference.includes(':') ? checkDigest(reference, `manifest reference of ${this.repository}`, ['sha256', 'sha512']) : undefined;
    return withRetries(async () => {
      const response = await this.get(`manifests/${reference}`, { Accept: MANIFEST_ACCEPT }, what);
      const bytes = await readBody(response, MAX_MANIFEST_BYTES);
      const digest = sha256Digest(bytes);
      const received = algorithm === undefined ? undefined : digestWith(algorithm, bytes);
      if (received !== undefined && received !== reference) {
        throw new DataLossError(`${what}: content does not match its digest (received ${received})`);
      }
      const mediaType = (response.headers['content-type'] ?? '').split(';')[0]?.trim() ?? '';
      const declared = parseRegistryJson<{ mediaType?: string }>(bytes, what).mediaType;
      return { mediaType: declared ?? mediaType, bytes, digest };
    });
  }

  /** Opens a blob for streaming; the caller verifies its digest while storing it. */
  async blob(digest: string): Promise<{ stream: Readable; size: number | undefined }> {
    const what = `blob ${digest} of ${this.repository} from ${this.endpoint.base.host}`;
    checkDigest(digest, `blob of ${this.repository}`);
    return withRetries(async () => {
      const response = await this.get(`blobs/${digest}`, {}, what);
      const length = response.headers['content-length'];
      return { stream: response.body, size: length === undefined ? undefined : Number(length) };
    });
  }

  private async get(path: string, headers: Record<string, string>, what: string): Promise<HttpResponse> {
    const url = new URL(`${this.endpoint.base.pathname.replace(/\/$/, '')}/v2/${this.repository}/${path}`, this.endpoint.base);
    let response = await this.send(url, headers, true);
    if (response.status === 401) {
      const challenge = parseAuthChallenge(response.headers['www-authenticate'] as string | undefined);
      discardBody(response);
      if (!challenge) throw new UnauthenticatedError(`${what}: the registry requires authentication but sent no usable challenge`);
      this.authorization = await this.tokens.authorization(challenge, `repository:${this.repository}:pull`, this.endpoint.base.host);
      response = await this.send(url, headers, true);
      if (response.status === 401) {
        discardBody(response);
        throw new UnauthenticatedError(`${what}: the registry refused the credentials (401 Unauthorized)`);
      }
    }
    for (let hops = 0; response.status >= 300 && response.status < 400 && hops < MAX_REDIRECTS; hops++) {
      const location = response.headers.location;
      discardBody(response);
      if (!location) throw new UnavailableError(`${what}: redirect ${response.status} without a location`);
      const next = new URL(location, url);
      response = await this.send(next, headers, next.host === url.host);
    }
    if (response.status === 200) return response;
    const body = (await readBody(response, 64 * 1024).catch(() => Buffer.alloc(0))).toString('utf8').slice(0, 300);
    switch (response.status) {
      case 403:
        throw new PermissionDeniedError(`${what}: access denied (403 Forbidden)`);
      case 404:
        throw new NotFoundError(`${what}: not found (404)`);
      case 429:
        throw new TransientError(`${what}: too many requests (429)`);
      default:
        if (response.status >= 500) throw new TransientError(`${what}: registry error ${response.status}: ${body}`);
        throw new UnavailableError(`${what}: unexpected answer ${response.status}: ${body}`);
    }
  }

  private async send(url: URL, headers: Record<string, string>, withAuthorization: boolean): Promise<HttpResponse> {
    try {
      return await httpRequest(url, {
        headers: withAuthorization && this.authorization ? { ...headers, Authorization: this.authorization } : headers,
        insecureSkipVerify: this.endpoint.insecureSkipVerify,
      });
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ECONNRESET' || code === 'ETIMEDOUT') throw error;
      throw new EndpointUnreachableError(`registry ${url.host} is unreachable over ${url.protocol.replace(':', '')}: ${describeError(error)}`, { cause: error });
    }
  }
}
