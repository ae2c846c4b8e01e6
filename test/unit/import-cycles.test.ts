import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import madge from 'madge';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';

// Issue 14: no import cycle among the sources, type-only imports included. A cycle made only of
// `import type` still ties the files together: neither can be read, moved or split without the
// other (core/tokens.ts importing the services' types while they import tokens.ts was one).

const repoRoot = path.resolve(__dirname, '..', '..');
const tsConfig = path.join(repoRoot, 'tsconfig.json');
const sourceDirs = ['core', 'config', 'plugins', 'cli'];

interface ImportGraph {
  /** Every file madge read, relative to the base directory. */
  readonly files: string[];
  readonly cycles: string[][];
  /** Relative imports madge could not resolve: each one is an edge the cycle search missed. */
  readonly unresolved: string[];
}

async function findImportCycles(baseDir: string, dirs: string[]): Promise<ImportGraph> {
  const result = await madge(
    dirs.map((dir) => path.join(baseDir, dir)),
    {
      baseDir,
      fileExtensions: ['ts'],
      tsConfig,
      // Hand-written declarations of untyped packages (`declare module`) are not imported.
      excludeRegExp: [/\.d\.ts$/],
      // Both default to false today; spelled out because counting type imports is the point.
      detectiveOptions: { ts: { skipTypeImports: false, skipAsyncImports: false } },
    },
  );
  return {
    files: Object.keys(result.obj()),
    cycles: result.circular(),
    unresolved: result.warnings().skipped.filter((specifier) => specifier.startsWith('.')),
  };
}

/** `a.ts -> b.ts -> a.ts`: madge lists a cycle's files without closing it. */
function formatCycle(cycle: string[]): string {
  return [...cycle, cycle[0]].join(' -> ');
}

describe('import cycles', () => {
  it('finds no import cycle in core/, config/, plugins/ and cli/, type-only imports included', async () => {
    const graph = await findImportCycles(repoRoot, sourceDirs);

    // So the check cannot pass by reading nothing (a wrong extension or base directory).
    assert.ok(graph.files.length > 150, `madge read only ${graph.files.length} files`);
    assert.ok(graph.files.includes('core/tokens.ts'), 'madge did not read core/tokens.ts');

    // A count, not a deep comparison, so the failure prints each cycle once, one a line.
    assert.equal(
      graph.cycles.length,
      0,
      `${graph.cycles.length} import cycle(s):\n${graph.cycles.map(formatCycle).join('\n')}`,
    );
    // An import madge cannot resolve is an edge it never followed, so a cycle through it would go
    // unseen. The generated CRI types come from `npm run gen:proto` (npm test builds first).
    assert.equal(
      graph.unresolved.length,
      0,
      `${graph.unresolved.length} import(s) madge could not resolve (is core/cri/generated/ there? npm run gen:proto): ${graph.unresolved.slice(0, 10).join(', ')}`,
    );
  });

  it('detects a cycle made only of type imports (two files that import each other)', async () => {
    const root = makeTempRoot('import-cycles');
    try {
      const dir = path.join(root, 'src');
      fs.mkdirSync(dir);
      fs.writeFileSync(path.join(dir, 'a.ts'), "import type { B } from './b';\nexport interface A { b: B }\n");
      fs.writeFileSync(path.join(dir, 'b.ts'), "import type { A } from './a';\nexport interface B { a?: A }\n");

      const graph = await findImportCycles(root, ['src']);

      assert.deepEqual(graph.files.sort(), ['src/a.ts', 'src/b.ts']);
      assert.deepEqual(graph.cycles.map(formatCycle), ['src/a.ts -> src/b.ts -> src/a.ts']);
      assert.deepEqual(graph.unresolved, []);
    } finally {
      removeTempRoot(root);
    }
  });
});
