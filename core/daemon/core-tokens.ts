import { DaemonConfig, DaemonInfo, EventBus, Logger, MetadataStore, ObjectLocks, RuntimeRegistry } from '../tokens';

// The tokens the core binds itself, before any plugin starts: a plugin may require them without
// any plugin providing them, and no plugin may provide them.
export const CORE_TOKENS: ReadonlySet<symbol> = new Set<symbol>([DaemonConfig, Logger, MetadataStore, RuntimeRegistry, DaemonInfo, EventBus, ObjectLocks]);
