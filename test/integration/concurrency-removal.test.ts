import * as path from 'node:path';
import type { CriClient } from '../../cli/cri-client';
import { runProgram } from '../../core/host-programs/run-program';
import { startBusyboxRegistry } from '../support/busybox-registry';
import { ROUNDS, Rounds, daemonWithBusybox, mountsUnder, raceBothOrders, show } from '../support/concurrent-rounds';
import { containerConfig, podConfig, runPod } from '../support/pod-fixtures';
import type { TestRegistry } from '../support/registry/test-registry';
import { makeTempRoot, removeTempRoot } from '../support/temp-root';
import { useTestDaemons, type TestDaemon } from '../support/test-daemon';

// CreateContainer racing the removal of its parent: the pod (RemovePodSandbox) or the image
// (RemoveImage). Either order is fine; what must never be left is a container whose pod or image
// is gone, or a mount or runc container no listed object owns. See concurrency.test.ts.

describe('CreateContainer racing the removal of its pod or image ends as some serial order would', function () {
  this.timeout(120_000);
  const daemons = useTestDaemons();
  let registry: TestRegistry;
  let image: string;
  let logs: string;

  before(async () => ({ registry, image } = await startBusyboxRegistry()));
  after(async () => registry?.stop());
  beforeEach(() => (logs = makeTempRoot('concurrency')));
  afterEach(() => removeTempRoot(logs));

  it('CreateContainer and RemovePodSandbox: the pod is gone and so is any container created in it', async () => {
    const { d, client } = await daemonWithBusybox(daemons, registry, image);
    const baseline = mountsUnder(d.root);
    const rounds = new Rounds('CreateContainer racing RemovePodSandbox');
    for (let round = 0; round < ROUNDS; round++) {
      const pod = podConfig(logs);
      const podId = await runPod(client, pod);
      const config = containerConfig(`doomed-${round}`, image, ['sleep', '300']);
      const create = () => client.call('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: pod });
      const remove = () => client.call('RemovePodSandbox', { pod_sandbox_id: podId });
      const [c, r] = await raceBothOrders(create, remove, round);
      const pods = ((await client.call('ListPodSandbox', {})).items ?? []).map((s) => String(s.id));
      const containers = ((await client.call('ListContainers', {})).containers ?? []).map((x) => ({ id: String(x.id), pod: String(x.pod_sandbox_id), state: x.state }));
      const orphans = containers.filter((container) => !pods.includes(container.pod));
      const mounts = mountsUnder(d.root).filter((m) => !baseline.includes(m));
      const strays = await runcContainers(d, containers.map((container) => container.id));
      const problems: string[] = [];
      if (r.code !== 'OK') problems.push(`RemovePodSandbox answered ${show(r)}`);
      if (pods.includes(podId)) problems.push('the pod is still listed');
      if (c.code !== 'OK' && c.code !== 'NOT_FOUND' && c.code !== 'FAILED_PRECONDITION') problems.push(`CreateContainer failed with ${show(c)}, not NOT_FOUND or FAILED_PRECONDITION`);
      if (orphans.length > 0) problems.push(`container(s) listed whose pod is gone: ${orphans.map((o) => `${o.id.slice(0, 12)} (${o.state})`).join(', ')}`);
      if (mounts.length > 0) problems.push(`mounts left under the daemon's roots: ${mounts.join(', ')}`);
      if (strays.length > 0) problems.push(`runc still has container(s) nothing lists: ${strays.map((s) => s.slice(0, 12)).join(', ')}`);
      const summary = `create ${c.code}, remove ${r.code}${orphans.length ? ', orphan container' : ''}${mounts.length ? ', mounts left' : ''}${strays.length ? ', runc strays' : ''}`;
      rounds.record(round, summary, problems, `CreateContainer ${show(c)} | RemovePodSandbox ${show(r)}`);
      await cleanUp(client, d, podId, orphans.map((o) => o.id));
    }
    rounds.check();
  });

  it('CreateContainer and RemoveImage: the image stays while a container uses it', async () => {
    const { client } = await daemonWithBusybox(daemons, registry, image);
    const pod = podConfig(logs);
    const podId = await runPod(client, pod);
    const rounds = new Rounds('CreateContainer racing RemoveImage');
    for (let round = 0; round < ROUNDS; round++) {
      if (round > 0) await client.call('PullImage', { image: { image } });
      const config = containerConfig(`user-${round}`, image, ['sleep', '300']);
      const create = () => client.call('CreateContainer', { pod_sandbox_id: podId, config, sandbox_config: pod });
      const removeImage = () => client.call('RemoveImage', { image: { image } });
      const [c, r] = await raceBothOrders(create, removeImage, round);
      const present = (await client.call('ImageStatus', { image: { image } })).image != null;
      const mine = ((await client.call('ListContainers', { filter: { pod_sandbox_id: podId } })).containers ?? []).filter((x) => x.metadata?.name === `user-${round}`);
      const problems: string[] = [];
      const codes = `${c.code},${r.code}`;
      if (codes !== 'OK,FAILED_PRECONDITION' && codes !== 'NOT_FOUND,OK') {
        problems.push(`CreateContainer ${c.code} and RemoveImage ${r.code}: not (OK, FAILED_PRECONDITION) nor (NOT_FOUND, OK)`);
      }
      if (mine.length > 0 && !present) problems.push(`container ${String(mine[0]?.id).slice(0, 12)} exists but its image is gone`);
      if (c.code === 'OK' && mine.length === 0) problems.push('CreateContainer answered OK but no container is listed');
      if (r.code === 'OK' && present) problems.push('RemoveImage answered OK but the image is still there');
      const summary = `create ${c.code}, remove ${r.code}, image ${present ? 'present' : 'gone'}, ${mine.length} container(s)`;
      rounds.record(round, summary, problems, `CreateContainer ${show(c)} | RemoveImage ${show(r)}`);
      for (const container of mine) await client.call('RemoveContainer', { container_id: String(container.id) });
    }
    rounds.check();
  });
});

/** IDs runc knows under the daemon's runc root that are not in `known` (the listed containers). */
async function runcContainers(d: TestDaemon, known: string[]): Promise<string[]> {
  const root = path.join(d.root, 'run', 'runtimes', 'runc');
  const { stdout } = await runProgram('runc', ['--root', root, 'list', '-q']);
  return stdout
    .split('\n')
    .filter(Boolean)
    .filter((id) => !known.includes(id));
}

/** After a round: removes what a bad round left (orphans first, so nothing outlives the test). */
async function cleanUp(client: CriClient, d: TestDaemon, podId: string, orphans: string[]): Promise<void> {
  for (const id of orphans) await client.call('RemoveContainer', { container_id: id }).catch((error: unknown) => d.logs.push(`cleanup: RemoveContainer ${id}: ${String(error)}\n`));
  await client.call('RemovePodSandbox', { pod_sandbox_id: podId }).catch((error: unknown) => d.logs.push(`cleanup: RemovePodSandbox ${podId}: ${String(error)}\n`));
}
