// buildContainerSpec as a whole: what it checks and sets itself rather than through a concern
// (the privileged gate, the fixed fields, no_new_privs and the read-only rootfs), and that the
// composed spec is pure and serialisable. Each concern has its own test/unit/oci-*.test.ts.

import assert from 'node:assert/strict';
import { buildContainerSpec } from '../../core/oci/build-container-spec';
import { DEFAULT_MASKED_PATHS } from '../../core/oci/spec-masked-paths';
import { assertInvalid, baseInput, build, criMount, DEFAULT_CAPS_IN_KERNEL_ORDER } from '../support/spec-fixtures';

describe('buildContainerSpec: privileged containers', () => {
  it('is refused in a sandbox that is not privileged', () => {
    assertInvalid(
      { security: { privileged: true } },
      "container \"web\": privileged container in a sandbox that is not privileged (the pod sandbox's security_context.privileged must be true)",
    );
  });

  it('is not implied by a privileged sandbox alone', () => {
    const spec = build({ sandboxPrivileged: true });
    assert.deepEqual(spec.linux.maskedPaths, DEFAULT_MASKED_PATHS);
    assert.deepEqual(spec.process.capabilities.bounding, DEFAULT_CAPS_IN_KERNEL_ORDER);
    assert.equal(spec.linux.resources.devices[0]?.allow, false);
  });
});

describe('buildContainerSpec: security context flags', () => {
  it('maps no_new_privs and readonly_rootfs', () => {
    const plain = build();
    assert.equal(plain.process.noNewPrivileges, false);
    assert.equal(plain.root.readonly, false);
    const locked = build({ security: { no_new_privs: true, readonly_rootfs: true } });
    assert.equal(locked.process.noNewPrivileges, true);
    assert.equal(locked.root.readonly, true);
  });
});

describe('buildContainerSpec: process, root and cgroup', () => {
  it('fills the fixed fields', () => {
    const spec = build();
    assert.equal(spec.ociVersion, '1.0.2');
    assert.equal(spec.process.terminal, false);
    assert.deepEqual(spec.root, { path: '/var/lib/caisson/containers/ctr-1/rootfs', readonly: false });
    assert.equal(spec.linux.cgroupsPath, '/kubepods/pod-uid-1/ctr-1');
  });

  it('gives a terminal when the CRI asks for a tty', () => {
    assert.equal(build({ config: { tty: true } }).process.terminal, true);
  });

  it('works without a linux section at all', () => {
    const spec = build({ config: { linux: null }, namespaces: { pid: '/proc/77/ns/pid' } });
    assert.deepEqual(spec.linux.namespaces[0], { type: 'pid', path: '/proc/77/ns/pid' });
    assert.deepEqual(spec.process.user, { uid: 0, gid: 0, additionalGids: [10, 44] });
    assert.deepEqual(spec.process.capabilities.bounding, DEFAULT_CAPS_IN_KERNEL_ORDER);
  });

  it('survives a JSON round trip unchanged (no undefined-valued keys)', () => {
    const spec = build({ host: { appArmorEnabled: true }, security: { seccomp_profile_path: 'runtime/default' } });
    assert.deepEqual(JSON.parse(JSON.stringify(spec)), spec);
  });

  it('is pure: the same input gives the same spec, and the input is not changed', () => {
    const input = baseInput({ config: { mounts: [criMount()] } });
    const before = JSON.stringify(input);
    assert.deepEqual(buildContainerSpec(input), buildContainerSpec(input));
    assert.equal(JSON.stringify(input), before);
  });
});
