import type { StatsSources } from '../../stats/stats-sources';
import type { ContainerService, SandboxService } from '../../tokens';

// What the stats RPCs share. IDs may be unique prefixes, as in every other RPC; an unknown ID is
// NOT_FOUND (from the services' get). List calls answer for containers in every state (an exited
// one with its attributes and writable layer) and for every sandbox.

export interface StatsHandlerDeps {
  readonly containers: ContainerService;
  readonly sandboxes: SandboxService;
  readonly sources: StatsSources;
}

/** Drops the CPU rate baselines of containers and sandboxes that no longer exist. */
export function forgetRemoved({ containers, sandboxes, sources }: StatsHandlerDeps): void {
  sources.cpuRates.retain([...containers.list().map((c) => c.id), ...sandboxes.list().map((s) => s.id)]);
}
