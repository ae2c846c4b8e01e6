// The RuntimeDefault seccomp profile (core/oci/default-seccomp-profile.ts).

import assert from 'node:assert/strict';
import { CLONE_NAMESPACE_FLAGS, DEFAULT_ALLOWED_SYSCALLS, defaultSeccompProfile } from '../../core/oci/default-seccomp-profile';
import type { OciSeccomp } from '../../core/oci/oci-spec';
import { DEFAULT_CAPS_IN_KERNEL_ORDER } from '../support/spec-fixtures';

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
