import { InvalidArgumentError } from '../errors';

// Which hostname a pod gets. A config without one gets the node's hostname, as containerd and
// CRI-O do: the pod's name is no hostname (the kubelet's and critest's names run past the
// kernel's 64 bytes and may hold characters a hostname may not). A given hostname must be one
// the kernel and /etc/hosts can take: 1 to 64 bytes of letters, digits, '-', '.' and '_', not
// starting with '-' or '.' (it reaches `hostname` on a command line and /etc/hosts as a line).

/** The kernel's limit on a UTS hostname (HOST_NAME_MAX). */
export const MAX_HOSTNAME_BYTES = 64;

const HOSTNAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;

/** Throws INVALID_ARGUMENT naming `field` unless `hostname` is a hostname a pod can have. */
export function checkHostname(hostname: string, field: string): void {
  if (Buffer.byteLength(hostname) > MAX_HOSTNAME_BYTES) {
    throw new InvalidArgumentError(`${field} "${hostname}" is ${Buffer.byteLength(hostname)} bytes; a hostname has at most ${MAX_HOSTNAME_BYTES}`);
  }
  if (!HOSTNAME.test(hostname)) {
    throw new InvalidArgumentError(
      `${field} ${JSON.stringify(hostname)} is not a valid hostname: use letters, digits, '-', '.' and '_', not starting with '-' or '.'`,
    );
  }
}

/** The pod's hostname: the config's, checked, or the node's when the config has none. */
export function podHostname(configured: string, nodeHostname: string): string {
  if (configured === '') return nodeHostname;
  checkHostname(configured, 'hostname');
  return configured;
}
