import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { RuncRuntime } from '../plugins/runc/runc-runtime';
import { processesMarkedBy, rssOf } from './bench-engines';
import type { ContainerSteps, FloorPod } from './floor-steps';

// The floors' container made as Caisson's runc plugin makes it, with no daemon around it: conmon
// (launched as the plugin launches it) runs `runc create` and reports the container's pid, the
// exec FIFO starts it; SIGKILL, the exit file conmon writes, and the removal of runc's state end
// it. Beside the plain `runc run -d` floor, this is what conmon costs. conmon stays in the
// benchmark's cgroup (no cgroup driver here), its files under `work`.

const EXIT_POLL_MS = 5;
const EXIT_TIMEOUT_MS = 30_000;

export function conmonSteps(root: string, work: string): ContainerSteps {
  const runtime = new RuncRuntime('runc', 'runc', [], root, false);
  const dirs = (id: string): { base: string; bundle: string; exitDir: string } => {
    const base = path.join(work, id);
    return { base, bundle: path.join(base, 'bundle'), exitDir: path.join(base, 'exits') };
  };
  return {
    // conmon keeps its control FIFOs in the bundle: each container gets a bundle of its own.
    prepare(pod: Pick<FloorPod, 'id' | 'podBundle'>): void {
      const { bundle } = dirs(pod.id);
      fs.mkdirSync(bundle, { recursive: true });
      const spec = JSON.parse(fs.readFileSync(path.join(pod.podBundle, 'config.json'), 'utf8')) as { root: { path: string } };
      spec.root.path = path.resolve(pod.podBundle, spec.root.path);
      fs.writeFileSync(path.join(bundle, 'config.json'), JSON.stringify(spec));
    },
    async start(pod: Pick<FloorPod, 'id'>): Promise<void> {
      const { base, bundle, exitDir } = dirs(pod.id);
      const paths = { bundle, persistDir: path.join(base, 'persist'), exitDir, socketDir: path.join(base, 'sockets'), logPath: path.join(base, 'container.log') };
      await runtime.create({ id: pod.id, paths, terminal: false, stdin: false, stdinOnce: false, logSizeMax: -1 });
      await runtime.start(pod.id);
    },
    // conmon's command line names its bundle, under `work`; the container's `sleep` is not counted.
    helperRss: () => rssOf(processesMarkedBy(work)),
    async remove(pod: Pick<FloorPod, 'id'>): Promise<void> {
      const exitFile = path.join(dirs(pod.id).exitDir, pod.id);
      await runtime.kill(pod.id, 'SIGKILL');
      for (const deadline = Date.now() + EXIT_TIMEOUT_MS; !fs.existsSync(exitFile); await delay(EXIT_POLL_MS)) {
        if (Date.now() > deadline) throw new Error(`conmon wrote no exit file for ${pod.id} within ${EXIT_TIMEOUT_MS} ms`);
      }
      await runtime.delete(pod.id);
    },
  };
}
