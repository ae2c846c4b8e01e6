// IPv4 subnets and the choice of a pod's address: pure, so they are easy to read and to test.
// Addresses are unsigned 32-bit numbers here and dotted quads everywhere else.

export interface Subnet {
  /** The network address, as a number. */
  readonly network: number;
  readonly prefix: number;
  /** As written: "10.213.0.0/24". */
  readonly text: string;
}

/** /30 leaves one pod address once the network, .1 and the broadcast address are set aside. */
const LONGEST_PREFIX = 30;
const SHORTEST_PREFIX = 8;

/** The subnet of "a.b.c.d/prefix" with no host bits set, or a sentence saying what is wrong. */
export function parseSubnet(text: string): Subnet | string {
  const match = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(text);
  const address = match ? addressToNumber(match[1] ?? '') : undefined;
  if (!match || address === undefined) return `"${text}" is not an IPv4 subnet such as 10.213.0.0/24`;
  const prefix = Number(match[2]);
  if (prefix < SHORTEST_PREFIX || prefix > LONGEST_PREFIX) {
    return `subnet "${text}" has prefix /${prefix}; use /${SHORTEST_PREFIX} to /${LONGEST_PREFIX}`;
  }
  const network = (address & mask(prefix)) >>> 0;
  if (network !== address) return `subnet "${text}" has host bits set; its network is ${numberToAddress(network)}/${prefix}`;
  return { network, prefix, text };
}

/**
 * The lowest address of the subnet that no pod holds, or undefined when every one is taken. The
 * network address, the first host (.1, left for a gateway) and the broadcast address are never given.
 */
export function lowestFreeAddress(subnet: Subnet, taken: ReadonlySet<string>): string | undefined {
  const broadcast = (subnet.network | ~mask(subnet.prefix)) >>> 0;
  for (let candidate = subnet.network + 2; candidate < broadcast; candidate += 1) {
    const address = numberToAddress(candidate);
    if (!taken.has(address)) return address;
  }
  return undefined;
}

/** Whether a dotted quad lies in the subnet. */
export function subnetContains(subnet: Subnet, address: string): boolean {
  const value = addressToNumber(address);
  return value !== undefined && (value & mask(subnet.prefix)) >>> 0 === subnet.network;
}

function mask(prefix: number): number {
  return prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
}

function addressToNumber(address: string): number | undefined {
  const octets = address.split('.').map(Number);
  if (octets.length !== 4 || octets.some((octet) => !Number.isInteger(octet) || octet < 0 || octet > 255)) return undefined;
  return octets.reduce((value, octet) => value * 256 + octet, 0);
}

function numberToAddress(value: number): string {
  return [24, 16, 8, 0].map((shift) => (value >>> shift) & 0xff).join('.');
}
