import { describeError } from '../errors';
import { runProgram } from '../host-programs/run-program';
import { nativeSyscalls } from './native-addon';

// Mounting and unmounting the filesystems the daemon makes (a pod's shm tmpfs, a container's
// overlay): by mount(2) and umount2(2) through the native addon, or by `mount` and `umount` where
// the addon is not built. Options are written as for mount(8).

/** mount(8)'s words for mount(2) flags; every other option goes to the filesystem as data. */
const FLAG_BITS: Readonly<Record<string, number>> = {
  ro: 0x1,
  rw: 0,
  nosuid: 0x2,
  nodev: 0x4,
  noexec: 0x8,
  sync: 0x10,
  dirsync: 0x80,
  noatime: 0x400,
  nodiratime: 0x800,
  relatime: 0x200000,
  strictatime: 0x1000000,
};

/** Splits mount(8) options into mount(2)'s flags and the filesystem's data string. */
export function splitMountOptions(options: string): { flags: number; data: string } {
  let flags = 0;
  const data: string[] = [];
  for (const option of options.split(',').filter((word) => word !== '')) {
    const bit = FLAG_BITS[option];
    if (bit === undefined) data.push(option);
    else flags |= bit;
  }
  return { flags, data: data.join(',') };
}

export interface MountRequest {
  readonly type: string;
  readonly source: string;
  readonly target: string;
  readonly options: string;
  /** Where relative paths in the options resolve (overlay's short lower links). */
  readonly cwd?: string;
}

export async function mountFilesystem(request: MountRequest): Promise<void> {
  const native = nativeSyscalls();
  if (native) {
    const { flags, data } = splitMountOptions(request.options);
    await native.mount(request.source, request.target, request.type, flags, data, request.cwd ?? '');
    return;
  }
  await runProgram('mount', ['-t', request.type, request.source, '-o', request.options, request.target], request.cwd === undefined ? {} : { cwd: request.cwd });
}

/**
 * Unmounts every target, as `umount a b c` does: a failure does not stop the others, and the
 * first one is thrown once all were tried.
 */
export async function unmountAll(targets: readonly string[]): Promise<void> {
  if (targets.length === 0) return;
  const native = nativeSyscalls();
  if (!native) {
    await runProgram('umount', targets);
    return;
  }
  const outcomes = await Promise.allSettled(targets.map((target) => native.umount(target, 0)));
  const failures = outcomes.flatMap((outcome) => (outcome.status === 'rejected' ? [describeError(outcome.reason)] : []));
  if (failures.length > 0) throw new Error(failures.join('; '));
}
