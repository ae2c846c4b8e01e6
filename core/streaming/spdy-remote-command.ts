import type { SpdyConnection, SpdyStream } from 'spdy-transport';
import { failureStatus, type KubeStatus } from './channel-protocol';
import { parseTerminalSize, type RemoteCommand } from './remote-command';
import { streamHeader } from './spdy-connection';

// Exec or Attach over SPDY (the kubelet's remotecommand server): the client opens one stream per
// `streamType` (error, and stdin/stdout/stderr as the Exec request asked, resize with a TTY);
// once all are there, the session starts. When it ends, stdout and stderr are closed, the error
// stream gets the outcome (v4: a Status JSON, Success too; v1-v3: the message of a failure
// only) and is closed, and the connection goes away. A connection that closes early aborts the
// session. Resize messages are JSON ({"Width":…,"Height":…}), one after another on their stream.

/** How long the client has to open every expected stream (the kubelet's default). */
export const STREAM_CREATION_TIMEOUT_MS = 30_000;
/** After the outcome is written, how long the client has to close the connection itself. */
const CLOSE_GRACE_MS = 1_000;

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
  let closed = false;
  let abort: () => void = () => undefined;

  const close = (): void => {
    if (closed) return;
    closed = true;
    clearTimeout(timer);
    connection.end();
    // A client that keeps its side open (stdin, resize) is cut off after a moment.
    setTimeout(() => connection.socket.destroy(), CLOSE_GRACE_MS).unref();
  };
  const finish = (status: KubeStatus): void => {
    streams.get('stdout')?.end();
    streams.get('stderr')?.end();
    const error = streams.get('error');
    const payload = errorStreamPayload(status, protocol);
    if (error && payload !== undefined) error.write(payload);
    if (error) error.end(close);
    else close();
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
    abort();
  });
  connection.on('stream', (stream: SpdyStream) => {
    const type = streamHeader(stream, 'streamtype') ?? '';
    stream.on('error', () => undefined);
    if (started || streams.has(type) || !expected.has(type)) {
      stream.abort();
      return;
    }
    stream.respond(200, {});
    streams.set(type, stream);
    // Nothing is read from error, stdout or stderr; stdin and resize are read once the session starts.
    if (type !== 'stdin' && type !== 'resize') stream.resume();
    if (streams.size < expected.size) return;

    started = true;
    clearTimeout(timer);
    const stdout = streams.get('stdout');
    const stderr = streams.get('stderr');
    const control = target.start(
      {
        stdout: (chunk) => stdout?.write(chunk),
        stderr: (chunk) => stderr?.write(chunk),
        done: (status) => {
          if (!closed) finish(status);
        },
      },
      onError,
    );
    abort = () => control.abort();
    const stdin = streams.get('stdin');
    stdin?.on('data', (chunk: Buffer) => control.writeStdin(chunk));
    stdin?.on('end', () => control.closeStdin());
    const resize = streams.get('resize');
    if (resize) readJsonMessages(resize, (text) => {
      const size = parseTerminalSize(text);
      if (size) control.resize(size);
    });
  });
}

/**
 * Calls `onMessage` with each JSON object written on `stream` (kubectl writes them back to back,
 * with no separator, so objects are split by brace depth; strings here hold no braces).
 */
function readJsonMessages(stream: SpdyStream, onMessage: (text: string) => void): void {
  let pending = '';
  stream.on('data', (chunk: Buffer) => {
    pending += chunk.toString();
    let depth = 0;
    let start = 0;
    for (let i = 0; i < pending.length; i++) {
      const c = pending[i];
      if (c === '{') {
        if (depth === 0) start = i;
        depth++;
      } else if (c === '}' && depth > 0) {
        depth--;
        if (depth === 0) {
          onMessage(pending.slice(start, i + 1));
          pending = pending.slice(i + 1);
          i = -1;
        }
      }
    }
    if (pending.length > 4096) pending = ''; // not resize messages; drop rather than grow
  });
}
