// The RuntimeDefault seccomp profile: deny by default (EPERM), allow an explicit list of system
// calls that ordinary programs use, in the spirit of Docker's and containerd's default profile.
// System calls whose harm is already gated by a capability are allowed only when the container
// holds that capability (the admin family with CAP_SYS_ADMIN, ptrace with CAP_SYS_PTRACE, …).
//
// Names that do not exist on the host's architecture (arch_prctl on arm64, set_tls on x86_64) are
// skipped by runc, so one profile serves both x86 and arm hosts.

import type { OciSeccomp, OciSeccompArch, OciSyscall } from './oci-spec';

export const SECCOMP_ARCHITECTURES_X86: readonly OciSeccompArch[] = ['SCMP_ARCH_X86_64', 'SCMP_ARCH_X86', 'SCMP_ARCH_X32'];
export const SECCOMP_ARCHITECTURES_ARM: readonly OciSeccompArch[] = ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM'];

/** ENOSYS: returned for clone3 so that libc falls back to clone, whose flags we can inspect. */
const ENOSYS = 38;

/** CLONE_NEWNS | CLONE_NEWCGROUP | CLONE_NEWUTS | CLONE_NEWIPC | CLONE_NEWUSER | CLONE_NEWPID | CLONE_NEWNET */
export const CLONE_NAMESPACE_FLAGS = 0x00020000 | 0x02000000 | 0x04000000 | 0x08000000 | 0x10000000 | 0x20000000 | 0x40000000;

