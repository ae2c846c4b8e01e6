import * as fs from 'node:fs';
import * as path from 'node:path';
import { packageInfo } from '../package-info';

// Caisson's native addon (native/syscalls.c, built by scripts/build-native.sh): mount(2),
// umount2(2) and the pinning of a pod's namespaces, made by the daemon itself instead of by
// `mount`, `umount` and `unshare` started for each. Where it is not built (no C compiler or no
// Node.js headers on the build machine), the callers run those programs as before.

export interface NativeSyscalls {
  /** mount(2), off the daemon's thread; a non-empty cwd is where relative paths in `data` resolve. */
  mount(source: string, target: string, fstype: string, flags: number, data: string, cwd: string): Promise<void>;
  /** umount2(2), off the daemon's thread. */
  umount(target: string, flags: number): Promise<void>;
  /**
   * New network, IPC and UTS namespaces (each whose file is not ''), set up from inside them (the
   * hostname when not '', loopback up, sysctls as /proc/sys file and value pairs) and bound to
   * their files; in a thread of their own, so the daemon's namespaces never change.
   */
  pinNamespaces(netFile: string, ipcFile: string, utsFile: string, hostname: string, loopbackUp: boolean, sysctls: readonly string[]): Promise<void>;
}

/** An error from the addon: the failed step and strerror in the message, the errno name as code. */
export interface SyscallError extends Error {
  readonly code: string;
  readonly errno: number;
}

export const ADDON_FILE = path.join('native', 'build', 'caisson-syscalls.node');

let loaded: NativeSyscalls | null | undefined;
let disabled = false;

/** The addon, or undefined when it is not built (or was turned off with useNativeSyscalls). */
export function nativeSyscalls(): NativeSyscalls | undefined {
  if (disabled) return undefined;
  if (loaded === undefined) loaded = load();
  return loaded ?? undefined;
}

/** Turns the addon off (or on again): for tests of the program fallback. */
export function useNativeSyscalls(enabled: boolean): void {
  disabled = !enabled;
}

function load(): NativeSyscalls | null {
  const file = path.join(packageInfo().root, ADDON_FILE);
  if (!fs.existsSync(file)) return null;
  // A built addon that does not load is a broken build, not a missing one: say so.
  return require(file) as NativeSyscalls;
}
