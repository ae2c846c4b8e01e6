// Builds the OCI runtime spec (config.json) for a CRI container from its CRI config, the pod
// sandbox, the image and facts about the host. Pure: everything that depends on the host comes
// in through `input` (see spec-input.ts), so every part is tested without root.
//
// This file only composes: each concern (process, user, capabilities, mounts, namespaces,
// devices, resources, security profiles, masked paths, annotations) is a pure function in its own
// spec-*.ts file. The rules follow containerd's CRI plugin and the comments of the CRI API (v1,
// k8s 1.29).

import { containerCapabilities } from './spec-capabilities';
import { ociOomScoreAdj, ociResources } from './container-resources';
import { containerAnnotations } from './spec-annotations';
import { containerDevices } from './spec-devices';
import { containerSpecFail } from './spec-fail';
import type { ContainerSpecInput } from './spec-input';
import { maskedPaths, readonlyPaths } from './spec-masked-paths';
import { containerMounts } from './spec-mounts';
import { containerHostname, containerNamespaces } from './spec-namespaces';
import { OCI_VERSION, type OciSpec } from './oci-spec';
import { processArgs, processCwd, processEnv } from './spec-process';
import { apparmorProfile, seccompProfile } from './spec-security-profiles';
import { processUser } from './spec-user';

// The names callers and tests have always imported from here.
export type {
  ContainerSpecInput,
  DeviceNode,
  HostFacts,
  HostPaths,
  ImageRuntimeConfig,
  SandboxFacts,
  SeccompProfiles,
  SpecImage,
} from './spec-input';
export { CriAnnotation } from './spec-annotations';
export { DEFAULT_CAPABILITIES, LINUX_CAPABILITIES } from './spec-capabilities';
export { DEFAULT_DEVICE_RULES } from './spec-devices';
export { DEFAULT_MASKED_PATHS, DEFAULT_READONLY_PATHS } from './spec-masked-paths';
export { DEFAULT_PATH_ENV } from './spec-process';
export { DEFAULT_APPARMOR_PROFILE } from './spec-security-profiles';

export function buildContainerSpec(input: ContainerSpecInput): OciSpec {
  const { config, sandbox, host } = input;
  const fail = containerSpecFail(input.containerName);
  const sc = config.linux?.security_context ?? null;
  const privileged = sc?.privileged ?? false;
  if (privileged && !input.sandboxConfig.linux?.security_context?.privileged) {
    throw fail("privileged container in a sandbox that is not privileged (the pod sandbox's security_context.privileged must be true)");
  }

  // The concerns are computed in this order so that, of several faults in one config, the same
  // one is reported as before the split (each concern throws at its first fault).
  const capabilities = containerCapabilities(sc?.capabilities, host.capabilities, privileged, fail);
  const resources = ociResources(config.linux?.resources ?? null, host.cgroupVersion, fail);
  const { devices, rules } = containerDevices(config.devices, privileged, host.hostDevices, input.hostPaths, fail);
  resources.devices = rules;
  const { mounts, rootfsPropagation } = containerMounts(
    {
      criMounts: config.mounts,
      podFiles: sandbox.files,
      privileged,
      readonlyRootfs: sc?.readonly_rootfs ?? false,
      hostPaths: input.hostPaths,
    },
    fail,
  );
  const oomScoreAdj = ociOomScoreAdj(config.linux?.resources ?? null, host.oomScoreAdj, fail);

  const spec: OciSpec = {
    ociVersion: OCI_VERSION,
    process: {
      terminal: config.tty,
      user: processUser(sc, input.image, input.imageUsers, fail),
      args: processArgs(config.command, config.args, input.image, fail),
      env: processEnv(sandbox.hostname, input.image.config.Env, config.envs, fail),
      cwd: processCwd(config.working_dir, input.image.config.WorkingDir, fail),
      capabilities: { bounding: [...capabilities], effective: [...capabilities], permitted: [...capabilities] },
      noNewPrivileges: sc?.no_new_privs ?? false,
    },
    root: { path: input.rootfsPath, readonly: sc?.readonly_rootfs ?? false },
    mounts,
    linux: {
      namespaces: containerNamespaces(sandbox, sc?.namespace_options ?? null, host.cgroupVersion, privileged, fail),
      resources,
      cgroupsPath: input.cgroupsPath,
      devices,
      maskedPaths: maskedPaths(sc?.masked_paths, privileged),
      readonlyPaths: readonlyPaths(sc?.readonly_paths, privileged),
    },
    annotations: containerAnnotations({
      criAnnotations: config.annotations,
      sandboxId: sandbox.id,
      sandboxMetadata: input.sandboxConfig.metadata,
      containerName: input.containerName,
      imageName: input.image.name,
    }),
  };

  // Optional fields are left out rather than set to undefined, so that deep equality and
  // JSON.stringify agree (see oci-spec.ts); they are added in the order config.json always had.
  const apparmor = apparmorProfile(sc, privileged, host, fail);
  if (apparmor !== undefined) spec.process.apparmorProfile = apparmor;
  spec.process.oomScoreAdj = oomScoreAdj;

  const hostname = containerHostname(sandbox);
  if (hostname !== undefined) spec.hostname = hostname;

  const seccomp = seccompProfile(sc, privileged, capabilities, host.arch, input.seccompProfiles, fail);
  if (seccomp !== undefined) spec.linux.seccomp = seccomp;
  if (rootfsPropagation !== undefined) spec.linux.rootfsPropagation = rootfsPropagation;
  return spec;
}
