import { InvalidArgumentError, PluginValidationError } from '../errors';
import type { RuntimeRegistry as RuntimeRegistryContract } from '../tokens';
import type { OciRuntime } from './oci-runtime';

export type { ContainerRuntimePaths, CreateContainerOptions, OciRuntime, RuntimeContainerState } from './oci-runtime';

/**
 * The runtimes every runtime plugin registered, and the CRI runtime handler mapping of
 * `cri-runtimes`. A pod's runtime handler picks its runtime here; the empty handler means
 * `default-runtime`.
 */
export class RuntimeRegistry implements RuntimeRegistryContract {
  private readonly runtimes = new Map<string, { runtime: OciRuntime; plugin: string }>();

  constructor(
    private readonly defaultRuntime: string,
    private readonly criRuntimes: Readonly<Record<string, string>>,
  ) {}

  register(plugin: string, runtime: OciRuntime): void {
    const existing = this.runtimes.get(runtime.name);
    if (existing) {
      throw new PluginValidationError(
        `runtime "${runtime.name}" is registered by both "${existing.plugin}" and "${plugin}"`,
      );
    }
    this.runtimes.set(runtime.name, { runtime, plugin });
  }

  names(): string[] {
    return [...this.runtimes.keys()];
  }

  /** The runtime named by `default-runtime`; the loader guarantees one plugin provides it. */
  defaultOne(): OciRuntime {
    return this.byName(this.defaultRuntime, '"default-runtime" in daemon.json');
  }

  /** The runtime for a CRI runtime handler: "" is the default, else `cri-runtimes`, else a runtime name. */
  forHandler(handler: string): OciRuntime {
    if (handler === '') return this.defaultOne();
    const mapped = this.criRuntimes[handler];
    if (mapped !== undefined) return this.byName(mapped, `"cri-runtimes"."${handler}" in daemon.json`);
    const direct = this.runtimes.get(handler);
    if (direct) return direct.runtime;
    const handlers = ['"" (default)', ...Object.keys(this.criRuntimes).map((h) => `"${h}"`), ...this.names().map((n) => `"${n}"`)];
    throw new InvalidArgumentError(
      `runtime handler "${handler}" is not configured; known handlers: ${[...new Set(handlers)].join(', ')} (add it to "cri-runtimes" in daemon.json)`,
    );
  }

  private byName(name: string, chosenBy: string): OciRuntime {
    const entry = this.runtimes.get(name);
    if (!entry) {
      throw new InvalidArgumentError(
        `runtime "${name}" (from ${chosenBy}) is not registered; registered runtimes: ${this.names().join(', ') || 'none'}`,
      );
    }
    return entry.runtime;
  }
}
