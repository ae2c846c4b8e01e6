import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import { MetadataStore } from '../../core/store/metadata-store';
import { useTestDaemons } from '../support/test-daemon';

// The runtime-info RPCs through the real gRPC server on a unix socket, with the built-in plugins
// (cgroupfs driver, runc runtime from the Debian package).

describe('CRI runtime info over the socket', () => {
  const daemons = useTestDaemons();

  it('answers Version on v1 and v1alpha2', async () => {
    const d = await daemons.start();
    const v1 = await d.client('v1').call('Version', { version: '0.1.0' });
    assert.deepEqual(v1, { version: '0.1.0', runtime_name: 'caisson', runtime_version: '0.1.0', runtime_api_version: 'v1' });
    const alpha = await d.client('v1alpha2').call('Version', { version: '0.1.0' });
    assert.equal(alpha.runtime_api_version, 'v1alpha2');
    assert.equal(alpha.runtime_name, 'caisson');
  });

  it('reports RuntimeReady from runc and NetworkReady false while no network plugin is loaded', async () => {
    const d = await daemons.start();
    const status = await d.client().call('Status', { verbose: false });
    assert.deepEqual(status.status?.conditions, [
      { type: 'RuntimeReady', status: true, reason: '', message: '' },
      {
        type: 'NetworkReady',
        status: false,
        reason: 'NetworkPluginNotReady',
        message: 'network plugin "none" is not loaded in this caissond',
      },
    ]);
    assert.deepEqual(status.info, {});
  });

  it('reports RuntimeReady false, with the reason, when the runtime binary is missing', async () => {
    const d = await daemons.start({ config: { runtimes: { runc: { path: '/nonexistent/runc' } } } });
    const status = await d.client().call('Status', {});
    const runtime = status.status?.conditions?.[0];
    assert.equal(runtime?.status, false);
    assert.equal(runtime?.reason, 'RuntimeBinaryNotReady');
    assert.equal(runtime?.message, 'runtime "runc" (/nonexistent/runc) does not answer: /nonexistent/runc --version failed: program not found');
  });

  it('gives verbose info as JSON: plugins, handlers, driver, runtimes, config', async () => {
    const d = await daemons.start({ config: { runtimes: { 'runc-debug': { path: 'runc', 'runtime-args': ['--debug'] } } } });
    const { info } = await d.client().call('Status', { verbose: true });
    assert.ok(info);
    assert.deepEqual(JSON.parse(info['plugins'] ?? ''), ['cgroup-driver.cgroupfs', 'runtime.runc', 'service.runtime-info', 'image.images', 'service.pods', 'service.stats', 'service.exec', 'service.streaming']);
    assert.equal(JSON.parse(info['handlers'] ?? '')['Status'], 'service.runtime-info');
    assert.equal(JSON.parse(info['cgroupDriver'] ?? '').name, 'cgroupfs');
    const runtimes = JSON.parse(info['runtimes'] ?? '');
    assert.deepEqual(Object.keys(runtimes).sort(), ['runc', 'runc-debug']);
    assert.match(runtimes.runc.version, /^runc version /);
    assert.equal(runtimes['runc-debug'].runtimeArgs, '--debug');
    assert.equal(JSON.parse(info['config'] ?? '').graph, `${d.root}/lib`);
  });

  it('answers RuntimeConfig with the bound driver', async () => {
    const d = await daemons.start();
    assert.deepEqual(await d.client().call('RuntimeConfig', {}), { linux: { cgroup_driver: 'CGROUPFS' } });
  });

  it('stores the pod CIDR from UpdateRuntimeConfig durably and refuses a bad one', async () => {
    const d = await daemons.start();
    const client = d.client();
    await client.call('UpdateRuntimeConfig', { runtime_config: { network_config: { pod_cidr: '10.88.0.0/16,fd00:88::/64' } } });
    const { info } = await client.call('Status', { verbose: true });
    assert.equal(info?.['podCidr'], '10.88.0.0/16,fd00:88::/64');
    await assert.rejects(client.call('UpdateRuntimeConfig', { runtime_config: { network_config: { pod_cidr: '10.88.0.0/40' } } }), {
      code: grpc.status.INVALID_ARGUMENT,
      details: 'pod CIDR "10.88.0.0/40" in UpdateRuntimeConfig is not a valid IPv4 or IPv6 CIDR (for example 10.88.0.0/16)',
    });
    await d.daemon.stop();
    const store = MetadataStore.open(`${d.root}/lib`);
    try {
      assert.equal(store.getMeta('pod-cidr'), '10.88.0.0/16,fd00:88::/64');
    } finally {
      store.close();
    }
  });

  it('answers UNIMPLEMENTED, saying what would enable it, for RPCs nobody contributes', async () => {
    const d = await daemons.start();
    const client = d.client();
    await assert.rejects(client.call('CheckpointContainer', { container_id: 'c1', location: '/tmp/c1.tar' }), {
      code: grpc.status.UNIMPLEMENTED,
      details: 'CheckpointContainer is not implemented by this caissond: checkpointing is off: set "enable-criu-support": true in daemon.json (it needs CRIU), or load a plugin that contributes CheckpointContainer',
    });
  });

  it('serves only v1alpha2 when "enable-cri-v1" is false', async () => {
    const d = await daemons.start({ config: { 'enable-cri-v1': false } });
    await assert.rejects(d.client('v1').call('Version', {}), { code: grpc.status.UNIMPLEMENTED });
    assert.equal((await d.client('v1alpha2').call('Version', {})).runtime_api_version, 'v1alpha2');
  });
});
