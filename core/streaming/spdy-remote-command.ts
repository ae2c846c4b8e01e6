import { StringDecoder } from 'node:string_decoder';
import type { SpdyConnection, SpdyStream } from 'spdy-transport';
import { failureStatus, type KubeStatus } from './channel-protocol';
import { parseTerminalSize, type RemoteCommand } from './remote-command';
import { pauseIncoming, resumeIncoming, streamHeader } from './spdy-connection';
import { whenDrained } from './stream-drain';

// Exec or Attach over SPDY (the kubelet's remotecommand server): the client opens one stream per
// `streamType` (error, and stdin/stdout/stderr as the Exec request asked, resize with a TTY);
// once all are there, the session starts. When it ends, stdout and stderr are closed, the error
// stream gets the outcome (v4: a Status JSON, Success too; v1-v3: the message of a failure
// only) and is closed, and the connection goes away. A connection that closes early aborts the
// session. Resize messages are JSON ({"Width":…,"Height":…}), one after another on their stream.

/** How long the client has to open every expected stream (the kubelet's default). */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;
/**
 * Once the outcome is handed to the connection, how long the client has to close it itself, as
 * kubectl does on reading the error stream to its end; time enough for the rest of the output to
 * cross the socket. After that the connection is dropped (a client still holding stdin open).
 */
const CLOSE_GRACE_MS = 10_000;

export type ExecStreamType = 'error' | 'stdin' | 'stdout' | 'stderr' | 'resize';

/** The stream types a client opens for this request and protocol. */
export function expectedExecStreams(target: Pick<RemoteCommand, 'stdin' | 'stdout' | 'stderr' | 'tty'>, protocol: string): ExecStreamType[] {
  const types: ExecStreamType[] = ['error'];
  if (target.stdin) types.push('stdin');
  if (target.stdout) types.push('stdout');
  if (target.stderr && !target.tty) types.push('stderr');
  if (target.tty && (protocol === 'v3.channel.k8s.io' || protocol === 'v4.channel.k8s.io')) types.push('resize');
  return types;
}

/** What the error stream carries for `status` under `protocol`; undefined for nothing. */
export function errorStreamPayload(status: KubeStatus, protocol: string): string | undefined {
  if (protocol === 'v4.channel.k8s.io') return JSON.stringify(status);
  return status.status === 'Failure' ? (status.message ?? 'failed') : undefined;
}

export function serveRemoteCommandSpdy(
  connection: SpdyConnection,
  protocol: string,
  target: RemoteCommand,
  onError: (error: unknown) => void,
  streamTimeoutMs = STREAM_CREATION_TIMEOUT_MS,
): void {
  const expected = new Set<string>(expectedExecStreams(target, protocol));
  const streams = new Map<string, SpdyStream>();
  let started = false;
  let finished = false;
  let closed = false;
  let abort: () => void = () => undefined;

  const close = (): void => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    connection.end();
    setTimeout(() => connection.socket.destroy(), CLOSE_GRACE_MS).unref();
  };
  const finish = (status: KubeStatus): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    const outputs = [streams.get('stdout'), streams.get('stderr'), streams.get('error')].filter((s): s is SpdyStream => s !== undefined);
    const error = streams.get('error');
    const payload = errorStreamPayload(status, protocol);
    if (error && payload !== undefined) error.write(payload);
    // The client waits for stdout, stderr and error to end; stdin and resize are closed on this
    // side too, so that a client-go reader waiting for the server to close stdin returns.
    for (const stream of streams.values()) stream.end();
    Promise.all(outputs.map((s) => handedOff(s, CLOSE_GRACE_MS))).then(close, close);
  };

  const timer = setTimeout(() => {
    const missing = [...expected].filter((t) => !streams.has(t));
    finish(failureStatus(`timed out waiting for the client to open the ${missing.join(', ')} stream(s) of the ${target.description}`));
  }, streamTimeoutMs);

  connection.on('error', (error: Error) => {
    if (!closed) onError(error);
  });
  connection.on('close', () => {
    clearTimeout(timer);
    closed = true;
    const aborting = abort;
    abort = () => undefined;
    aborting();
  });
  connection.on('stream', (stream: SpdyStream) => {
    const type = streamHeader(stream, 'streamtype') ?? '';
    stream.on('error', () => undefined);
    if (started || finished || streams.has(type) || !expected.has(type)) {
      stream.abort();
      return;
    }
    stream.respond(200, {});
    streams.set(type, stream);
    // Nothing is read from error, stdout or stderr; stdin and resize are read once the session
    // starts (what the client sends before that waits in the stream).
    if (type !== 'stdin' && type !== 'resize') stream.resume();
    if (streams.size < expected.size) return;

    started = true;
    clearTimeout(timer);
    const stdout = streams.get('stdout');
    const stderr = streams.get('stderr');
    const control = target.start(
      {
        stdout: (chunk) => stdout?.write(chunk) ?? true,
        stderr: (chunk) => stderr?.write(chunk) ?? true,
        whenDrained: (resume) => whenDrained([stdout, stderr], resume),
        done: (status) => {
          if (!closed) finish(status);
        },
      },
      onError,
    );
    abort = () => control.abort();
    const stdin = streams.get('stdin');
    stdin?.on('data', (chunk: Buffer) => {
      // A command that reads slower than the client sends: stop reading the connection until it catches up.
      if (control.writeStdin(chunk)) return;
      pauseIncoming(connection);
      control.whenStdinDrained(() => resumeIncoming(connection));
    });
    // The client half-closes stdin (FIN) when its input ends.
    stdin?.on('end', () => control.closeStdin());
    const resize = streams.get('resize');
    if (resize) {
      const messages = new JsonMessageSplitter();
      resize.on('data', (chunk: Buffer) => {
        for (const text of messages.push(chunk)) {
          const size = parseTerminalSize(text);
          if (size) control.resize(size);
        }
      });
    }
  });
}

