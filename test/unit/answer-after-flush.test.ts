import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type * as grpc from '@grpc/grpc-js';
import { buildServiceImplementation } from '../../core/cri/grpc-adapter';
import { HandlerRegistry } from '../../core/cri/handler-registry';
import { InFlightCalls } from '../../core/cri/in-flight-calls';
import { createLogger } from '../../core/log/logger';

// Durability before the answer: a unary call's response (or error) leaves only after the
// metadata store has flushed what the handler wrote.

function unaryService(rpc: string): grpc.ServiceDefinition {
  return { [rpc]: { path: `/x/${rpc}`, requestStream: false, responseStream: false } } as unknown as grpc.ServiceDefinition;
}

async function callOnce(rpc: string, handler: () => Promise<unknown>, events: string[]): Promise<void> {
  const registry = new HandlerRegistry();
  registry.contribute('test', rpc as 'Version', handler as never);
  const implementation = buildServiceImplementation(unaryService(rpc), 'v1', {
    registry,
    logger: createLogger('error', () => undefined),
    isReady: () => true,
    unimplemented: () => '',
    shutdownSignal: new AbortController().signal,
    inFlight: new InFlightCalls(),
    beforeAnswer: async () => {
      events.push('flush started');
      await new Promise((resolve) => setTimeout(resolve, 20));
      events.push('flush done');
    },
  });
  const call = Object.assign(new EventEmitter(), { request: {} });
  await new Promise<void>((resolve) => {
    (implementation[rpc] as grpc.handleUnaryCall<unknown, unknown>)(call as never, (error) => {
      events.push(error ? 'answered with an error' : 'answered');
      resolve();
    });
  });
}

describe('CRI answers wait for durability', () => {
  it('answers a call only once the store has flushed', async () => {
    const events: string[] = [];
    await callOnce('Version', async () => {
      events.push('handled');
      return {};
    }, events);
    assert.deepEqual(events, ['handled', 'flush started', 'flush done', 'answered']);
  });

  it('flushes before answering a failed call too (its rollback wrote)', async () => {
    const events: string[] = [];
    await callOnce('Version', async () => {
      events.push('handled');
      throw new Error('refused');
    }, events);
    assert.deepEqual(events, ['handled', 'flush started', 'flush done', 'answered with an error']);
  });
});
