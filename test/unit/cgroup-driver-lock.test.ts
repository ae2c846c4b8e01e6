import assert from 'node:assert/strict';
import { acquireCgroupDriverLock } from '../../core/daemon/cgroup-driver-lock';
import { MetadataStore } from '../../core/store/metadata-store';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';

describe('cgroup driver lock', () => {
  let root: string;
  let store: MetadataStore;
  beforeEach(() => {
    root = makeTempRoot('lock');
    store = MetadataStore.open(root);
  });
  afterEach(() => {
    store.close();
    removeTempRoot(root);
  });

  it('records the driver of the first start, durably', () => {
    assert.deepEqual(acquireCgroupDriverLock(store, 'cgroupfs'), {});
    store.close();
    store = MetadataStore.open(root);
    assert.equal(store.getMeta('cgroup-driver'), 'cgroupfs');
    assert.deepEqual(acquireCgroupDriverLock(store, 'cgroupfs'), { previous: 'cgroupfs' });
  });

  it('lets the driver change while nothing was made under the old one', () => {
    acquireCgroupDriverLock(store, 'cgroupfs');
    assert.deepEqual(acquireCgroupDriverLock(store, 'systemd'), { previous: 'cgroupfs' });
    assert.equal(store.getMeta('cgroup-driver'), 'systemd');
  });

  it('refuses another driver while sandboxes or containers exist, saying how to switch', () => {
    acquireCgroupDriverLock(store, 'cgroupfs');
    store.putSandbox('sb1', { name: 'web' });
    store.putContainer('c1', 'sb1', { name: 'nginx' });
    store.putContainer('c2', 'sb1', { name: 'sidecar' });
    assert.throws(() => acquireCgroupDriverLock(store, 'systemd'), {
      code: 'FAILED_PRECONDITION',
      message:
        'cgroup driver "systemd" was chosen ("systemd-cgroup": true in daemon.json), but the driver in use is "cgroupfs" ' +
        'and 1 sandbox and 2 containers made under it still exist (sb1, c1, c2). To switch safely: start caissond with ' +
        '"systemd-cgroup": false, remove every pod and container (for example "crictl rmp -af"), then restart with "systemd-cgroup": true.',
    });
    assert.equal(store.getMeta('cgroup-driver'), 'cgroupfs');
  });
});
