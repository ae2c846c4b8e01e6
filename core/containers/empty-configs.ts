import type { ContainerConfig__Output } from '../cri/generated/runtime/v1/ContainerConfig';

// CRI messages as a decoder leaves them when the client sent nothing: every field at its
// default. Used where Caisson fills in a part the client left out, or builds a config itself
// (the pause container).

export type SecurityContext = NonNullable<NonNullable<ContainerConfig__Output['linux']>['security_context']>;

export function emptySecurityContext(): SecurityContext {
  return {
    capabilities: null,
    privileged: false,
    namespace_options: null,
    selinux_options: null,
    run_as_user: null,
    run_as_username: '',
    readonly_rootfs: false,
    supplemental_groups: [],
    apparmor_profile: '',
    seccomp_profile_path: '',
    no_new_privs: false,
    run_as_group: null,
    masked_paths: [],
    readonly_paths: [],
    seccomp: null,
    apparmor: null,
  };
}

export function emptyContainerConfig(name: string, image: string): ContainerConfig__Output {
  return {
    metadata: { name, attempt: 0 },
    image: { image, annotations: {}, user_specified_image: '', runtime_handler: '' },
    command: [],
    args: [],
    working_dir: '',
    envs: [],
    mounts: [],
    devices: [],
    labels: {},
    annotations: {},
    log_path: '',
    stdin: false,
    stdin_once: false,
    tty: false,
    linux: { resources: null, security_context: emptySecurityContext() },
    windows: null,
    CDI_devices: [],
  };
}
