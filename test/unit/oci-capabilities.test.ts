// process.capabilities (core/oci/spec-capabilities.ts).

import assert from 'node:assert/strict';
import { LINUX_CAPABILITIES } from '../../core/oci/spec-capabilities';
import { build, DEFAULT_CAPS_IN_KERNEL_ORDER, type Overrides } from '../support/spec-fixtures';

describe('buildContainerSpec: capabilities', () => {
  const caps = (capabilities: { add?: string[]; drop?: string[]; ambient?: string[] }, over: Overrides = {}) =>
    build({
      ...over,
      security: {
        ...over.security,
        capabilities: {
          add_capabilities: capabilities.add ?? [],
          drop_capabilities: capabilities.drop ?? [],
          add_ambient_capabilities: capabilities.ambient ?? [],
        },
      },
    }).process.capabilities;

  it('grants the default set, in kernel order, in bounding, effective and permitted', () => {
    assert.deepEqual(build().process.capabilities, {
      bounding: DEFAULT_CAPS_IN_KERNEL_ORDER,
      effective: DEFAULT_CAPS_IN_KERNEL_ORDER,
      permitted: DEFAULT_CAPS_IN_KERNEL_ORDER,
    });
  });

  it('adds capabilities named with or without CAP_, in any case', () => {
    const { bounding } = caps({ add: ['sys_admin', 'CAP_NET_ADMIN', 'Cap_Sys_Ptrace'] });
    assert.ok(bounding.includes('CAP_SYS_ADMIN') && bounding.includes('CAP_NET_ADMIN') && bounding.includes('CAP_SYS_PTRACE'));
    assert.equal(bounding.length, DEFAULT_CAPS_IN_KERNEL_ORDER.length + 3);
  });

  it('drops capabilities', () => {
    const set = caps({ drop: ['chown', 'CAP_NET_RAW', 'sys_admin'] });
    assert.deepEqual(
      set.bounding,
      DEFAULT_CAPS_IN_KERNEL_ORDER.filter((c) => c !== 'CAP_CHOWN' && c !== 'CAP_NET_RAW'),
    );
    assert.deepEqual(set.effective, set.bounding);
    assert.deepEqual(set.permitted, set.bounding);
  });

  it('supports ALL in add and in drop, applied before the named ones', () => {
    assert.deepEqual(caps({ add: ['ALL'] }).bounding, LINUX_CAPABILITIES);
    assert.deepEqual(
      caps({ add: ['all'], drop: ['CHOWN'] }).bounding,
      LINUX_CAPABILITIES.filter((c) => c !== 'CAP_CHOWN'),
    );
    assert.deepEqual(caps({ drop: ['ALL'], add: ['NET_BIND_SERVICE'] }).bounding, ['CAP_NET_BIND_SERVICE']);
    assert.deepEqual(caps({ drop: ['ALL'] }).bounding, []);
  });

  it('ADD ALL means all the capabilities the daemon holds', () => {
    const host = { capabilities: ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_ADMIN'] };
    assert.deepEqual(caps({ add: ['ALL'] }, { host }).bounding, ['CAP_CHOWN', 'CAP_KILL', 'CAP_NET_ADMIN']);
  });

  it('rejects a capability the host does not hold', () => {
    assert.throws(
      () => caps({ add: ['SYS_ADMIN'] }, { host: { capabilities: DEFAULT_CAPS_IN_KERNEL_ORDER } }),
      { code: 'INVALID_ARGUMENT', message: "container \"web\": capability CAP_SYS_ADMIN cannot be added: the host's bounding set lacks it" },
    );
  });

  it('leaves out default capabilities the host does not hold', () => {
    const held = DEFAULT_CAPS_IN_KERNEL_ORDER.filter((c) => c !== 'CAP_MKNOD' && c !== 'CAP_AUDIT_WRITE');
    assert.deepEqual(build({ host: { capabilities: held } }).process.capabilities.bounding, held);
  });

  it('rejects unknown capability names in add and in drop', () => {
    assert.throws(() => caps({ add: ['FLY'] }), { code: 'INVALID_ARGUMENT', message: 'container "web": unknown capability "FLY" in add_capabilities' });
    assert.throws(() => caps({ drop: ['CAP_TELEPORT'] }), {
      code: 'INVALID_ARGUMENT',
      message: 'container "web": unknown capability "CAP_TELEPORT" in drop_capabilities',
    });
  });

  it('ignores add_ambient_capabilities (no ambient set is emitted)', () => {
    const set = caps({ ambient: ['NET_BIND_SERVICE'] });
    assert.deepEqual(Object.keys(set).sort(), ['bounding', 'effective', 'permitted']);
    assert.deepEqual(set.bounding, DEFAULT_CAPS_IN_KERNEL_ORDER);
  });

  it('gives a privileged container exactly the host capabilities, ignoring add and drop', () => {
    const host = { capabilities: ['CAP_SYS_ADMIN', 'CAP_CHOWN', 'CAP_BPF'] };
    const set = caps({ drop: ['ALL'], add: ['FLY'] }, { host, sandboxPrivileged: true, security: { privileged: true } });
    assert.deepEqual(set, { bounding: host.capabilities, effective: host.capabilities, permitted: host.capabilities });
  });
});
