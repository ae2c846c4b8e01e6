import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { SpdyConnection } from 'spdy-transport';
import { WebSocketServer, type WebSocket } from 'ws';
import { chooseSubprotocol, EXEC_SUBPROTOCOLS, PORT_FORWARD_SUBPROTOCOLS } from './channel-protocol';
import {
  acceptSpdyUpgrade,
  ACCEPTED_PROTOCOLS_HEADER,
  isSpdyUpgrade,
  negotiateStreamProtocol,
  offeredStreamProtocols,
  SPDY_EXEC_PROTOCOLS,
  SPDY_PORT_FORWARD_PROTOCOLS,
} from './spdy-connection';
import { TokenCache, type TokenCacheOptions } from './token-cache';

// The streaming server: Exec, Attach and PortForward answer a URL on it (`/exec/<token>`,
// `/attach/<token>`, `/portforward/<token>`), and the client upgrades that URL to a WebSocket
// speaking the Kubernetes channel protocols, or to SPDY/3.1. A token works once and for one minute; anything else is a 404
// saying so. The server knows nothing of containers: each pending request carries the function
// that serves its WebSocket.

export type StreamKind = 'exec' | 'attach' | 'portforward';

/** What a token stands for: the kind of URL it is valid on and what serves the upgraded socket. */
export interface PendingStream {
  readonly kind: StreamKind;
  serve(ws: WebSocket, subprotocol: string, query: URLSearchParams): void;
  /** The same over a SPDY/3.1 upgrade (kubectl, the kubelet's proxy), with the negotiated protocol. */
  serveSpdy?(connection: SpdyConnection, protocol: string, query: URLSearchParams): void;
}

export interface StreamingServerOptions {
  /** 0 for a free port. */
  readonly port: number;
  /** 127.0.0.1 unless told. */
  readonly host?: string;
  readonly tokens?: TokenCacheOptions;
  /** Told of a session that failed after the upgrade. */
  readonly onError?: (error: unknown) => void;
}

const SUBPROTOCOLS: Record<StreamKind, readonly string[]> = {
  exec: EXEC_SUBPROTOCOLS,
  attach: EXEC_SUBPROTOCOLS,
  portforward: PORT_FORWARD_SUBPROTOCOLS,
};

const SPDY_PROTOCOLS: Record<StreamKind, readonly string[]> = {
  exec: SPDY_EXEC_PROTOCOLS,
  attach: SPDY_EXEC_PROTOCOLS,
  portforward: SPDY_PORT_FORWARD_PROTOCOLS,
};

export class StreamingServer {
  private readonly tokens: TokenCache<PendingStream>;
  private readonly http: http.Server;
  private readonly sockets: Record<StreamKind, WebSocketServer>;
  private readonly host: string;
  private readonly spdyConnections = new Set<SpdyConnection>();
  private listening = false;

