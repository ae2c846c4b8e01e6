import { FailedPreconditionError } from '../errors';
import type { MetadataStore } from '../tokens';

// One cgroup driver for the node's state. The first start records the driver in the metadata
// store under `graph`; a later start with the other driver is refused while sandboxes or
// containers made under the first one exist, because their cgroups live where only the first
// driver looks for them.

const LOCK_KEY = 'cgroup-driver';

export type CgroupDriverName = 'cgroupfs' | 'systemd';

export interface DriverLockOutcome {
  /** The driver recorded before this start, if any. */
  readonly previous?: CgroupDriverName;
}

export function acquireCgroupDriverLock(store: MetadataStore, requested: CgroupDriverName): DriverLockOutcome {
  return store.transaction(() => {
    const previous = store.getMeta(LOCK_KEY) as CgroupDriverName | undefined;
    if (previous === requested) return { previous };
    if (previous !== undefined) {
      const sandboxes = store.sandboxIds();
      const containers = store.containerIds();
      if (sandboxes.length + containers.length > 0) {
        throw new FailedPreconditionError(driverChangeRefusal(previous, requested, sandboxes, containers));
      }
    }
    store.setMeta(LOCK_KEY, requested);
    return previous === undefined ? {} : { previous };
  });
}

function driverChangeRefusal(
  inUse: CgroupDriverName,
  requested: CgroupDriverName,
  sandboxes: readonly string[],
  containers: readonly string[],
): string {
  const setting = (driver: CgroupDriverName): string => `"systemd-cgroup": ${driver === 'systemd'}`;
  return (
    `cgroup driver "${requested}" was chosen (${setting(requested)} in daemon.json), but the driver in use is ` +
    `"${inUse}" and ${count(sandboxes.length, 'sandbox', 'sandboxes')} and ${count(containers.length, 'container', 'containers')} ` +
    `made under it still exist (${[...sandboxes, ...containers].slice(0, 5).join(', ')}${sandboxes.length + containers.length > 5 ? ', …' : ''}). ` +
    `To switch safely: start caissond with ${setting(inUse)}, remove every pod and container (for example "crictl rmp -af"), ` +
    `then restart with ${setting(requested)}.`
  );
}

function count(n: number, one: string, many: string): string {
  return `${n} ${n === 1 ? one : many}`;
}