/** System calls every container may make. */
export const DEFAULT_ALLOWED_SYSCALLS: readonly string[] = [
  // files and directories
  'access', 'chdir', 'chmod', 'chown', 'chown32', 'close', 'close_range', 'copy_file_range', 'creat',
  'dup', 'dup2', 'dup3', 'faccessat', 'faccessat2', 'fadvise64', 'fadvise64_64', 'fallocate',
  'fchdir', 'fchmod', 'fchmodat', 'fchmodat2', 'fchown', 'fchown32', 'fchownat', 'fcntl', 'fcntl64',
  'fdatasync', 'fgetxattr', 'flistxattr', 'flock', 'fremovexattr', 'fsetxattr', 'fstat', 'fstat64',
  'fstatat64', 'fstatfs', 'fstatfs64', 'fsync', 'ftruncate', 'ftruncate64', 'futimesat', 'getcwd',
  'getdents', 'getdents64', 'getxattr', 'inotify_add_watch', 'inotify_init', 'inotify_init1',
  'inotify_rm_watch', 'lchown', 'lchown32', 'lgetxattr', 'link', 'linkat', 'listxattr', 'llistxattr',
  '_llseek', 'lremovexattr', 'lseek', 'lsetxattr', 'lstat', 'lstat64', 'mkdir', 'mkdirat', 'mknod',
  'mknodat', 'newfstatat', 'open', 'openat', 'openat2', 'pread64', 'preadv', 'preadv2', 'pwrite64',
  'pwritev', 'pwritev2', 'read', 'readahead', 'readlink', 'readlinkat', 'readv', 'removexattr',
  'rename', 'renameat', 'renameat2', 'rmdir', 'sendfile', 'sendfile64', 'setxattr', 'splice', 'stat',
  'stat64', 'statfs', 'statfs64', 'statx', 'symlink', 'symlinkat', 'sync', 'sync_file_range',
  'syncfs', 'tee', 'truncate', 'truncate64', 'umask', 'unlink', 'unlinkat', 'utime', 'utimensat',
  'utimensat_time64', 'utimes', 'vmsplice', 'write', 'writev', 'fanotify_mark',
  // memory
  'brk', 'madvise', 'membarrier', 'memfd_create', 'mincore', 'mlock', 'mlock2', 'mlockall', 'mmap',
  'mmap2', 'mprotect', 'mremap', 'msync', 'munlock', 'munlockall', 'munmap', 'pkey_alloc', 'pkey_free',
  'pkey_mprotect', 'remap_file_pages',
  // processes, threads and signals
  'capget', 'capset', 'execve', 'execveat', 'exit', 'exit_group', 'fork', 'vfork', 'getpgid', 'getpgrp',
  'getpid', 'getppid', 'getpriority', 'getsid', 'gettid', 'get_robust_list', 'set_robust_list',
  'get_thread_area', 'set_thread_area', 'set_tid_address', 'ioprio_get', 'ioprio_set', 'kill', 'pause',
  'pidfd_open', 'pidfd_send_signal', 'prctl', 'prlimit64', 'getrlimit', 'setrlimit', 'ugetrlimit',
  'getrusage', 'restart_syscall', 'rseq', 'rt_sigaction', 'rt_sigpending', 'rt_sigprocmask',
  'rt_sigqueueinfo', 'rt_sigreturn', 'rt_sigsuspend', 'rt_sigtimedwait', 'rt_sigtimedwait_time64',
  'rt_tgsigqueueinfo', 'sched_getaffinity', 'sched_getattr', 'sched_getparam', 'sched_get_priority_max',
  'sched_get_priority_min', 'sched_getscheduler', 'sched_rr_get_interval', 'sched_rr_get_interval_time64',
  'sched_setaffinity', 'sched_setattr', 'sched_setparam', 'sched_setscheduler', 'sched_yield',
  'seccomp', 'setpgid', 'setpriority', 'setsid', 'sigaltstack', 'signalfd', 'signalfd4', 'sigprocmask',
  'sigreturn', 'tgkill', 'tkill', 'wait4', 'waitid', 'waitpid', 'process_mrelease',
  // credentials (the kernel checks CAP_SETUID / CAP_SETGID itself)
  'getegid', 'getegid32', 'geteuid', 'geteuid32', 'getgid', 'getgid32', 'getgroups', 'getgroups32',
  'getresgid', 'getresgid32', 'getresuid', 'getresuid32', 'getuid', 'getuid32', 'setfsgid', 'setfsgid32',
  'setfsuid', 'setfsuid32', 'setgid', 'setgid32', 'setgroups', 'setgroups32', 'setregid', 'setregid32',
  'setresgid', 'setresgid32', 'setresuid', 'setresuid32', 'setreuid', 'setreuid32', 'setuid', 'setuid32',
  // time and timers
  'adjtimex', 'alarm', 'clock_adjtime', 'clock_adjtime64', 'clock_getres', 'clock_getres_time64',
  'clock_gettime', 'clock_gettime64', 'clock_nanosleep', 'clock_nanosleep_time64', 'getitimer',
  'gettimeofday', 'nanosleep', 'setitimer', 'time', 'timer_create', 'timer_delete', 'timer_getoverrun',
  'timer_gettime', 'timer_gettime64', 'timer_settime', 'timer_settime64', 'timerfd_create',
  'timerfd_gettime', 'timerfd_gettime64', 'timerfd_settime', 'timerfd_settime64', 'times',
  // waiting, polling and events
  'epoll_create', 'epoll_create1', 'epoll_ctl', 'epoll_ctl_old', 'epoll_pwait', 'epoll_pwait2',
  'epoll_wait', 'epoll_wait_old', 'eventfd', 'eventfd2', 'futex', 'futex_time64', 'futex_waitv',
  'poll', 'ppoll', 'ppoll_time64', 'pselect6', 'pselect6_time64', 'select', '_newselect',
  // asynchronous I/O
  'io_cancel', 'io_destroy', 'io_getevents', 'io_pgetevents', 'io_pgetevents_time64', 'io_setup',
  'io_submit',
  // sockets and pipes
  'accept', 'accept4', 'bind', 'connect', 'getpeername', 'getsockname', 'getsockopt', 'listen',
  'pipe', 'pipe2', 'recv', 'recvfrom', 'recvmmsg', 'recvmmsg_time64', 'recvmsg', 'send', 'sendmmsg',
  'sendmsg', 'sendto', 'setsockopt', 'shutdown', 'socket', 'socketcall', 'socketpair',
  // System V and POSIX IPC (namespaced by the pod's IPC namespace)
  'ipc', 'mq_getsetattr', 'mq_notify', 'mq_open', 'mq_timedreceive', 'mq_timedreceive_time64',
  'mq_timedsend', 'mq_timedsend_time64', 'mq_unlink', 'msgctl', 'msgget', 'msgrcv', 'msgsnd', 'semctl',
  'semget', 'semop', 'semtimedop', 'semtimedop_time64', 'shmat', 'shmctl', 'shmdt', 'shmget',
  // system information
  'getcpu', 'getrandom', 'sysinfo', 'uname', 'ioctl',
  // sandboxing a process further is always fine
  'landlock_add_rule', 'landlock_create_ruleset', 'landlock_restrict_self',
  // architecture specific: x86
  'arch_prctl', 'modify_ldt',
  // architecture specific: arm
  'arm_fadvise64_64', 'arm_sync_file_range', 'sync_file_range2', 'breakpoint', 'cacheflush', 'set_tls',
];

