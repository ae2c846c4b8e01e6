import { isIP } from 'node:net';
import type { PortMapping__Output } from '../cri/generated/runtime/v1/PortMapping';
import { InvalidArgumentError } from '../errors';

/** A pod's port mappings reach the CNI portmap plugin and iptables: ports in range, host_ip an IP or empty. */
export function checkPortMappings(mappings: readonly PortMapping__Output[]): void {
  mappings.forEach((mapping, i) => {
    const field = `config.port_mappings[${i}]`;
    if (mapping.host_ip !== '' && isIP(mapping.host_ip) === 0) throw new InvalidArgumentError(`${field}.host_ip ${JSON.stringify(mapping.host_ip)} is not an IP address`);
    for (const key of ['container_port', 'host_port'] as const) {
      if (!Number.isInteger(mapping[key]) || mapping[key] < 0 || mapping[key] > 65535) throw new InvalidArgumentError(`${field}.${key} ${mapping[key]} is not a port (0 to 65535)`);
    }
  });
}
