import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as path from 'node:path';
import { loadCriServices } from '../../core/cri/cri-proto';
import { lazyV1alpha2Services, type V1alpha2ServiceName } from '../../core/cri/v1alpha2-services';

// The server adds runtime.v1alpha2 from a list of its methods, and parses the proto on the first
// call: the list must match the proto, and the codecs must be proto-loader's.

const SERVICES: readonly V1alpha2ServiceName[] = ['RuntimeService', 'ImageService'];

describe('v1alpha2 services parsed on first use', () => {
  it('lists exactly the methods of runtime/v1alpha2/api.proto, with their paths and streaming flags', () => {
    const lazy = lazyV1alpha2Services();
    const real = loadCriServices('v1alpha2');
    for (const service of SERVICES) {
      const summary = (definition: object): unknown =>
        Object.entries(definition as Record<string, { path: string; requestStream: boolean; responseStream: boolean; originalName?: string }>)
          .map(([name, m]) => ({ name, path: m.path, requestStream: m.requestStream, responseStream: m.responseStream, originalName: m.originalName }))
          .sort((a, b) => a.name.localeCompare(b.name));
      assert.deepEqual(summary(lazy[service]), summary(real[service].service), service);
    }
  });

  it('encodes and decodes as the parsed proto does', () => {
    const lazy = lazyV1alpha2Services().RuntimeService.RunPodSandbox;
    const real = loadCriServices('v1alpha2').RuntimeService.service.RunPodSandbox;
    assert.ok(lazy && real);
    const request = { config: { metadata: { name: 'p', uid: 'u', namespace: 'n', attempt: 2 }, labels: { a: 'b' } }, runtime_handler: 'runc' };
    const bytes = lazy.requestSerialize(request);
    assert.deepEqual(bytes, real.requestSerialize(request));
    assert.deepEqual(lazy.requestDeserialize(bytes), real.requestDeserialize(bytes));
    const response = { pod_sandbox_id: 'abc' };
    assert.deepEqual(lazy.responseDeserialize(lazy.responseSerialize(response)), real.responseDeserialize(real.responseSerialize(response)));
  });

  it('does not parse the v1alpha2 proto until a codec runs', () => {
    // A fresh process: this one has parsed it already.
    const module = path.resolve(__dirname, '../../core/cri/v1alpha2-services');
    const script = `
      const protobuf = require(require.resolve('protobufjs', { paths: [require.resolve('@grpc/proto-loader')] }));
      const loads = [];
      const original = protobuf.Root.prototype.loadSync;
      protobuf.Root.prototype.loadSync = function (file, options) { loads.push(String(file)); return original.call(this, file, options); };
      const { lazyV1alpha2Services } = require(${JSON.stringify(module)});
      const services = lazyV1alpha2Services();
      const before = loads.some((f) => f.includes('v1alpha2'));
      services.RuntimeService.Version.requestSerialize({ version: '1' });
      process.stdout.write(JSON.stringify({ before, after: loads.some((f) => f.includes('v1alpha2')) }));`;
    const output = execFileSync(process.execPath, ['-r', 'ts-node/register', '-e', script], { encoding: 'utf8' });
    assert.deepEqual(JSON.parse(output), { before: false, after: true });
  });

});
