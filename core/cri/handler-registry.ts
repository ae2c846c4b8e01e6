import { PluginValidationError } from '../errors';
import { loadCaissonServices, loadCriServices } from './cri-proto';
import type { CriHandlerMap, CriRpcName } from './cri-handler-types';

// The CRI contribution point: which plugin answers which RPC. One handler per RPC across the
// daemon; a second contribution is refused naming both plugins. The registry is filled while
// plugins start and read by the gRPC wrappers on every call.

/** One finished CRI call, as call observers see it. */
export interface CriCallRecord {
  readonly rpc: string;
  readonly apiVersion: 'v1' | 'v1alpha2' | 'caisson';
  /** The gRPC status name the caller got: OK, INVALID_ARGUMENT, NOT_FOUND, … */
  readonly code: string;
  readonly seconds: number;
  /** The answer of a unary call that succeeded. */
  readonly response?: unknown;
}

export type CriCallObserver = (call: CriCallRecord) => void;

interface Contribution {
  readonly plugin: string;
  readonly handler: CriHandlerMap[CriRpcName];
}

export class HandlerRegistry {
  private readonly contributions = new Map<string, Contribution>();
  private readonly observers: CriCallObserver[] = [];
  private readonly knownRpcs: ReadonlySet<string>;

  constructor() {
    const v1 = loadCriServices('v1');
    const caisson = loadCaissonServices();
    this.knownRpcs = new Set([
      ...Object.keys(v1.RuntimeService.service),
      ...Object.keys(v1.ImageService.service),
      ...Object.keys(caisson.Images.service),
    ]);
  }

  contribute<K extends CriRpcName>(plugin: string, rpc: K, handler: CriHandlerMap[K]): void {
    if (!this.knownRpcs.has(rpc)) {
      throw new PluginValidationError(`plugin "${plugin}" contributes a handler for "${String(rpc)}", which is not a CRI v1 or Caisson RPC`);
    }
    if (typeof handler !== 'function') {
      throw new PluginValidationError(`plugin "${plugin}" contributes a handler for "${rpc}" that is not a function`);
    }
    const existing = this.contributions.get(rpc);
    if (existing) {
      throw new PluginValidationError(
        `CRI handler for "${rpc}" is contributed by both "${existing.plugin}" and "${plugin}"; only one plugin may answer an RPC`,
      );
    }
    this.contributions.set(rpc, { plugin, handler: handler as CriHandlerMap[CriRpcName] });
  }

  /** Adds an observer told of every finished call (answered, refused or failed). */
  observe(observer: CriCallObserver): void {
    this.observers.push(observer);
  }

  /** Tells every observer of a finished call; an observer that throws is not allowed to fail the call. */
  recordCall(call: CriCallRecord): void {
    for (const observer of this.observers) {
      try {
        observer(call);
      } catch {
        // Observers count and time; the call has been answered already.
      }
    }
  }

  /** The handler for an RPC, or undefined when no plugin contributed one. */
  lookup(rpc: string): Contribution | undefined {
    return this.contributions.get(rpc);
  }

  /** RPC name → contributing plugin, for verbose status and tests. */
  owners(): Record<string, string> {
    return Object.fromEntries([...this.contributions].map(([rpc, c]) => [rpc, c.plugin]));
  }
}
