import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { readCgroupStats, type CgroupController } from '../../core/cgroup/read-cgroup-stats';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';

// readCgroupStats over a cgroup tree written in a temporary root, v1 (hybrid) and v2. The pure
// parse functions it uses, and controllerDirIn, are tested in parse-cgroup-stats.test.ts.

const MiB = 1024 * 1024;
const CGROUP = 'kubepods/burstable/pod1234/ctr1';

// memory.stat of a v1 container cgroup, as the kernel writes it (own counters, then total_*).
const V1_MEMORY_STAT = `cache 2162688
rss 6291456
rss_huge 0
shmem 0
mapped_file 1081344
dirty 0
writeback 0
swap 0
pgpgin 5123
pgpgout 2071
pgfault 11000
pgmajfault 5
inactive_anon 0
active_anon 6291456
inactive_file 2097152
active_file 65536
unevictable 0
hierarchical_memory_limit 67108864
hierarchical_memsw_limit 134217728
total_cache 2162688
total_rss 6291456
total_rss_huge 0
total_shmem 0
total_mapped_file 1081344
total_dirty 0
total_writeback 0
total_swap 0
total_pgpgin 5123
total_pgpgout 2071
total_pgfault 12345
total_pgmajfault 7
total_inactive_anon 0
total_active_anon 6291456
total_inactive_file 2097152
total_active_file 65536
total_unevictable 0
`;

// memory.stat of a v2 cgroup (a shortened but faithful subset of the kernel's keys).
const V2_MEMORY_STAT = `anon 4194304
file 3145728
kernel 262144
kernel_stack 32768
pagetables 73728
sock 0
shmem 0
file_mapped 1048576
file_dirty 0
file_writeback 0
swapcached 0
anon_thp 0
inactive_anon 4096000
active_anon 98304
inactive_file 1048576
active_file 2097152
unevictable 0
slab_reclaimable 98304
slab_unreclaimable 65536
slab 163840
pgscan 0
pgsteal 0
pgrefill 0
pgactivate 12
pgdeactivate 0
pgfault 4321
pgmajfault 3
`;

const V2_CPU_STAT = `usage_usec 2500000
user_usec 2000000
system_usec 500000
nr_periods 0
nr_throttled 0
throttled_usec 0
`;

