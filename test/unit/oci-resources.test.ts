// linux.resources and process.oomScoreAdj (core/oci/container-resources.ts).

import assert from 'node:assert/strict';
import { assertInvalid, build } from '../support/spec-fixtures';

describe('buildContainerSpec: resources and oom_score_adj', () => {
  it('sets nothing when the CRI gives no resources, and never lets the container inherit a lower oom score', () => {
    const spec = build({ resources: null });
    assert.deepEqual(spec.linux.resources.cpu, {});
    assert.deepEqual(spec.linux.resources.memory, {});
    assert.deepEqual(spec.linux.resources.hugepageLimits, []);
    assert.ok(!('unified' in spec.linux.resources));
    assert.equal(spec.process.oomScoreAdj, 0);
    assert.equal(build({ resources: null, host: { oomScoreAdj: -500 } }).process.oomScoreAdj, 0);
    assert.equal(build({ resources: null, host: { oomScoreAdj: 300 } }).process.oomScoreAdj, 300);
  });

  it('omits zero values', () => {
    const spec = build();
    assert.deepEqual(spec.linux.resources.cpu, {});
    assert.deepEqual(spec.linux.resources.memory, {});
  });

  it('maps CPU, cpuset, memory and swap', () => {
    const spec = build({
      resources: {
        cpu_shares: '512',
        cpu_quota: '50000',
        cpu_period: '100000',
        cpuset_cpus: '0-1',
        cpuset_mems: '0',
        memory_limit_in_bytes: '268435456',
        memory_swap_limit_in_bytes: '536870912',
      },
    });
    assert.deepEqual(spec.linux.resources.cpu, { shares: 512, quota: 50000, period: 100000, cpus: '0-1', mems: '0' });
    assert.deepEqual(spec.linux.resources.memory, { limit: 268435456, swap: 536870912 });
  });

  it('accepts a quota and a swap of -1 (unlimited) and rejects other negative values', () => {
    assert.deepEqual(build({ resources: { cpu_quota: '-1', memory_swap_limit_in_bytes: '-1' } }).linux.resources, {
      devices: build().linux.resources.devices,
      memory: { swap: -1 },
      cpu: { quota: -1 },
      hugepageLimits: [],
    });
    assertInvalid({ resources: { cpu_shares: '-2' } }, 'container "web": cpu_shares -2 is out of range (at least 0)');
    assertInvalid({ resources: { memory_limit_in_bytes: '-1' } }, 'container "web": memory_limit_in_bytes -1 is out of range (at least 0)');
    assertInvalid({ resources: { cpu_quota: '-7' } }, 'container "web": cpu_quota -7 is out of range (at least -1)');
    assertInvalid({ resources: { cpu_period: 'soon' } }, 'container "web": cpu_period "soon" is not an integer');
  });

  it('maps hugepage limits', () => {
    const spec = build({
      resources: {
        hugepage_limits: [
          { page_size: '2MB', limit: '1073741824' },
          { page_size: '1GB', limit: '0' },
        ],
      },
    });
    assert.deepEqual(spec.linux.resources.hugepageLimits, [
      { pageSize: '2MB', limit: 1073741824 },
      { pageSize: '1GB', limit: 0 },
    ]);
    assertInvalid(
      { resources: { hugepage_limits: [{ page_size: '2M', limit: '1' }] } },
      'container "web": hugepage limit page_size "2M" is not <size><unit>B (e.g. 2MB, 1GB)',
    );
  });

  it('passes unified resources on cgroup v2 and refuses them elsewhere', () => {
    const unified = { 'memory.high': '1073741824', 'io.weight': 'default 100' };
    assert.deepEqual(build({ resources: { unified } }).linux.resources.unified, unified);
    assertInvalid(
      { resources: { unified }, host: { cgroupVersion: 'v1' } },
      'container "web": unified cgroup resources (io.weight, memory.high) need cgroup v2, but the host uses cgroup v1',
    );
    assertInvalid(
      { resources: { unified }, host: { cgroupVersion: 'hybrid' } },
      'container "web": unified cgroup resources (io.weight, memory.high) need cgroup v2, but the host uses cgroup hybrid',
    );
    assert.ok(!('unified' in build({ host: { cgroupVersion: 'v1' } }).linux.resources));
  });

  it('sets oom_score_adj, raised to the daemon own score and capped at 1000', () => {
    assert.equal(build({ resources: { oom_score_adj: '-997' } }).process.oomScoreAdj, 0);
    assert.equal(build({ resources: { oom_score_adj: '-997' }, host: { oomScoreAdj: -999 } }).process.oomScoreAdj, -997);
    assert.equal(build({ resources: { oom_score_adj: '-998' }, host: { oomScoreAdj: -500 } }).process.oomScoreAdj, -500);
    assert.equal(build({ resources: { oom_score_adj: '500' } }).process.oomScoreAdj, 500);
    assert.equal(build({ resources: { oom_score_adj: '1500' } }).process.oomScoreAdj, 1000);
  });
});
