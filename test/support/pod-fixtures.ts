import * as fs from 'node:fs';
import { setTimeout as delay } from 'node:timers/promises';
import type { CriClient } from '../../cli/cri-client';

// CRI configs for pod and container tests, in the shapes kubelet and crictl send, and small
// helpers to drive a container through its life.

let counter = 0;

export function podConfig(logDirectory: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  counter += 1;
  return {
    metadata: { name: `pod-${counter}`, namespace: 'caisson-test', uid: `uid-${process.pid}-${counter}`, attempt: 0 },
    hostname: `pod-${counter}`,
    log_directory: logDirectory,
    labels: { app: 'test' },
    annotations: { 'caisson.test/pod': String(counter) },
    linux: { security_context: { namespace_options: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    ...overrides,
  };
}

export function containerConfig(name: string, image: string, command: string[], overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    metadata: { name, attempt: 0 },
    image: { image },
    command,
    log_path: `${name}.log`,
    labels: { container: name },
    ...overrides,
  };
}

export async function runPod(client: CriClient, config: Record<string, unknown>, runtimeHandler = ''): Promise<string> {
  const { pod_sandbox_id } = await client.call('RunPodSandbox', { config, runtime_handler: runtimeHandler });
  return String(pod_sandbox_id);
}

/** Creates and starts a container; resolves with its ID. */
export async function startContainer(client: CriClient, podId: string, pod: Record<string, unknown>, config: Record<string, unknown>): Promise<string> {
  const { container_id } = await client.call('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: pod });
  await client.call('StartContainer', { container_id });
  return String(container_id);
}

/** Polls ContainerStatus until the container has exited (or fails after `timeoutMs`). */
export async function waitForExit(client: CriClient, containerId: string, timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status } = await client.call('ContainerStatus', { container_id: containerId });
    if (status?.state === 'CONTAINER_EXITED') return status;
    if (Date.now() > deadline) throw new Error(`container ${containerId} still ${status?.state} after ${timeoutMs} ms`);
    await delay(50);
  }
}

/** The CRI log lines of a file: [stream, tag, text] without timestamps (checked for form). */
export function criLogLines(file: string): [string, string, string][] {
  return fs
    .readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const match = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d+(?:Z|[+-]\d\d:\d\d)) (stdout|stderr) ([FP]) (.*)$/.exec(line);
      if (!match) throw new Error(`not a CRI log line: ${JSON.stringify(line)}`);
      return [match[2] ?? '', match[3] ?? '', match[4] ?? ''];
    });
}
