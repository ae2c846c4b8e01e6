import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as http from 'node:http';
import * as net from 'node:net';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import type { CriClient } from '../../cli/cri-client';
import { runProgram } from '../../core/host-programs/run-program';
import { busyboxBaseLayer, pushImage } from '../support/images/image-builder';
import { BUSYBOX_CONFIG } from '../support/images/standard-images';
import { containerConfig, podConfig, runPod, startContainer, waitForExit } from '../support/pod-fixtures';
import { startTestRegistry, type TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';
import { addedCniRules, reservedAddresses, restoreHost, snapshotHost, type HostSnapshot } from '../support/cni-host';

// Pod networking with the real CNI plugins of Debian's containernetworking-plugins (/usr/lib/cni):
// a test bridge (cni-caisson-t1, 10.247.0.0/24) that only this test uses. Every bridge, iptables
// rule, sysctl and host-local file the tests make is removed or restored in afterEach.

const CNI_BIN = '/usr/lib/cni';
const BRIDGE = 'cni-caisson-t1';
const BAD_BRIDGE = 'cni-caisson-t2';
const SUBNET = /^10\.247\.0\.\d+$/;

describe('cni: pod networking (real plugins)', function () {
  this.timeout(120_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let image: string;
  let tmp: string;
  let conf: string;
  let dataDir: string;
  let logs: string;
  let host: HostSnapshot;

  before(async function () {
    for (const plugin of ['bridge', 'host-local', 'portmap']) {
      if (!fs.existsSync(path.join(CNI_BIN, plugin))) throw new Error(`these tests need ${CNI_BIN}/${plugin} (Debian package containernetworking-plugins)`);
    }
    registry = await startTestRegistry();
    await pushImage(registry, { repository: 'busybox', tags: ['latest'], layers: [busyboxBaseLayer()], config: BUSYBOX_CONFIG });
    image = `${registry.host}/busybox:latest`;
  });
  after(async () => registry?.stop());

  beforeEach(async () => {
    host = await snapshotHost();
    tmp = makeTempRoot('cni');
    conf = path.join(tmp, 'net.d');
    dataDir = path.join(tmp, 'ipam');
    logs = path.join(tmp, 'logs');
    fs.mkdirSync(conf);
    fs.mkdirSync(logs);
  });
  // Registered after useTestDaemons' afterEach, so pods are gone (DEL ran) before the host is put back.
  afterEach(async () => {
    const problems = await restoreHost(host, [BRIDGE, BAD_BRIDGE]);
    removeTempRoot(tmp);
    assert.deepEqual(problems, []);
  });

  const bridgeConflist = (overrides: { bridge?: string; subnet?: string } = {}): string =>
    JSON.stringify({
      cniVersion: '1.0.0',
      name: 'caisson-test',
      plugins: [
        {
          type: 'bridge',
          bridge: overrides.bridge ?? BRIDGE,
          isGateway: true,
          ipMasq: false,
          ipam: { type: 'host-local', subnet: overrides.subnet ?? '10.247.0.0/24', dataDir },
        },
        { type: 'portmap', capabilities: { portMappings: true } },
      ],
    });

  const start = async (binDir = CNI_BIN): Promise<{ d: TestDaemon; client: CriClient }> => {
    const d = await daemons.start({
      config: { 'insecure-registries': [registry.host], 'cni-conf-dir': conf, 'cni-bin-dir': binDir, 'network-plugin': 'cni' },
    });
    const client = d.client();
    await client.call('PullImage', { image: { image } });
    return { d, client };
  };
  const podIp = async (client: CriClient, podId: string): Promise<string> => String((await client.call('PodSandboxStatus', { pod_sandbox_id: podId })).status?.network?.ip ?? '');
  const networkReady = async (client: CriClient) => (await client.call('Status', {})).status?.conditions?.find((c) => c.type === 'NetworkReady');

  it('gives two pods addresses on the bridge that reach each other; DEL frees them', async () => {
    fs.writeFileSync(path.join(conf, '10-test.conflist'), bridgeConflist());
    const { client } = await start();
    assert.equal((await networkReady(client))?.status, true);
    const podA = podConfig(logs);
    const a = await runPod(client, podA);
    const b = await runPod(client, podConfig(logs));
    const [ipA, ipB] = [await podIp(client, a), await podIp(client, b)];
    assert.match(ipA, SUBNET);
    assert.match(ipB, SUBNET);
    assert.notEqual(ipA, ipB);
    assert.deepEqual(reservedAddresses(dataDir, 'caisson-test').sort(), [ipA, ipB].sort());

    const ping = await startContainer(client, a, podA, containerConfig('ping', image, ['ping', '-c', '2', '-W', '2', ipB]));
    const status = await waitForExit(client, ping, 30_000);
    assert.equal(status.exit_code, 0, fs.readFileSync(path.join(logs, 'ping.log'), 'utf8'));

    // CNI CHECK, through verbose status: fine while wired, a failure once eth0 is gone.
    const verbose = async (podId: string) => JSON.parse((await client.call('PodSandboxStatus', { pod_sandbox_id: podId, verbose: true })).info?.['info'] ?? '{}');
    assert.equal((await verbose(b)).networkCheck, 'ok');
    await runProgram('nsenter', [`--net=${(await verbose(b)).namespaces.network}`, 'ip', 'link', 'del', 'eth0']);
    assert.match((await verbose(b)).networkCheck, /^failed: /);

    // Stop runs DEL, remove runs it again (no-op): the addresses are free.
    await client.call('StopPodSandbox', { pod_sandbox_id: a });
    assert.deepEqual(reservedAddresses(dataDir, 'caisson-test'), [ipB]);
    await client.call('RemovePodSandbox', { pod_sandbox_id: a });
    await client.call('RemovePodSandbox', { pod_sandbox_id: b });
    assert.deepEqual(reservedAddresses(dataDir, 'caisson-test'), []);
    assert.deepEqual((await client.call('ListPodSandbox', {})).items, []);
  });

  it('serves HTTP on the pod IP and on a hostPort of 127.0.0.1 (portmap)', async () => {
    fs.writeFileSync(path.join(conf, '10-test.conflist'), bridgeConflist());
    const { client } = await start();
    const hostPort = await freePort();
    const pod = podConfig(logs, { port_mappings: [{ protocol: 'TCP', container_port: 8080, host_port: hostPort, host_ip: '127.0.0.1' }] });
    const podId = await runPod(client, pod);
    const ip = await podIp(client, podId);
    assert.match(ip, SUBNET);
    await startContainer(client, podId, pod, containerConfig('httpd', image, ['sh', '-c', 'mkdir -p /www && echo hello-cni > /www/index.html && exec httpd -f -p 8080 -h /www']));

    assert.equal(await httpGet(ip, 8080), 'hello-cni\n');
    // Locally made packets to 127.0.0.1 that are DNATed out of the bridge need route_localnet.
    fs.writeFileSync('/proc/sys/net/ipv4/conf/all/route_localnet', '1');
    fs.writeFileSync(`/proc/sys/net/ipv4/conf/${BRIDGE}/route_localnet`, '1');
    assert.ok((await addedCniRules(host)).some((rule) => rule.includes(`--dport ${hostPort}`)), 'portmap added a DNAT rule for the host port');
    assert.equal(await httpGet('127.0.0.1', hostPort), 'hello-cni\n');

    await client.call('RemovePodSandbox', { pod_sandbox_id: podId });
    assert.ok(!(await addedCniRules(host)).some((rule) => rule.includes(`--dport ${hostPort}`)), 'portmap DEL removed the DNAT rule');
    assert.deepEqual(reservedAddresses(dataDir, 'caisson-test'), []);
  });

  it('reports NetworkReady false naming the directory for a broken config, true once fixed, without restart', async () => {
    fs.writeFileSync(path.join(conf, '10-test.conflist'), '{"cniVersion": "1.0.0", "name": ');
    const { client } = await start();
    const broken = await networkReady(client);
    assert.equal(broken?.status, false);
    assert.equal(broken?.reason, 'NetworkPluginNotReady');
    assert.ok(broken?.message?.includes(conf), broken?.message);
    await assert.rejects(runPod(client, podConfig(logs)), (error: Error) => error.message.includes(conf));
    assert.deepEqual((await client.call('ListPodSandbox', {})).items, []);

    fs.writeFileSync(path.join(conf, '10-test.conflist'), bridgeConflist());
    assert.deepEqual([(await networkReady(client))?.status, (await networkReady(client))?.reason], [true, '']);
    const podId = await runPod(client, podConfig(logs));
    assert.match(await podIp(client, podId), SUBNET);
  });

  it('rolls the sandbox back when ADD fails, reporting the plugin message', async () => {
    fs.writeFileSync(path.join(conf, '10-test.conflist'), bridgeConflist({ bridge: BAD_BRIDGE, subnet: '10.247.1.0/33' }));
    const { d, client } = await start();
    await assert.rejects(runPod(client, podConfig(logs)), (error: Error) => {
      assert.match(error.message, /CNI plugin \/usr\/lib\/cni\/bridge ADD for sandbox [0-9a-f]+ exited with status 1: .*10\.247\.1\.0\/33/);
      return true;
    });
    assert.deepEqual((await client.call('ListPodSandbox', {})).items, []);
    const mounts = fs.readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((line) => line.includes(d.root));
    assert.deepEqual(mounts.filter((line) => !/\/lib\//.test(line.split(' ')[1] ?? '')), [], 'no netns, shm or other sandbox mount is left');
    assert.deepEqual(fs.readdirSync(path.join(d.root, 'run', 'sandboxes')), []);
    assert.deepEqual(fs.existsSync(path.join(d.root, 'run', 'cni')) ? fs.readdirSync(path.join(d.root, 'run', 'cni')) : [], []);
  });

  it('runs a host-network pod without calling any CNI plugin', async () => {
    const bin = path.join(tmp, 'bin');
    const calls = path.join(tmp, 'calls');
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, 'recorder'), `#!/bin/sh\necho "$CNI_COMMAND" >> ${calls}\necho '{"cniVersion":"1.0.0","ips":[]}'\n`, { mode: 0o755 });
    fs.writeFileSync(path.join(conf, '10-test.conflist'), JSON.stringify({ cniVersion: '1.0.0', name: 'rec', plugins: [{ type: 'recorder' }] }));
    const { client } = await start(bin);
    const pod = podConfig(logs, { linux: { security_context: { namespace_options: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } } });
    const podId = await runPod(client, pod);
    const id = await startContainer(client, podId, pod, containerConfig('hostnet', image, ['sh', '-c', `test -e /sys/class/net/eth0 || test -e /sys/class/net/lo`]));
    assert.equal((await waitForExit(client, id)).exit_code, 0);
    await client.call('RemovePodSandbox', { pod_sandbox_id: podId });
    assert.equal(fs.existsSync(calls), false, 'no CNI plugin ran');
  });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** GET / with retries until the server answers (httpd starting) or 15 s pass. */
async function httpGet(hostname: string, port: number): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      return await new Promise<string>((resolve, reject) => {
        const request = http.get({ hostname, port, path: '/', timeout: 2_000 }, (response) => {
          let body = '';
          response.setEncoding('utf8');
          response.on('data', (chunk: string) => (body += chunk));
          response.on('end', () => resolve(body));
        });
        request.on('timeout', () => request.destroy(new Error(`GET http://${hostname}:${port}/ timed out`)));
        request.on('error', reject);
      });
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await delay(200);
    }
  }
}
