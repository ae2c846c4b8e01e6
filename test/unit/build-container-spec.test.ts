import assert from 'node:assert/strict';
import type { ContainerConfig__Output } from '../../core/cri/generated/runtime/v1/ContainerConfig';
import type { LinuxContainerResources__Output } from '../../core/cri/generated/runtime/v1/LinuxContainerResources';
import type { LinuxContainerSecurityContext__Output } from '../../core/cri/generated/runtime/v1/LinuxContainerSecurityContext';
import type { Mount__Output } from '../../core/cri/generated/runtime/v1/Mount';
import type { NamespaceOption__Output } from '../../core/cri/generated/runtime/v1/NamespaceOption';
import type { PodSandboxConfig__Output } from '../../core/cri/generated/runtime/v1/PodSandboxConfig';
import {
  buildContainerSpec,
  DEFAULT_DEVICE_RULES,
  DEFAULT_MASKED_PATHS,
  DEFAULT_READONLY_PATHS,
  LINUX_CAPABILITIES,
  type ContainerSpecInput,
  type DeviceNode,
  type HostFacts,
  type ImageRuntimeConfig,
  type SandboxFacts,
  type SeccompProfiles,
} from '../../core/oci/build-container-spec';
import { CLONE_NAMESPACE_FLAGS, DEFAULT_ALLOWED_SYSCALLS, defaultSeccompProfile } from '../../core/oci/default-seccomp-profile';
import { parseImageUsers, type ImageUsers } from '../../core/oci/image-users';
import type { OciSeccomp, OciSpec } from '../../core/oci/oci-spec';
import { emptySecurityContext } from '../../core/containers/empty-configs';

// ---- fixtures --------------------------------------------------------------------------------------

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  'www-data:x:33:33:www-data:/var/www:/bin/false',
  'alice:x:1000:1000:Alice:/home/alice:/bin/sh',
  'nobody:x:65534:65534:nobody:/home:/bin/false',
].join('\n');
const GROUP = [
  'root:x:0:',
  'wheel:x:10:root',
  'audio:x:29:alice',
  'www-data:x:33:',
  'video:x:44:alice,root',
  'staff:x:50:',
  'alice:x:1000:',
  'nogroup:x:65534:',
].join('\n');

const DEFAULT_CAPS_IN_KERNEL_ORDER = [
  'CAP_CHOWN',
  'CAP_DAC_OVERRIDE',
  'CAP_FOWNER',
  'CAP_FSETID',
  'CAP_KILL',
  'CAP_SETGID',
  'CAP_SETUID',
  'CAP_SETPCAP',
  'CAP_NET_BIND_SERVICE',
  'CAP_NET_RAW',
  'CAP_SYS_CHROOT',
  'CAP_MKNOD',
  'CAP_AUDIT_WRITE',
  'CAP_SETFCAP',
];

