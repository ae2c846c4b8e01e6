import assert from 'node:assert/strict';
import { cgroupfsContainerPath, cgroupfsPodCgroup } from '../../plugins/cgroupfs/cgroupfs-paths';
import { expandSlice, systemdCgroupDir, systemdContainerPath, systemdPodCgroup } from '../../plugins/systemd/systemd-paths';

describe('cgroupfs paths', () => {
  describe('cgroupfsPodCgroup', () => {
    it('puts a pod without a cgroup parent under the default parent, as made by Caisson', () => {
      assert.deepEqual(cgroupfsPodCgroup('sb1', '', '/caisson'), { path: '/caisson/sb1', madeByCaisson: true });
    });

    it("takes the kubelet's cgroup parent as it is", () => {
      assert.deepEqual(cgroupfsPodCgroup('sb1', '/kubepods/burstable/pod1234', '/caisson'), {
        path: '/kubepods/burstable/pod1234',
        madeByCaisson: false,
      });
    });

    it('normalizes doubled slashes', () => {
      assert.deepEqual(cgroupfsPodCgroup('sb1', '//kubepods//besteffort/pod9', '/caisson'), {
        path: '/kubepods/besteffort/pod9',
        madeByCaisson: false,
      });
    });

    it('refuses a systemd slice, saying the drivers differ', () => {
      assert.throws(() => cgroupfsPodCgroup('sb1', 'kubepods-burstable-pod1234.slice', '/caisson'), {
        name: 'InvalidArgumentError',
        code: 'INVALID_ARGUMENT',
        message:
          'cgroup parent "kubepods-burstable-pod1234.slice" of the sandbox is a systemd slice, but this daemon uses the cgroupfs driver ("systemd-cgroup": false); kubelet and caissond must use the same cgroup driver',
      });
    });

    it('refuses a relative path', () => {
      assert.throws(() => cgroupfsPodCgroup('sb1', 'kubepods/burstable/pod1234', '/caisson'), {
        name: 'InvalidArgumentError',
        code: 'INVALID_ARGUMENT',
        message: 'cgroup parent "kubepods/burstable/pod1234" of the sandbox is not an absolute cgroupfs path (for example /kubepods/burstable/pod1234)',
      });
    });

    it('refuses ".." and "." components', () => {
      assert.throws(() => cgroupfsPodCgroup('sb1', '/kubepods/../../etc', '/caisson'), {
        code: 'INVALID_ARGUMENT',
        message: 'cgroup parent "/kubepods/../../etc" of the sandbox is not an absolute cgroupfs path (for example /kubepods/burstable/pod1234)',
      });
      assert.throws(() => cgroupfsPodCgroup('sb1', '/kubepods/./pod1', '/caisson'), {
        code: 'INVALID_ARGUMENT',
        message: 'cgroup parent "/kubepods/./pod1" of the sandbox is not an absolute cgroupfs path (for example /kubepods/burstable/pod1234)',
      });
    });
  });

  describe('cgroupfsContainerPath', () => {
    it('puts the container under its pod', () => {
      assert.equal(cgroupfsContainerPath('/kubepods/burstable/pod1234', 'abc'), '/kubepods/burstable/pod1234/abc');
      assert.equal(cgroupfsContainerPath('/caisson/sb1', 'c1'), '/caisson/sb1/c1');
    });
  });
});

describe('systemd paths', () => {
  describe('systemdPodCgroup', () => {
    it('uses the default parent slice for a pod without a cgroup parent', () => {
      assert.deepEqual(systemdPodCgroup('sb1', '', 'system.slice'), { path: 'system.slice', madeByCaisson: false });
    });

    it("takes the kubelet's slice", () => {
      assert.deepEqual(systemdPodCgroup('sb1', 'kubepods-burstable-pod1234.slice', 'system.slice'), {
        path: 'kubepods-burstable-pod1234.slice',
        madeByCaisson: false,
      });
    });

    it('takes the last slice of an expanded slice path', () => {
      assert.deepEqual(systemdPodCgroup('sb1', '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice', 'system.slice'), {
        path: 'kubepods-burstable-pod1.slice',
        madeByCaisson: false,
      });
    });

    it('refuses a parent that is not a slice with "Invalid cgroup path"', () => {
      assert.throws(() => systemdPodCgroup('sb1', '/kubepods/burstable/pod1234', 'system.slice'), {
        name: 'InvalidArgumentError',
        code: 'INVALID_ARGUMENT',
        message:
          'Invalid cgroup path: cgroup parent "/kubepods/burstable/pod1234" of sandbox sb1 is not a systemd slice (for example kubepods-burstable-pod1234.slice); this daemon uses the systemd driver',
      });
    });

    it('refuses a bare ".slice"', () => {
      assert.throws(() => systemdPodCgroup('sb2', '.slice', 'system.slice'), {
        code: 'INVALID_ARGUMENT',
        message:
          'Invalid cgroup path: cgroup parent ".slice" of sandbox sb2 is not a systemd slice (for example kubepods-burstable-pod1234.slice); this daemon uses the systemd driver',
      });
    });
  });

  describe('systemdContainerPath', () => {
    it('gives runc "<slice>:caisson:<id>"', () => {
      assert.equal(systemdContainerPath('kubepods-burstable-pod1.slice', 'abc'), 'kubepods-burstable-pod1.slice:caisson:abc');
    });
  });

  describe('expandSlice', () => {
    it('nests a slice under each of its prefixes', () => {
      assert.equal(expandSlice('a-b-c.slice'), '/a.slice/a-b.slice/a-b-c.slice');
      assert.equal(expandSlice('system.slice'), '/system.slice');
    });

    it('reads "-.slice" as the root', () => {
      assert.equal(expandSlice('-.slice'), '/');
    });
  });

  describe('systemdCgroupDir', () => {
    it('puts a container scope under its expanded slice', () => {
      assert.equal(
        systemdCgroupDir('kubepods-burstable-pod1.slice:caisson:abc'),
        '/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod1.slice/caisson-abc.scope',
      );
    });

    it('expands a bare slice', () => {
      assert.equal(systemdCgroupDir('kubepods-besteffort.slice'), '/kubepods.slice/kubepods-besteffort.slice');
    });
  });
});