/** System calls allowed only when the container holds the capability that gates them. */
export const CAPABILITY_SYSCALLS: Readonly<Record<string, readonly string[]>> = {
  CAP_DAC_READ_SEARCH: ['open_by_handle_at'],
  CAP_SYS_ADMIN: [
    'bpf', 'clone', 'clone3', 'fanotify_init', 'fsconfig', 'fsmount', 'fsopen', 'fspick', 'lookup_dcookie',
    'mount', 'mount_setattr', 'move_mount', 'name_to_handle_at', 'open_tree', 'perf_event_open', 'quotactl',
    'quotactl_fd', 'setdomainname', 'sethostname', 'setns', 'syslog', 'umount', 'umount2', 'unshare',
  ],
  CAP_SYS_BOOT: ['reboot'],
  CAP_SYS_CHROOT: ['chroot'],
  CAP_SYS_MODULE: ['delete_module', 'init_module', 'finit_module'],
  CAP_SYS_PACCT: ['acct'],
  CAP_SYS_PTRACE: ['kcmp', 'pidfd_getfd', 'process_madvise', 'process_vm_readv', 'process_vm_writev', 'ptrace'],
  CAP_SYS_RAWIO: ['iopl', 'ioperm'],
  CAP_SYS_TIME: ['settimeofday', 'stime', 'clock_settime', 'clock_settime64'],
  CAP_SYS_TTY_CONFIG: ['vhangup'],
  CAP_SYS_NICE: ['get_mempolicy', 'mbind', 'set_mempolicy', 'set_mempolicy_home_node'],
  CAP_SYSLOG: ['syslog'],
  CAP_BPF: ['bpf'],
  CAP_PERFMON: ['perf_event_open'],
};

/** personality(2) personas allowed: PER_LINUX, PER_LINUX32 and their UNAME26 variants, and the query. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

/**
 * The capability-independent part of the profile, as a typed constant. Use
 * `defaultSeccompProfile` to get the full profile for a container.
 */
export const DEFAULT_SECCOMP_PROFILE: Readonly<OciSeccomp> = Object.freeze<OciSeccomp>({
  defaultAction: 'SCMP_ACT_ERRNO',
  architectures: [...SECCOMP_ARCHITECTURES_X86, ...SECCOMP_ARCHITECTURES_ARM],
  syscalls: [
    { names: [...DEFAULT_ALLOWED_SYSCALLS], action: 'SCMP_ACT_ALLOW' },
    ...PERSONALITIES.map(
      (value): OciSyscall => ({ names: ['personality'], action: 'SCMP_ACT_ALLOW', args: [{ index: 0, value, op: 'SCMP_CMP_EQ' }] }),
    ),
  ],
});

/**
 * The RuntimeDefault profile for a container holding `capabilities` (names with the CAP_ prefix).
 * `arch` (Node's process.arch) narrows the architectures to the host's family; without it the
 * profile lists both the x86 and the arm families. Returns a fresh object each call.
 */
export function defaultSeccompProfile(capabilities: readonly string[], arch?: string): OciSeccomp {
  const caps = new Set(capabilities);
  const syscalls: OciSyscall[] = DEFAULT_SECCOMP_PROFILE.syscalls.map(cloneSyscall);

  const gated = new Set<string>();
  for (const [cap, names] of Object.entries(CAPABILITY_SYSCALLS)) {
    if (caps.has(cap)) for (const name of names) gated.add(name);
  }
  if (gated.size > 0) syscalls.push({ names: [...gated], action: 'SCMP_ACT_ALLOW' });

  if (!caps.has('CAP_SYS_ADMIN')) {
    // clone is allowed without namespace flags; clone3 hides its flags in a struct seccomp cannot
    // read, so answer ENOSYS and let libc fall back to clone.
    syscalls.push({
      names: ['clone'],
      action: 'SCMP_ACT_ALLOW',
      args: [{ index: 0, value: CLONE_NAMESPACE_FLAGS, valueTwo: 0, op: 'SCMP_CMP_MASKED_EQ' }],
    });
    syscalls.push({ names: ['clone3'], action: 'SCMP_ACT_ERRNO', errnoRet: ENOSYS });
  }

  return {
    defaultAction: DEFAULT_SECCOMP_PROFILE.defaultAction,
    architectures: [...architecturesFor(arch)],
    syscalls,
  };
}

function architecturesFor(arch: string | undefined): readonly OciSeccompArch[] {
  switch (arch) {
    case 'x64':
    case 'ia32':
      return SECCOMP_ARCHITECTURES_X86;
    case 'arm64':
    case 'arm':
      return SECCOMP_ARCHITECTURES_ARM;
    default:
      return DEFAULT_SECCOMP_PROFILE.architectures;
  }
}

function cloneSyscall(s: OciSyscall): OciSyscall {
  const copy: OciSyscall = { names: [...s.names], action: s.action };
  if (s.errnoRet !== undefined) copy.errnoRet = s.errnoRet;
  if (s.args) copy.args = s.args.map((a) => ({ ...a }));
  return copy;
}
