import * as fs from 'node:fs';
import * as path from 'node:path';
import { runProgram } from '../core/host-programs/run-program';
import { RUNC_TIMEOUT_MS } from './bench-support';
import type { ContainerSteps, FloorPod } from './floor-steps';

// The network part of the floors (bench/runc-floor.ts): for each pod, a network namespace pinned
// on a file (`unshare --net=FILE ip link set lo up`), the engines' CNI chain (bridge +
// host-local, then portmap) run straight from /usr/lib/cni on the floor's own bridge and subnet,
// and the container's spec joining that namespace; on removal, after the container, CNI DEL
// (portmap, then bridge) and the namespace unpinned.

const CNI_BIN = '/usr/lib/cni';
const CNI_VERSION = '1.0.0';

export interface FloorNetwork {
  readonly bridge: string;
  readonly subnet: string;
}

/** The chain bench-engines.ts writes for the engines, on the floor's own bridge and subnet. */
function cniPlugins(network: FloorNetwork, ipamDir: string): Record<string, unknown>[] {
  const gateway = network.subnet.replace(/0\/\d+$/, '1');
  return [
    { type: 'bridge', bridge: network.bridge, isGateway: true, ipMasq: false, hairpinMode: true, ipam: { type: 'host-local', ranges: [[{ subnet: network.subnet, gateway }]], dataDir: ipamDir } },
    { type: 'portmap', capabilities: { portMappings: true } },
  ];
}

/** One CNI plugin call, as a runtime makes it: CNI_* in the environment, the config on stdin. */
async function cni(command: 'ADD' | 'DEL', plugin: Record<string, unknown>, id: string, netns: string, network: FloorNetwork, prevResult: unknown): Promise<unknown> {
  const input = JSON.stringify({ ...plugin, name: `bench-${network.bridge}`, cniVersion: CNI_VERSION, ...(prevResult === undefined ? {} : { prevResult }) });
  const env = { ...process.env, CNI_COMMAND: command, CNI_CONTAINERID: id, CNI_NETNS: netns, CNI_IFNAME: 'eth0', CNI_PATH: CNI_BIN };
  const { stdout } = await runProgram(path.join(CNI_BIN, String(plugin.type)), [], { env, input, timeoutMs: RUNC_TIMEOUT_MS });
  return command === 'ADD' ? (JSON.parse(stdout) as unknown) : undefined;
}

/** `inner`'s container in a pod network of its own; the pods' files go under `work`. */
export function networkedSteps(inner: ContainerSteps, bundle: string, work: string, network: FloorNetwork): ContainerSteps {
  const plugins = cniPlugins(network, path.join(work, 'ipam'));
  const spec = JSON.parse(fs.readFileSync(path.join(bundle, 'config.json'), 'utf8')) as { root: { path: string }; linux: { namespaces: { type: string; path?: string }[] } };
  const pods = new Map<string, FloorPod>();
  const podOf = (id: string): FloorPod => {
    const pod = pods.get(id);
    if (!pod) throw new Error(`floor pod ${id} was not prepared`);
    return pod;
  };
  return {
    // Its own config.json joining its namespace, on the shared read-only rootfs; written untimed.
    prepare(base): void {
      const pod: FloorPod = { id: base.id, podBundle: path.join(work, 'bundles', base.id), netns: path.join(work, 'netns', base.id), results: [] };
      fs.mkdirSync(pod.podBundle, { recursive: true });
      fs.mkdirSync(path.dirname(pod.netns), { recursive: true });
      const namespaces = spec.linux.namespaces.map((ns) => (ns.type === 'network' ? { type: 'network', path: pod.netns } : ns));
      fs.writeFileSync(path.join(pod.podBundle, 'config.json'), JSON.stringify({ ...spec, root: { ...spec.root, path: path.join(bundle, 'rootfs') }, linux: { ...spec.linux, namespaces } }));
      pods.set(pod.id, pod);
      inner.prepare?.(pod);
    },
    async start(base): Promise<void> {
      const pod = podOf(base.id);
      fs.writeFileSync(pod.netns, '', { mode: 0o600 });
      await runProgram('unshare', [`--net=${pod.netns}`, '--', 'ip', 'link', 'set', 'lo', 'up']);
      let prev: unknown;
      for (const plugin of plugins) {
        prev = await cni('ADD', plugin, pod.id, pod.netns, network, prev);
        pod.results.push(prev);
      }
      await inner.start(pod);
    },
    async remove(base): Promise<void> {
      const pod = podOf(base.id);
      await inner.remove(pod);
      // As libcni does, every DEL gets the chain's final ADD result as prevResult.
      const final = pod.results[pod.results.length - 1];
      for (const plugin of [...plugins].reverse()) await cni('DEL', plugin, pod.id, pod.netns, network, final);
      await runProgram('umount', [pod.netns]);
      fs.rmSync(pod.netns);
      pods.delete(pod.id);
    },
    ...(inner.helperRss ? { helperRss: inner.helperRss } : {}),
  };
}
