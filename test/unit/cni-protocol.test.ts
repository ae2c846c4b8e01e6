import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { loadNetwork, parseNetworkConfig, pickConfigFile } from '../../plugins/cni/cni-config';
import { cniArgs, cniEnvironment, parseCniError, parseResult, pluginInput, runtimeConfigFor, versionPassesPrevResultOnDel } from '../../plugins/cni/cni-protocol';
import { defaultNetworkConflist, writeDefaultNetwork } from '../../plugins/cni/default-network';
import type { PodNetworkRequest } from '../../core/tokens';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';

const pod: PodNetworkRequest = {
  sandboxId: 'abc123',
  name: 'web',
  namespace: 'default',
  uid: 'u-1',
  netnsPath: '/run/x/net',
  portMappings: [
    { protocol: 'tcp', containerPort: 80, hostPort: 8080, hostIp: '127.0.0.1' },
    { protocol: 'udp', containerPort: 53, hostPort: 0, hostIp: '' },
    { protocol: 'sctp', containerPort: 9, hostPort: 9000, hostIp: '' },
  ],
  podCidr: '10.1.0.0/24, fd00::/64',
};

describe('cni: config selection', () => {
  it('picks the lowest-sorted .conflist/.conf/.json file and ignores others', () => {
    assert.equal(pickConfigFile(['20-b.conf', '10-a.conflist', '05-x.txt', '99.json']), '10-a.conflist');
    assert.equal(pickConfigFile(['README', 'x.conf.bak']), undefined);
    assert.equal(pickConfigFile(['00.json', '01.conf']), '00.json');
  });

  it('wraps a single-plugin .conf as a list of one', () => {
    const list = parseNetworkConfig('10-a.conf', JSON.stringify({ cniVersion: '0.4.0', name: 'n', type: 'bridge', bridge: 'b0' }));
    assert.equal(list.name, 'n');
    assert.equal(list.cniVersion, '0.4.0');
    assert.deepEqual(list.plugins, [{ cniVersion: '0.4.0', name: 'n', type: 'bridge', bridge: 'b0' }]);
  });

  it('reads a conflist and its disableCheck', () => {
    const list = parseNetworkConfig('a.conflist', JSON.stringify({ cniVersion: '1.0.0', name: 'n', disableCheck: true, plugins: [{ type: 'bridge' }, { type: 'portmap', capabilities: { portMappings: true } }] }));
    assert.deepEqual(list.plugins.map((p) => p.type), ['bridge', 'portmap']);
    assert.equal(list.disableCheck, true);
  });

  it('says what is wrong with a bad file', () => {
    assert.throws(() => parseNetworkConfig('a.conflist', '{nope'), /^Error: a\.conflist is not valid JSON: /);
    assert.throws(() => parseNetworkConfig('a.conflist', '{"cniVersion":"1.0.0","plugins":[{"type":"x"}]}'), { message: 'a.conflist has no network "name"' });
    assert.throws(() => parseNetworkConfig('a.conflist', '{"cniVersion":"2.0.0","name":"n","plugins":[{"type":"x"}]}'), { message: 'a.conflist has cniVersion "2.0.0"; supported: 0.3.0, 0.3.1, 0.4.0, 1.0.0' });
    assert.throws(() => parseNetworkConfig('a.conflist', '{"cniVersion":"1.0.0","name":"n","plugins":[]}'), { message: 'a.conflist lists no "plugins"' });
    assert.throws(() => parseNetworkConfig('a.conflist', '{"cniVersion":"1.0.0","name":"n","plugins":[{"x":1}]}'), { message: 'a.conflist: plugin 0 has no "type"' });
  });

  it('loadNetwork names the directory when nothing usable is there, and finds binaries', () => {
    const root = makeTempRoot('cni-unit');
    try {
      const conf = path.join(root, 'net.d');
      const bin = path.join(root, 'bin');
      assert.deepEqual(loadNetwork(conf, [bin]), { ok: false, message: `no CNI network config in ${conf}: the directory does not exist` });
      fs.mkdirSync(conf);
      assert.deepEqual(loadNetwork(conf, [bin]), { ok: false, message: `no CNI network config in ${conf}: no .conflist, .conf or .json file` });
      fs.writeFileSync(path.join(conf, '10.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'n', plugins: [{ type: 'fake' }] }));
      assert.deepEqual(loadNetwork(conf, [bin]), { ok: false, message: `CNI network config ${path.join(conf, '10.conflist')} uses plugin "fake", which is in none of ${bin}` });
      fs.mkdirSync(bin);
      fs.writeFileSync(path.join(bin, 'fake'), '#!/bin/sh\n', { mode: 0o755 });
      const loaded = loadNetwork(conf, ['/nonexistent', bin]);
      assert.equal(loaded.ok, true);
      assert.deepEqual(loaded.ok && loaded.binaries, [path.join(bin, 'fake')]);
    } finally {
      removeTempRoot(root);
    }
  });
});

describe('cni: protocol', () => {
  it('builds CNI_ARGS and the environment', () => {
    assert.equal(cniArgs(pod), 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=u-1');
    assert.deepEqual(cniEnvironment('ADD', pod, ['/usr/lib/cni', '/opt/cni/bin']), {
      CNI_COMMAND: 'ADD',
      CNI_CONTAINERID: 'abc123',
      CNI_NETNS: '/run/x/net',
      CNI_IFNAME: 'eth0',
      CNI_PATH: '/usr/lib/cni:/opt/cni/bin',
      CNI_ARGS: 'IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=abc123;K8S_POD_UID=u-1',
    });
  });

  it('passes portMappings and ipRanges only to plugins declaring the capability', () => {
    assert.equal(runtimeConfigFor({ type: 'bridge' }, pod), undefined);
    assert.deepEqual(runtimeConfigFor({ type: 'portmap', capabilities: { portMappings: true } }, pod), {
      portMappings: [
        { hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1' },
        { hostPort: 9000, containerPort: 9, protocol: 'sctp' },
      ],
    });
    assert.deepEqual(runtimeConfigFor({ type: 'host-local', capabilities: { ipRanges: true, portMappings: false } }, pod), {
      ipRanges: [[{ subnet: '10.1.0.0/24' }], [{ subnet: 'fd00::/64' }]],
    });
    assert.equal(runtimeConfigFor({ type: 'portmap', capabilities: { portMappings: true, ipRanges: true } }, { portMappings: [], podCidr: '' }), undefined);
  });

  it('writes a plugin stdin with name, cniVersion, prevResult and runtimeConfig', () => {
    const list = { name: 'net', cniVersion: '1.0.0', disableCheck: false, plugins: [] };
    const input = JSON.parse(pluginInput(list, { type: 'portmap', capabilities: { portMappings: true }, snat: true }, pod, { ips: [] })) as Record<string, unknown>;
    assert.deepEqual(input, {
      type: 'portmap',
      capabilities: { portMappings: true },
      snat: true,
      name: 'net',
      cniVersion: '1.0.0',
      prevResult: { ips: [] },
      runtimeConfig: {
        portMappings: [
          { hostPort: 8080, containerPort: 80, protocol: 'tcp', hostIP: '127.0.0.1' },
          { hostPort: 9000, containerPort: 9, protocol: 'sctp' },
        ],
      },
    });
    assert.deepEqual(JSON.parse(pluginInput(list, { type: 'bridge' }, pod, undefined)), { type: 'bridge', name: 'net', cniVersion: '1.0.0' });
  });

  it('passes prevResult on DEL from 0.4.0 on', () => {
    assert.deepEqual(['0.3.0', '0.3.1', '0.4.0', '1.0.0'].map(versionPassesPrevResultOnDel), [false, false, true, true]);
  });

  it('parses 0.3.1, 0.4.0 and 1.0.0 results, keeping only the pod-side addresses', () => {
    const v031 = { cniVersion: '0.3.1', interfaces: [{ name: 'cni0', mac: 'aa' }, { name: 'veth1', mac: 'bb' }, { name: 'eth0', mac: 'cc', sandbox: '/run/x/net' }], ips: [{ version: '4', interface: 2, address: '10.247.0.5/24', gateway: '10.247.0.1' }, { version: '4', interface: 0, address: '10.247.0.1/24' }] };
    assert.deepEqual(parseResult(JSON.stringify(v031)), { ips: ['10.247.0.5'], cidrs: ['10.247.0.5/24'], interfaces: v031.interfaces });
    const v100 = { cniVersion: '1.0.0', ips: [{ address: '10.0.0.2/16' }, { address: 'fd00::2/64' }] };
    assert.deepEqual(parseResult(JSON.stringify(v100)).ips, ['10.0.0.2', 'fd00::2']);
    assert.deepEqual(parseResult('{"cniVersion":"0.4.0"}').ips, []);
    assert.throws(() => parseResult('oops'), { message: 'the plugin\'s result is not JSON: "oops"' });
  });

  it('reads a CNI error object', () => {
    assert.equal(parseCniError('{"code":7,"msg":"invalid subnet","details":"10.0.0.0/33"}'), 'invalid subnet: 10.0.0.0/33 (CNI error code 7)');
    assert.equal(parseCniError('{"cniVersion":"1.0.0","code":999,"msg":"boom"}'), 'boom (CNI error code 999)');
    assert.equal(parseCniError('not json'), undefined);
    assert.equal(parseCniError('{"ips":[]}'), undefined);
  });
});

describe('cni: default network', () => {
  it('writes the bridge + host-local + portmap conflist only into a conf dir without a config', () => {
    const root = makeTempRoot('cni-unit');
    try {
      const conf = path.join(root, 'net.d');
      const file = writeDefaultNetwork(conf);
      assert.equal(file, path.join(conf, '10-caisson.conflist'));
      assert.deepEqual(JSON.parse(fs.readFileSync(path.join(conf, '10-caisson.conflist'), 'utf8')), defaultNetworkConflist());
      assert.deepEqual(parseNetworkConfig('10-caisson.conflist', fs.readFileSync(path.join(conf, '10-caisson.conflist'), 'utf8')).plugins.map((p) => p.type), ['bridge', 'portmap']);
      assert.equal(writeDefaultNetwork(conf), undefined);
      assert.deepEqual(fs.readdirSync(conf), ['10-caisson.conflist']);
    } finally {
      removeTempRoot(root);
    }
  });
});
