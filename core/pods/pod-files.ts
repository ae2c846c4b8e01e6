import type { DNSConfig__Output } from '../cri/generated/runtime/v1/DNSConfig';
import { InvalidArgumentError } from '../errors';

// The per-pod /etc/hostname, /etc/hosts and /etc/resolv.conf contents, pure. Containers of the
// pod bind-mount the files the sandbox writes from these.

export function hostnameFile(hostname: string): string {
  return `${hostname}\n`;
}

export function hostsFile(hostname: string): string {
  return [
    '127.0.0.1\tlocalhost',
    '::1\tlocalhost ip6-localhost ip6-loopback',
    'fe00::0\tip6-localnet',
    'fe00::0\tip6-mcastprefix',
    'fe00::1\tip6-allnodes',
    'fe00::2\tip6-allrouters',
    ...(hostname && hostname !== 'localhost' ? [`127.0.1.1\t${hostname}`] : []),
    '',
  ].join('\n');
}

/**
 * Each DNS server, search domain and option becomes one word of a resolv.conf line: white space
 * or a control character in one would add words or lines of the client's choosing.
 */
export function checkDnsConfig(dns: DNSConfig__Output | null): void {
  if (!dns) return;
  for (const field of ['servers', 'searches', 'options'] as const) {
    dns[field].forEach((word, i) => {
      if (word === '' || /[\s\u0000-\u001f\u007f]/.test(word)) {
        throw new InvalidArgumentError(`config.dns_config.${field}[${i}] ${JSON.stringify(word)} must be one word without white space or control characters`);
      }
    });
  }
}

/** resolv.conf from the pod's DNSConfig; with none given, the host's own file is used as is. */
export function resolvConf(dns: DNSConfig__Output | null, hostResolvConf: string): string {
  if (!dns || (dns.servers.length === 0 && dns.searches.length === 0 && dns.options.length === 0)) return hostResolvConf;
  checkDnsConfig(dns);
  const lines = [
    ...(dns.searches.length > 0 ? [`search ${dns.searches.join(' ')}`] : []),
    ...dns.servers.map((server) => `nameserver ${server}`),
    ...(dns.options.length > 0 ? [`options ${dns.options.join(' ')}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
