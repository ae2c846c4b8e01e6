// The part of spdy-transport (no published types) that the SPDY streaming code and its test
// client (test/support/spdy-client.ts) use.
declare module 'spdy-transport' {
  import type { Duplex } from 'node:stream';

  export interface SpdyStream extends Duplex {
    readonly id: number;
    /** Lower-case names; a header sent several times (or joined with NUL) is an array. */
    readonly headers: Record<string, string | string[] | undefined>;
    respond(status: number, headers: Record<string, string>, callback?: (error?: Error) => void): void;
    abort(code?: string, callback?: () => void): void;
    /** Client side: sends the SYN_STREAM now (request() otherwise sends it on the next tick). */
    send(callback?: (error?: Error) => void): void;
  }

  export interface SpdyRequestOptions {
    readonly method?: string;
    readonly path: string;
    readonly headers?: Record<string, string>;
  }

  export interface SpdyConnection extends NodeJS.EventEmitter {
    readonly socket: Duplex;
    start(version: number): void;
    request(options: SpdyRequestOptions, callback?: (error: Error | null, stream: SpdyStream) => void): SpdyStream;
    end(callback?: () => void): void;
    on(event: 'stream', listener: (stream: SpdyStream) => void): this;
    on(event: 'error', listener: (error: Error) => void): this;
    on(event: 'close', listener: (error?: Error) => void): this;
    on(event: string, listener: (...args: never[]) => void): this;
  }

  export interface SpdyConnectionOptions {
    readonly protocol: 'spdy' | 'http2';
    readonly isServer: boolean;
    readonly autoSpdy31?: boolean;
    readonly maxStreams?: number;
    readonly windowSize?: number;
  }

  export const connection: {
    create(socket: Duplex, options: SpdyConnectionOptions): SpdyConnection;
  };
}
