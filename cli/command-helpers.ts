import type { CriClient } from './cri-client';

// What the pod and container commands share: error text, per-ID loops, label selectors, pulls.

/** Long RPCs (pulls, stopping and removing pods) get more than the client's default 30 s. */
export const PULL_TIMEOUT_MS = 15 * 60_000;
export const REMOVE_TIMEOUT_MS = 2 * 60_000;

/** The text main prints for an error: a gRPC error's details, otherwise its message. */
export function errorText(error: unknown): string {
  const details = (error as { details?: unknown }).details;
  if (typeof details === 'string' && details !== '') return details;
  return error instanceof Error ? error.message : String(error);
}

/** Whether a gRPC error is NOT_FOUND (code 5). */
export function isNotFound(error: unknown): boolean {
  return (error as { code?: unknown }).code === 5;
}

/**
 * Runs `action` for each ID in turn, going on after a failure (like crictl). Every failure but
 * the last is printed as `caisson: …`; the last is thrown, so main prints it and exits 1.
 */
export async function forEachId(ids: readonly string[], action: (id: string) => Promise<void>): Promise<void> {
  const failures: unknown[] = [];
  for (const id of ids) {
    try {
      await action(id);
    } catch (error) {
      failures.push(error);
    }
  }
  const last = failures.pop();
  for (const failure of failures) process.stderr.write(`caisson: ${errorText(failure)}\n`);
  if (last !== undefined) throw last;
}

/** commander collector for a repeatable `--label key=value`. */
export function collectLabel(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const equals = value.indexOf('=');
  if (equals <= 0) throw new Error(`--label must be key=value, not "${value}"`);
  return { ...previous, [value.slice(0, equals)]: value.slice(equals + 1) };
}

/** A regular expression from a `--name`/`--namespace` filter (crictl matches them as regexps). */
export function filterRegExp(option: string, pattern: string | undefined): RegExp | undefined {
  if (pattern === undefined) return undefined;
  try {
    return new RegExp(pattern);
  } catch (error) {
    throw new Error(`${option} "${pattern}" is not a regular expression: ${(error as Error).message}`);
  }
}

/** Compares CRI timestamps (int64 nanoseconds as strings), newest first. */
export function newestFirst(a: { created_at?: unknown }, b: { created_at?: unknown }): number {
  const left = BigInt(String(a.created_at ?? 0));
  const right = BigInt(String(b.created_at ?? 0));
  return left === right ? 0 : left > right ? -1 : 1;
}

/** The image a container config names. */
export function imageOf(containerConfig: Record<string, unknown>): string {
  const image = (containerConfig['image'] as { image?: unknown } | undefined)?.image;
  if (typeof image !== 'string' || image === '') throw new Error('the container config names no image (image.image)');
  return image;
}

/** Pulls the image unless the daemon has it (crictl's --with-pull). */
export async function pullIfAbsent(client: CriClient, image: string, sandboxConfig: Record<string, unknown>): Promise<void> {
  const status = await client.call('ImageStatus', { image: { image } });
  if (status.image) return;
  await client.call('PullImage', { image: { image }, sandbox_config: sandboxConfig }, { timeoutMs: PULL_TIMEOUT_MS });
}
