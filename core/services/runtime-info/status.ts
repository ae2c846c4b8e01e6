import type { UnaryCriHandler } from '../../cri/cri-handler-types';
import type { StatusRequest__Output } from '../../cri/generated/runtime/v1/StatusRequest';
import type { StatusResponse } from '../../cri/generated/runtime/v1/StatusResponse';
import type { CgroupDriver, DaemonConfig, DaemonInfo, MetadataStore, NetworkPlugin, Readiness, RuntimeRegistry } from '../../tokens';
import { POD_CIDR_KEY } from './update-runtime-config';

export interface StatusDependencies {
  readonly runtimes: RuntimeRegistry;
  readonly driver: CgroupDriver;
  readonly config: DaemonConfig;
  readonly info: DaemonInfo;
  readonly store: MetadataStore;
  /** The network plugin, when one is bound (looked up per call: it may be absent). */
  readonly network: () => NetworkPlugin | undefined;
}

/**
 * Status: RuntimeReady from the default runtime's own check, NetworkReady from the network
 * plugin (false with NetworkPluginNotReady while none is loaded). Verbose adds facts as JSON.
 */
export function statusHandler(deps: StatusDependencies): UnaryCriHandler<StatusRequest__Output, StatusResponse> {
  return async (request) => {
    const runtime = await deps.runtimes.defaultOne().checkReady();
    const network = await networkReadiness(deps);
    const response: StatusResponse = {
      status: { conditions: [condition('RuntimeReady', runtime), condition('NetworkReady', network)] },
    };
    if (request.verbose) response.info = verboseInfo(deps);
    return response;
  };
}

async function networkReadiness(deps: StatusDependencies): Promise<Readiness> {
  const plugin = deps.network();
  if (plugin) return plugin.status();
  return {
    ready: false,
    reason: 'NetworkPluginNotReady',
    message: `network plugin "${deps.config.networkPlugin}" is not loaded in this caissond`,
  };
}

function condition(type: string, readiness: Readiness): { type: string; status: boolean; reason: string; message: string } {
  return { type, status: readiness.ready, reason: readiness.reason, message: readiness.message };
}

function verboseInfo(deps: StatusDependencies): Record<string, string> {
  const runtimes = Object.fromEntries(deps.runtimes.names().map((name) => [name, deps.runtimes.forHandler(name).describe()]));
  return {
    config: JSON.stringify(deps.config),
    plugins: JSON.stringify(deps.info.plugins),
    handlers: JSON.stringify(deps.info.handlerOwners()),
    cgroupDriver: JSON.stringify({ name: deps.driver.name, ...deps.driver.describe() }),
    runtimes: JSON.stringify(runtimes),
    podCidr: deps.store.getMeta(POD_CIDR_KEY) ?? '',
    startedAt: deps.info.startedAt.toISOString(),
  };
}