  constructor(private readonly options: StreamingServerOptions) {
    this.host = options.host ?? '127.0.0.1';
    this.tokens = new TokenCache(options.tokens);
    const wss = (kind: StreamKind): WebSocketServer =>
      new WebSocketServer({ noServer: true, handleProtocols: (offered) => chooseSubprotocol(offered, SUBPROTOCOLS[kind]) ?? false });
    this.sockets = { exec: wss('exec'), attach: wss('attach'), portforward: wss('portforward') };
    this.http = http.createServer((req, res) => this.onRequest(req, res));
    this.http.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => this.onUpgrade(req, socket, head));
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.http.once('error', reject);
      this.http.listen(this.options.port, this.host, () => {
        this.http.off('error', reject);
        resolve();
      });
    });
    this.listening = true;
  }

  get port(): number {
    return (this.http.address() as AddressInfo).port;
  }

  /** Keeps `pending` under a new token and answers the URL the client is to open. */
  register(pending: PendingStream): string {
    if (!this.listening) throw new Error('the streaming server is not listening');
    const token = this.tokens.insert(pending);
    const host = urlHost(this.host);
    return `http://${host.includes(':') ? `[${host}]` : host}:${this.port}/${pending.kind}/${token}`;
  }

  /** Ends every session and stops listening; safe to call twice. */
  async close(): Promise<void> {
    if (!this.listening) return;
    this.listening = false;
    for (const wss of Object.values(this.sockets)) {
      for (const ws of wss.clients) ws.terminate();
      wss.close();
    }
    for (const connection of this.spdyConnections) connection.socket.destroy();
    const closed = new Promise<void>((resolve) => this.http.close(() => resolve()));
    this.http.closeAllConnections();
    await closed;
  }

  private route(req: http.IncomingMessage): { kind: StreamKind; token: string; query: URLSearchParams } | undefined {
    const url = new URL(req.url ?? '/', 'http://streaming');
    const match = /^\/(exec|attach|portforward)\/([A-Za-z0-9_-]+)$/.exec(url.pathname);
    if (!match) return undefined;
    return { kind: match[1] as StreamKind, token: match[2] as string, query: url.searchParams };
  }

  private onRequest(req: http.IncomingMessage, res: http.ServerResponse): void {
    const route = this.route(req);
    if (!route || !this.tokens.has(route.token)) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end(notFoundText(route?.kind));
      return;
    }
    res
      .writeHead(400, { 'content-type': 'text/plain' })
      .end(
        `this ${route.kind} URL must be opened with a WebSocket upgrade (subprotocols: ${SUBPROTOCOLS[route.kind].join(', ')}) or a SPDY/3.1 upgrade (X-Stream-Protocol-Version: ${SPDY_PROTOCOLS[route.kind].join(', ')})\n`,
      );
  }

  private onUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): void {
    const route = this.route(req);
    if (!route) return refuse(socket, 404, notFoundText(undefined));
    if (isSpdyUpgrade(req)) return this.onSpdyUpgrade(req, socket, head, route);
    const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((p) => p.trim()).filter((p) => p !== '');
    const supported = SUBPROTOCOLS[route.kind];
    if ((req.headers.upgrade ?? '').toLowerCase() !== 'websocket') {
      return refuse(socket, 400, `only WebSocket and SPDY/3.1 upgrades are supported on ${route.kind} URLs\n`);
    }
    if (offered.length > 0 && chooseSubprotocol(offered, supported) === undefined) {
      return refuse(socket, 400, `none of the offered subprotocols (${offered.join(', ')}) is supported; use one of ${supported.join(', ')}\n`);
    }
    const pending = this.tokens.consume(route.token);
    if (!pending || pending.kind !== route.kind) return refuse(socket, 404, notFoundText(route.kind));
    this.sockets[route.kind].handleUpgrade(req, socket, head, (ws) => {
      try {
        pending.serve(ws, ws.protocol, route.query);
      } catch (error) {
        this.options.onError?.(error);
        ws.close(1011, 'internal error');
      }
    });
  }

  private onSpdyUpgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer, route: { kind: StreamKind; token: string; query: URLSearchParams }): void {
    const supported = SPDY_PROTOCOLS[route.kind];
    const offered = offeredStreamProtocols(req.headers);
    if (offered.length === 0) return refuse(socket, 400, `unable to upgrade: the X-Stream-Protocol-Version header is required (one of ${supported.join(', ')})\n`);
    const protocol = negotiateStreamProtocol(offered, supported);
    if (protocol === undefined) {
      return refuse(
        socket,
        403,
        `unable to upgrade: unable to negotiate protocol: client supports ${offered.join(', ')}, server accepts ${supported.join(', ')}\n`,
        supported.map((p) => `${ACCEPTED_PROTOCOLS_HEADER}: ${p}\r\n`).join(''),
      );
    }
    const pending = this.tokens.consume(route.token);
    if (!pending || pending.kind !== route.kind) return refuse(socket, 404, notFoundText(route.kind));
    const serveSpdy = pending.serveSpdy;
    if (!serveSpdy) return refuse(socket, 400, `this ${route.kind} session cannot be served over SPDY; use a WebSocket upgrade\n`);
    let connection: SpdyConnection;
    try {
      connection = acceptSpdyUpgrade(socket, head, protocol);
    } catch (error) {
      this.options.onError?.(error);
      socket.destroy();
      return;
    }
    this.spdyConnections.add(connection);
    connection.on('close', () => this.spdyConnections.delete(connection));
    connection.socket.on('close', () => this.spdyConnections.delete(connection));
    try {
      serveSpdy(connection, protocol, route.query);
    } catch (error) {
      this.options.onError?.(error);
      connection.socket.destroy();
    }
  }
}

/**
 * The host URLs name: the bind address, except that a server bound to every interface hands out
 * loopback, since the URL's reader (the kubelet, crictl) runs on this node.
 */
function urlHost(bindAddress: string): string {
  if (bindAddress === '0.0.0.0') return '127.0.0.1';
  if (bindAddress === '::') return '::1';
  return bindAddress;
}

function notFoundText(kind: StreamKind | undefined): string {
  if (kind === undefined) return 'not found: streaming URLs are /exec/<token>, /attach/<token> and /portforward/<token>\n';
  return `${kind} session not found: the token is unknown, already used or expired (tokens work once, within one minute)\n`;
}

function refuse(socket: Duplex, status: number, body: string, extraHeaders = ''): void {
  const reason = http.STATUS_CODES[status] ?? '';
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extraHeaders}Connection: close\r\n\r\n${body}`);
}
