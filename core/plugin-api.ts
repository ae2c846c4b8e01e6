// Caisson's plugin API: everything a plugin needs, and nothing else. Published as
// `caisson/plugin`; the built-in plugins under plugins/ import only this file, exactly as a
// third-party plugin imports the package. Embedding programs use `caisson` (core/index.ts),
// which re-exports this too.
import 'reflect-metadata';

// The plugin model.
export { definePlugin, identityOf, PluginType, type CriContribution, type PluginContext, type PluginManifest, type PluginSelection } from './plugin/plugin-manifest';
export type { AnyPluginManifest } from './plugin/plugin-entry';
export { defineToken, optional, type Injected, type OptionalToken, type Requirements, type Token, type TokenType } from './plugin/token';

// The contracts: tokens, their interfaces, and the shapes they carry.
export * from './tokens';
export type { ContainerRuntimePaths, CreateContainerOptions, OciRuntime, RuntimeContainerState } from './runtime/oci-runtime';
export type { AttachSession, AttachSessionEvents, AttachStream } from './runtime/attach-session';
export type { TerminalSize } from './streaming/remote-command';
export type { ContainerRecord, ContainerState } from './containers/container-record';
export type { PauseContainer, SandboxRecord, SandboxState } from './pods/sandbox-record';
export type { ImageRecord, LayerRecord, PullProgress, PullProgressEvent } from './images/image-types';

// CRI handlers and messages.
export type { CallInfo, CriHandlerMap, CriRequest, CriRpcName, CriStream, StreamingCriHandler, UnaryCriHandler } from './cri/cri-handler-types';
export type { ContainerEventResponse } from './cri/generated/runtime/v1/ContainerEventResponse';
export type { GetEventsRequest__Output } from './cri/generated/runtime/v1/GetEventsRequest';
export type { PodSandboxStatus } from './cri/generated/runtime/v1/PodSandboxStatus';
export type { ContainerStatus } from './cri/generated/runtime/v1/ContainerStatus';
export { containerStatusMessage } from './services/pods/container-messages';
export { podSandboxStatusMessage } from './services/pods/sandbox-messages';

// Errors: each maps to the gRPC status a CRI client acts on.
export * from './errors';

// Helpers plugins that touch the host share with the core.
export { runProgram, type ProgramResult, type RunProgramOptions } from './host-programs/run-program';
export { findExecutable } from './host-programs/find-executable';
export { launchProgram, type LaunchOutcome, type LaunchRequest } from './host-programs/program-launcher';
export { CGROUP_ROOT, detectCgroupMode, type CgroupMode } from './cgroup/cgroup-mode';
export { controllerDirIn, readCgroupStats, type CgroupController, type ControllerDirFinder } from './cgroup/read-cgroup-stats';
