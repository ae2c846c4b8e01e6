// linux.devices and the device cgroup rules (core/oci/spec-devices.ts).

import assert from 'node:assert/strict';
import { DEFAULT_DEVICE_RULES } from '../../core/oci/spec-devices';
import { assertInvalid, build, buildPrivileged } from '../support/spec-fixtures';

describe('buildContainerSpec: devices', () => {
  it('denies every device, then allows the default ones', () => {
    const spec = build();
    assert.deepEqual(spec.linux.resources.devices, [
      { allow: false, access: 'rwm' },
      { allow: true, type: 'c', access: 'm' },
      { allow: true, type: 'b', access: 'm' },
      { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' },
      { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' },
      { allow: true, type: 'c', major: 136, access: 'rwm' },
      { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' },
    ]);
    assert.equal(spec.linux.resources.devices.length, DEFAULT_DEVICE_RULES.length + 1);
    assert.deepEqual(spec.linux.devices, []);
  });

  it('creates CRI devices at their container path and allows them with the asked permissions', () => {
    const spec = build({
      config: {
        devices: [
          { host_path: '/dev/fuse', container_path: '/dev/fuse', permissions: 'rw' },
          { host_path: '/dev/sda', container_path: '/dev/xvda', permissions: '' },
        ],
      },
    });
    assert.deepEqual(spec.linux.devices, [
      { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
      { path: '/dev/xvda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
    ]);
    assert.deepEqual(spec.linux.resources.devices.slice(-2), [
      { allow: true, type: 'c', major: 10, minor: 229, access: 'rw' },
      { allow: true, type: 'b', major: 8, minor: 0, access: 'rwm' },
    ]);
  });

  it('rejects devices that are not device nodes, bad permissions and relative paths', () => {
    const dev = (d: Partial<{ host_path: string; container_path: string; permissions: string }>) => ({
      config: { devices: [{ host_path: '/dev/fuse', container_path: '/dev/fuse', permissions: 'rwm', ...d }] },
    });
    assertInvalid(dev({ host_path: '/etc/passwd' }), 'container "web": device /etc/passwd is not a character or block device on the host');
    assertInvalid(dev({ permissions: 'rwx' }), 'container "web": device /dev/fuse has invalid permissions "rwx" (a combination of r, w and m)');
    assertInvalid(dev({ permissions: 'rr' }), 'container "web": device /dev/fuse has invalid permissions "rr" (a combination of r, w and m)');
    assertInvalid(dev({ container_path: 'fuse' }), 'container "web": device container_path "fuse" (for /dev/fuse) is not an absolute path');
    assertInvalid(dev({ host_path: 'fuse' }), 'container "web": device host_path "fuse" is not an absolute path');
  });

  describe('of a privileged container', () => {
    it('gets every host device (skipping vanished and 0:0 nodes) and an allow-all device cgroup', () => {
      const spec = buildPrivileged();
      assert.deepEqual(spec.linux.devices, [
        { path: '/dev/null', type: 'c', major: 1, minor: 3, fileMode: 0o666, uid: 0, gid: 0 },
        { path: '/dev/sda', type: 'b', major: 8, minor: 0, fileMode: 0o660, uid: 0, gid: 6 },
        { path: '/dev/fuse', type: 'c', major: 10, minor: 229, fileMode: 0o666, uid: 0, gid: 0 },
      ]);
      assert.deepEqual(spec.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
    });

    it('also creates the CRI devices, without adding cgroup rules', () => {
      const spec = buildPrivileged({ config: { devices: [{ host_path: '/dev/fuse', container_path: '/dev/my-fuse', permissions: 'rw' }] } });
      assert.equal(spec.linux.devices.at(-1)?.path, '/dev/my-fuse');
      assert.deepEqual(spec.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
    });
  });
});
