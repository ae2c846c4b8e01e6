import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { canDeleteDirectly, deleteDirectly } from '../../plugins/runc/direct-delete';

const ended = () => undefined;
const running = () => '42';
const base = { init_process_pid: 1234, init_process_start: 42, cgroup_paths: { memory: '/sys/fs/cgroup/memory/x' }, config: { cgroups: { systemd: false } } };

describe('runc: deleting an ended container without starting runc', () => {
  it('tidies away only an ended container with runc-managed cgroups and no hooks', () => {
    assert.equal(canDeleteDirectly(base, ended), true);
    assert.equal(canDeleteDirectly(base, running), false, 'its init still runs');
    assert.equal(canDeleteDirectly({ ...base, config: { cgroups: { systemd: true } } }, ended), false, 'a systemd unit');
    assert.equal(canDeleteDirectly({ ...base, config: { hooks: { poststop: [{ path: '/bin/true' }] } } }, ended), false, 'a poststop hook');
    assert.equal(canDeleteDirectly({ ...base, config: { hooks: { poststop: [], prestart: null } } }, ended), true, 'empty hook lists');
    assert.equal(canDeleteDirectly({ ...base, intel_rdt_path: '/sys/fs/resctrl/x' }, ended), false, 'intel RDT');
    assert.equal(canDeleteDirectly({ ...base, cgroup_paths: { memory: '/elsewhere/x' } }, ended), false, 'a cgroup outside /sys/fs/cgroup');
    assert.equal(canDeleteDirectly({ init_process_pid: 1234 }, ended), false, 'no start time');
  });

  it('removes the state folder, and leaves what it cannot judge to runc', async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), 'direct-delete-'));
    try {
      fs.mkdirSync(path.join(root, 'c1'));
      fs.writeFileSync(path.join(root, 'c1', 'state.json'), JSON.stringify({ ...base, init_process_pid: 2 ** 22 + 1, cgroup_paths: { pids: '/sys/fs/cgroup/pids/caisson-test-absent-cgroup' } }));
      assert.equal(await deleteDirectly(root, 'c1'), true);
      assert.equal(fs.existsSync(path.join(root, 'c1')), false);
      assert.equal(await deleteDirectly(root, 'missing'), false);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
