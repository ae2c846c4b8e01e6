import type { Logger } from '../tokens';

// What recovery at start-up says: one line per object it touched, naming the object, whether the
// interrupted operation was completed or rolled back, and what was found. Operators grep for
// "recovery:" after a crash; the crash tests read the same lines.

export type RecoveryAction = 'completed' | 'rolled back' | 'removed';

export function logRecovery(logger: Logger, object: string, action: RecoveryAction, found: string): void {
  logger.warn(`recovery: ${object} ${action}: ${found}`);
}
