// linux.namespaces and the hostname (core/oci/spec-namespaces.ts).

import assert from 'node:assert/strict';
import type { NamespaceOption__Output } from '../../core/cri/generated/runtime/v1/NamespaceOption';
import { assertInvalid, build, buildPrivileged, namespaceOptions, type Overrides } from '../support/spec-fixtures';

describe('buildContainerSpec: namespaces and hostname', () => {
  const withPid = (pid: NamespaceOption__Output['pid'], target_id = '', over: Overrides = {}) =>
    build({ ...over, security: { namespace_options: namespaceOptions({ pid, target_id }) } }).linux.namespaces;

  it('joins the pod network, IPC and UTS namespaces and gets new pid, mount and cgroup namespaces', () => {
    assert.deepEqual(build().linux.namespaces, [
      { type: 'pid' },
      { type: 'network', path: '/run/caisson/netns/sandbox-1' },
      { type: 'ipc', path: '/run/caisson/ipcns/sandbox-1' },
      { type: 'uts', path: '/run/caisson/utsns/sandbox-1' },
      { type: 'mount' },
      { type: 'cgroup' },
    ]);
  });

  it('stays in the host network, IPC and UTS namespaces of a host pod, without a hostname', () => {
    const spec = build({ namespaces: { network: 'host', ipc: 'host', uts: 'host' } });
    assert.deepEqual(spec.linux.namespaces, [{ type: 'pid' }, { type: 'mount' }, { type: 'cgroup' }]);
    assert.ok(!('hostname' in spec));
  });

  it('sets the pod hostname when the pod has its own UTS namespace', () => {
    assert.equal(build().hostname, 'web-pod');
    assert.equal(build({ namespaces: { network: 'host' } }).hostname, 'web-pod');
  });

  it('joins the pod pid namespace for POD, and needs the pod to have one', () => {
    assert.deepEqual(withPid('POD', '', { namespaces: { pid: '/proc/77/ns/pid' } })[0], { type: 'pid', path: '/proc/77/ns/pid' });
    assert.equal(
      withPid('POD', '', { namespaces: { pid: 'host' } }).find((n) => n.type === 'pid'),
      undefined,
    );
    assertInvalid(
      { security: { namespace_options: namespaceOptions({ pid: 'POD' }) } },
      'container "web": pid namespace mode POD, but the pod has no shared pid namespace',
    );
  });

  it('treats absent namespace options as POD, the CRI default', () => {
    assert.deepEqual(build({ security: { namespace_options: null }, namespaces: { pid: '/proc/77/ns/pid' } }).linux.namespaces[0], {
      type: 'pid',
      path: '/proc/77/ns/pid',
    });
  });

  it('stays in the host pid namespace for NODE', () => {
    assert.equal(
      withPid('NODE').find((n) => n.type === 'pid'),
      undefined,
    );
  });

  it('joins the target container pid namespace for TARGET', () => {
    assert.deepEqual(withPid('TARGET', 'running-1')[0], { type: 'pid', path: '/proc/4242/ns/pid' });
    assertInvalid(
      { security: { namespace_options: namespaceOptions({ pid: 'TARGET', target_id: 'stopped-2' }) } },
      'container "web": pid namespace target container "stopped-2" is not running',
    );
    assertInvalid(
      { security: { namespace_options: namespaceOptions({ pid: 'TARGET' }) } },
      'container "web": pid namespace mode TARGET needs a target_id',
    );
    assertInvalid(
      { security: { namespace_options: namespaceOptions({ pid: 'TARGET', target_id: 'running-1' }) }, sandbox: { targetPidNamespace: undefined } },
      'container "web": pid namespace target container "running-1" is not running',
    );
  });

  it('creates a cgroup namespace on cgroup v2 only', () => {
    for (const cgroupVersion of ['v1', 'hybrid'] as const) {
      assert.equal(
        build({ host: { cgroupVersion } }).linux.namespaces.find((n) => n.type === 'cgroup'),
        undefined,
        cgroupVersion,
      );
    }
  });

  describe('of a privileged container', () => {
    it('keeps the host cgroup namespace', () => {
      assert.deepEqual(
        buildPrivileged().linux.namespaces.map((n) => n.type),
        ['pid', 'network', 'ipc', 'uts', 'mount'],
      );
    });
  });
});
