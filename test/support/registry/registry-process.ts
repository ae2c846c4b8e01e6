import { spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as https from 'node:https';
import * as net from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';

// The docker-registry child process of a test registry: spawning it with its output captured,
// waiting until it serves /v2/, stopping it, and finding it a free port on 127.0.0.1.

const REGISTRY_BINARY = '/usr/bin/docker-registry';
const READY_TIMEOUT_MS = 15_000;
const STOP_GRACE_MS = 5_000;

// A test process that dies (an uncaught error, mocha killed by ^C) must not leave registries
// listening behind it, so every live child is SIGKILLed when this process exits.
const liveChildren = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of liveChildren) child.kill('SIGKILL');
});

export interface RegistryProcess {
  readonly child: ChildProcess;
  readonly output: () => string;
  readonly exited: Promise<string>;
  readonly port: number;
  readonly url: string;
}

export function spawnRegistry(configPath: string): Omit<RegistryProcess, 'port' | 'url'> {
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

export async function waitUntilReady(registry: Omit<RegistryProcess, 'port' | 'url'>, url: string, caCertPath?: string): Promise<void> {
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
export async function stopChild(child: ChildProcess): Promise<void> {
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

export function findFreePort(): Promise<number> {
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
