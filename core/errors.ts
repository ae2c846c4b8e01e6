// Every error Caisson raises on purpose lives here. Each carries a `code` that the CRI layer maps
// to a gRPC status, so a client can act on it, and a message that names the object and the cause.
// The code is a plain string (not an instanceof check) so errors thrown by a third-party plugin
// that bundles its own copy of this file still map correctly.

export type ErrorCode =
  | 'INVALID_ARGUMENT'
  | 'NOT_FOUND'
  | 'ALREADY_EXISTS'
  | 'FAILED_PRECONDITION'
  | 'DEADLINE_EXCEEDED'
  | 'RESOURCE_EXHAUSTED'
  | 'UNIMPLEMENTED'
  | 'UNAVAILABLE'
  | 'UNAUTHENTICATED'
  | 'PERMISSION_DENIED'
  | 'DATA_LOSS'
  | 'INTERNAL';

export class CaissonError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

export class InvalidArgumentError extends CaissonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}

export class NotFoundError extends CaissonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('NOT_FOUND', message, options);
  }
}

export class AlreadyExistsError extends CaissonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('ALREADY_EXISTS', message, options);
  }
}

export class FailedPreconditionError extends CaissonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('FAILED_PRECONDITION', message, options);
  }
}

export class DeadlineExceededError extends CaissonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DEADLINE_EXCEEDED', message, options);
  }
}

export class ResourceExhaustedError extends CaissonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('RESOURCE_EXHAUSTED', message, options);
  }
}

export class UnimplementedError extends CaissonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNIMPLEMENTED', message, options);
  }
}

export class UnavailableError extends CaissonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAVAILABLE', message, options);
  }
}

/** A registry wants credentials we do not have, or refused the ones given. */
export class UnauthenticatedError extends CaissonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('UNAUTHENTICATED', message, options);
  }
}

export class PermissionDeniedError extends CaissonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('PERMISSION_DENIED', message, options);
  }
}

/** Content did not match its digest (a tampered or corrupted blob or manifest). */
export class DataLossError extends CaissonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('DATA_LOSS', message, options);
  }
}

/** daemon.json (or a plugin's section of it) is wrong; the daemon must not start. */
export class ConfigError extends CaissonError {
  constructor(message: string, options?: { cause?: unknown }) {
    super('INVALID_ARGUMENT', message, options);
  }
}

/** The set of plugin manifests is inconsistent (duplicate, missing requirement, cycle, …). */
export class PluginValidationError extends CaissonError {
  constructor(message: string) {
    super('FAILED_PRECONDITION', message);
  }
}

/** A plugin's init threw; the message names the plugin and `cause` keeps the original error. */
export class PluginInitError extends CaissonError {
  constructor(
    readonly plugin: string,
    cause: unknown,
  ) {
    super('INTERNAL', `plugin "${plugin}" failed to start: ${describeError(cause)}`, { cause });
  }
}

/** A program we spawned (runc, conmon, mount, …) failed; the message includes what it said. */
export class ProgramError extends CaissonError {
  constructor(
    readonly program: string,
    readonly args: readonly string[],
    readonly exitCode: number | null,
    readonly stderr: string,
    reason: string,
  ) {
    const said = stderr.trim() ? `: ${stderr.trim()}` : '';
    super('INTERNAL', `${program} ${args.join(' ')} ${reason}${said}`);
  }
}

/** The message of anything thrown, without assuming it is an Error. */
export function describeError(error: unknown): string {
  if (error instanceof Error) return error.message;
  return String(error);
}

/** The code of a thrown value, INTERNAL for anything that is not a CaissonError. */
export function errorCodeOf(error: unknown): ErrorCode {
  if (typeof error === 'object' && error !== null && 'code' in error) {
    const code = (error as { code: unknown }).code;
    if (typeof code === 'string' && KNOWN_CODES.has(code)) return code as ErrorCode;
  }
  return 'INTERNAL';
}

const KNOWN_CODES: ReadonlySet<string> = new Set<ErrorCode>([
  'INVALID_ARGUMENT',
  'NOT_FOUND',
  'ALREADY_EXISTS',
  'FAILED_PRECONDITION',
  'DEADLINE_EXCEEDED',
  'RESOURCE_EXHAUSTED',
  'UNIMPLEMENTED',
  'UNAVAILABLE',
  'UNAUTHENTICATED',
  'PERMISSION_DENIED',
  'DATA_LOSS',
  'INTERNAL',
]);
