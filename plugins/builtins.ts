import { imagesPlugin } from '../core/services/images/images-plugin';
import { execPlugin } from '../core/services/exec/exec-plugin';
import { podsPlugin } from '../core/services/pods/pods-plugin';
import { statsPlugin } from '../core/services/stats/stats-plugin';
import { streamingPlugin } from '../core/services/streaming/streaming-plugin';
import { metricsPlugin } from '../core/services/metrics/metrics-plugin';
import { checkpointPlugin } from '../core/services/checkpoint/checkpoint-plugin';
import { runtimeInfoPlugin } from '../core/services/runtime-info/runtime-info-plugin';
import type { AnyPluginManifest } from '../core/plugin/plugin-entry';
import { cgroupfsPlugin } from './cgroupfs';
import { cniPlugin } from './cni';
import { podEventsPlugin } from './pod-events';
import { runcPlugin } from './runc';
import { systemdPlugin } from './systemd';

// Every built-in plugin, listed once, explicitly (as containerd's builtins.go). Which of them run
// is decided by daemon.json (each plugin's `selectedBy`); third-party plugins come from daemon.json
// `plugins`. Engine builders pass `[...builtinPlugins, ...theirs]` to createDaemon. Published as
// `caisson/builtins`, with the building blocks of built-ins that other plugins may reuse.

export { createRuncRuntime, type RuncRuntimeOptions } from './runc/create-runc-runtime';

export const builtinPlugins: readonly AnyPluginManifest[] = [
  cgroupfsPlugin,
  systemdPlugin,
  runcPlugin,
  cniPlugin,
  runtimeInfoPlugin,
  imagesPlugin,
  podsPlugin,
  statsPlugin,
  execPlugin,
  streamingPlugin,
  podEventsPlugin,
  checkpointPlugin,
  // Last: it reads what the others bind (the pod events' counts among them).
  metricsPlugin,
];
