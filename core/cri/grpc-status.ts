import * as grpc from '@grpc/grpc-js';
import { describeError, errorCodeOf, type ErrorCode } from '../errors';

// Maps Caisson's error codes to gRPC status codes, the one place this translation happens.

const STATUS_OF: Record<ErrorCode, grpc.status> = {
  INVALID_ARGUMENT: grpc.status.INVALID_ARGUMENT,
  NOT_FOUND: grpc.status.NOT_FOUND,
  ALREADY_EXISTS: grpc.status.ALREADY_EXISTS,
  FAILED_PRECONDITION: grpc.status.FAILED_PRECONDITION,
  DEADLINE_EXCEEDED: grpc.status.DEADLINE_EXCEEDED,
  RESOURCE_EXHAUSTED: grpc.status.RESOURCE_EXHAUSTED,
  UNIMPLEMENTED: grpc.status.UNIMPLEMENTED,
  UNAVAILABLE: grpc.status.UNAVAILABLE,
  UNAUTHENTICATED: grpc.status.UNAUTHENTICATED,
  PERMISSION_DENIED: grpc.status.PERMISSION_DENIED,
  DATA_LOSS: grpc.status.DATA_LOSS,
  INTERNAL: grpc.status.INTERNAL,
};

export function toServiceError(error: unknown): Partial<grpc.StatusObject> & { code: grpc.status; details: string } {
  return { code: STATUS_OF[errorCodeOf(error)], details: describeError(error), metadata: new grpc.Metadata() };
}

export function statusObject(code: grpc.status, details: string): Partial<grpc.StatusObject> & { code: grpc.status; details: string } {
  return { code, details, metadata: new grpc.Metadata() };
}
