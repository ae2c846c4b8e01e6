import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';

// Checks that Caisson's hand-maintained CRI protos describe exactly the same
// wire contract (packages, services, methods, messages, fields, enums, options)
// as the upstream k8s.io/cri-api reference protos.

const REFERENCE_DIR = path.resolve(__dirname, '../../../shared/reference');
const PROTO_DIR = path.resolve(__dirname, '../../core/cri/proto/runtime');

interface ContractCase {
  readonly pkg: string;
  readonly ours: string;
  readonly reference: string;
}

const V1: ContractCase = {
  pkg: 'runtime.v1',
  ours: path.join(PROTO_DIR, 'v1', 'api.proto'),
  reference: path.join(REFERENCE_DIR, 'cri-api-v1-k8s-1.29.proto'),
};

const V1ALPHA2: ContractCase = {
  pkg: 'runtime.v1alpha2',
  ours: path.join(PROTO_DIR, 'v1alpha2', 'api.proto'),
  reference: path.join(REFERENCE_DIR, 'cri-api-v1alpha2-k8s-1.25.proto'),
};

type Json = Record<string, unknown>;

// Removes everything gogoproto-related from upstream text: the import, file-level
// `option (gogoproto.x) = y;` lines, and `(gogoproto.x) = y` entries inside field
// option brackets (dropping the brackets if nothing else is left). `go_package`
// is also removed because our copies intentionally omit it; it has no wire effect.
function stripGogoproto(text: string): string {
  let out = text
    .replace(/^[ \t]*import[ \t]+(?:public[ \t]+|weak[ \t]+)?"github\.com\/gogo\/protobuf\/gogoproto\/gogo\.proto"[ \t]*;[ \t]*$/gm, '')
    .replace(/^[ \t]*option[ \t]+\(gogoproto\.[\w.]+\)[ \t]*=[^;]*;[ \t]*$/gm, '')
    .replace(/^[ \t]*option[ \t]+go_package[ \t]*=[^;]*;[ \t]*$/gm, '');
  out = out.replace(/\[([^\]]*)\]/g, (whole: string, inner: string) => {
    if (!inner.includes('(gogoproto.')) return whole;
    const kept = inner
      .replace(/\s*\(gogoproto\.[\w.]+\)\s*=\s*(?:"(?:[^"\\]|\\.)*"|[^,\]\s]+)\s*,?/g, '')
      .trim()
      .replace(/,$/, '')
      .trim();
    return kept === '' ? '' : `[${kept}]`;
  });
  return out;
}

// Our copies only need `go_package` stripped (if someone re-adds it).
function stripGoPackage(text: string): string {
  return text.replace(/^[ \t]*option[ \t]+go_package[ \t]*=[^;]*;[ \t]*$/gm, '');
}

function readOrFail(file: string, what: string): string {
  if (!fs.existsSync(file)) {
    assert.fail(`${what} not found at ${file}; the CRI proto contract test cannot run without it`);
  }
  return fs.readFileSync(file, 'utf8');
}

function requireReferenceDir(): void {
  if (!fs.existsSync(REFERENCE_DIR) || !fs.statSync(REFERENCE_DIR).isDirectory()) {
    assert.fail(
      `CRI reference directory missing: ${REFERENCE_DIR}. ` +
        'It must contain the upstream k8s.io/cri-api protos to verify the wire contract.',
    );
  }
}

function parseProto(text: string, label: string): protobuf.IParserResult {
  try {
    return protobuf.parse(text, { keepCase: true });
  } catch (err) {
    assert.fail(`${label} failed to parse: ${(err as Error).message}`);
  }
}

// root.toJSON() carries no comments, but protobufjs builds enum `values` objects on
// a per-root prototype chain; a JSON round trip yields plain, comparable objects.
function toPlainJson(root: protobuf.Root): Json {
  return JSON.parse(JSON.stringify(root.toJSON())) as Json;
}

// Flattens a toJSON() tree into { fully.qualified.Name: descriptorWithoutNested },
// so each type (including nested types and namespaces) can be compared on its own.
function flatten(node: Json, prefix: string, into: Map<string, Json>): Map<string, Json> {
  const nested = node['nested'] as Record<string, Json> | undefined;
  const own: Json = { ...node };
  delete own['nested'];
  into.set(prefix === '' ? '<root>' : prefix, own);
  if (nested !== undefined) {
    for (const [name, child] of Object.entries(nested)) {
      flatten(child, prefix === '' ? name : `${prefix}.${name}`, into);
    }
  }
  return into;
}

