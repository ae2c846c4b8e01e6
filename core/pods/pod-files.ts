import type { DNSConfig__Output } from '../cri/generated/runtime/v1/DNSConfig';

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

/** resolv.conf from the pod's DNSConfig; with none given, the host's own file is used as is. */
export function resolvConf(dns: DNSConfig__Output | null, hostResolvConf: string): string {
  if (!dns || (dns.servers.length === 0 && dns.searches.length === 0 && dns.options.length === 0)) return hostResolvConf;
  const lines = [
    ...(dns.searches.length > 0 ? [`search ${dns.searches.join(' ')}`] : []),
    ...dns.servers.map((server) => `nameserver ${server}`),
    ...(dns.options.length > 0 ? [`options ${dns.options.join(' ')}`] : []),
  ];
  return `${lines.join('\n')}\n`;
}
