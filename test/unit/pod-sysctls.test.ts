import assert from 'node:assert/strict';
import { sysctlFile, sysctlNamespace } from '../../core/pods/pinned-namespaces';

describe('pod sysctls', () => {
  it('names the /proc/sys file a sysctl is written to, as sysctl -w does', () => {
    assert.equal(sysctlFile('net.ipv4.ip_unprivileged_port_start'), '/proc/sys/net/ipv4/ip_unprivileged_port_start');
    assert.equal(sysctlFile('kernel.shm_rmid_forced'), '/proc/sys/kernel/shm_rmid_forced');
  });

  it('puts each sysctl in the namespace that owns it, and refuses names that could escape /proc/sys', () => {
    assert.equal(sysctlNamespace('net.ipv4.ping_group_range', false, false), 'net');
    assert.equal(sysctlNamespace('kernel.msgmax', false, false), 'ipc');
    assert.equal(sysctlNamespace('kernel.domainname', false, false), 'uts');
    assert.throws(() => sysctlNamespace('net/../../kernel/x', false, false), { message: 'sysctl "net/../../kernel/x" is not a valid sysctl name' });
    assert.throws(() => sysctlNamespace('net...x', false, false), /is not a valid sysctl name/);
    assert.throws(() => sysctlNamespace('kernel.panic', false, false), /is not namespaced/);
  });
});
