// Caisson's public API for engine builders and plugin authors. Everything a third-party plugin
// or an embedding program needs is exported here; the rest of core/ is internal.
import 'reflect-metadata';

export { createDaemon, type Daemon, type DaemonOptions } from './daemon/create-daemon';
export { definePlugin, identityOf, PluginType, type PluginContext, type PluginManifest, type PluginSelection } from './plugin/plugin-manifest';
export type { AnyPluginManifest } from './plugin/plugin-entry';
export type { CallInfo, CriHandlerMap, CriRequest, CriRpcName, CriStream, StreamingCriHandler, UnaryCriHandler } from './cri/cri-handler-types';
export type { OciRuntime } from './runtime/runtime-registry';
export * from './tokens';
export * from './errors';
export { loadDaemonConfig, validateDaemonConfig, DEFAULT_CONFIG_FILE } from '../config/load-config';
export { DEFAULT_CONFIG } from '../config/defaults';
export type { DaemonConfigFile } from '../config/daemon-config-schema';
