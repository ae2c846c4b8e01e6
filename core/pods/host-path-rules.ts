import * as fs from 'node:fs';
import * as path from 'node:path';
import { InvalidArgumentError } from '../errors';

// Which host paths a CRI client may point the daemon at for it to read or write itself (not
// for a container to mount: bind mounts are the container's business, as in containerd and
// CRI-O). Whoever can reach the CRI socket can run a privileged container, so these rules do not
// make the socket safe to share; they keep a mistaken or crafted path from turning the daemon's
// own I/O against the host: a path is absolute and normal (no `..`), and neither it nor where
// its symlinks lead is under Caisson's own roots (its store and state would be corrupted) or a
// kernel filesystem (/proc, /sys, /dev: reading a device or a FIFO there can block the daemon).

const KERNEL_FILESYSTEMS = ['/proc', '/sys', '/dev'];

export interface DaemonRoots {
  readonly graph: string;
  readonly state: string;
}

/** Throws INVALID_ARGUMENT naming `field` unless the daemon may use `hostPath`. */
export function checkHostPath(hostPath: string, field: string, roots: DaemonRoots): void {
  if (!path.isAbsolute(hostPath)) throw new InvalidArgumentError(`${field} "${hostPath}" must be an absolute path`);
  if (hostPath.split('/').includes('..')) throw new InvalidArgumentError(`${field} "${hostPath}" must not contain ".."`);
  const resolved = resolveExisting(hostPath);
  for (const candidate of new Set([path.normalize(hostPath), resolved])) {
    const forbidden = [...KERNEL_FILESYSTEMS, path.resolve(roots.graph), path.resolve(roots.state)].find((root) => within(candidate, root));
    if (forbidden !== undefined) {
      const via = candidate === path.normalize(hostPath) ? '' : ` (through a symlink, it is ${candidate})`;
      throw new InvalidArgumentError(`${field} "${hostPath}"${via} is under ${forbidden}, which a client may not point caissond at`);
    }
  }
}

function within(candidate: string, root: string): boolean {
  return candidate === root || candidate.startsWith(root.endsWith('/') ? root : `${root}/`);
}

/** The real path of `hostPath`'s deepest existing ancestor, with the rest appended. */
function resolveExisting(hostPath: string): string {
  let existing = path.normalize(hostPath);
  const rest: string[] = [];
  for (;;) {
    try {
      return path.join(fs.realpathSync(existing), ...rest.reverse());
    } catch {
      if (existing === '/') return path.normalize(hostPath);
      rest.push(path.basename(existing));
      existing = path.dirname(existing);
    }
  }
}
