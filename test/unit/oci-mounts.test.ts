// spec.mounts and linux.rootfsPropagation (core/oci/spec-mounts.ts).

import assert from 'node:assert/strict';
import { assertInvalid, build, buildPrivileged, criMount } from '../support/spec-fixtures';

describe('buildContainerSpec: mounts', () => {
  const files = '/run/caisson/pods/sandbox-1';

  it('mounts the system filesystems and the pod files, parents first', () => {
    assert.deepEqual(build().mounts, [
      { destination: '/proc', type: 'proc', source: 'proc', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/dev', type: 'tmpfs', source: 'tmpfs', options: ['nosuid', 'strictatime', 'mode=755', 'size=65536k'] },
      { destination: '/sys', type: 'sysfs', source: 'sysfs', options: ['nosuid', 'noexec', 'nodev', 'ro'] },
      {
        destination: '/dev/pts',
        type: 'devpts',
        source: 'devpts',
        options: ['nosuid', 'noexec', 'newinstance', 'ptmxmode=0666', 'mode=0620', 'gid=5'],
      },
      { destination: '/dev/shm', type: 'bind', source: `${files}/shm`, options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/dev/mqueue', type: 'mqueue', source: 'mqueue', options: ['nosuid', 'noexec', 'nodev'] },
      { destination: '/etc/hostname', type: 'bind', source: `${files}/hostname`, options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/etc/hosts', type: 'bind', source: `${files}/hosts`, options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/etc/resolv.conf', type: 'bind', source: `${files}/resolv.conf`, options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/sys/fs/cgroup', type: 'cgroup', source: 'cgroup', options: ['nosuid', 'noexec', 'nodev', 'relatime', 'ro'] },
    ]);
  });

  it('mounts the pod files read-only, and /dev/shm still read-write, when the rootfs is read-only', () => {
    const mounts = build({ security: { readonly_rootfs: true } }).mounts;
    for (const dst of ['/etc/hostname', '/etc/hosts', '/etc/resolv.conf']) {
      assert.deepEqual(mounts.find((m) => m.destination === dst)?.options, ['rbind', 'rprivate', 'ro'], dst);
    }
    assert.deepEqual(mounts.find((m) => m.destination === '/dev/shm')?.options, ['rbind', 'rprivate', 'rw']);
  });

  it('binds CRI mounts from their resolved host path with the asked propagation and mode', () => {
    const spec = build({
      config: {
        mounts: [
          criMount({ container_path: '/a', host_path: '/var/link' }),
          criMount({ container_path: '/b', host_path: '/srv/b', readonly: true, propagation: 'PROPAGATION_HOST_TO_CONTAINER' }),
          criMount({ container_path: '/c', host_path: '/srv/c', propagation: 'PROPAGATION_BIDIRECTIONAL' }),
        ],
      },
    });
    const cri = spec.mounts.filter((m) => ['/a', '/b', '/c'].includes(m.destination));
    assert.deepEqual(cri, [
      { destination: '/a', type: 'bind', source: '/var/real', options: ['rbind', 'rprivate', 'rw'] },
      { destination: '/b', type: 'bind', source: '/srv/b', options: ['rbind', 'rslave', 'ro'] },
      { destination: '/c', type: 'bind', source: '/srv/c', options: ['rbind', 'rshared', 'rw'] },
    ]);
    assert.equal(spec.linux.rootfsPropagation, 'rshared');
  });

  it('sets rootfs propagation to rslave for host-to-container mounts, and leaves it unset for private ones', () => {
    const slave = build({ config: { mounts: [criMount({ propagation: 'PROPAGATION_HOST_TO_CONTAINER' })] } });
    assert.equal(slave.linux.rootfsPropagation, 'rslave');
    assert.ok(!('rootfsPropagation' in build({ config: { mounts: [criMount()] } }).linux));
  });

  it('lets a CRI mount replace the default mount at its destination', () => {
    const mounts = build({ config: { mounts: [criMount({ container_path: '/etc/hosts/', host_path: '/srv/hosts' })] } }).mounts;
    const hosts = mounts.filter((m) => m.destination.startsWith('/etc/hosts'));
    assert.deepEqual(hosts, [{ destination: '/etc/hosts/', type: 'bind', source: '/srv/hosts', options: ['rbind', 'rprivate', 'rw'] }]);
  });

  it('lets a CRI /dev mount replace every default mount under /dev', () => {
    const mounts = build({ config: { mounts: [criMount({ container_path: '/dev', host_path: '/dev' })] } }).mounts;
    assert.deepEqual(
      mounts.filter((m) => m.destination.startsWith('/dev')),
      [{ destination: '/dev', type: 'bind', source: '/dev', options: ['rbind', 'rprivate', 'rw'] }],
    );
  });

  it('orders mounts so that parents come before children', () => {
    const mounts = build({
      config: {
        mounts: [
          criMount({ container_path: '/data/a/b', host_path: '/srv/ab' }),
          criMount({ container_path: '/data', host_path: '/srv/data' }),
          criMount({ container_path: '/proc/driver/x', host_path: '/srv/x' }),
        ],
      },
    }).mounts.map((m) => m.destination);
    const before = (a: string, b: string) => assert.ok(mounts.indexOf(a) < mounts.indexOf(b), `${a} before ${b}: ${mounts.join(' ')}`);
    before('/data', '/data/a/b');
    before('/proc', '/proc/driver/x');
    before('/dev', '/dev/pts');
    before('/sys', '/sys/fs/cgroup');
  });

  it('rejects relative paths, unresolvable sources and idmapped mounts', () => {
    assertInvalid(
      { config: { mounts: [criMount({ host_path: 'srv/data' })] } },
      'container "web": mount host_path "srv/data" (at /data) is not an absolute path',
    );
    assertInvalid({ config: { mounts: [criMount({ container_path: 'data' })] } }, 'container "web": mount container_path "data" is not an absolute path');
    assertInvalid({ config: { mounts: [criMount({ container_path: '' })] } }, 'container "web": mount container_path "" is not an absolute path');
    assertInvalid(
      { config: { mounts: [criMount({ uidMappings: [{ host_id: 100000, container_id: 0, length: 65536 }] })] } },
      'container "web": mount /data: idmapped mounts (uidMappings/gidMappings) are not supported',
    );
    assert.throws(() => build({ config: { mounts: [criMount({ host_path: '/missing' })] } }), (error: Error) => {
      assert.equal(
        error.message,
        "container \"web\": mount host_path \"/missing\" (at /data) cannot be resolved: ENOENT: no such file or directory, realpath '/missing'",
      );
      assert.equal((error as { code?: string }).code, 'INVALID_ARGUMENT');
      assert.ok(error.cause instanceof Error);
      return true;
    });
  });

  describe('of a privileged container', () => {
    it('mounts /sys and /sys/fs/cgroup read-write', () => {
      const spec = buildPrivileged();
      assert.deepEqual(spec.mounts.find((m) => m.destination === '/sys')?.options, ['nosuid', 'noexec', 'nodev', 'rw']);
      assert.deepEqual(spec.mounts.find((m) => m.destination === '/sys/fs/cgroup')?.options, ['nosuid', 'noexec', 'nodev', 'relatime', 'rw']);
    });
  });
});
