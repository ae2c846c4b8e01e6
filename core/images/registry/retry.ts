import { setTimeout as delay } from 'node:timers/promises';

// Retries with exponential backoff for transient registry failures (connection resets, 5xx,
// 429). Errors marked permanent (auth, not found, bad digest) are thrown at once.

export class TransientError extends Error {}

export async function withRetries<T>(work: () => Promise<T>, attempts = 3, firstDelayMs = 250): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await work();
    } catch (error) {
      lastError = error;
      if (!isTransient(error) || attempt === attempts - 1) break;
      await delay(firstDelayMs * 4 ** attempt);
    }
  }
  throw lastError;
}

const TRANSIENT_CODES = new Set(['ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EAI_AGAIN', 'ECONNABORTED']);

function isTransient(error: unknown): boolean {
  if (error instanceof TransientError) return true;
  const code = (error as NodeJS.ErrnoException | undefined)?.code;
  return typeof code === 'string' && TRANSIENT_CODES.has(code);
}
