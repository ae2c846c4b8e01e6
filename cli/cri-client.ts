import * as grpc from '@grpc/grpc-js';
import { loadCaissonServices, loadCriServices, type CriApiVersion } from '../core/cri/cri-proto';
import type { PullImageProgress__Output } from '../core/cri/generated/caisson/v1/PullImageProgress';
import type { CriHandlerMap, CriRpcName } from '../core/cri/cri-handler-types';

// A small promise-based CRI client over the daemon's unix socket, used by the CLI and the tests.

type UnaryRpc = {
  [K in CriRpcName]: CriHandlerMap[K] extends (request: never, call: never) => Promise<unknown> ? K : never;
}[CriRpcName];

type ResponseOf<K extends UnaryRpc> = Awaited<ReturnType<CriHandlerMap[K]>>;

export class CriClient {
  private readonly runtime: grpc.Client;
  private readonly image: grpc.Client;
  private readonly caissonImages: grpc.Client;

  constructor(
    readonly address: string,
    apiVersion: CriApiVersion = 'v1',
  ) {
    const services = loadCriServices(apiVersion);
    const target = address.startsWith('unix://') ? address : `unix://${address}`;
    // ExecSync answers may carry up to 16 MiB of output; grpc-js clients accept 4 MiB by default.
    const options = { 'grpc.max_receive_message_length': 64 * 1024 * 1024 };
    this.runtime = new services.RuntimeService(target, grpc.credentials.createInsecure(), options);
    this.image = new services.ImageService(target, grpc.credentials.createInsecure(), options);
    this.caissonImages = new (loadCaissonServices().Images)(target, grpc.credentials.createInsecure());
  }

  /** caisson.v1 PullImageWithProgress: calls `onProgress` per update, resolves with the image ID. */
  pullWithProgress(request: object, onProgress: (progress: PullImageProgress__Output) => void): Promise<string> {
    const client = this.caissonImages as unknown as { PullImageWithProgress(r: object): grpc.ClientReadableStream<PullImageProgress__Output> };
    const call = client.PullImageWithProgress(request);
    return new Promise((resolve, reject) => {
      let imageRef = '';
      call.on('data', (progress: PullImageProgress__Output) => {
        if (progress.image_ref) imageRef = progress.image_ref;
        onProgress(progress);
      });
      call.on('error', reject);
      call.on('end', () => resolve(imageRef));
    });
  }

  /** Calls a unary RPC; the response is as decoded (every field present, int64 as strings). */
  call<K extends UnaryRpc>(rpc: K, request: object, options: { timeoutMs?: number } = {}): Promise<ResponseOf<K>> {
    const client = rpc in (this.runtime as unknown as Record<string, unknown>) ? this.runtime : this.image;
    const method = (client as unknown as Record<string, Function>)[rpc];
    if (typeof method !== 'function') return Promise.reject(new Error(`${rpc} is not an RPC of this CRI version`));
    const deadline = new Date(Date.now() + (options.timeoutMs ?? 30_000));
    return new Promise((resolve, reject) => {
      method.call(client, request, { deadline }, (error: grpc.ServiceError | null, response: ResponseOf<K>) => {
        if (error) reject(error);
        else resolve(response);
      });
    });
  }

  close(): void {
    this.runtime.close();
    this.image.close();
    this.caissonImages.close();
  }
}