describe('readCgroupStats', () => {
  let root: string;

  beforeEach(() => {
    root = makeTempRoot('cgroup-stats');
  });

  afterEach(() => {
    removeTempRoot(root);
  });

  /** Writes files into <root>/<hierarchy>/<CGROUP>/ (v2: hierarchy ''). */
  function writeCgroup(hierarchy: string, files: Record<string, string>): string {
    const dir = path.join(root, hierarchy, CGROUP);
    fs.mkdirSync(dir, { recursive: true });
    for (const [name, content] of Object.entries(files)) fs.writeFileSync(path.join(dir, name), content);
    return dir;
  }

  /** The v1 layout of this host: cpu and cpuacct mounted apart, no net_cls, perf_event, hugetlb. */
  function v1DirFor(controller: CgroupController): string | undefined {
    return path.join(root, controller, CGROUP);
  }

  async function readBetween(read: () => Promise<unknown>): Promise<{ stats: unknown; before: bigint; after: bigint }> {
    const before = BigInt(Date.now()) * 1_000_000n;
    const stats = await read();
    const after = BigInt(Date.now()) * 1_000_000n;
    return { stats, before, after };
  }

  describe('v1', () => {
    it('reads cpu, memory with a limit and swap accounting, and pids', async () => {
      writeCgroup('cpuacct', { 'cpuacct.usage': '123456789012\n' });
      writeCgroup('cpu', { 'cpu.shares': '1024\n' });
      writeCgroup('memory', {
        'memory.usage_in_bytes': `${10 * MiB}\n`,
        'memory.stat': V1_MEMORY_STAT,
        'memory.limit_in_bytes': `${64 * MiB}\n`,
        'memory.memsw.usage_in_bytes': `${11 * MiB}\n`,
        'memory.memsw.limit_in_bytes': `${128 * MiB}\n`,
      });
      writeCgroup('pids', { 'pids.current': '3\n', 'pids.max': 'max\n' });

      const { stats, before, after } = await readBetween(() => readCgroupStats('hybrid', v1DirFor));
      assert.ok(stats !== undefined && typeof stats === 'object');
      const { timestampNanos, ...rest } = stats as { timestampNanos: bigint };
      assert.ok(timestampNanos >= before && timestampNanos <= after, `timestamp ${timestampNanos} not in [${before}, ${after}]`);
      assert.deepEqual(rest, {
        cpuUsageNanos: 123456789012n,
        memory: {
          usageBytes: 10 * MiB,
          workingSetBytes: 10 * MiB - 2097152,
          rssBytes: 6291456,
          pageFaults: 12345,
          majorPageFaults: 7,
          limitBytes: 64 * MiB,
          swapUsageBytes: 1 * MiB,
          swapLimitBytes: 64 * MiB,
        },
        pids: 3,
      });
    });

    it('reads an unlimited limit as undefined, and missing memsw files and pids as undefined and 0', async () => {
      writeCgroup('cpuacct', { 'cpuacct.usage': '42\n' });
      writeCgroup('memory', {
        'memory.usage_in_bytes': '4096000\n',
        'memory.stat': V1_MEMORY_STAT,
        'memory.limit_in_bytes': '9223372036854771712\n',
      });
      // No pids directory at all, and no memory.memsw.* (a kernel without swap accounting).

      const stats = await readCgroupStats('v1', v1DirFor);
      assert.ok(stats !== undefined);
      assert.equal(stats.cpuUsageNanos, 42n);
      assert.deepEqual(stats.memory, {
        usageBytes: 4096000,
        workingSetBytes: 4096000 - 2097152,
        rssBytes: 6291456,
        pageFaults: 12345,
        majorPageFaults: 7,
        limitBytes: undefined,
        swapUsageBytes: undefined,
        swapLimitBytes: undefined,
      });
      assert.equal(stats.pids, 0);
    });

    it('gives no swap limit when memsw is unlimited, and floors working set and swap usage at 0', async () => {
      writeCgroup('cpuacct', { 'cpuacct.usage': '0\n' });
      writeCgroup('memory', {
        'memory.usage_in_bytes': '1048576\n',
        'memory.stat': 'total_inactive_file 2097152\ntotal_rss 524288\n',
        'memory.limit_in_bytes': `${64 * MiB}\n`,
        // Read a moment before memory.usage_in_bytes grew: memsw below usage.
        'memory.memsw.usage_in_bytes': '1044480\n',
        'memory.memsw.limit_in_bytes': '9223372036854771712\n',
      });
      writeCgroup('pids', {});

      const stats = await readCgroupStats('hybrid', v1DirFor);
      assert.ok(stats !== undefined);
      assert.deepEqual(stats.memory, {
        usageBytes: 1048576,
        workingSetBytes: 0,
        rssBytes: 524288,
        pageFaults: 0,
        majorPageFaults: 0,
        limitBytes: 64 * MiB,
        swapUsageBytes: 0,
        swapLimitBytes: undefined,
      });
      assert.equal(stats.pids, 0);
    });

    it('returns undefined when the cgroup is gone', async () => {
      assert.equal(await readCgroupStats('hybrid', v1DirFor), undefined);
    });

    it('returns undefined when one of the cpuacct and memory directories is already removed', async () => {
      writeCgroup('cpuacct', { 'cpuacct.usage': '42\n' });
      writeCgroup('pids', { 'pids.current': '1\n' });
      assert.equal(await readCgroupStats('hybrid', v1DirFor), undefined);
    });

    it('never asks for the unmounted net_cls, perf_event and hugetlb hierarchies', async () => {
      writeCgroup('cpuacct', { 'cpuacct.usage': '7\n' });
      writeCgroup('memory', { 'memory.usage_in_bytes': '0\n', 'memory.stat': V1_MEMORY_STAT });
      const asked: string[] = [];
      const stats = await readCgroupStats('hybrid', (controller) => {
        asked.push(controller);
        return v1DirFor(controller);
      });
      assert.ok(stats !== undefined);
      assert.deepEqual([...asked].sort(), ['cpuacct', 'memory', 'pids']);
      assert.equal(stats.memory.limitBytes, undefined);
    });

    it('fails, naming the file and the directory, when a required file is missing from an existing cgroup', async () => {
      writeCgroup('cpuacct', { 'cpuacct.usage': '42\n' });
      const memoryDir = writeCgroup('memory', { 'memory.usage_in_bytes': '4096\n' });
      await assert.rejects(readCgroupStats('hybrid', v1DirFor), {
        message: `reading the stats of cgroup ${memoryDir}: cgroup file memory.stat is missing`,
      });
    });

    it('fails when no hierarchy carries a controller it needs', async () => {
      await assert.rejects(
        readCgroupStats('v1', (controller) => (controller === 'memory' ? undefined : v1DirFor(controller))),
        { message: 'no cgroup hierarchy with the memory controller is mounted under /sys/fs/cgroup' },
      );
    });

    it('fails on a file that does not hold a number', async () => {
      writeCgroup('cpuacct', { 'cpuacct.usage': 'garbage\n' });
      const memoryDir = writeCgroup('memory', { 'memory.usage_in_bytes': '4096\n', 'memory.stat': V1_MEMORY_STAT });
      await assert.rejects(readCgroupStats('hybrid', v1DirFor), {
        message: `reading the stats of cgroup ${memoryDir}: cgroup file cpuacct.usage holds "garbage", not an unsigned integer`,
      });
    });
  });

  describe('v2', () => {
    const v2DirFor = (): string => path.join(root, CGROUP);

    it('reads cpu.stat, memory with limits and swap, and pids', async () => {
      writeCgroup('', {
        'cpu.stat': V2_CPU_STAT,
        'memory.current': '8388608\n',
        'memory.stat': V2_MEMORY_STAT,
        'memory.max': '268435456\n',
        'memory.swap.current': '65536\n',
        'memory.swap.max': '134217728\n',
        'pids.current': '5\n',
      });

      const { stats, before, after } = await readBetween(() => readCgroupStats('v2', v2DirFor));
      assert.ok(stats !== undefined && typeof stats === 'object');
      const { timestampNanos, ...rest } = stats as { timestampNanos: bigint };
      assert.ok(timestampNanos >= before && timestampNanos <= after);
      assert.deepEqual(rest, {
        cpuUsageNanos: 2_500_000_000n,
        memory: {
          usageBytes: 8388608,
          workingSetBytes: 8388608 - 1048576,
          rssBytes: 4194304,
          pageFaults: 4321,
          majorPageFaults: 3,
          limitBytes: 268435456,
          swapUsageBytes: 65536,
          swapLimitBytes: 134217728,
        },
        pids: 5,
      });
    });

    it('reads "max" as unlimited, and missing swap and pids files as undefined and 0', async () => {
      writeCgroup('', {
        'cpu.stat': 'usage_usec 17\nuser_usec 10\nsystem_usec 7\n',
        'memory.current': '0\n',
        'memory.stat': V2_MEMORY_STAT,
        'memory.max': 'max\n',
      });

      const stats = await readCgroupStats('v2', v2DirFor);
      assert.ok(stats !== undefined);
      assert.equal(stats.cpuUsageNanos, 17_000n);
      assert.deepEqual(stats.memory, {
        usageBytes: 0,
        workingSetBytes: 0,
        rssBytes: 4194304,
        pageFaults: 4321,
        majorPageFaults: 3,
        limitBytes: undefined,
        swapUsageBytes: undefined,
        swapLimitBytes: undefined,
      });
      assert.equal(stats.pids, 0);
    });

    it('reads memory.swap.max "max" as no swap limit', async () => {
      writeCgroup('', {
        'cpu.stat': V2_CPU_STAT,
        'memory.current': '4096\n',
        'memory.stat': V2_MEMORY_STAT,
        'memory.max': 'max\n',
        'memory.swap.current': '0\n',
        'memory.swap.max': 'max\n',
        'pids.current': '1\n',
      });
      const stats = await readCgroupStats('v2', v2DirFor);
      assert.equal(stats?.memory.swapUsageBytes, 0);
      assert.equal(stats?.memory.swapLimitBytes, undefined);
      assert.equal(stats?.pids, 1);
    });

    it('returns undefined when the cgroup is gone', async () => {
      assert.equal(await readCgroupStats('v2', v2DirFor), undefined);
    });

    it('fails when cpu.stat has no usage_usec', async () => {
      const dir = writeCgroup('', { 'cpu.stat': 'nr_periods 0\n', 'memory.current': '0\n', 'memory.stat': '' });
      await assert.rejects(readCgroupStats('v2', v2DirFor), {
        message: `reading the stats of cgroup ${dir}: cgroup file cpu.stat has no usage_usec line`,
      });
    });
  });
});
