import * as net from 'node:net';
import { InvalidArgumentError } from '../../errors';

/**
 * Parses UpdateRuntimeConfig's pod_cidr: one CIDR, or an IPv4 and an IPv6 one separated by a
 * comma (dual stack). Returns them normalised; throws INVALID_ARGUMENT naming the bad part.
 */
export function parsePodCidrs(text: string): string[] {
  const parts = text.split(',').map((part) => part.trim());
  for (const part of parts) {
    const match = /^([^/]+)\/(\d{1,3})$/.exec(part);
    const family = match ? net.isIP(match[1] ?? '') : 0;
    const prefix = Number(match?.[2]);
    if (!match || family === 0 || prefix > (family === 4 ? 32 : 128)) {
      throw new InvalidArgumentError(`pod CIDR "${part}" in UpdateRuntimeConfig is not a valid IPv4 or IPv6 CIDR (for example 10.88.0.0/16)`);
    }
  }
  if (parts.length > 2) {
    throw new InvalidArgumentError(`pod CIDR "${text}" in UpdateRuntimeConfig lists ${parts.length} ranges; at most one IPv4 and one IPv6 range are allowed`);
  }
  return parts;
}
