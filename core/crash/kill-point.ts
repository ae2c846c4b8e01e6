// Named kill points: the steps of every mutating RPC, where the fault-injection test
// (test/integration/crash-recovery.test.ts) kills the daemon to prove that a kill between any two
// steps loses and leaks nothing. A daemon started with CAISSON_TEST_KILL_POINT=<name> SIGKILLs
// itself when it reaches that point; without the variable a kill point costs one comparison.
// The variable is read once at start-up and is meant for tests only (docs/crash-safety.md).

const armed = process.env['CAISSON_TEST_KILL_POINT'] ?? '';

/** Every kill point, by RPC: the test walks this list, and killPoint refuses a name not in it. */
export const KILL_POINTS = {
  RunPodSandbox: ['sandbox-dir-made', 'sandbox-namespaces-pinned', 'sandbox-network-set-up', 'sandbox-pid-holder-started', 'sandbox-recorded'],
  StopPodSandbox: ['sandbox-stop-marked', 'sandbox-containers-stopped', 'sandbox-network-torn-down', 'sandbox-pid-holder-stopped', 'sandbox-namespaces-unpinned'],
  RemovePodSandbox: ['sandbox-remove-marked', 'sandbox-containers-removed', 'sandbox-cgroup-removed', 'sandbox-dir-removed'],
  CreateContainer: ['container-dirs-made', 'container-rootfs-mounted', 'container-spec-written', 'container-created-in-runtime', 'container-recorded'],
  StartContainer: ['container-started-in-runtime', 'container-running-recorded'],
  StopContainer: ['container-stop-signalled', 'container-killed'],
  RemoveContainer: ['container-remove-marked', 'container-deleted-in-runtime', 'container-rootfs-unmounted', 'container-dirs-removed'],
  PullImage: ['image-manifest-written', 'image-blob-written', 'image-layer-unpacked', 'image-recorded'],
  RemoveImage: ['image-record-removed', 'image-content-removed'],
} as const;

export type KillPoint = (typeof KILL_POINTS)[keyof typeof KILL_POINTS][number];

/** SIGKILLs the daemon here when a test armed this point; otherwise does nothing. */
export function killPoint(name: KillPoint): void {
  if (armed === name) process.kill(process.pid, 'SIGKILL');
}
