// Caisson's public API for engine builders (published as `caisson`): create and run a daemon from
// a configuration and a plugin list, and load daemon.json. It re-exports the whole plugin API
// (core/plugin-api.ts, `caisson/plugin`); the built-in plugin list is `caisson/builtins`
// (plugins/builtins.ts). The rest of core/ is internal.
export * from './plugin-api';
export { createDaemon, type Daemon, type DaemonOptions } from './daemon/create-daemon';
export { loadDaemonConfig, validateDaemonConfig, DEFAULT_CONFIG_FILE } from '../config/load-config';
export { DEFAULT_CONFIG } from '../config/defaults';
export type { DaemonConfigFile } from '../config/daemon-config-schema';
