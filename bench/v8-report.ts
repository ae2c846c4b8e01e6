import * as fs from 'node:fs';
import * as v8 from 'node:v8';

// Preloaded into caissond by bench/idle-memory.ts (`--v8`, through NODE_OPTIONS=--require), to
// see what V8 itself holds, which /proc cannot tell: on SIGUSR2 it writes the heap's figures and
// the modules loaded so far to the file named by CAISSON_V8_REPORT, after a full GC when
// CAISSON_V8_GC is set (gc() exposed only then). Nothing else is loaded, so the daemon's own
// memory moves by a few KiB only.

export interface V8Report {
  readonly memoryUsage: NodeJS.MemoryUsage;
  readonly spaces: readonly { name: string; size: number; used: number }[];
  readonly code: { bytecodeAndMetadata: number; code: number; external: number };
  readonly modules: readonly string[];
}

const file = process.env.CAISSON_V8_REPORT;
if (file) {
  process.on('SIGUSR2', () => {
    if (process.env.CAISSON_V8_GC) {
      v8.setFlagsFromString('--expose-gc');
      (require('node:vm').runInNewContext('gc') as () => void)();
    }
    const code = v8.getHeapCodeStatistics();
    const report: V8Report = {
      memoryUsage: process.memoryUsage(),
      spaces: v8.getHeapSpaceStatistics().map((space) => ({ name: space.space_name, size: space.space_size, used: space.space_used_size })),
      code: { bytecodeAndMetadata: code.bytecode_and_metadata_size, code: code.code_and_metadata_size, external: code.external_script_source_size },
      modules: Object.keys(require.cache),
    };
    fs.writeFileSync(file, JSON.stringify(report));
  });
}
