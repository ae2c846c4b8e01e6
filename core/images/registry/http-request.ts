import * as http from 'node:http';
import * as https from 'node:https';

// One HTTP(S) request to a registry, with a time limit on silence, optional unverified TLS (for
// registries listed in `insecure-registries`), and the body left as a stream so blobs are never
// held in memory. Redirects are not followed here; the registry client decides what to follow.

export interface HttpRequestOptions {
  readonly method?: 'GET' | 'HEAD' | 'POST';
  readonly headers?: Record<string, string>;
  readonly body?: string;
  /** Skip TLS certificate verification (insecure registries only). */
  readonly insecureSkipVerify?: boolean;
  /** Fail when the server says nothing for this long (connect, headers or body). */
  readonly idleTimeoutMs?: number;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: http.IncomingMessage;
}

const DEFAULT_IDLE_TIMEOUT_MS = 30_000;

export function httpRequest(url: URL, options: HttpRequestOptions = {}): Promise<HttpResponse> {
  const transport = url.protocol === 'https:' ? https : http;
  const idle = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
  return new Promise((resolve, reject) => {
    const request = transport.request(
      url,
      {
        method: options.method ?? 'GET',
        headers: { 'User-Agent': 'caisson', ...options.headers },
        ...(url.protocol === 'https:' ? { rejectUnauthorized: !options.insecureSkipVerify } : {}),
      },
      (response) => {
        response.setTimeout(idle, () => response.destroy(new Error(`${url.host} sent nothing for ${idle} ms`)));
        resolve({ status: response.statusCode ?? 0, headers: response.headers, body: response });
      },
    );
    request.setTimeout(idle, () => request.destroy(new Error(`${url.host} did not answer within ${idle} ms`)));
    request.on('error', reject);
    request.end(options.body);
  });
}

/** Reads a whole (small) body, refusing more than `limit` bytes. */
export async function readBody(response: HttpResponse, limit: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of response.body as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      response.body.destroy();
      throw new Error(`response body is larger than ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

/** Drains and discards a body so the connection can be reused. */
export function discardBody(response: HttpResponse): void {
  response.body.resume();
}
