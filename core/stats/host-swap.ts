import * as fs from 'node:fs';

// Whether the host has swap space at all: SwapTotal of /proc/meminfo. The cgroup files say what
// a cgroup has swapped only relative to its memory (v1 memory.memsw.* counts memory and swap
// together), so on a host with no swap space the reader's difference is only the skew between
// two reads; the host's SwapTotal settles it.

/** SwapTotal of a /proc/meminfo text in bytes; undefined when the line is absent. */
export function parseSwapTotal(meminfo: string): number | undefined {
  const match = /^SwapTotal:\s+(\d+)\s+kB$/m.exec(meminfo);
  return match?.[1] === undefined ? undefined : Number(match[1]) * 1024;
}

/** The host's swap space in bytes, or undefined when /proc/meminfo does not say. */
export async function hostSwapTotalBytes(meminfoPath = '/proc/meminfo'): Promise<number | undefined> {
  try {
    return parseSwapTotal(await fs.promises.readFile(meminfoPath, 'utf8'));
  } catch {
    return undefined;
  }
}
