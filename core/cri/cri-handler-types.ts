import type * as grpc from '@grpc/grpc-js';
import type { ImagesHandlers as CaissonImagesHandlers } from './generated/caisson/v1/Images';
import type { ImageServiceHandlers } from './generated/runtime/v1/ImageService';
import type { RuntimeServiceHandlers } from './generated/runtime/v1/RuntimeService';

// Handler types derived from the types generated from our proto (core/cri/proto), so a handler's
// request and response shapes are never written by hand. Field names are the proto's own
// (snake_case), int64 values arrive as strings, enums as their names.

type KnownKeys<T> = keyof {
  [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K];
};

type AllHandlers = RuntimeServiceHandlers & ImageServiceHandlers & CaissonImagesHandlers;

/**
 * Every RPC of runtime.v1.RuntimeService and runtime.v1.ImageService, plus Caisson's own
 * services (core/cri/proto/caisson), which share the contribution point.
 */
export type CriRpcName = KnownKeys<RuntimeServiceHandlers> | KnownKeys<ImageServiceHandlers> | KnownKeys<CaissonImagesHandlers>;

/** What a handler learns about the call besides its request. */
export interface CallInfo {
  /** The CRI version the client spoke: kubelets before 1.26 may still use v1alpha2. */
  readonly apiVersion: 'v1' | 'v1alpha2';
  /** Aborted when the client cancels or the deadline passes. */
  readonly signal: AbortSignal;
}

export type UnaryCriHandler<Req, Res> = (request: Req, call: CallInfo) => Promise<Res>;

/** The writable side of a server-streaming RPC, with backpressure. */
export interface CriStream<Res> {
  /** Resolves once the message is handed to the transport (waits while the client is slow). */
  write(message: Res): Promise<void>;
}

export type StreamingCriHandler<Req, Res> = (request: Req, stream: CriStream<Res>, call: CallInfo) => Promise<void>;

export type CriHandlerMap = {
  [K in CriRpcName]: AllHandlers[K] extends grpc.handleUnaryCall<infer Req, infer Res>
    ? UnaryCriHandler<Req, Res>
    : AllHandlers[K] extends grpc.handleServerStreamingCall<infer Req, infer Res>
      ? StreamingCriHandler<Req, Res>
      : never;
};

/** Request type of an RPC (as decoded: every field present with its default). */
export type CriRequest<K extends CriRpcName> = Parameters<CriHandlerMap[K]>[0];
