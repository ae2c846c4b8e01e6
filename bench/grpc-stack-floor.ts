import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { packageInfo } from '../core/package-info';
import { waitUntilServing } from '../test/support/spawned-daemon';
import { rssOf } from './bench-engines';

// The memory floor of the stack Caisson is asked to be built on: node, @grpc/grpc-js serving the
// CRI v1 and v1alpha2 services and Caisson's own (protos loaded as the daemon loads them), with
// every method answering an empty message, and nothing else. Run with the node flags and the
// environment of bin/caissond's first line, and measured as the comparison measures an idle
// engine (VmRSS, 2 s after it answers). What the daemon holds beyond this is its own.
// The server itself is bench/grpc-stack-floor-server.ts, a program of its own that loads nothing else.

const IDLE_WAIT_MS = 2_000;

/** bin/caissond's first line: `#!/usr/bin/env -S NAME=VALUE… node <flags>`. */
function caissondLaunch(): { env: Record<string, string>; nodeFlags: string[] } {
  const line = fs.readFileSync(path.join(packageInfo().root, 'bin', 'caissond'), 'utf8').split('\n')[0] ?? '';
  const words = line.replace(/^#!\S*env -S /, '').split(/\s+/).filter(Boolean);
  const node = words.indexOf('node');
  const env = Object.fromEntries(words.slice(0, Math.max(node, 0)).map((word) => word.split('=', 2) as [string, string]));
  return { env, nodeFlags: node < 0 ? [] : words.slice(node + 1) };
}

/** VmRSS (bytes) of the stack floor, started as caissond is and idle for 2 s. */
export async function measureStackFloor(work: string): Promise<number> {
  const socket = path.join(work, 'grpc-stack-floor.sock');
  const { env, nodeFlags } = caissondLaunch();
  const child = spawn(process.execPath, [...nodeFlags, path.join(__dirname, 'grpc-stack-floor-server.js'), socket], { stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env } });
  let said = '';
  child.stderr.on('data', (chunk: Buffer) => (said += chunk.toString()));
  const exited = new Promise<number | string>((resolve) => child.once('exit', (code, signal) => resolve(code ?? signal ?? 'unknown')));
  try {
    await waitUntilServing({ child, output: () => said, exited }, socket, 30_000);
    await delay(IDLE_WAIT_MS);
    return rssOf([child.pid ?? 0]);
  } finally {
    child.kill('SIGKILL');
    await exited;
  }
}
