import assert from 'node:assert/strict';
import { defaultInterface, parseProcNetDev } from '../../core/stats/proc-net-dev';
import { networkUsage } from '../../core/stats/pod-stats';

const HEADER = `Inter-|   Receive                                                |  Transmit
 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
`;

describe('/proc/net/dev parser', () => {
  it('reads every interface with its receive and transmit counters', () => {
    const text = `${HEADER}    lo:    2100      21    0    0    0     0          0         0     2100      21    0    0    0     0       0          0
  eth0: 18446744073709551615  1234    5    6    0     0          0         7   987654     321    8    9    0     0       0          0
`;
    assert.deepEqual(parseProcNetDev(text), [
      { name: 'lo', rxBytes: 2100n, rxPackets: 21n, rxErrors: 0n, rxDropped: 0n, txBytes: 2100n, txPackets: 21n, txErrors: 0n, txDropped: 0n },
      // u64 counters beyond 2^53 stay exact.
      { name: 'eth0', rxBytes: 18446744073709551615n, rxPackets: 1234n, rxErrors: 5n, rxDropped: 6n, txBytes: 987654n, txPackets: 321n, txErrors: 8n, txDropped: 9n },
    ]);
  });

  it('splits at the colon when a wide first counter touches it (old kernels)', () => {
    const [eth] = parseProcNetDev(`${HEADER}  eth0:123456789 10 0 0 0 0 0 0 42 1 0 0 0 0 0 0\n`);
    assert.equal(eth?.name, 'eth0');
    assert.equal(eth?.rxBytes, 123456789n);
    assert.equal(eth?.txBytes, 42n);
  });

  it('reads nothing from the headers alone, and rejects a line of another shape', () => {
    assert.deepEqual(parseProcNetDev(HEADER), []);
    assert.throws(() => parseProcNetDev(`${HEADER}  eth0: 1 2 3\n`), { message: '/proc/net/dev line is not an interface name and 16 counters: "  eth0: 1 2 3"' });
    assert.throws(() => parseProcNetDev(`${HEADER}garbage\n`), { message: '/proc/net/dev line has no "interface:" prefix: "garbage"' });
  });

  it('picks eth0 as the default interface, else the first that is not lo, else none', () => {
    const named = (...names: string[]) => names.map((name) => parseProcNetDev(`${name}: 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0 0`)[0]!);
    assert.equal(defaultInterface(named('lo', 'net1', 'eth0'))?.name, 'eth0');
    assert.equal(defaultInterface(named('lo', 'net1', 'net2'))?.name, 'net1');
    assert.equal(defaultInterface(named('lo')), undefined);
  });

  it('becomes a CRI NetworkUsage: every interface listed, lo never the default', () => {
    const interfaces = parseProcNetDev(`${HEADER}    lo: 100 1 0 0 0 0 0 0 200 2 3 0 0 0 0 0\n`);
    assert.deepEqual(networkUsage(interfaces, 5n), {
      timestamp: '5',
      default_interface: null,
      interfaces: [{ name: 'lo', rx_bytes: { value: '100' }, rx_errors: { value: '0' }, tx_bytes: { value: '200' }, tx_errors: { value: '3' } }],
    });
  });
});