const DEVICES: Record<string, DeviceNode> = {
  '/dev/null': { type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
  '/dev/sda': { type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
  '/dev/fuse': { type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
  '/dev/zero-zero': { type: 'c', major: 0, minor: 0, fileMode: 0o600, uid: 0, gid: 0 },
};

const SYMLINKS: Record<string, string> = { '/var/link': '/var/real', '/srv/data-link': '/mnt/disk/data' };

function securityContext(over: Partial<LinuxContainerSecurityContext__Output> = {}): LinuxContainerSecurityContext__Output {
  return { ...emptySecurityContext(), namespace_options: namespaceOptions(), ...over };
}

function namespaceOptions(over: Partial<NamespaceOption__Output> = {}): NamespaceOption__Output {
  return { network: 'POD', pid: 'CONTAINER', ipc: 'POD', target_id: '', userns_options: null, ...over };
}

function resources(over: Partial<LinuxContainerResources__Output> = {}): LinuxContainerResources__Output {
  return {
    cpu_period: '0',
    cpu_quota: '0',
    cpu_shares: '0',
    memory_limit_in_bytes: '0',
    oom_score_adj: '0',
    cpuset_cpus: '',
    cpuset_mems: '',
    hugepage_limits: [],
    unified: {},
    memory_swap_limit_in_bytes: '0',
    ...over,
  };
}

function criMount(over: Partial<Mount__Output> = {}): Mount__Output {
  return {
    container_path: '/data',
    host_path: '/srv/data',
    readonly: false,
    selinux_relabel: false,
    propagation: 'PROPAGATION_PRIVATE',
    uidMappings: [],
    gidMappings: [],
    ...over,
  };
}

interface Overrides {
  config?: Partial<ContainerConfig__Output>;
  security?: Partial<LinuxContainerSecurityContext__Output>;
  /** null: the container config has no linux.security_context at all */
  noSecurityContext?: boolean;
  resources?: Partial<LinuxContainerResources__Output> | null;
  image?: Partial<ImageRuntimeConfig>;
  imageUsers?: ImageUsers;
  sandboxPrivileged?: boolean;
  sandbox?: Partial<SandboxFacts>;
  namespaces?: Partial<SandboxFacts['namespaces']>;
  host?: Partial<HostFacts>;
  resolve?: (path: string) => string;
  seccompProfiles?: SeccompProfiles;
}

function baseInput(over: Overrides = {}): ContainerSpecInput {
  const config: ContainerConfig__Output = {
    metadata: { name: 'web', attempt: 0 },
    image: { image: 'sha256:abc', annotations: {}, user_specified_image: '', runtime_handler: '' },
    command: [],
    args: [],
    working_dir: '',
    envs: [],
    mounts: [],
    devices: [],
    labels: {},
    annotations: { 'example.com/owner': 'team-a' },
    log_path: 'web/0.log',
    stdin: false,
    stdin_once: false,
    tty: false,
    linux: {
      resources: over.resources === null ? null : resources(over.resources ?? {}),
      security_context: over.noSecurityContext ? null : securityContext(over.security ?? {}),
    },
    windows: null,
    CDI_devices: [],
    ...over.config,
  };
  const sandboxConfig: PodSandboxConfig__Output = {
    metadata: { name: 'web-pod', uid: 'uid-1', namespace: 'default', attempt: 0 },
    hostname: 'web-pod',
    log_directory: '/var/log/pods/default_web-pod_uid-1',
    dns_config: null,
    port_mappings: [],
    labels: {},
    annotations: {},
    linux: {
      cgroup_parent: '/kubepods/pod-uid-1',
      security_context: {
        namespace_options: null,
        selinux_options: null,
        run_as_user: null,
        readonly_rootfs: false,
        supplemental_groups: [],
        privileged: over.sandboxPrivileged ?? false,
        seccomp_profile_path: '',
        run_as_group: null,
        seccomp: null,
        apparmor: null,
      },
      sysctls: {},
      overhead: null,
      resources: null,
    },
    windows: null,
  };
  const sandbox: SandboxFacts = {
    id: 'sandbox-1',
    hostname: 'web-pod',
    files: {
      hostname: '/run/caisson/pods/sandbox-1/hostname',
      hosts: '/run/caisson/pods/sandbox-1/hosts',
      resolvConf: '/run/caisson/pods/sandbox-1/resolv.conf',
      shm: '/run/caisson/pods/sandbox-1/shm',
    },
    targetPidNamespace: (id) => (id === 'running-1' ? '/proc/4242/ns/pid' : undefined),
    ...over.sandbox,
    namespaces: {
      network: '/run/caisson/netns/sandbox-1',
      ipc: '/run/caisson/ipcns/sandbox-1',
      uts: '/run/caisson/utsns/sandbox-1',
      ...over.sandbox?.namespaces,
      ...over.namespaces,
    },
  };
  const host: HostFacts = {
    capabilities: LINUX_CAPABILITIES,
    oomScoreAdj: 0,
    appArmorEnabled: false,
    cgroupVersion: 'v2',
    hostDevices: ['/dev/null', '/dev/sda', '/dev/fuse', '/dev/zero-zero', '/dev/vanished'],
    ...over.host,
  };
  return {
    containerId: 'ctr-1',
    containerName: 'web',
    config,
    sandboxConfig,
    sandbox,
    image: {
      id: 'sha256:abc',
      name: 'docker.io/library/busybox:latest',
      config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], Cmd: ['sh'], ...over.image },
    },
    imageUsers: over.imageUsers ?? parseImageUsers(PASSWD, GROUP),
    rootfsPath: '/var/lib/caisson/containers/ctr-1/rootfs',
    cgroupsPath: '/kubepods/pod-uid-1/ctr-1',
    host,
    hostPaths: {
      resolve:
        over.resolve ??
        ((p) => {
          if (p === '/missing') throw new Error(`ENOENT: no such file or directory, realpath '${p}'`);
          return SYMLINKS[p] ?? p;
        }),
      device: (p) => DEVICES[p],
    },
    seccompProfiles: over.seccompProfiles ?? {
      localhost: (ref) => {
        if (ref === '/var/lib/kubelet/seccomp/audit.json') return { defaultAction: 'SCMP_ACT_LOG', architectures: [], syscalls: [] };
        if (ref === '/var/lib/kubelet/seccomp/array.json') return [];
        throw new Error(`open ${ref}: no such file or directory`);
      },
    },
  };
}

function build(over: Overrides = {}): OciSpec {
  return buildContainerSpec(baseInput(over));
}

function assertInvalid(over: Overrides, message: string): void {
  assert.throws(() => build(over), { name: 'InvalidArgumentError', code: 'INVALID_ARGUMENT', message });
}

// ---- rules ----------------------------------------------------------------------------------------

describe('buildContainerSpec: command (rule 1)', () => {
  const image = { Entrypoint: ['/entry.sh', '--flag'], Cmd: ['serve', '--port=80'] };

  it('runs the image Entrypoint then Cmd when the CRI gives neither', () => {
    assert.deepEqual(build({ image }).process.args, ['/entry.sh', '--flag', 'serve', '--port=80']);
  });

  it('runs the image Cmd alone when the image has no Entrypoint', () => {
    assert.deepEqual(build().process.args, ['sh']);
  });

  it('lets CRI command override the Entrypoint, and then ignores the image Cmd', () => {
    assert.deepEqual(build({ image, config: { command: ['sleep'] } }).process.args, ['sleep']);
  });

  it('runs CRI command with CRI args', () => {
    assert.deepEqual(build({ image, config: { command: ['sleep'], args: ['3600'] } }).process.args, ['sleep', '3600']);
  });

  it('runs the image Entrypoint with CRI args when the CRI gives only args', () => {
    assert.deepEqual(build({ image, config: { args: ['debug'] } }).process.args, ['/entry.sh', '--flag', 'debug']);
    assert.deepEqual(build({ config: { args: ['echo', 'hi'] } }).process.args, ['echo', 'hi']);
  });

  it('treats an image Entrypoint of [""] as no entrypoint', () => {
    assert.deepEqual(build({ image: { Entrypoint: [''], Cmd: ['sh'] } }).process.args, ['sh']);
  });

  it('rejects a container with nothing to run', () => {
    assertInvalid(
      { image: { Entrypoint: null, Cmd: null } },
      'container "web": no command to run: neither the container config nor image docker.io/library/busybox:latest gives one',
    );
  });
});

describe('buildContainerSpec: environment and working directory (rule 2)', () => {
  it('puts HOSTNAME first, then the image env, with CRI envs overriding by key and new ones appended', () => {
    const env = build({
      image: { Env: ['PATH=/bin', 'LANG=C', 'EMPTY=', 'BARE'] },
      config: {
        envs: [
          { key: 'LANG', value: 'en_US.UTF-8' },
          { key: 'NEW', value: 'a=b' },
          { key: 'BARE', value: 'now-set' },
        ],
      },
    }).process.env;
    assert.deepEqual(env, ['HOSTNAME=web-pod', 'PATH=/bin', 'LANG=en_US.UTF-8', 'EMPTY=', 'BARE=now-set', 'NEW=a=b']);
  });

  it('adds the default PATH when neither the image nor the CRI sets one', () => {
    const env = build({ image: { Env: ['A=1'] } }).process.env;
    assert.deepEqual(env, ['HOSTNAME=web-pod', 'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin', 'A=1']);
    assert.deepEqual(build({ image: { Env: undefined } }).process.env, [
      'HOSTNAME=web-pod',
      'PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
    ]);
  });

  it('lets a CRI PATH or HOSTNAME override in place', () => {
    const env = build({
      config: {
        envs: [
          { key: 'PATH', value: '/opt/bin' },
          { key: 'HOSTNAME', value: 'custom' },
        ],
      },
    }).process.env;
    assert.deepEqual(env, ['HOSTNAME=custom', 'PATH=/opt/bin']);
  });

  it('uses the CRI working_dir, else the image WorkingDir, else /', () => {
    assert.equal(build({ image: { WorkingDir: '/srv' }, config: { working_dir: '/app' } }).process.cwd, '/app');
    assert.equal(build({ image: { WorkingDir: '/srv' } }).process.cwd, '/srv');
    assert.equal(build().process.cwd, '/');
  });

  it('rejects a relative working directory', () => {
    assertInvalid({ config: { working_dir: 'app' } }, 'container "web": working directory "app" is not an absolute path');
    assertInvalid({ image: { WorkingDir: 'srv' } }, 'container "web": working directory "srv" is not an absolute path');
  });
});

describe('buildContainerSpec: user and groups (rule 3)', () => {
  const id = (value: string) => ({ value });

  it('runs as root with root\'s /etc/group memberships by default', () => {
    assert.deepEqual(build().process.user, { uid: 0, gid: 0, additionalGids: [10, 44] });
  });

  it('runs as run_as_user with the primary gid of its passwd entry and its groups', () => {
    assert.deepEqual(build({ security: { run_as_user: id('1000') } }).process.user, { uid: 1000, gid: 1000, additionalGids: [29, 44] });
  });

  it('needs no passwd entry for a numeric run_as_user (gid 0, no groups)', () => {
    assert.deepEqual(build({ security: { run_as_user: id('4242') } }).process.user, { uid: 4242, gid: 0, additionalGids: [] });
  });

  it('resolves run_as_username in the image /etc/passwd', () => {
    assert.deepEqual(build({ security: { run_as_username: 'alice' } }).process.user, { uid: 1000, gid: 1000, additionalGids: [29, 44] });
  });

  it('prefers run_as_user when both run_as_user and run_as_username are set', () => {
    assert.equal(build({ security: { run_as_user: id('33'), run_as_username: 'alice' } }).process.user.uid, 33);
  });

  it('rejects a run_as_username the image does not have', () => {
    assertInvalid(
      { security: { run_as_username: 'mallory' } },
      'container "web": run_as_username "mallory" is not a user in the image\'s /etc/passwd',
    );
    assertInvalid(
      { security: { run_as_username: 'root' }, imageUsers: parseImageUsers('', '') },
      'container "web": run_as_username "root" is not a user in the image\'s /etc/passwd',
    );
  });

  it('lets run_as_group replace the primary gid', () => {
    assert.deepEqual(build({ security: { run_as_user: id('1000'), run_as_group: id('44') } }).process.user, {
      uid: 1000,
      gid: 44,
      additionalGids: [29],
    });
    assert.deepEqual(build({ security: { run_as_username: 'alice', run_as_group: id('50') } }).process.user, {
      uid: 1000,
      gid: 50,
      additionalGids: [29, 44],
    });
  });

  it('rejects run_as_group without a user', () => {
    assertInvalid(
      { security: { run_as_group: id('50') } },
      'container "web": run_as_group is set but neither run_as_user nor run_as_username is (the CRI requires a user with a group)',
    );
  });

  it('rejects ids out of range', () => {
    assertInvalid({ security: { run_as_user: id('-1') } }, 'container "web": run_as_user -1 is not a valid id (0 to 4294967294)');
    assertInvalid(
      { security: { run_as_user: id('0'), run_as_group: id('4294967295') } },
      'container "web": run_as_group 4294967295 is not a valid id (0 to 4294967294)',
    );
    assertInvalid({ security: { supplemental_groups: ['-5'] } }, 'container "web": supplemental_groups -5 is not a valid id (0 to 4294967294)');
  });

  describe('the image User, when the CRI names no user', () => {
    const cases: [string, { uid: number; gid: number; additionalGids: number[] }][] = [
      ['33', { uid: 33, gid: 33, additionalGids: [] }],
      ['4242', { uid: 4242, gid: 0, additionalGids: [] }],
      ['1000:50', { uid: 1000, gid: 50, additionalGids: [29, 44] }],
      ['4242:4343', { uid: 4242, gid: 4343, additionalGids: [] }],
      ['alice', { uid: 1000, gid: 1000, additionalGids: [29, 44] }],
      ['alice:staff', { uid: 1000, gid: 50, additionalGids: [29, 44] }],
      ['alice:44', { uid: 1000, gid: 44, additionalGids: [29] }],
      ['1000:staff', { uid: 1000, gid: 50, additionalGids: [29, 44] }],
      ['www-data', { uid: 33, gid: 33, additionalGids: [] }],
    ];
    for (const [user, expected] of cases) {
      it(`resolves "${user}"`, () => assert.deepEqual(build({ image: { User: user } }).process.user, expected));
    }

    it('is overridden by the CRI user', () => {
      assert.equal(build({ image: { User: 'alice' }, security: { run_as_user: id('33') } }).process.user.uid, 33);
      assert.equal(build({ image: { User: 'alice' }, security: { run_as_username: 'nobody' } }).process.user.uid, 65534);
    });

    it('rejects a user or group the image does not have, and malformed values', () => {
      assertInvalid(
        { image: { User: 'mallory' } },
        'container "web": user "mallory" of image docker.io/library/busybox:latest is not in the image\'s /etc/passwd',
      );
      assertInvalid(
        { image: { User: 'alice:wheelz' } },
        'container "web": group "wheelz" of image docker.io/library/busybox:latest is not in the image\'s /etc/group',
      );
      for (const bad of ['a:b:c', ':50', 'alice:']) {
        assertInvalid(
          { image: { User: bad } },
          `container "web": user "${bad}" of image docker.io/library/busybox:latest is not valid (want uid, uid:gid, name or name:group)`,
        );
      }
    });
  });

  it('merges supplemental_groups with the /etc/group memberships: unique, sorted, without the primary gid', () => {
    assert.deepEqual(build({ security: { supplemental_groups: ['5000', '44', '0', '7', '5000'] } }).process.user, {
      uid: 0,
      gid: 0,
      additionalGids: [7, 10, 44, 5000],
    });
  });
});

describe('buildContainerSpec: capabilities (rule 4)', () => {
  const caps = (capabilities: { add?: string[]; drop?: string[]; ambient?: string[] }, over: Overrides = {}) =>
    build({
      ...over,
      security: {
        ...over.security,
        capabilities: {
          add_capabilities: capabilities.add ?? [],
          drop_capabilities: capabilities.drop ?? [],
          add_ambient_capabilities: capabilities.ambient ?? [],
        },
      },
    }).process.capabilities;

  it('grants the default set, in kernel order, in bounding, effective and permitted', () => {
    assert.deepEqual(build().process.capabilities, {
      bounding: DEFAULT_CAPS_IN_KERNEL_ORDER,
      effective: DEFAULT_CAPS_IN_KERNEL_ORDER,
      permitted: DEFAULT_CAPS_IN_KERNEL_ORDER,
    });
  });

  it('adds capabilities named with or without CAP_, in any case', () => {
    const { bounding } = caps({ add: ['sys_admin', 'CAP_NET_ADMIN', 'Cap_Sys_Ptrace'] });
    assert.ok(bounding.includes('CAP_SYS_ADMIN') && bounding.includes('CAP_NET_ADMIN') && bounding.includes('CAP_SYS_PTRACE'));
    assert.equal(bounding.length, DEFAULT_CAPS_IN_KERNEL_ORDER.length + 3);
  });

  it('drops capabilities', () => {
    const set = caps({ drop: ['chown', 'CAP_NET_RAW', 'sys_admin'] });
    assert.deepEqual(
      set.bounding,
      DEFAULT_CAPS_IN_KERNEL_ORDER.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_NET_RAW'),
    );
    assert.deepEqual(set.effective, set.bounding);
    assert.deepEqual(set.permitted, set.bounding);
  });

  it('supports ALL in add and in drop, applied before the named ones', () => {
    assert.deepEqual(caps({ add: ['ALL'] }).bounding, LINUX_CAPABILITIES);
    assert.deepEqual(
      caps({ add: ['all'], drop: ['CHOWN'] }).bounding,
      LINUX_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN'),
    );
    assert.deepEqual(caps({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] }).bounding, ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(caps({ drop: ['ALL'] }).bounding, []);
  });

  it('ADD ALL means all the capabilities the daemon holds', () => {
    const host = { capabilities: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_ADMIN'] };
    assert.deepEqual(caps({ add: ['ALL'] }, { host }).bounding, ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_ADMIN']);
  });

  it('rejects a capability the host does not hold', () => {
    assert.throws(
      () => caps({ add: ['SYS_ADMIN'] }, { host: { capabilities: DEFAULT_CAPS_IN_KERNEL_ORDER } }),
      { code: 'INVALID_ARGUMENT', message: "container \"web\": capability CAP_SYS_ADMIN cannot be added: the host's bounding set lacks it" },
    );
  });

  it('leaves out default capabilities the host does not hold', () => {
    const held = DEFAULT_CAPS_IN_KERNEL_ORDER.filter((c) => c !== 'CAP_MKNOD' && c !== 'CAP_AUDIT_WRITE');
    assert.deepEqual(build({ host: { capabilities: held } }).process.capabilities.bounding, held);
  });

  it('rejects unknown capability names in add and in drop', () => {
    assert.throws(() => caps({ add: ['FLY'] }), { code: 'INVALID_ARGUMENT', message: 'container "web": unknown capability "FLY" in add_capabilities' });
    assert.throws(() => caps({ drop: ['CAP_TELEPORT'] }), {
      code: 'INVALID_ARGUMENT',
      message: 'container "web": unknown capability "CAP_TELEPORT" in drop_capabilities',
    });
  });

  it('ignores add_ambient_capabilities (no ambient set is emitted)', () => {
    const set = caps({ ambient: ['NET_BIND_SERVICE'] });
    assert.deepEqual(Object.keys(set).sort(), ['bounding', 'effective', 'permitted']);
    assert.deepEqual(set.bounding, DEFAULT_CAPS_IN_KERNEL_ORDER);
  });

  it('gives a privileged container exactly the host capabilities, ignoring add and drop', () => {
    const host = { capabilities: ['CAP_SYS_ADMIN', 'CAP_CHOWN', 'CAP_BPF'] };
    const set = caps({ drop: ['ALL'], add: ['FLY'] }, { host, sandboxPrivileged: true, security: { privileged: true } });
    assert.deepEqual(set, { bounding: host.capabilities, effective: host.capabilities, permitted: host.capabilities });
  });
});

describe('buildContainerSpec: privileged containers (rule 5)', () => {
  const privileged = (over: Overrides = {}) =>
    build({ ...over, sandboxPrivileged: true, security: { privileged: true, ...over.security } });

  it('gets every host device (skipping vanished and 0:0 nodes) and an allow-all device cgroup', () => {
    const spec = privileged();
    assert.deepEqual(spec.linux.devices, [
      { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
    ]);
    assert.deepEqual(spec.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  });

  it('also creates the CRI devices, without adding cgroup rules', () => {
    const spec = privileged({ config: { devices: [{ host_path: '/dev/fuse', container_path: '/dev/my-fuse', permissions: 'rw' }] } });
    assert.equal(spec.linux.devices.at(-1)?.path, '/dev/my-fuse');
    assert.deepEqual(spec.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  });

  it('masks nothing, even when the client sends paths', () => {
    const spec = privileged({ security: { masked_paths: ['/proc/kcore'], readonly_paths: ['/proc/sys'] } });
    assert.deepEqual(spec.linux.maskedPaths, []);
    assert.deepEqual(spec.linux.readonlyPaths, []);
  });

  it('mounts /sys and /sys/fs/cgroup read-write', () => {
    const spec = privileged();
    assert.deepEqual(spec.mounts.find((m) => m.destination === '/sys')?.options, ['nosuid', 'noexec', 'nodev', 'rw']);
    assert.deepEqual(spec.mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options, ['nosuid', 'noexec', 'nodev', 'relatime', 'rw']);
  });

  it('has no seccomp and no AppArmor profile, whatever was asked', () => {
    const spec = privileged({
      host: { appArmorEnabled: true },
      security: {
        seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' },
        apparmor: { profile_type: 'Localhost', localhost_ref: 'custom' },
      },
    });
    assert.equal(spec.linux.seccomp, undefined);
    assert.equal(spec.process.apparmorProfile, undefined);
    assert.ok(!('seccomp' in spec.linux) && !('apparmorProfile' in spec.process));
  });

  it('keeps the host cgroup namespace', () => {
    assert.deepEqual(
      privileged().linux.namespaces.map((n) => n.type),
      ['pid', 'network', 'ipc', 'uts', 'mount'],
    );
  });

  it('is refused in a sandbox that is not privileged', () => {
    assertInvalid(
      { security: { privileged: true } },
      "container \"web\": privileged container in a sandbox that is not privileged (the pod sandbox's security_context.privileged must be true)",
    );
  });

  it('is not implied by a privileged sandbox alone', () => {
    const spec = build({ sandboxPrivileged: true });
    assert.deepEqual(spec.linux.maskedPaths, DEFAULT_MASKED_PATHS);
    assert.deepEqual(spec.process.capabilities.bounding, DEFAULT_CAPS_IN_KERNEL_ORDER);
    assert.equal(spec.linux.resources.devices[0]?.allow, false);
  });
});

describe('buildContainerSpec: masked and read-only paths (rule 6)', () => {
  it('uses the defaults when the client sends none', () => {
    const spec = build();
    assert.deepEqual(spec.linux.maskedPaths, [
      '/proc/acpi',
      '/proc/asound',
      '/proc/kcore',
      '/proc/keys',
      '/proc/latency_stats',
      '/proc/timer_list',
      '/proc/timer_stats',
      '/proc/sched_debug',
      '/proc/scsi',
      '/sys/firmware',
      '/sys/devices/virtual/powercap',
    ]);
    assert.deepEqual(spec.linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
    assert.deepEqual(build({ noSecurityContext: true, namespaces: { pid: '/proc/77/ns/pid' } }).linux.readonlyPaths, DEFAULT_READONLY_PATHS);
  });

  it('uses the CRI lists when the client sends them', () => {
    const spec = build({ security: { masked_paths: ['/proc/kcore', '/proc/keys'], readonly_paths: ['/proc/sys'] } });
    assert.deepEqual(spec.linux.maskedPaths, ['/proc/kcore', '/proc/keys']);
    assert.deepEqual(spec.linux.readonlyPaths, ['/proc/sys']);
  });
});

describe('buildContainerSpec: mounts (rule 7)', () => {
  const files = '/run/caisson/pods/sandbox-1';

  it('mounts the system filesystems and the pod files, parents first', () => {
    assert.deepEqual(build().mounts, [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'bind', source: `${files}/shm`, options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/etc/hostname', type: 'bind', source: `${files}/hostname`, options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/etc/hosts', type: 'bind', source: `${files}/hosts`, options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: `${files}/resolv.conf`, options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ]);
  });

  it('mounts the pod files read-only, and /dev/shm still read-write, when the rootfs is read-only', () => {
    const mounts = build({ security: { readonly_rootfs: true } }).mounts;
    for (const dst of ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']) {
      assert.deepEqual(mounts.find((m) => m.destination === dst)?.options, ['rbind', 'rprivate', 'ro'], dst);
    }
    assert.deepEqual(mounts.find((m) => m.destination === '/dev/shm')?.options, ['rbind', 'rprivate', 'rw']);
  });

  it('binds CRI mounts from their resolved host path with the asked propagation and mode', () => {
    const spec = build({
      config: {
        mounts: [
          criMount({ container_path: '/a', host_path: '/var/link' }),
          criMount({ container_path: '/b', host_path: '/srv/b', readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' }),
          criMount({ container_path: '/c', host_path: '/srv/c', propagation: 'PROPAGATION_BIDIRECTIONAL' }),
        ],
      },
    });
    const cri = spec.mounts.filter((m) => ['/a', '/b', '/c'].includes(m.destination));
    assert.deepEqual(cri, [
      { destination: '/a', type: 'bind', source: '/var/real', options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/b', type: 'bind', source: '/srv/b', options: ['rbind', 'rslave', 'ro'] },
      { destination: '/c', type: 'bind', source: '/srv/c', options: ['rbind', 'rshared', 'rw'] },
    ]);
    assert.equal(spec.linux.rootfsPropagation, 'rshared');
  });

  it('sets rootfs propagation to rslave for host-to-container mounts, and leaves it unset for private ones', () => {
    const slave = build({ config: { mounts: [criMount({ propagation: 'PROPAGATION_HOST_TO_CONTAINER' })] } });
    assert.equal(slave.linux.rootfsPropagation, 'rslave');
    assert.ok(!('rootfsPropagation' in build({ config: { mounts: [criMount()] } }).linux));
  });

  it('lets a CRI mount replace the default mount at its destination', () => {
    const mounts = build({ config: { mounts: [criMount({ container_path: '/etc/hosts/', host_path: '/srv/hosts' })] } }).mounts;
    const hosts = mounts.filter((m) => m.destination.startsWith('/etc/hosts'));
    assert.deepEqual(hosts, [{ destination: '/etc/hosts/', type: 'bind', source: '/srv/hosts', options: ['rbind', 'rprivate', 'rw'] }]);
  });

  it('lets a CRI /dev mount replace every default mount under /dev', () => {
    const mounts = build({ config: { mounts: [criMount({ container_path: '/dev', host_path: '/dev' })] } }).mounts;
    assert.deepEqual(
      mounts.filter((m) => m.destination.startsWith('/dev')),
      [{ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind', 'rprivate', 'rw'] }],
    );
  });

  it('orders mounts so that parents come before children', () => {
    const mounts = build({
      config: {
        mounts: [
          criMount({ container_path: '/data/a/b', host_path: '/srv/ab' }),
          criMount({ container_path: '/data', host_path: '/srv/data' }),
          criMount({ container_path: '/proc/driver/x', host_path: '/srv/x' }),
        ],
      },
    }).mounts.map((m) => m.destination);
    const before = (a: string, b: string) => assert.ok(mounts.indexOf(a) < mounts.indexOf(b), `${a} before ${b}: ${mounts.join(' ')}`);
    before('/data', '/data/a/b');
    before('/proc', '/proc/driver/x');
    before('/dev', '/dev/pts');
    before('/sys', '/sys/fs/cgroup');
  });

  it('rejects relative paths, unresolvable sources and idmapped mounts', () => {
    assertInvalid(
      { config: { mounts: [criMount({ host_path: 'srv/data' })] } },
      'container "web": mount host_path "srv/data" (at /data) is not an absolute path',
    );
    assertInvalid({ config: { mounts: [criMount({ container_path: 'data' })] } }, 'container "web": mount container_path "data" is not an absolute path');
    assertInvalid({ config: { mounts: [criMount({ container_path: '' })] } }, 'container "web": mount container_path "" is not an absolute path');
    assertInvalid(
      { config: { mounts: [criMount({ uidMappings: [{ host_id: 100000, container_id: 0, length: 65536 }] })] } },
      'container "web": mount /data: idmapped mounts (uidMappings/gidMappings) are not supported',
    );
    assert.throws(() => build({ config: { mounts: [criMount({ host_path: '/missing' })] } }), (error: Error) => {
      assert.equal(
        error.message,
        "container \"web\": mount host_path \"/missing\" (at /data) cannot be resolved: ENOENT: no such file or directory, realpath '/missing'",
      );
      assert.equal((error as { code?: string }).code, 'INVALID_ARGUMENT');
      assert.ok(error.cause instanceof Error);
      return true;
    });
  });
});

describe('buildContainerSpec: namespaces and hostname (rule 8)', () => {
  const withPid = (pid: NamespaceOption__Output['pid'], target_id = '', over: Overrides = {}) =>
    build({ ...over, security: { namespace_options: namespaceOptions({ pid, target_id }) } }).linux.namespaces;

  it('joins the pod network, IPC and UTS namespaces and gets new pid, mount and cgroup namespaces', () => {
    assert.deepEqual(build().linux.namespaces, [
      { type: 'pid' },
      { type: 'network', path: '/run/caisson/netns/sandbox-1' },
      { type: 'ipc', path: '/run/caisson/ipcns/sandbox-1' },
      { type: 'uts', path: '/run/caisson/utsns/sandbox-1' },
      { type: 'mount' },
      { type: 'cgroup' },
    ]);
  });

  it('stays in the host network, IPC and UTS namespaces of a host pod, without a hostname', () => {
    const spec = build({ namespaces: { network: 'host', ipc: 'host', uts: 'host' } });
    assert.deepEqual(spec.linux.namespaces, [{ type: 'pid' }, { type: 'mount' }, { type: 'cgroup' }]);
    assert.ok(!('hostname' in spec));
  });

  it('sets the pod hostname when the pod has its own UTS namespace', () => {
    assert.equal(build().hostname, 'web-pod');
    assert.equal(build({ namespaces: { network: 'host' } }).hostname, 'web-pod');
  });

  it('joins the pod pid namespace for POD, and needs the pod to have one', () => {
    assert.deepEqual(withPid('POD', '', { namespaces: { pid: '/proc/77/ns/pid' } })[0], { type: 'pid', path: '/proc/77/ns/pid' });
    assert.equal(
      withPid('POD', '', { namespaces: { pid: 'host' } }).find((n) => n.type === 'pid'),
      undefined,
    );
    assertInvalid(
      { security: { namespace_options: namespaceOptions({ pid: 'POD' }) } },
      'container "web": pid namespace mode POD, but the pod has no shared pid namespace',
    );
  });

  it('treats absent namespace options as POD, the CRI default', () => {
    assert.deepEqual(build({ security: { namespace_options: null }, namespaces: { pid: '/proc/77/ns/pid' } }).linux.namespaces[0], {
      type: 'pid',
      path: '/proc/77/ns/pid',
    });
  });

  it('stays in the host pid namespace for NODE', () => {
    assert.equal(
      withPid('NODE').find((n) => n.type === 'pid'),
      undefined,
    );
  });

  it('joins the target container pid namespace for TARGET', () => {
    assert.deepEqual(withPid('TARGET', 'running-1')[0], { type: 'pid', path: '/proc/4242/ns/pid' });
    assertInvalid(
      { security: { namespace_options: namespaceOptions({ pid: 'TARGET', target_id: 'stopped-2' }) } },
      'container "web": pid namespace target container "stopped-2" is not running',
    );
    assertInvalid(
      { security: { namespace_options: namespaceOptions({ pid: 'TARGET' }) } },
      'container "web": pid namespace mode TARGET needs a target_id',
    );
    assertInvalid(
      { security: { namespace_options: namespaceOptions({ pid: 'TARGET', target_id: 'running-1' }) }, sandbox: { targetPidNamespace: undefined } },
      'container "web": pid namespace target container "running-1" is not running',
    );
  });

  it('creates a cgroup namespace on cgroup v2 only', () => {
    for (const cgroupVersion of ['v1', 'hybrid'] as const) {
      assert.equal(
        build({ host: { cgroupVersion } }).linux.namespaces.find((n) => n.type === 'cgroup'),
        undefined,
        cgroupVersion,
      );
    }
  });
});

describe('buildContainerSpec: resources and devices (rule 9)', () => {
  it('sets nothing when the CRI gives no resources, and never lets the container inherit a lower oom score', () => {
    const spec = build({ resources: null });
    assert.deepEqual(spec.linux.resources.cpu, {});
    assert.deepEqual(spec.linux.resources.memory, {});
    assert.deepEqual(spec.linux.resources.hugepageLimits, []);
    assert.ok(!('unified' in spec.linux.resources));
    assert.equal(spec.process.oomScoreAdj, 0);
    assert.equal(build({ resources: null, host: { oomScoreAdj: -500 } }).process.oomScoreAdj, 0);
    assert.equal(build({ resources: null, host: { oomScoreAdj: 300 } }).process.oomScoreAdj, 300);
  });

  it('omits zero values', () => {
    const spec = build();
    assert.deepEqual(spec.linux.resources.cpu, {});
    assert.deepEqual(spec.linux.resources.memory, {});
  });

  it('maps CPU, cpuset, memory and swap', () => {
    const spec = build({
      resources: {
        cpu_shares: '512',
        cpu_quota: '50000',
        cpu_period: '100000',
        cpuset_cpus: '0-1',
        cpuset_mems: '0',
        memory_limit_in_bytes: '268435456',
        memory_swap_limit_in_bytes: '536870912',
      },
    });
    assert.deepEqual(spec.linux.resources.cpu, { shares: 512, quota: 50000, period: 100000, cpus: '0-1', mems: '0' });
    assert.deepEqual(spec.linux.resources.memory, { limit: 268435456, swap: 536870912 });
  });

  it('accepts a quota and a swap of -1 (unlimited) and rejects other negative values', () => {
    assert.deepEqual(build({ resources: { cpu_quota: '-1', memory_swap_limit_in_bytes: '-1' } }).linux.resources, {
      devices: build().linux.resources.devices,
      memory: { swap: -1 },
      cpu: { quota: -1 },
      hugepageLimits: [],
    });
    assertInvalid({ resources: { cpu_shares: '-2' } }, 'container "web": cpu_shares -2 is out of range (at least 0)');
    assertInvalid({ resources: { memory_limit_in_bytes: '-1' } }, 'container "web": memory_limit_in_bytes -1 is out of range (at least 0)');
    assertInvalid({ resources: { cpu_quota: '-7' } }, 'container "web": cpu_quota -7 is out of range (at least -1)');
    assertInvalid({ resources: { cpu_period: 'soon' } }, 'container "web": cpu_period "soon" is not an integer');
  });

  it('maps hugepage limits', () => {
    const spec = build({
      resources: {
        hugepage_limits: [
          { page_size: '2MB', limit: '1073741824' },
          { page_size: '1GB', limit: '0' },
        ],
      },
    });
    assert.deepEqual(spec.linux.resources.hugepageLimits, [
      { pageSize: '2MB', limit: 1073741824 },
      { pageSize: '1GB', limit: 0 },
    ]);
    assertInvalid(
      { resources: { hugepage_limits: [{ page_size: '2M', limit: '1' }] } },
      'container "web": hugepage limit page_size "2M" is not <size><unit>B (e.g. 2MB, 1GB)',
    );
  });

  it('passes unified resources on cgroup v2 and refuses them elsewhere', () => {
    const unified = { 'memory.high': '1073741824', 'io.weight': 'default 100' };
    assert.deepEqual(build({ resources: { unified } }).linux.resources.unified, unified);
    assertInvalid(
      { resources: { unified }, host: { cgroupVersion: 'v1' } },
      'container "web": unified cgroup resources (io.weight, memory.high) need cgroup v2, but the host uses cgroup v1',
    );
    assertInvalid(
      { resources: { unified }, host: { cgroupVersion: 'hybrid' } },
      'container "web": unified cgroup resources (io.weight, memory.high) need cgroup v2, but the host uses cgroup hybrid',
    );
    assert.ok(!('unified' in build({ host: { cgroupVersion: 'v1' } }).linux.resources));
  });

  it('sets oom_score_adj, raised to the daemon own score and capped at 1000', () => {
    assert.equal(build({ resources: { oom_score_adj: '-997' } }).process.oomScoreAdj, 0);
    assert.equal(build({ resources: { oom_score_adj: '-997' }, host: { oomScoreAdj: -999 } }).process.oomScoreAdj, -997);
    assert.equal(build({ resources: { oom_score_adj: '-998' }, host: { oomScoreAdj: -500 } }).process.oomScoreAdj, -500);
    assert.equal(build({ resources: { oom_score_adj: '500' } }).process.oomScoreAdj, 500);
    assert.equal(build({ resources: { oom_score_adj: '1500' } }).process.oomScoreAdj, 1000);
  });

  it('denies every device, then allows the default ones', () => {
    const spec = build();
    assert.deepEqual(spec.linux.resources.devices, [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', access: 'm' },
      { allow: true, type: 'b', access: 'm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
      { allow: true, type: 'c', major: 136, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
    ]);
    assert.equal(spec.linux.resources.devices.length, DEFAULT_DEVICE_RULES.length + 1);
    assert.deepEqual(spec.linux.devices, []);
  });

  it('creates CRI devices at their container path and allows them with the asked permissions', () => {
    const spec = build({
      config: {
        devices: [
          { host_path: '/dev/fuse', container_path: '/dev/fuse', permissions: 'rw' },
          { host_path: '/dev/sda', container_path: '/dev/xvda', permissions: '' },
        ],
      },
    });
    assert.deepEqual(spec.linux.devices, [
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/xvda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
    ]);
    assert.deepEqual(spec.linux.resources.devices.slice(-2), [
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
      { allow: true, type: 'b', major: 8, minor: 0, access: 'rwm' },
    ]);
  });

  it('rejects devices that are not device nodes, bad permissions and relative paths', () => {
    const dev = (d: Partial<{ host_path: string; container_path: string; permissions: string }>) => ({
      config: { devices: [{ host_path: '/dev/fuse', container_path: '/dev/fuse', permissions: 'rwm', ...d }] },
    });
    assertInvalid(dev({ host_path: '/etc/passwd' }), 'container "web": device /etc/passwd is not a character or block device on the host');
    assertInvalid(dev({ permissions: 'rwx' }), 'container "web": device /dev/fuse has invalid permissions "rwx" (a combination of r, w and m)');
    assertInvalid(dev({ permissions: 'rr' }), 'container "web": device /dev/fuse has invalid permissions "rr" (a combination of r, w and m)');
    assertInvalid(dev({ container_path: 'fuse' }), 'container "web": device container_path "fuse" (for /dev/fuse) is not an absolute path');
    assertInvalid(dev({ host_path: 'fuse' }), 'container "web": device host_path "fuse" is not an absolute path');
  });
});

describe('buildContainerSpec: security (rule 10)', () => {
  const seccompOf = (over: Overrides) => build(over).linux.seccomp;
  const apparmorOf = (over: Overrides) => build(over).process.apparmorProfile;

  it('maps no_new_privs and readonly_rootfs', () => {
    const plain = build();
    assert.equal(plain.process.noNewPrivileges, false);
    assert.equal(plain.root.readonly, false);
    const locked = build({ security: { no_new_privs: true, readonly_rootfs: true } });
    assert.equal(locked.process.noNewPrivileges, true);
    assert.equal(locked.root.readonly, true);
  });

  describe('seccomp', () => {
    it('is off when nothing is asked, and for Unconfined', () => {
      assert.equal(seccompOf({}), undefined);
      assert.ok(!('seccomp' in build().linux));
      assert.equal(seccompOf({ security: { seccomp: { profile_type: 'Unconfined', localhost_ref: '' } } }), undefined);
      assert.equal(seccompOf({ security: { seccomp_profile_path: 'unconfined' } }), undefined);
    });

    it('is the default profile for the container capabilities for RuntimeDefault', () => {
      const spec = build({ security: { seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' } } });
      assert.deepEqual(spec.linux.seccomp, defaultSeccompProfile(spec.process.capabilities.bounding));
      assert.equal(spec.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
    });

    it('follows the capabilities: admin syscalls only with CAP_SYS_ADMIN', () => {
      const allowed = (s: OciSeccomp | undefined) =>
        new Set((s?.syscalls ?? []).filter((c) => c.action === 'SCMP_ACT_ALLOW' && !c.args).flatMap((c) => c.names));
      const plain = allowed(seccompOf({ security: { seccomp_profile_path: 'runtime/default' } }));
      assert.ok(!plain.has('mount'));
      const admin = allowed(
        seccompOf({
          security: {
            seccomp_profile_path: 'runtime/default',
            capabilities: { add_capabilities: ['SYS_ADMIN'], drop_capabilities: [], add_ambient_capabilities: [] },
          },
        }),
      );
      assert.ok(admin.has('mount') && admin.has('unshare') && admin.has('clone3'));
    });

    it('narrows the architectures to the host family when the host says which', () => {
      const profile = seccompOf({ host: { arch: 'arm64' }, security: { seccomp_profile_path: 'runtime/default' } });
      assert.deepEqual(profile?.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    });

    it('accepts the legacy profile strings', () => {
      const runtimeDefault = seccompOf({ security: { seccomp_profile_path: 'runtime/default' } });
      assert.deepEqual(runtimeDefault, defaultSeccompProfile(DEFAULT_CAPS_IN_KERNEL_ORDER));
      assert.deepEqual(seccompOf({ security: { seccomp_profile_path: 'docker/default' } }), runtimeDefault);
      assert.deepEqual(seccompOf({ security: { seccomp_profile_path: 'localhost//var/lib/kubelet/seccomp/audit.json' } }), {
        defaultAction: 'SCMP_ACT_LOG',
        architectures: [],
        syscalls: [],
      });
      assertInvalid(
        { security: { seccomp_profile_path: 'strict' } },
        'container "web": invalid seccomp profile "strict" (want runtime/default, unconfined or localhost/<name>)',
      );
      assertInvalid(
        { security: { seccomp_profile_path: 'localhost/' } },
        'container "web": invalid seccomp profile "localhost/" (want runtime/default, unconfined or localhost/<name>)',
      );
    });

    it('prefers the SecurityProfile over the legacy string', () => {
      assert.equal(
        seccompOf({ security: { seccomp: { profile_type: 'Unconfined', localhost_ref: '' }, seccomp_profile_path: 'runtime/default' } }),
        undefined,
      );
    });

    it('loads a Localhost profile through the injected reader', () => {
      assert.deepEqual(
        seccompOf({ security: { seccomp: { profile_type: 'Localhost', localhost_ref: '/var/lib/kubelet/seccomp/audit.json' } } }),
        { defaultAction: 'SCMP_ACT_LOG', architectures: [], syscalls: [] },
      );
    });

    it('rejects Localhost profiles that are missing, not objects or not named', () => {
      assert.throws(
        () => build({ security: { seccomp: { profile_type: 'Localhost', localhost_ref: '/nope.json' } } }),
        (error: Error) => {
          assert.equal(error.message, 'container "web": seccomp profile /nope.json cannot be loaded: open /nope.json: no such file or directory');
          assert.equal((error as { code?: string }).code, 'INVALID_ARGUMENT');
          assert.ok(error.cause instanceof Error);
          return true;
        },
      );
      assertInvalid(
        { security: { seccomp: { profile_type: 'Localhost', localhost_ref: '/var/lib/kubelet/seccomp/array.json' } } },
        'container "web": seccomp profile /var/lib/kubelet/seccomp/array.json is not a JSON object',
      );
      assertInvalid(
        { security: { seccomp: { profile_type: 'Localhost', localhost_ref: '' } } },
        'container "web": seccomp profile type Localhost needs a localhost_ref',
      );
      assertInvalid(
        { security: { seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '/x.json' } } },
        'container "web": seccomp localhost_ref "/x.json" is only valid with profile type Localhost',
      );
    });
  });

  describe('AppArmor', () => {
    const enabled = { appArmorEnabled: true, appArmorDefaultLoaded: true };

    it('runs without a profile where caisson-default is not loaded, even with AppArmor enabled', () => {
      const notLoaded = { appArmorEnabled: true, appArmorDefaultLoaded: false };
      assert.equal(apparmorOf({ host: notLoaded }), undefined);
      assert.equal(apparmorOf({ host: notLoaded, security: { apparmor: { profile_type: 'RuntimeDefault', localhost_ref: '' } } }), undefined);
    });

    it('uses caisson-default for RuntimeDefault and when nothing is asked, if AppArmor is enabled', () => {
      assert.equal(apparmorOf({ host: enabled, security: { apparmor: { profile_type: 'RuntimeDefault', localhost_ref: '' } } }), 'caisson-default');
      assert.equal(apparmorOf({ host: enabled }), 'caisson-default');
      assert.equal(apparmorOf({ host: enabled, security: { apparmor_profile: 'runtime/default' } }), 'caisson-default');
    });

    it('sets no profile when AppArmor is disabled, unless a Localhost one is required', () => {
      assert.equal(apparmorOf({ security: { apparmor: { profile_type: 'RuntimeDefault', localhost_ref: '' } } }), undefined);
      assert.ok(!('apparmorProfile' in build().process));
      assertInvalid(
        { security: { apparmor: { profile_type: 'Localhost', localhost_ref: 'k8s-nginx' } } },
        'container "web": AppArmor profile "k8s-nginx" requested, but AppArmor is not enabled on this host',
      );
    });

    it('uses a Localhost profile by name (with or without the localhost/ prefix)', () => {
      assert.equal(apparmorOf({ host: enabled, security: { apparmor: { profile_type: 'Localhost', localhost_ref: 'k8s-nginx' } } }), 'k8s-nginx');
      assert.equal(apparmorOf({ host: enabled, security: { apparmor: { profile_type: 'Localhost', localhost_ref: 'localhost/k8s-nginx' } } }), 'k8s-nginx');
      assert.equal(apparmorOf({ host: enabled, security: { apparmor_profile: 'localhost/k8s-nginx' } }), 'k8s-nginx');
    });

    it('sets no profile for Unconfined', () => {
      assert.equal(apparmorOf({ host: enabled, security: { apparmor: { profile_type: 'Unconfined', localhost_ref: '' } } }), undefined);
      assert.equal(apparmorOf({ host: enabled, security: { apparmor_profile: 'unconfined' } }), undefined);
    });

    it('rejects an unknown legacy profile string', () => {
      assertInvalid(
        { host: enabled, security: { apparmor_profile: 'strict' } },
        'container "web": invalid AppArmor profile "strict" (want runtime/default, unconfined or localhost/<name>)',
      );
    });
  });
});

describe('buildContainerSpec: annotations (rule 11)', () => {
  it('keeps the CRI annotations and adds the CRI plugin ones', () => {
    assert.deepEqual(build().annotations, {
      'example.com/owner': 'team-a',
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.sandbox-id': 'sandbox-1',
      'io.kubernetes.cri.sandbox-name': 'web-pod',
      'io.kubernetes.cri.sandbox-namespace': 'default',
      'io.kubernetes.cri.container-name': 'web',
      'io.kubernetes.cri.image-name': 'docker.io/library/busybox:latest',
    });
  });

  it('does not let a client forge the CRI plugin annotations', () => {
    const spec = build({ config: { annotations: { 'io.kubernetes.cri.container-type': 'sandbox' } } });
    assert.equal(spec.annotations['io.kubernetes.cri.container-type'], 'container');
  });
});

describe('buildContainerSpec: process, root and cgroup (rule 12)', () => {
  it('fills the fixed fields', () => {
    const spec = build();
    assert.equal(spec.ociVersion, '1.0.2');
    assert.equal(spec.process.terminal, false);
    assert.deepEqual(spec.root, { path: '/var/lib/caisson/containers/ctr-1/rootfs', readonly: false });
    assert.equal(spec.linux.cgroupsPath, '/kubepods/pod-uid-1/ctr-1');
  });

  it('gives a terminal when the CRI asks for a tty', () => {
    assert.equal(build({ config: { tty: true } }).process.terminal, true);
  });

  it('works without a linux section at all', () => {
    const spec = build({ config: { linux: null }, namespaces: { pid: '/proc/77/ns/pid' } });
    assert.deepEqual(spec.linux.namespaces[0], { type: 'pid', path: '/proc/77/ns/pid' });
    assert.deepEqual(spec.process.user, { uid: 0, gid: 0, additionalGids: [10, 44] });
    assert.deepEqual(spec.process.capabilities.bounding, DEFAULT_CAPS_IN_KERNEL_ORDER);
  });

  it('survives a JSON round trip unchanged (no undefined-valued keys)', () => {
    const spec = build({ host: { appArmorEnabled: true }, security: { seccomp_profile_path: 'runtime/default' } });
    assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
  });

  it('is pure: the same input gives the same spec, and the input is not changed', () => {
    const input = baseInput({ config: { mounts: [criMount()] } });
    const before = JSON.stringify(input);
    assert.deepEqual(buildContainerSpec(input), buildContainerSpec(input));
    assert.equal(JSON.stringify(input), before);
  });
});

describe('default seccomp profile', () => {
  const allowedNames = (profile: OciSeccomp) =>
    new Set(profile.syscalls.filter((s) => s.action === 'SCMP_ACT_ALLOW' && !s.args).flatMap((s) => s.names));

  it('denies by default with EPERM for the x86 and arm families', () => {
    const profile = defaultSeccompProfile([]);
    assert.equal(profile.defaultAction, 'SCMP_ACT_ERRNO');
    assert.deepEqual(profile.architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32', 'SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    assert.deepEqual(defaultSeccompProfile([], 'x64').architectures, ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32']);
  });

  it('allows what busybox sh, echo, sleep, cat, id, ls, httpd, nc and ping need', () => {
    const allowed = allowedNames(defaultSeccompProfile(DEFAULT_CAPS_IN_KERNEL_ORDER));
    const needed = [
      // sh, echo, cat, sleep: start, fork/exec, wait, signals, io
      'execve', 'brk', 'mmap', 'munmap', 'mprotect', 'arch_prctl', 'set_tid_address', 'set_robust_list', 'rseq',
      'prlimit64', 'getrandom', 'vfork', 'fork', 'wait4', 'rt_sigaction', 'rt_sigprocmask', 'rt_sigreturn',
      'read', 'write', 'writev', 'open', 'openat', 'close', 'fcntl', 'dup2', 'ioctl', 'getpid', 'getppid',
      'nanosleep', 'clock_nanosleep', 'exit_group', 'sendfile', 'lseek',
      // id
      'getuid', 'geteuid', 'getgid', 'getegid', 'getgroups',
      // ls
      'getdents64', 'stat', 'lstat', 'fstat', 'newfstatat', 'statx', 'readlink', 'getcwd', 'uname',
      // httpd, nc
      'socket', 'bind', 'listen', 'accept', 'accept4', 'connect', 'setsockopt', 'getsockname', 'poll', 'select',
      'recvfrom', 'sendto', 'shutdown',
      // ping
      'recvmsg', 'sendmsg', 'getsockopt', 'gettimeofday', 'clock_gettime', 'alarm', 'setitimer',
    ];
    for (const name of needed) assert.ok(allowed.has(name), `${name} is allowed`);
    assert.ok(DEFAULT_ALLOWED_SYSCALLS.includes('faccessat2'));
  });

  it('allows clone without namespace flags, and answers clone3 with ENOSYS, without CAP_SYS_ADMIN', () => {
    const profile = defaultSeccompProfile(DEFAULT_CAPS_IN_KERNEL_ORDER);
    assert.ok(!allowedNames(profile).has('clone'));
    assert.deepEqual(
      profile.syscalls.find((s) => s.names.includes('clone')),
      { names: ['clone'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }] },
    );
    assert.equal(CLONE_NAMESPACE_FLAGS, 0x7e020000);
    assert.deepEqual(
      profile.syscalls.find((s) => s.names.includes('clone3')),
      { names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: 38 },
    );
  });

  it('allows the admin family only with CAP_SYS_ADMIN', () => {
    const admin = [
      'mount', 'umount2', 'unshare', 'setns', 'sethostname', 'setdomainname', 'bpf', 'perf_event_open', 'fsopen', 'clone', 'clone3',
    ];
    const without = allowedNames(defaultSeccompProfile(DEFAULT_CAPS_IN_KERNEL_ORDER));
    const withAdmin = defaultSeccompProfile([...DEFAULT_CAPS_IN_KERNEL_ORDER, 'CAP_SYS_ADMIN']);
    for (const name of admin) {
      assert.ok(!without.has(name), `${name} denied without CAP_SYS_ADMIN`);
      assert.ok(allowedNames(withAdmin).has(name), `${name} allowed with CAP_SYS_ADMIN`);
    }
    assert.equal(
      withAdmin.syscalls.find((s) => s.action === 'SCMP_ACT_ERRNO'),
      undefined,
    );
  });

  it('gates the other privileged families on their capability', () => {
    const families: [string, string[]][] = [
      ['CAP_SYS_PTRACE', ['ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp', 'pidfd_getfd']],
      ['CAP_SYS_MODULE', ['init_module', 'finit_module', 'delete_module']],
      ['CAP_SYS_TIME', ['settimeofday', 'clock_settime']],
      ['CAP_SYS_BOOT', ['reboot']],
      ['CAP_SYS_RAWIO', ['iopl', 'ioperm']],
      ['CAP_SYS_PACCT', ['acct']],
      ['CAP_SYS_TTY_CONFIG', ['vhangup']],
      ['CAP_SYS_NICE', ['mbind', 'set_mempolicy']],
      ['CAP_DAC_READ_SEARCH', ['open_by_handle_at']],
      ['CAP_SYSLOG', ['syslog']],
      ['CAP_BPF', ['bpf']],
      ['CAP_PERFMON', ['perf_event_open']],
    ];
    const none = allowedNames(defaultSeccompProfile([]));
    for (const [cap, names] of families) {
      const granted = allowedNames(defaultSeccompProfile([cap]));
      for (const name of names) {
        assert.ok(!none.has(name), `${name} denied without ${cap}`);
        assert.ok(granted.has(name), `${name} allowed with ${cap}`);
      }
    }
    assert.ok(allowedNames(defaultSeccompProfile(['CAP_SYS_CHROOT'])).has('chroot'));
    assert.ok(!none.has('chroot'));
  });

  it('allows personality only for the harmless personas', () => {
    const values = defaultSeccompProfile([])
      .syscalls.filter((s) => s.names.includes('personality'))
      .map((s) => s.args?.[0]?.value);
    assert.deepEqual(values, [0x0, 0x8, 0x20000, 0x20008, 0xffffffff]);
  });

  it('returns a fresh profile each time', () => {
    const a = defaultSeccompProfile([]);
    a.syscalls[0]?.names.push('kexec_load');
    assert.ok(!allowedNames(defaultSeccompProfile([])).has('kexec_load'));
  });
});
