import * as grpc from '@grpc/grpc-js';
import { errorCodeOf } from '../errors';
import type { Logger } from '../log/logger';
import type { CallInfo, CriStream, StreamingCriHandler, UnaryCriHandler } from './cri-handler-types';
import type { HandlerRegistry } from './handler-registry';
import type { InFlightCalls } from './in-flight-calls';
import { statusObject, toServiceError } from './grpc-status';
import { nulByteField } from './nul-byte-field';

// Turns the registry's `async (request) => response` handlers into grpc-js service
// implementations: one wrapper answers exactly once, refuses calls until start-up is done,
// answers UNIMPLEMENTED for RPCs nobody contributed, logs, and maps errors to statuses.

export interface AdapterContext {
  readonly registry: HandlerRegistry;
  readonly logger: Logger;
  readonly isReady: () => boolean;
  readonly unimplemented: (rpc: string) => string;
  /** Fires when the daemon starts shutting down: open streams end with UNAVAILABLE. */
  readonly shutdownSignal: AbortSignal;
  /** Unary handlers still running; shutdown waits for them before stopping the plugins. */
  readonly inFlight: InFlightCalls;
  /** Makes what the handler wrote durable; every unary answer, success or error, waits for it. */
  readonly beforeAnswer: () => Promise<void>;
}

export function buildServiceImplementation(
  service: grpc.ServiceDefinition,
  apiVersion: CallInfo['apiVersion'],
  context: AdapterContext,
): grpc.UntypedServiceImplementation {
  const implementation: grpc.UntypedServiceImplementation = {};
  for (const [rpc, method] of Object.entries(service)) {
    implementation[rpc] = method.responseStream
      ? streamingCall(rpc, apiVersion, context)
      : unaryCall(rpc, apiVersion, context);
  }
  return implementation;
}

function unaryCall(rpc: string, apiVersion: CallInfo['apiVersion'], context: AdapterContext): grpc.handleUnaryCall<unknown, unknown> {
  return (call, callback) => {
    const started = process.hrtime.bigint();
    const refusal = refuse(rpc, context, call.request);
    if (refusal) {
      callback(refusal);
      record(context, rpc, apiVersion, refusal.code, started);
      return;
    }
    const handler = context.registry.lookup(rpc)?.handler as UnaryCriHandler<unknown, unknown>;
    const controller = new AbortController();
    call.on('cancelled', () => controller.abort());
    const handled = handler(call.request, { apiVersion, signal: controller.signal });
    // A failed call may have written too (a rollback, a NOTREADY record), so both outcomes wait.
    const work = handled.then(
      async (response) => {
        await context.beforeAnswer();
        return response;
      },
      async (error: unknown) => {
        await context.beforeAnswer().catch(() => undefined);
        throw error;
      },
    );
    context.inFlight.track({ rpc, controller }, work);
    work.then(
      (response) => {
        context.logger.debug('rpc done', { rpc, apiVersion, ms: Number((process.hrtime.bigint() - started) / 1_000_000n) });
        callback(null, response);
        record(context, rpc, apiVersion, grpc.status.OK, started, response);
      },
      (error: unknown) => {
        logFailure(context.logger, rpc, apiVersion, error);
        const serviceError = toServiceError(error);
        callback(serviceError);
        record(context, rpc, apiVersion, serviceError.code, started);
      },
    );
  };
}

function streamingCall(rpc: string, apiVersion: CallInfo['apiVersion'], context: AdapterContext): grpc.handleServerStreamingCall<unknown, unknown> {
  return (call) => {
    const started = process.hrtime.bigint();
    const refusal = refuse(rpc, context, call.request);
    if (refusal) {
      call.emit('error', refusal);
      record(context, rpc, apiVersion, refusal.code, started);
      return;
    }
    const handler = context.registry.lookup(rpc)?.handler as StreamingCriHandler<unknown, unknown>;
    // One signal for the handler: the client went away, or the daemon is shutting down.
    const controller = new AbortController();
    let finished = false;
    const finish = (error?: ReturnType<typeof statusObject>): void => {
      if (finished) return;
      finished = true;
      if (error) call.emit('error', error);
      else call.end();
      record(context, rpc, apiVersion, error?.code ?? grpc.status.OK, started);
    };
    call.on('cancelled', () => {
      // The client went away: the stream ends as CANCELLED, and is counted so.
      if (!finished) record(context, rpc, apiVersion, grpc.status.CANCELLED, started);
      finished = true;
      controller.abort();
    });
    const onShutdown = (): void => {
      finish(statusObject(grpc.status.UNAVAILABLE, `caissond is shutting down; ${rpc} stream ended`));
      controller.abort();
    };
    context.shutdownSignal.addEventListener('abort', onShutdown, { once: true });
    const stream: CriStream<unknown> = {
      write: (message) =>
        new Promise<void>((resolve, reject) => {
          if (controller.signal.aborted) {
            reject(new Error(`${rpc} stream has ended`));
            return;
          }
          if (call.write(message)) {
            resolve();
            return;
          }
          const onAbort = (): void => reject(new Error(`${rpc} stream has ended`));
          controller.signal.addEventListener('abort', onAbort, { once: true });
          call.once('drain', () => {
            controller.signal.removeEventListener('abort', onAbort);
            resolve();
          });
        }),
    };
    handler(call.request, stream, { apiVersion, signal: controller.signal })
      .then(
        () => finish(),
        (error: unknown) => {
          if (finished) return;
          logFailure(context.logger, rpc, apiVersion, error);
          finish(toServiceError(error));
        },
      )
      .finally(() => context.shutdownSignal.removeEventListener('abort', onShutdown));
  };
}

/** Tells the registry's observers how a call ended. */
function record(context: AdapterContext, rpc: string, apiVersion: CallInfo['apiVersion'], code: grpc.status, started: bigint, response?: unknown): void {
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  context.registry.recordCall({ rpc, apiVersion, code: grpc.status[code] ?? String(code), seconds, ...(response === undefined ? {} : { response }) });
}

function refuse(rpc: string, context: AdapterContext, request: unknown): ReturnType<typeof statusObject> | undefined {
  if (context.shutdownSignal.aborted) {
    return statusObject(grpc.status.UNAVAILABLE, `caissond is shutting down: ${rpc} is refused; retry once it has restarted`);
  }
  if (!context.isReady()) {
    return statusObject(grpc.status.UNAVAILABLE, `caissond is not ready: ${rpc} is refused until start-up completes`);
  }
  if (!context.registry.lookup(rpc)) {
    return statusObject(grpc.status.UNIMPLEMENTED, context.unimplemented(rpc));
  }
  const nulField = nulByteField(request);
  if (nulField !== undefined) {
    context.logger.info('rpc refused', { rpc, code: 'INVALID_ARGUMENT', field: nulField });
    return statusObject(grpc.status.INVALID_ARGUMENT, `${rpc}: field ${nulField} holds a NUL byte, which no CRI string may hold`);
  }
  return undefined;
}

function logFailure(logger: Logger, rpc: string, apiVersion: string, error: unknown): void {
  const code = errorCodeOf(error);
  const fields = { rpc, apiVersion, code, error: error instanceof Error ? error.message : String(error) };
  if (code === 'INTERNAL') logger.error('rpc failed', { ...fields, stack: error instanceof Error ? error.stack : undefined });
  else logger.info('rpc refused', fields);
}
