import { describeError } from '../errors';
import type { OciRuntime } from '../runtime/runtime-registry';
import type { Logger } from '../tokens';

/**
 * Sends a signal through the runtime; false (logged) when it fails, for example because the
 * process is gone: the caller then asks the runtime for the container's real state.
 */
export async function signalContainer(runtime: OciRuntime, logger: Logger, id: string, signal: string, all: boolean): Promise<boolean> {
  try {
    await runtime.kill(id, signal, all);
    return true;
  } catch (error) {
    logger.warn(`${signal}${all ? ' (all processes)' : ''} to container ${id} failed: ${describeError(error)}`);
    return false;
  }
}
