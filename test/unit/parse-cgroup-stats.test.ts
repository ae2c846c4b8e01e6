import assert from 'node:assert/strict';
import {
  controllerDirIn,
  parseFlatKeyed,
  parseSingleValue,
  parseV1Limit,
  parseV2Limit,
  workingSet,
} from '../../core/cgroup/read-cgroup-stats';

// The pure part of core/cgroup/read-cgroup-stats.ts: parsing cgroup file contents and finding a
// controller's directory among a process's cgroup paths. No files are read.

describe('cgroup stats parsing', () => {
  it('parses key-value files, skipping lines of another shape', () => {
    assert.deepEqual(
      parseFlatKeyed('total_rss 100\n\nsome avg10=0.00 avg60=0.00\nhierarchical_memory_limit 9223372036854771712\n'),
      new Map([
        ['total_rss', 100n],
        ['hierarchical_memory_limit', 9223372036854771712n],
      ]),
    );
  });

  it('parses single values and refuses anything else', () => {
    assert.equal(parseSingleValue('123456789012345678\n', 'cpuacct.usage'), 123456789012345678n);
    assert.throws(() => parseSingleValue('-1\n', 'pids.current'), {
      message: 'cgroup file pids.current holds "-1", not an unsigned integer',
    });
  });

  it('reads v1 limits at or above 2^62 as unlimited', () => {
    assert.equal(parseV1Limit('9223372036854771712\n', 'memory.limit_in_bytes'), undefined);
    assert.equal(parseV1Limit(`${2n ** 62n}\n`, 'memory.limit_in_bytes'), undefined);
    assert.equal(parseV1Limit(`${2n ** 62n - 4096n}\n`, 'memory.limit_in_bytes'), Number(2n ** 62n - 4096n));
    assert.equal(parseV1Limit('67108864\n', 'memory.limit_in_bytes'), 67108864);
  });

  it('reads v2 "max" as unlimited', () => {
    assert.equal(parseV2Limit('max\n', 'memory.max'), undefined);
    assert.equal(parseV2Limit('1073741824\n', 'memory.max'), 1073741824);
    assert.throws(() => parseV2Limit('lots\n', 'memory.max'), { message: 'cgroup file memory.max holds "lots", not an unsigned integer' });
  });

  it('floors the working set at 0', () => {
    assert.equal(workingSet(100, 30), 70);
    assert.equal(workingSet(100, 300), 0);
  });
});

describe('controllerDirIn', () => {
  const root = '/sys/fs/cgroup';

  it('finds a controller in its own hierarchy or in a co-mount, and nothing when unmounted', () => {
    const dirFor = controllerDirIn('v1', [
      `${root}/cpu,cpuacct/caisson/c1`,
      `${root}/memory/caisson/c1`,
      `${root}/name=systemd/caisson/c1`,
      `${root}/unified/caisson/c1`,
    ]);
    assert.equal(dirFor('cpuacct'), `${root}/cpu,cpuacct/caisson/c1`);
    assert.equal(dirFor('cpu'), `${root}/cpu,cpuacct/caisson/c1`);
    assert.equal(dirFor('memory'), `${root}/memory/caisson/c1`);
    assert.equal(dirFor('pids'), undefined);
  });

  it('takes cpu and cpuacct apart when they are mounted apart (this host, hybrid)', () => {
    const dirFor = controllerDirIn('hybrid', [`${root}/cpu/x`, `${root}/cpuacct/x`, `${root}/pids/x`, `${root}/unified/x`]);
    assert.equal(dirFor('cpu'), `${root}/cpu/x`);
    assert.equal(dirFor('cpuacct'), `${root}/cpuacct/x`);
    assert.equal(dirFor('pids'), `${root}/pids/x`);
    assert.equal(dirFor('memory'), undefined);
  });

  it('uses the one directory on v2', () => {
    const dirFor = controllerDirIn('v2', [`${root}/kubepods.slice/x.scope`]);
    assert.equal(dirFor('memory'), `${root}/kubepods.slice/x.scope`);
    assert.equal(dirFor('cpuacct'), `${root}/kubepods.slice/x.scope`);
  });
});