function assertSameContract(c: ContractCase): void {
  requireReferenceDir();
  const refText = stripGogoproto(readOrFail(c.reference, 'Reference proto'));
  const ourText = stripGoPackage(readOrFail(c.ours, `Caisson ${c.pkg} proto`));

  assert.doesNotMatch(refText, /\(gogoproto\.|gogoproto\/gogo\.proto/, 'gogoproto stripping left residue in the reference');
  assert.doesNotMatch(ourText, /gogoproto/, `Caisson ${c.pkg} proto must not reference gogoproto`);

  const ref = parseProto(refText, `reference ${path.basename(c.reference)}`);
  const ours = parseProto(ourText, `Caisson ${c.pkg} proto`);

  assert.equal(ours.package, c.pkg, `Caisson proto package should be ${c.pkg}`);
  assert.equal(ref.package, c.pkg, `reference proto package should be ${c.pkg}`);
  assert.deepEqual(ours.imports ?? [], [], `Caisson ${c.pkg} proto must have no imports`);
  assert.deepEqual(ours.weakImports ?? [], [], `Caisson ${c.pkg} proto must have no weak imports`);
  assert.deepEqual(ref.imports ?? [], [], 'reference proto should have no imports left after stripping');

  const refJson = toPlainJson(ref.root);
  const ourJson = toPlainJson(ours.root);
  const refTypes = flatten(refJson, '', new Map());
  const ourTypes = flatten(ourJson, '', new Map());

  const missing = [...refTypes.keys()].filter((k) => !ourTypes.has(k));
  const extra = [...ourTypes.keys()].filter((k) => !refTypes.has(k));
  assert.deepEqual(missing, [], `types missing from Caisson ${c.pkg}: ${missing.join(', ')}`);
  assert.deepEqual(extra, [], `types in Caisson ${c.pkg} not in the reference: ${extra.join(', ')}`);

  for (const [name, refDesc] of refTypes) {
    assert.deepStrictEqual(ourTypes.get(name), refDesc, `descriptor of ${name} differs from the reference`);
  }

  // Belt and braces: the whole trees must match too.
  assert.deepStrictEqual(ourJson, refJson, `${c.pkg} descriptor tree differs from the reference`);

  // The file must also load standalone from disk (no include paths).
  const loaded = new protobuf.Root().loadSync(c.ours, { keepCase: true });
  loaded.resolveAll();
  assert.ok(loaded.lookupService(`${c.pkg}.RuntimeService`), `${c.pkg}.RuntimeService not found after loadSync`);
  assert.ok(loaded.lookupService(`${c.pkg}.ImageService`), `${c.pkg}.ImageService not found after loadSync`);
}

describe('CRI proto contract', () => {
  it('runtime.v1 matches the reference wire contract', () => {
    assertSameContract(V1);
  });

  it('runtime.v1alpha2 matches the reference wire contract', () => {
    assertSameContract(V1ALPHA2);
  });

  it('runtime.v1 RuntimeService exposes streaming GetContainerEvents and RuntimeConfig', () => {
    const root = parseProto(readOrFail(V1.ours, 'Caisson runtime.v1 proto'), 'Caisson runtime.v1 proto').root;
    const svc = root.lookupService('runtime.v1.RuntimeService');
    const names = Object.keys(svc.methods);
    assert.ok(names.includes('GetContainerEvents'), `GetContainerEvents missing; methods: ${names.join(', ')}`);
    assert.ok(names.includes('RuntimeConfig'), `RuntimeConfig missing; methods: ${names.join(', ')}`);

    const events = svc.methods['GetContainerEvents'];
    assert.ok(events, 'GetContainerEvents method object missing');
    assert.equal(events.responseStream, true, 'GetContainerEvents must be server-streaming');
    assert.ok(!events.requestStream, 'GetContainerEvents must not be client-streaming');
    assert.equal(events.requestType, 'GetEventsRequest');
    assert.equal(events.responseType, 'ContainerEventResponse');

    const runtimeConfig = svc.methods['RuntimeConfig'];
    assert.ok(runtimeConfig, 'RuntimeConfig method object missing');
    assert.equal(runtimeConfig.requestType, 'RuntimeConfigRequest');
    assert.equal(runtimeConfig.responseType, 'RuntimeConfigResponse');
  });
});
