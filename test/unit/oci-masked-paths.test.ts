// linux.maskedPaths and linux.readonlyPaths (core/oci/spec-masked-paths.ts).

import assert from 'node:assert/strict';
import { DEFAULT_READONLY_PATHS } from '../../core/oci/spec-masked-paths';
import { build, buildPrivileged } from '../support/spec-fixtures';

describe('buildContainerSpec: masked and read-only paths', () => {
  it('uses the defaults when the client sends none', () => {
    const spec = build();
    assert.deepEqual(spec.linux.maskedPaths, [
      '/proc/acpi',
      '/proc/asound',
      '/proc/kcore',
      '/proc/keys',
      '/proc/latency_stats',
      '/proc/timer_list',
      '/proc/timer_stats',
      '/proc/sched_debug',
      '/proc/scsi',
      '/sys/firmware',
      '/sys/devices/virtual/powercap',
    ]);
    assert.deepEqual(spec.linux.readonlyPaths, ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger']);
    assert.deepEqual(build({ noSecurityContext: true, namespaces: { pid: '/proc/77/ns/pid' } }).linux.readonlyPaths, DEFAULT_READONLY_PATHS);
  });

  it('uses the CRI lists when the client sends them', () => {
    const spec = build({ security: { masked_paths: ['/proc/kcore', '/proc/keys'], readonly_paths: ['/proc/sys'] } });
    assert.deepEqual(spec.linux.maskedPaths, ['/proc/kcore', '/proc/keys']);
    assert.deepEqual(spec.linux.readonlyPaths, ['/proc/sys']);
  });

  describe('of a privileged container', () => {
    it('masks nothing, even when the client sends paths', () => {
      const spec = buildPrivileged({ security: { masked_paths: ['/proc/kcore'], readonly_paths: ['/proc/sys'] } });
      assert.deepEqual(spec.linux.maskedPaths, []);
      assert.deepEqual(spec.linux.readonlyPaths, []);
    });
  });
});
