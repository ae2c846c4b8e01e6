import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as grpc from '@grpc/grpc-js';
import type { CriClient } from '../../cli/cri-client';
import { startBusyboxRegistry } from '../support/busybox-registry';
import { containerConfig, podConfig, runPod, startContainer } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';

// Bad input to every mutating RPC, as a table: for each string field a NUL, a newline, a leading
// '-', '..' and 64 KiB; for each path field a relative path, one that escapes, a symlink out; for
// each ID empty, unknown and an ambiguous prefix. Each case gets a clear code and a message that
// names the field, or OK where the odd value is valid (an argument may hold a newline). After
// every case nothing is half-made (no pod, container or sandbox folder that the CRI does not
// list) and the daemon answers the next call.

const KiB64 = 'x'.repeat(64 * 1024);

type Expected = 'OK' | { code: grpc.status; details: RegExp };
interface Case {
  readonly rpc: string;
  readonly what: string;
  readonly request: () => object;
  readonly expected: Expected;
}

const invalid = (details: RegExp): Expected => ({ code: grpc.status.INVALID_ARGUMENT, details });
const notFound = (details: RegExp): Expected => ({ code: grpc.status.NOT_FOUND, details });

describe('bad input to every mutating RPC', function () {
  this.timeout(300_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let image: string;
  let logs: string;
  let d: TestDaemon;
  let client: CriClient;
  let pod: Record<string, unknown>;
  let podId: string;
  let containerId: string;
  /** Two sandbox IDs that share their first character, and that character. */
  let ambiguousSandbox: string;
  let ambiguousContainer: string;

  before(async () => ({ registry, image } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(async () => {
    logs = makeTempRoot('bad-input-logs');
    d = await daemons.start({ config: { 'insecure-registries': [registry.host] } });
    client = d.client();
    await client.call('PullImage', { image: { image } });
    pod = podConfig(logs);
    podId = await runPod(client, pod);
    containerId = await startContainer(client, podId, pod, containerConfig('main', image, ['sleep', '300']));
    ambiguousSandbox = await sharedPrefix(() => runPod(client, podConfig(logs)), [podId]);
    ambiguousContainer = await sharedPrefix(
      async () => String((await client.call('CreateContainer', { pod_sandbox_id: podId, config: containerConfig(`c-${Math.random()}`, image, ['true']), sandbox_config: pod })).container_id),
      [containerId],
    );
  });
  afterEach(() => removeTempRoot(logs));

  /** Makes objects until two IDs share a first character (at most 17, by pigeonhole); answers that character. */
  const sharedPrefix = async (make: () => Promise<string>, ids: string[]): Promise<string> => {
    for (;;) {
      const seen = new Set<string>();
      for (const id of ids) {
        if (seen.has(id[0] ?? '')) return id[0] ?? '';
        seen.add(id[0] ?? '');
      }
      ids.push(await make());
    }
  };

  const podWith = (edit: (config: Record<string, any>) => void): object => {
    const config: Record<string, any> = structuredClone(podConfig(logs));
    edit(config);
    return { config };
  };
  const containerWith = (edit: (config: Record<string, any>) => void): object => {
    const config: Record<string, any> = structuredClone(containerConfig('bad', image, ['sleep', '1']));
    edit(config);
    return { pod_sandbox_id: podId, config, sandbox_config: pod };
  };

  const cases = (): Case[] => {
    const list: Case[] = [];
    const add = (rpc: string, what: string, request: () => object, expected: Expected): void => void list.push({ rpc, what, request, expected });

    // RunPodSandbox: names, hostname, paths, DNS, sysctls, ports, labels.
    for (const field of ['name', 'namespace', 'uid'] as const) {
      const set = (value: string) => () => podWith((c) => (c['metadata'][field] = value));
      add('RunPodSandbox', `metadata.${field} with NUL`, set('a\0b'), invalid(new RegExp(`field config\\.metadata\\.${field} holds a NUL byte`)));
      add('RunPodSandbox', `metadata.${field} with a newline`, set('a\nb'), invalid(new RegExp(`^config\\.metadata\\.${field} "a\\\\nb" holds a control character`)));
      add('RunPodSandbox', `metadata.${field} with ';' (CNI_ARGS)`, set('a;K8S_POD_NAME=b'), invalid(new RegExp(`^config\\.metadata\\.${field} .* holds a control character, ';' or '='`)));
      add('RunPodSandbox', `metadata.${field} of 64 KiB`, set(KiB64), invalid(new RegExp(`^config\\.metadata\\.${field} is 65536 bytes; at most 253`)));
      add('RunPodSandbox', `metadata.${field} with a leading '-'`, set(`-${field}-${Math.random()}`), 'OK');
      add('RunPodSandbox', `metadata.${field} of '..'`, set(`..${Math.random()}`), 'OK');
      add('RunPodSandbox', `metadata.${field} empty`, set(''), invalid(/^RunPodSandbox needs metadata with name, namespace and uid$/));
    }
    const hostname = (value: string) => () => podWith((c) => (c['hostname'] = value));
    add('RunPodSandbox', 'hostname with a leading -', hostname('-n'), invalid(/^hostname "-n" is not a valid hostname/));
    add('RunPodSandbox', 'hostname with a newline', hostname('a\n1.2.3.4 bank'), invalid(/^hostname "a\\n1\.2\.3\.4 bank" is not a valid hostname/));
    add('RunPodSandbox', 'hostname ..', hostname('..'), invalid(/^hostname "\.\." is not a valid hostname/));
    add('RunPodSandbox', 'hostname of 64 KiB', hostname(KiB64), invalid(/^hostname "x+" is 65536 bytes; a hostname has at most 64$/));
    const logDirectory = (value: () => string) => () => podWith((c) => (c['log_directory'] = value()));
    add('RunPodSandbox', 'log_directory relative', logDirectory(() => 'logs'), invalid(/^config\.log_directory of pod .* "logs" must be an absolute path$/));
    add('RunPodSandbox', 'log_directory escaping with ..', logDirectory(() => `${logs}/../../proc/self`), invalid(/^config\.log_directory of pod .* must not contain "\.\."$/));
    add('RunPodSandbox', 'log_directory in /proc', logDirectory(() => '/proc/self/fd'), invalid(/^config\.log_directory of pod .* "\/proc\/self\/fd" is under \/proc/));
    add('RunPodSandbox', 'log_directory in the daemon\'s graph', logDirectory(() => path.join(d.root, 'lib', 'pods')), invalid(/is under .*\/lib, which a client may not point caissond at$/));
    add(
      'RunPodSandbox',
      'log_directory through a symlink out',
      logDirectory(() => {
        const link = path.join(logs, `to-sys-${Math.random()}`);
        fs.symlinkSync('/sys/kernel', link);
        return path.join(link, 'logs');
      }),
      invalid(/\(through a symlink, it is \/sys\/kernel\/logs\) is under \/sys/),
    );
    add('RunPodSandbox', 'DNS server with a newline', () => podWith((c) => (c['dns_config'] = { servers: ['1.1.1.1\nnameserver 6.6.6.6'], searches: [], options: [] })), invalid(/^config\.dns_config\.servers\[0\] .* must be one word/));
    add('RunPodSandbox', 'DNS search with a space', () => podWith((c) => (c['dns_config'] = { servers: [], searches: ['a b'], options: [] })), invalid(/^config\.dns_config\.searches\[0\] "a b" must be one word/));
    add('RunPodSandbox', 'sysctl value with a newline', () => podWith((c) => (c['linux']['sysctls'] = { 'net.ipv4.ip_forward': '1\n0' })), invalid(/^sysctl "net\.ipv4\.ip_forward" value "1\\n0" holds a control character$/));
    add('RunPodSandbox', 'sysctl name with ..', () => podWith((c) => (c['linux']['sysctls'] = { 'net/../../kernel/x': '1' })), invalid(/^sysctl "net\/\.\.\/\.\.\/kernel\/x" is not a valid sysctl name$/));
    add('RunPodSandbox', 'host_ip that is no IP', () => podWith((c) => (c['port_mappings'] = [{ protocol: 'TCP', container_port: 80, host_port: 8080, host_ip: '-j ACCEPT' }])), invalid(/^config\.port_mappings\[0\]\.host_ip "-j ACCEPT" is not an IP address$/));
    add('RunPodSandbox', 'cgroup_parent with ..', () => podWith((c) => (c['linux']['cgroup_parent'] = '/kubepods/../../x')), invalid(/^cgroup parent "\/kubepods\/\.\.\/\.\.\/x" of the sandbox is not an absolute cgroupfs path/));
    add('RunPodSandbox', 'labels with a 64 KiB key', () => podWith((c) => (c['labels'] = { [KiB64]: 'v' })), invalid(/^config\.labels key "x+"… is 65536 bytes; a key has at most 1024$/));
    add('RunPodSandbox', 'annotations over 256 KiB', () => podWith((c) => (c['annotations'] = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`a${i}`, KiB64])))), invalid(/^config\.annotations hold 327690 bytes; at most 262144 are allowed$/));
    add('RunPodSandbox', 'an unknown runtime handler', () => ({ ...podWith(() => undefined), runtime_handler: 'no-such' }), invalid(/^runtime handler "no-such" is not configured/));

    // CreateContainer: the pod, names, image, paths, env, profiles.
    add('CreateContainer', 'pod_sandbox_id empty', () => ({ ...containerWith(() => undefined), pod_sandbox_id: '' }), notFound(/^sandbox  not found$/));
    add('CreateContainer', 'pod_sandbox_id unknown', () => ({ ...containerWith(() => undefined), pod_sandbox_id: 'f00' }), notFound(/^sandbox f00 not found$/));
    add('CreateContainer', 'pod_sandbox_id an ambiguous prefix', () => ({ ...containerWith(() => undefined), pod_sandbox_id: ambiguousSandbox }), invalid(/^sandbox ID prefix "[0-9a-f]" is ambiguous: it matches \d+ sandboxes$/));
    const name = (value: string) => () => containerWith((c) => (c['metadata'].name = value));
    add('CreateContainer', 'metadata.name with NUL', name('a\0'), invalid(/field config\.metadata\.name holds a NUL byte/));
    add('CreateContainer', 'metadata.name with a newline', name('a\nb'), invalid(/^config\.metadata\.name "a\\nb" holds a control character/));
    add('CreateContainer', 'metadata.name of 64 KiB', name(KiB64), invalid(/^config\.metadata\.name is 65536 bytes/));
    add('CreateContainer', 'metadata.name with a leading -', name(`-x${Math.random()}`), 'OK');
    const imageRef = (value: string) => () => containerWith((c) => (c['image'] = { image: value }));
    add('CreateContainer', 'image empty', imageRef(''), invalid(/^container "bad" names no image$/));
    add('CreateContainer', 'image with a leading -', imageRef('-busybox'), invalid(/^image reference "-busybox" is invalid: "-busybox" is not a valid repository component/));
    add('CreateContainer', 'image with ..', imageRef('../busybox'), invalid(/^image reference "\.\.\/busybox" is invalid/));
    add('CreateContainer', 'image with a newline', imageRef('busy\nbox'), invalid(/^image reference "busy\nbox" is invalid/));
    add('CreateContainer', 'image of 64 KiB', imageRef(KiB64), invalid(/^image reference "x+" is invalid: it is 65536 characters long; a reference has at most 712$/));
    add('CreateContainer', 'image unknown', imageRef('busybox:other'), notFound(/^image "busybox:other" for container "bad" is not present; pull it first$/));
    add('CreateContainer', 'args with a newline and a leading -', () => containerWith((c) => (c['args'] = ['-c', 'echo a\necho b'])), 'OK');
    add('CreateContainer', 'working_dir relative', () => containerWith((c) => (c['working_dir'] = 'tmp')), invalid(/working directory "tmp" is not an absolute path/));
    add('CreateContainer', 'env key with =', () => containerWith((c) => (c['envs'] = [{ key: 'A=B', value: 'C' }])), invalid(/config\.envs\[0\] key "A=B" must be non-empty and hold no "="/));
    add('CreateContainer', 'log_path escaping', () => containerWith((c) => (c['log_path'] = '../../etc/x.log')), invalid(/^log path "\.\.\/\.\.\/etc\/x\.log" of container "bad" escapes the sandbox's log directory/));
    add('CreateContainer', 'log_path absolute', () => containerWith((c) => (c['log_path'] = '/etc/x.log')), invalid(/^log path "\/etc\/x\.log" of container "bad" escapes the sandbox's log directory/));
    add('CreateContainer', 'mount host_path relative', () => containerWith((c) => (c['mounts'] = [{ container_path: '/m', host_path: 'rel' }])), invalid(/mount host_path "rel" \(at \/m\) is not an absolute path/));
    add('CreateContainer', 'mount container_path relative', () => containerWith((c) => (c['mounts'] = [{ container_path: 'm', host_path: '/tmp' }])), invalid(/mount container_path "m" is not an absolute path/));
    add('CreateContainer', 'mount host_path missing', () => containerWith((c) => (c['mounts'] = [{ container_path: '/m', host_path: '/no/such/path' }])), invalid(/mount host_path "\/no\/such\/path" \(at \/m\) cannot be resolved/));
    const seccomp = (ref: () => string) => () => containerWith((c) => (c['linux'] = { security_context: { seccomp: { profile_type: 'Localhost', localhost_ref: ref() } } }));
    add('CreateContainer', 'seccomp profile relative', seccomp(() => 'profile.json'), invalid(/seccomp profile profile\.json cannot be loaded: the profile path "profile\.json" must be an absolute path/));
    add('CreateContainer', 'seccomp profile in /proc', seccomp(() => '/proc/self/environ'), invalid(/the profile path "\/proc\/self\/environ" is under \/proc/));
    add('CreateContainer', 'seccomp profile in /dev (blocks on read)', seccomp(() => '/dev/zero'), invalid(/the profile path "\/dev\/zero" is under \/dev/));
    add(
      'CreateContainer',
      'seccomp profile a FIFO',
      seccomp(() => {
        const fifo = path.join(logs, `fifo-${Math.random()}`);
        fs.writeFileSync(`${fifo}.sh`, '');
        require('node:child_process').execFileSync('mkfifo', [fifo]);
        return fifo;
      }),
      invalid(/cannot be loaded: it is not a regular file/),
    );
    add(
      'CreateContainer',
      'seccomp profile through a symlink into /proc',
      seccomp(() => {
        const link = path.join(logs, `profile-${Math.random()}.json`);
        fs.symlinkSync('/proc/self/environ', link);
        return link;
      }),
      invalid(/\(through a symlink, it is \/proc\/\d+\/environ\) is under \/proc/),
    );
    add('CreateContainer', 'labels with an empty key', () => containerWith((c) => (c['labels'] = { '': 'v' })), invalid(/^config\.labels has an empty key$/));

    // Container and pod IDs of the other mutating RPCs.
    const ids: [string, (id: string) => object, 'container' | 'sandbox', Expected | undefined][] = [
      ['StartContainer', (id) => ({ container_id: id }), 'container', undefined],
      ['StopContainer', (id) => ({ container_id: id, timeout: 0 }), 'container', undefined],
      ['RemoveContainer', (id) => ({ container_id: id }), 'container', 'OK'],
      ['UpdateContainerResources', (id) => ({ container_id: id, linux: { memory_limit_in_bytes: 64 * 1024 * 1024 } }), 'container', undefined],
      ['ReopenContainerLog', (id) => ({ container_id: id }), 'container', undefined],
      ['ExecSync', (id) => ({ container_id: id, cmd: ['true'], timeout: 0 }), 'container', undefined],
      ['StopPodSandbox', (id) => ({ pod_sandbox_id: id }), 'sandbox', undefined],
      ['RemovePodSandbox', (id) => ({ pod_sandbox_id: id }), 'sandbox', 'OK'],
    ];
    for (const [rpc, request, kind, unknownAnswer] of ids) {
      const ambiguous = () => (kind === 'container' ? ambiguousContainer : ambiguousSandbox);
      add(rpc, `${kind} ID empty`, () => request(''), unknownAnswer ?? notFound(new RegExp(`^${kind}  not found$`)));
      add(rpc, `${kind} ID unknown`, () => request('f00d'), unknownAnswer ?? notFound(new RegExp(`^${kind} f00d not found$`)));
      add(rpc, `${kind} ID an ambiguous prefix`, () => request(ambiguous()), invalid(new RegExp(`^${kind} ID prefix "[0-9a-f]" is ambiguous: it matches \\d+ ${kind === 'sandbox' ? 'sandboxes' : 'containers'}$`)));
      add(rpc, `${kind} ID with NUL`, () => request('ab\0'), invalid(/holds a NUL byte/));
    }

    // Images.
    const pull = (value: string) => () => ({ image: { image: value } });
    add('PullImage', 'image empty', pull(''), invalid(/image/));
    add('PullImage', 'image with a leading -', pull('-x'), invalid(/"-x"/));
    add('PullImage', 'image with ..', pull('../x'), invalid(/"\.\.\/x"/));
    add('PullImage', 'image with a newline', pull('busybox\n:latest'), invalid(/busybox/));
    add('PullImage', 'image of 64 KiB', pull(KiB64), invalid(/^image reference "x+" is invalid: it is 65536 characters long/));
    add('PullImage', 'image with NUL', pull('busybox\0'), invalid(/field image\.image holds a NUL byte/));
    add('RemoveImage', 'image empty', () => ({ image: { image: '' } }), invalid(/image/));
    add('RemoveImage', 'image unknown', () => ({ image: { image: 'sha256:' + 'f'.repeat(64) } }), 'OK');
    add('UpdateRuntimeConfig', 'pod CIDR that is no CIDR', () => ({ runtime_config: { network_config: { pod_cidr: '10.0.0.0/99\n' } } }), invalid(/10\.0\.0\.0\/99/));
    return list;
  };

  it('answers each case clearly, leaves nothing half-made, and keeps serving', async () => {
    const sandboxesDir = path.join(d.root, 'run', 'sandboxes');
    const snapshot = async () => ({
      pods: ((await client.call('ListPodSandbox', {})).items ?? []).map((p) => p.id).sort(),
      containers: ((await client.call('ListContainers', {})).containers ?? []).map((c) => c.id).sort(),
    });
    const failures: string[] = [];
    for (const testCase of cases()) {
      const before = await snapshot();
      let outcome: string;
      try {
        const response = (await client.call(testCase.rpc as never, testCase.request())) as Record<string, unknown>;
        outcome = 'OK';
        // A case that made something valid is undone, so the next starts from the same state.
        if (testCase.rpc === 'RunPodSandbox') await client.call('RemovePodSandbox', { pod_sandbox_id: response['pod_sandbox_id'] });
        if (testCase.rpc === 'CreateContainer') await client.call('RemoveContainer', { container_id: response['container_id'] });
      } catch (error) {
        const { code, details } = error as grpc.ServiceError;
        outcome = `${grpc.status[code]}: ${details}`;
        if (testCase.expected !== 'OK' && code === testCase.expected.code && testCase.expected.details.test(details)) outcome = 'as expected';
      }
      if (testCase.expected === 'OK' ? outcome !== 'OK' : outcome !== 'as expected') {
        failures.push(`${testCase.rpc}, ${testCase.what}: got ${outcome.slice(0, 300)}; wanted ${testCase.expected === 'OK' ? 'OK' : `${grpc.status[testCase.expected.code]} ${testCase.expected.details}`}`);
      }
      await client.call('Version', {});
      if (testCase.rpc !== 'RemoveContainer' && testCase.rpc !== 'RemovePodSandbox' && testCase.rpc !== 'StopPodSandbox') {
        const after = await snapshot();
        if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`${testCase.rpc}, ${testCase.what}: the pods or containers changed`);
        const dirs = fs.readdirSync(sandboxesDir).sort();
        if (JSON.stringify(dirs) !== JSON.stringify(after.pods)) failures.push(`${testCase.rpc}, ${testCase.what}: sandbox folders ${dirs.length} for ${after.pods.length} pods`);
      }
    }
    assert.deepEqual(failures, []);
    assert.equal((await client.call('ContainerStatus', { container_id: containerId })).status?.state, 'CONTAINER_RUNNING');
  });
});
