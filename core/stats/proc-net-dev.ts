// /proc/net/dev: the per-interface counters of the network namespace of the process reading it.
// Two header lines, then one line per interface:
//
//   Inter-|   Receive                                                |  Transmit
//    face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
//       lo:    2100      21    0    0    0     0          0         0     2100      21    0    0    0     0       0          0
//
// Old kernels print no space between the colon and a wide first number ("eth0:123456789 …"), so a
// line is split at its first colon, not on white space. Counters are u64: kept as bigint.

export interface InterfaceCounters {
  readonly name: string;
  readonly rxBytes: bigint;
  readonly rxPackets: bigint;
  readonly rxErrors: bigint;
  readonly rxDropped: bigint;
  readonly txBytes: bigint;
  readonly txPackets: bigint;
  readonly txErrors: bigint;
  readonly txDropped: bigint;
}

/** Every interface of a /proc/net/dev text, in the kernel's order; malformed lines are an error. */
export function parseProcNetDev(content: string): InterfaceCounters[] {
  const interfaces: InterfaceCounters[] = [];
  for (const line of content.split('\n')) {
    if (line.trim() === '' || line.includes('|')) continue; // the two header lines
    const colon = line.indexOf(':');
    if (colon < 0) throw new Error(`/proc/net/dev line has no "interface:" prefix: ${JSON.stringify(line)}`);
    const name = line.slice(0, colon).trim();
    const fields = line.slice(colon + 1).trim().split(/\s+/);
    if (name === '' || fields.length < 16 || !fields.every((f) => /^\d+$/.test(f))) {
      throw new Error(`/proc/net/dev line is not an interface name and 16 counters: ${JSON.stringify(line)}`);
    }
    const at = (i: number): bigint => BigInt(fields[i] ?? '0');
    interfaces.push({
      name,
      rxBytes: at(0),
      rxPackets: at(1),
      rxErrors: at(2),
      rxDropped: at(3),
      txBytes: at(8),
      txPackets: at(9),
      txErrors: at(10),
      txDropped: at(11),
    });
  }
  return interfaces;
}

/**
 * The pod's default interface: eth0 when there is one (what CNI plugins name the pod's end),
 * otherwise the first interface that is not the loopback. Undefined when the pod has only lo.
 */
export function defaultInterface(interfaces: readonly InterfaceCounters[]): InterfaceCounters | undefined {
  return interfaces.find((i) => i.name === 'eth0') ?? interfaces.find((i) => i.name !== 'lo');
}
