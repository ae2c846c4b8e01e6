import { PluginValidationError } from '../errors';
import { loadCaissonServices, loadCriServices } from './cri-proto';
import type { CriHandlerMap, CriRpcName } from './cri-handler-types';

// The CRI contribution point: which plugin answers which RPC. One handler per RPC across the
// daemon; a second contribution is refused naming both plugins. The registry is filled while
// plugins start and read by the gRPC wrappers on every call.

interface Contribution {
  readonly plugin: string;
  readonly handler: CriHandlerMap[CriRpcName];
}

export class HandlerRegistry {
  private readonly contributions = new Map<string, Contribution>();
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

  /** The handler for an RPC, or undefined when no plugin contributed one. */
  lookup(rpc: string): Contribution | undefined {
    return this.contributions.get(rpc);
  }

  /** RPC name → contributing plugin, for verbose status and tests. */
  owners(): Record<string, string> {
    return Object.fromEntries([...this.contributions].map(([rpc, c]) => [rpc, c.plugin]));
  }
}