/**
 * Resolves once everything written on `stream` went to the connection, or the stream is gone, or
 * (should neither be told) after `limitMs`. (spdy-transport's streams are readable-stream 3
 * Duplexes, without `writableFinished`.)
 */
function handedOff(stream: SpdyStream, limitMs: number): Promise<void> {
  return new Promise((resolve) => {
    const state = (stream as unknown as { _writableState?: { finished?: boolean } })._writableState;
    if (state?.finished || stream.destroyed) return resolve();
    const timer = setTimeout(resolve, limitMs);
    const done = (): void => {
      clearTimeout(timer);
      resolve();
    };
    stream.once('finish', done);
    stream.once('close', done);
  });
}

/** Larger than any resize message; past this, what the stream carries is not resize messages. */
const MAX_PENDING_MESSAGE = 4096;

/**
 * Cuts the resize stream into JSON objects. kubectl writes them with a JSON encoder, one after
 * another (a newline between, which the kubelet's decoder does not need either), and a write
 * may hold several or part of one. Objects are told apart by brace depth, outside strings.
 */
export class JsonMessageSplitter {
  private readonly decoder = new StringDecoder('utf8');
  private pending = '';
  private depth = 0;
  private inString = false;
  private escaped = false;
  private start = -1;

  /** The objects `chunk` completes, in order. */
  push(chunk: Buffer | string): string[] {
    const scanFrom = this.pending.length;
    this.pending += typeof chunk === 'string' ? chunk : this.decoder.write(chunk);
    const messages: string[] = [];
    let consumed = 0;
    for (let i = scanFrom; i < this.pending.length; i++) {
      const c = this.pending[i];
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (c === '\\') this.escaped = true;
        else if (c === '"') this.inString = false;
      } else if (c === '"') {
        if (this.depth > 0) this.inString = true;
      } else if (c === '{') {
        if (this.depth === 0) this.start = i;
        this.depth++;
      } else if (c === '}' && this.depth > 0) {
        this.depth--;
        if (this.depth === 0) {
          messages.push(this.pending.slice(this.start, i + 1));
          consumed = i + 1;
        }
      }
      if (this.depth === 0 && !this.inString) consumed = Math.max(consumed, i + 1);
    }
    this.pending = this.pending.slice(consumed);
    if (this.start >= 0) this.start -= consumed;
    if (this.pending.length > MAX_PENDING_MESSAGE) this.reset();
    return messages;
  }

  private reset(): void {
    this.pending = '';
    this.depth = 0;
    this.inString = false;
    this.escaped = false;
    this.start = -1;
  }
}

