import { spawn } from 'node:child_process';
import WebSocket from 'ws';
import { spdyUpgrade } from '../test/support/spdy-client';
import { RUNC_TIMEOUT_MS } from './bench-support';

// The client side of the exec benchmark's streaming runs: an exec session over WebSocket v5 (as
// kubectl's WebSocket executor), `cat` over SPDY/3.1 (as kubectl's SPDY executor), and the
// floor's `runc exec <id> cat`, each checking the bytes that come back as they arrive.

/** One stdin message per 32 KiB, as kubectl's io.Copy writes them. */
const WS_CHUNK_BYTES = 32 * 1024;
/** Sends the client lets wait for its socket before it stops producing (1 MiB). */
const WS_MAX_IN_FLIGHT = 32;
const V5 = 'v5.channel.k8s.io';
/** kubectl's newest SPDY exec protocol (v5 is WebSocket only). */
const SPDY_PROTOCOL = 'v4.channel.k8s.io';
/** A streaming session that has not ended by then is dropped and the run fails (rather than hangs). */
const SESSION_TIMEOUT_MS = 60_000;

/** Compares output with the payload as it arrives, keeping none of it (the process RSS is reported). */
export class PayloadCheck {
  private received = 0;
  private firstDifference: number | undefined;

  constructor(private readonly payload: Buffer) {}

  push(chunk: Buffer): void {
    if (this.firstDifference === undefined && !chunk.equals(this.payload.subarray(this.received, this.received + chunk.length))) this.firstDifference = this.received;
    this.received += chunk.length;
  }

  /** Throws unless exactly the payload came back. */
  finish(what: string): void {
    if (this.firstDifference !== undefined) throw new Error(`${what}: the output differs from the input from byte ${this.firstDifference}`);
    if (this.received !== this.payload.length) throw new Error(`${what}: ${this.received} bytes came back of ${this.payload.length}`);
  }
}

/**
 * Opens an exec session on `url` (v5, as kubectl's WebSocket executor), hands stdout to
 * `onStdout`, runs `drive` once open; resolves when the server has sent a Success Status on
 * channel 3 and closed the socket.
 */
export function wsExec(url: string, onStdout: (chunk: Buffer) => void, drive: (ws: WebSocket) => void = () => undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    // No compression: kubectl (gorilla/websocket) does not negotiate it.
    const ws = new WebSocket(url, [V5], { perMessageDeflate: false });
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ws.terminate();
    }, SESSION_TIMEOUT_MS);
    let status = '';
    let stderr = '';
    ws.on('open', () => drive(ws));
    ws.on('message', (data: Buffer) => {
      const body = data.subarray(1);
      if (data[0] === 1) onStdout(body);
      else if (data[0] === 2) stderr += body.toString();
      else if (data[0] === 3) status += body.toString();
    });
    ws.on('close', (code) => {
      clearTimeout(timer);
      if (timedOut) return reject(new Error(`exec session still open after ${SESSION_TIMEOUT_MS} ms; dropped it`));
      if (status === '') return reject(new Error(`exec session closed (${code}) without a Status${stderr ? `; stderr: ${stderr}` : ''}`));
      const parsed = JSON.parse(status) as { status?: string; message?: string };
      if (parsed.status !== 'Success') return reject(new Error(`exec failed: ${parsed.message ?? status}${stderr ? `; stderr: ${stderr}` : ''}`));
      resolve();
    });
    ws.on('unexpected-response', (_request, response) => {
      clearTimeout(timer);
      reject(new Error(`exec URL answered HTTP ${response.statusCode}`));
      ws.terminate(); // with this listener, ws leaves the refused connection open
    });
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(error);
    });
  });
}

/**
 * Sends `payload` on stdin in 32 KiB messages, never more than WS_MAX_IN_FLIGHT unwritten to
 * the socket (as a client paced by its own socket would), then half-closes stdin.
 */
export function sendPayload(ws: WebSocket, payload: Buffer): void {
  let offset = 0;
  let inFlight = 0;
  let closed = false;
  const pump = (): void => {
    while (inFlight < WS_MAX_IN_FLIGHT && offset < payload.length) {
      const end = Math.min(offset + WS_CHUNK_BYTES, payload.length);
      inFlight++;
      ws.send(Buffer.concat([Buffer.from([0]), payload.subarray(offset, end)]), (error) => {
        inFlight--;
        if (!error) pump();
      });
      offset = end;
    }
    if (offset < payload.length || closed) return;
    closed = true;
    ws.send(Buffer.from([255, 0]));
  };
  pump();
}

/** `cat` over SPDY as kubectl opens it (error, stdin, stdout, stderr streams), `payload` on stdin. */
export async function spdyCatExec(url: string, payload: Buffer): Promise<void> {
  const answer = await spdyUpgrade(url, [SPDY_PROTOCOL]);
  if (answer.status !== 101 || !answer.session) throw new Error(`SPDY upgrade answered ${answer.status}: ${answer.body}`);
  const session = answer.session;
  // Dropping the connection ends every stream, so the awaits below reject instead of waiting on.
  const timer = setTimeout(() => session.destroy(), SESSION_TIMEOUT_MS);
  try {
    const error = await session.openStream({ streamtype: 'error' });
    const stdin = await session.openStream({ streamtype: 'stdin' });
    const stdout = await session.openStream({ streamtype: 'stdout' });
    const stderr = await session.openStream({ streamtype: 'stderr' });
    const check = new PayloadCheck(payload);
    stdout.stream.on('data', (chunk: Buffer) => check.push(chunk));
    stdin.stream.end(payload);
    await stdout.received;
    const status = JSON.parse(await error.text()) as { status?: string; message?: string };
    if (status.status !== 'Success') throw new Error(`SPDY exec of cat failed: ${status.message ?? JSON.stringify(status)}; stderr: ${await stderr.text()}`);
    check.finish('SPDY exec of cat');
  } finally {
    clearTimeout(timer);
    session.destroy(); // as kubectl does once the error stream has ended
  }
}

/** The floor: `runc exec <id> cat` with `payload` piped to its stdin, checked as it comes back. */
export function runcCat(root: string, id: string, payload: Buffer): Promise<void> {
  const args = ['--root', root, 'exec', id, 'cat'];
  return new Promise((resolve, reject) => {
    const child = spawn('runc', args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const timer = setTimeout(() => child.kill('SIGKILL'), RUNC_TIMEOUT_MS);
    const check = new PayloadCheck(payload);
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => check.push(chunk));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdin.on('error', () => undefined); // its exit status tells the story
    child.on('error', (error) => {
      clearTimeout(timer);
      reject(new Error(`runc ${args.join(' ')} failed to start: ${error.message}`));
    });
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`runc ${args.join(' ')} ${signal ? `was killed by ${signal}` : `exited with status ${code}`}: ${stderr.trim()}`));
      try {
        check.finish(`runc ${args.join(' ')}`);
        resolve();
      } catch (error) {
        reject(error);
      }
    });
    child.stdin.end(payload);
  });
}
