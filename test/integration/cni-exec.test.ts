import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { CniNetwork } from '../../plugins/cni/cni-network';
import { createLogger } from '../../core/log/logger';
import type { PodNetworkRequest } from '../../core/tokens';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';

// The CNI exec protocol against fake plugins (shell scripts that record their environment and
// stdin): no network is touched. Real plugins are in cni-networking.test.ts.

describe('cni: plugin calls (fake plugins)', function () {
  this.timeout(20_000);
  let root: string;
  let conf: string;
  let bin: string;
  let calls: string;
  const logs: string[] = [];
  const logger = createLogger('debug', (line) => logs.push(line));

  const pod: PodNetworkRequest = {
    sandboxId: 'sb1',
    name: 'web',
    namespace: 'ns',
    uid: 'uid-1',
    netnsPath: '/run/netns/none',
    portMappings: [{ protocol: 'tcp', containerPort: 80, hostPort: 8080, hostIp: '' }],
    podCidr: '10.9.0.0/24',
  };

  /** A fake plugin: records "<cmd> <name>" + env + stdin, then runs `body`. */
  const fake = (name: string, body: string): void => {
    const script = `#!/bin/sh
input=$(cat)
n=$(ls "${calls}" | wc -l)
printf '%s\\n' "$CNI_COMMAND ${name}" "$CNI_CONTAINERID" "$CNI_NETNS" "$CNI_IFNAME" "$CNI_PATH" "$CNI_ARGS" "$input" > "${calls}/$(printf %03d $n)"
${body}
`;
    fs.writeFileSync(path.join(bin, name), script, { mode: 0o755 });
  };
  const recorded = (): string[][] =>
    fs
      .readdirSync(calls)
      .sort()
      .map((file) => fs.readFileSync(path.join(calls, file), 'utf8').split('\n'));
  const network = (timeoutMs = 10_000): CniNetwork => new CniNetwork({ confDir: conf, binDirs: ['/nonexistent', bin], stateDir: path.join(root, 'state', 'cni'), timeoutMs, logger });
  const writeConf = (plugins: unknown[], cniVersion = '1.0.0'): void => fs.writeFileSync(path.join(conf, '10-test.conflist'), JSON.stringify({ cniVersion, name: 'testnet', plugins }));

  beforeEach(() => {
    root = makeTempRoot('cni-exec');
    conf = path.join(root, 'net.d');
    bin = path.join(root, 'bin');
    calls = path.join(root, 'calls');
    [conf, bin, calls].forEach((dir) => fs.mkdirSync(dir));
    logs.length = 0;
  });
  afterEach(() => removeTempRoot(root));

  it('runs ADD through the chain with prevResult and capabilities, DEL in reverse with the saved config after a "restart"', async () => {
    const result = '{"cniVersion":"1.0.0","interfaces":[{"name":"eth0","sandbox":"/run/netns/none"}],"ips":[{"address":"10.9.0.7/24","interface":0}]}';
    fake('first', `[ "$CNI_COMMAND" = ADD ] && printf '%s' '${result}'; exit 0`);
    fake('second', `[ "$CNI_COMMAND" = ADD ] && printf '%s' "$input" | sed 's/.*"prevResult":\\(.*\\),"runtimeConfig".*/\\1/'; exit 0`);
    writeConf([{ type: 'first', mode: 'x' }, { type: 'second', capabilities: { portMappings: true, ipRanges: true } }]);

    assert.deepEqual(await network().status(), { ready: true, reason: '', message: '' });
    assert.deepEqual(await network().setUpPod(pod), { ips: ['10.9.0.7'] });
    const [add1, add2] = recorded();
    assert.deepEqual(add1?.slice(0, 6), ['ADD first', 'sb1', '/run/netns/none', 'eth0', `/nonexistent:${bin}`, 'IgnoreUnknown=1;K8S_POD_NAMESPACE=ns;K8S_POD_NAME=web;K8S_POD_INFRA_CONTAINER_ID=sb1;K8S_POD_UID=uid-1']);
    assert.deepEqual(JSON.parse(add1?.[6] ?? ''), { type: 'first', mode: 'x', name: 'testnet', cniVersion: '1.0.0' });
    assert.deepEqual(JSON.parse(add2?.[6] ?? ''), {
      type: 'second',
      capabilities: { portMappings: true, ipRanges: true },
      name: 'testnet',
      cniVersion: '1.0.0',
      prevResult: JSON.parse(result),
      runtimeConfig: { portMappings: [{ hostPort: 8080, containerPort: 80, protocol: 'tcp' }], ipRanges: [[{ subnet: '10.9.0.0/24' }]] },
    });

    // The config changes and the daemon restarts (a new instance): DEL uses what ADD used.
    writeConf([{ type: 'other' }]);
    fs.rmSync(calls, { recursive: true });
    fs.mkdirSync(calls);
    await network().tearDownPod(pod);
    const dels = recorded();
    assert.deepEqual(dels.map((call) => call[0]), ['DEL second', 'DEL first']);
    assert.deepEqual(JSON.parse(dels[1]?.[6] ?? '').prevResult, JSON.parse(result));
    assert.deepEqual(fs.readdirSync(path.join(root, 'state', 'cni')), []);

    // Again: nothing to undo, no plugin runs.
    await network().tearDownPod(pod);
    assert.equal(recorded().length, 2);
  });

  it('does not pass prevResult on DEL for 0.3.1', async () => {
    fake('first', `[ "$CNI_COMMAND" = ADD ] && printf '%s' '{"cniVersion":"0.3.1","ips":[{"version":"4","address":"10.9.0.8/24"}]}'; exit 0`);
    writeConf([{ type: 'first' }], '0.3.1');
    assert.deepEqual(await network().setUpPod(pod), { ips: ['10.9.0.8'] });
    await network().tearDownPod(pod);
    const del = recorded()[1];
    assert.equal(del?.[0], 'DEL first');
    assert.deepEqual(JSON.parse(del?.[6] ?? ''), { type: 'first', name: 'testnet', cniVersion: '0.3.1' });
  });

  it('reports the CNI error object and stderr of a failed ADD, and runs DEL for the partial work', async () => {
    fake('first', `[ "$CNI_COMMAND" = ADD ] && printf '%s' '{"cniVersion":"1.0.0","ips":[]}'; exit 0`);
    fake('broken', `[ "$CNI_COMMAND" = DEL ] && exit 0; echo 'some log' >&2; printf '%s' '{"cniVersion":"1.0.0","code":11,"msg":"no luck","details":"try later"}'; exit 1`);
    writeConf([{ type: 'first' }, { type: 'broken' }]);
    await assert.rejects(network().setUpPod(pod), {
      message: `CNI plugin ${path.join(bin, 'broken')} ADD for sandbox sb1 exited with status 1: no luck: try later (CNI error code 11); stderr: some log`,
    });
    assert.deepEqual(recorded().map((call) => call[0]), ['ADD first', 'ADD broken', 'DEL broken', 'DEL first']);
    assert.deepEqual(fs.readdirSync(path.join(root, 'state', 'cni')), []);
    await network().tearDownPod(pod);
    assert.equal(recorded().length, 4);
  });

  it('kills a hanging plugin after the timeout', async () => {
    fake('hang', `[ "$CNI_COMMAND" = DEL ] && exit 0; exec sleep 30`);
    writeConf([{ type: 'hang' }]);
    const started = Date.now();
    await assert.rejects(network(500).setUpPod(pod), { message: `CNI plugin ${path.join(bin, 'hang')} ADD for sandbox sb1 timed out after 500 ms and was killed` });
    assert.ok(Date.now() - started < 5_000);
    assert.deepEqual(recorded().map((call) => call[0]), ['ADD hang', 'DEL hang']);
  });

  it('status is false naming the directory while the config is broken, true once fixed', async () => {
    const n = network();
    assert.deepEqual(await n.status(), { ready: false, reason: 'NetworkPluginNotReady', message: `cni: no CNI network config in ${conf}: no .conflist, .conf or .json file` });
    fs.writeFileSync(path.join(conf, '10-test.conflist'), '{"cniVersion": "1.0.0", name');
    const broken = await n.status();
    assert.equal(broken.ready, false);
    assert.match(broken.message, new RegExp(`^cni: invalid CNI network config in ${conf}: 10-test\\.conflist is not valid JSON: `));
    writeConf([{ type: 'missing' }]);
    assert.deepEqual(await n.status(), { ready: false, reason: 'NetworkPluginNotReady', message: `cni: CNI network config ${path.join(conf, '10-test.conflist')} uses plugin "missing", which is in none of /nonexistent, ${bin}` });
    await assert.rejects(n.setUpPod(pod), { message: `cannot wire pod ns/web: CNI network config ${path.join(conf, '10-test.conflist')} uses plugin "missing", which is in none of /nonexistent, ${bin}` });
    fake('first', 'exit 0');
    writeConf([{ type: 'first' }]);
    assert.equal((await n.status()).ready, true);
  });
});
