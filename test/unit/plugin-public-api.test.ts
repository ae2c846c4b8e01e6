import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';

// The built-in plugins under plugins/ reach the core only through its public plugin entry,
// core/plugin-api.ts (the package's `caisson/plugin`), exactly as a third-party plugin must: if a
// built-in needs something the API lacks, the API grows, for everyone. plugins/builtins.ts is the
// one exception: it is the list of built-ins, the core's own services among them.

const ROOT = path.resolve(__dirname, '..', '..');
const PLUGINS = path.join(ROOT, 'plugins');
const PUBLIC_ENTRY = path.join(ROOT, 'core', 'plugin-api');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sourceFiles(full);
    return entry.name.endsWith('.ts') ? [full] : [];
  });
}

/** Every module specifier a file imports or re-exports, static or dynamic. */
function specifiers(source: string): string[] {
  const found: string[] = [];
  for (const match of source.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*'([^']+)'|import\(\s*'([^']+)'\s*\)|^import\s+'([^']+)'/g)) {
    const specifier = match[1] ?? match[2] ?? match[3];
    if (specifier) found.push(specifier);
  }
  return found;
}

describe('plugins use only the public plugin API', () => {
  it('imports nothing from core/ or config/ but core/plugin-api', () => {
    const files = sourceFiles(PLUGINS).filter((file) => path.basename(file) !== 'builtins.ts');
    assert.ok(files.length > 20, `expected the built-in plugins' files, found ${files.length}`);
    const offending: string[] = [];
    for (const file of files) {
      for (const specifier of specifiers(fs.readFileSync(file, 'utf8'))) {
        if (!specifier.startsWith('.')) continue;
        const target = path.resolve(path.dirname(file), specifier);
        if (target.startsWith(PLUGINS + path.sep)) continue;
        if (target !== PUBLIC_ENTRY) offending.push(`${path.relative(ROOT, file)} imports ${specifier}`);
      }
    }
    assert.deepEqual(offending, []);
  });

  it('catches a deep import (the scan itself works)', () => {
    const sample = "import { definePlugin } from '../../core/plugin-api';\nimport type { Logger } from '../../core/log/logger';\n";
    assert.deepEqual(specifiers(sample), ['../../core/plugin-api', '../../core/log/logger']);
  });

  it('keeps core/ free of imports from plugins/ (the core depends on contracts, never on a plugin)', () => {
    const CORE = path.join(ROOT, 'core');
    const files = sourceFiles(CORE).filter((file) => !file.includes(`${path.sep}generated${path.sep}`));
    assert.ok(files.length > 150, `expected the core's files, found ${files.length}`);
    const offending = files.flatMap((file) =>
      specifiers(fs.readFileSync(file, 'utf8'))
        .filter((specifier) => specifier.startsWith('.') && path.resolve(path.dirname(file), specifier).startsWith(PLUGINS + path.sep))
        .map((specifier) => `${path.relative(ROOT, file)} imports ${specifier}`),
    );
    assert.deepEqual(offending, []);
  });
});
