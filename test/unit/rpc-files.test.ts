import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as protobuf from 'protobufjs';

// Every RPC Caisson answers lives in a file named after it (RunPodSandbox in
// run-pod-sandbox.ts), so `ls` answers "where is X". The names come from the protos themselves,
// so an RPC added to a proto without its file fails here.

const ROOT = path.resolve(__dirname, '../..');
const PROTO_DIR = path.join(ROOT, 'core/cri/proto');

/** The services whose RPCs Caisson answers: the CRI v1 ones and Caisson's own. */
const SERVICES: readonly { readonly proto: string; readonly service: string }[] = [
  { proto: 'runtime/v1/api.proto', service: 'runtime.v1.RuntimeService' },
  { proto: 'runtime/v1/api.proto', service: 'runtime.v1.ImageService' },
  { proto: 'caisson/v1/caisson.proto', service: 'caisson.v1.Images' },
];

/** Where handlers live: the service plugins in core and the plugins beside core. */
const HANDLER_ROOTS = ['core/services', 'plugins'];
const SKIPPED_FOLDERS = new Set(['node_modules', 'generated']);

/** RunPodSandbox -> run-pod-sandbox, ImageFsInfo -> image-fs-info (an acronym stays one word). */
function kebabCase(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1-$2')
    .replace(/([A-Z]+)([A-Z][a-z])/g, '$1-$2')
    .toLowerCase();
}

function rpcNames(proto: string, service: string): string[] {
  // Parsing without resolving imports is enough: only the method names are read.
  const { root } = protobuf.parse(fs.readFileSync(path.join(PROTO_DIR, proto), 'utf8'), { keepCase: true });
  return Object.keys(root.lookupService(service).methods);
}

/** Every .ts file under the handler roots, relative to the repository. */
function handlerFiles(): string[] {
  const found: string[] = [];
  const walk = (dir: string): void => {
    for (const entry of fs.readdirSync(path.join(ROOT, dir), { withFileTypes: true })) {
      const relative = path.join(dir, entry.name);
      if (entry.isDirectory()) {
        if (!SKIPPED_FOLDERS.has(entry.name)) walk(relative);
      } else if (entry.name.endsWith('.ts')) {
        found.push(relative);
      }
    }
  };
  for (const dir of HANDLER_ROOTS) walk(dir);
  return found;
}

describe('one file per RPC', () => {
  const files = handlerFiles();
  const rpcs = SERVICES.flatMap(({ proto, service }) => rpcNames(proto, service).map((rpc) => ({ rpc, service })));

  it('reads the RPCs of every service from the protos', () => {
    // A parse that found nothing would make the checks below pass vacuously.
    for (const { proto, service } of SERVICES) assert.ok(rpcNames(proto, service).length > 0, `no rpc found in ${service} (${proto})`);
    assert.ok(rpcs.some(({ rpc }) => rpc === 'RunPodSandbox'));
    assert.ok(rpcs.some(({ rpc }) => rpc === 'PullImageWithProgress'));
  });

  it('turns RPC names into kebab case', () => {
    assert.equal(kebabCase('RunPodSandbox'), 'run-pod-sandbox');
    assert.equal(kebabCase('ImageFsInfo'), 'image-fs-info');
    assert.equal(kebabCase('Exec'), 'exec');
    assert.equal(kebabCase('ListPodSandboxMetrics'), 'list-pod-sandbox-metrics');
    assert.equal(kebabCase('GetHTTPStatus'), 'get-http-status');
  });

  it(`finds every RPC by its own name under ${HANDLER_ROOTS.join(' or ')}, exactly once`, () => {
    const problems: string[] = [];
    for (const { rpc, service } of rpcs) {
      const wanted = `${kebabCase(rpc)}.ts`;
      const matches = files.filter((file) => path.basename(file) === wanted);
      if (matches.length !== 1) {
        problems.push(`${service}/${rpc}: ${matches.length === 0 ? `no file ${wanted}` : `${matches.length} files named ${wanted}: ${matches.join(', ')}`}`);
      }
    }
    assert.deepEqual(problems, []);
  });

  it('names the RPC inside its file (a handler, not an empty stand-in)', () => {
    const problems: string[] = [];
    for (const { rpc } of rpcs) {
      const file = files.find((f) => path.basename(f) === `${kebabCase(rpc)}.ts`);
      if (file !== undefined && !fs.readFileSync(path.join(ROOT, file), 'utf8').includes(rpc)) problems.push(`${file} never mentions ${rpc}`);
    }
    assert.deepEqual(problems, []);
  });
});
