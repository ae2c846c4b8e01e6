import * as path from 'node:path';
import { z } from 'zod';
// Named imports from a CommonJS package: Node reads the names `caisson/plugin` exports from its
// compiled `exports.x = …` / `__exportStar(…)` lines (cjs-module-lexer), so they work from ESM.
import { CgroupDriver, definePlugin, PluginType, RuntimeRegistry } from 'caisson/plugin';
import { createRuncRuntime } from 'caisson/builtins';
import { RecordingRuntime } from './recording-runtime.js';

// runtime.recording-runc: serves the runtime "recording-runc", a runc started with extra global
// arguments from plugin-config, each call on a container journaled as one JSON line. Map a CRI
// runtime handler to it in daemon.json ("cri-runtimes": { "recorded": "recording-runc" }) or make
// it the "default-runtime".

/** The runtime name this plugin serves (in "default-runtime" and "cri-runtimes" targets). */
export const RUNTIME_NAME = 'recording-runc';

// Optional keys whose defaults init applies: the journal's default lies under the daemon's state
// root, which only init knows. (A fixed default could be zod's `.default()`: ctx.config is the
// schema's output.)
const configSchema = z
  .object({
    /** The runc-compatible binary (a name on PATH or an absolute path); default "runc". */
    path: z.string().min(1).optional(),
    /** Global arguments put before every runc command, e.g. ["--debug", "--log", "/var/log/runc.json", "--log-format", "json"]. */
    runtimeArgs: z.array(z.string()).optional(),
    /** The journal file (absolute); default <daemon state>/recording-runc/journal.jsonl. */
    journal: z.string().refine((file) => path.isAbsolute(file), 'must be an absolute path').optional(),
  })
  .strict();

export const caissonPlugin = definePlugin({
  id: 'recording-runc',
  type: PluginType.Runtime,
  configSchema,
  // What init receives: the registry it registers into, and the cgroup driver runc's supervisor
  // (conmon) is placed with. Both are bound before this plugin starts.
  requires: { registry: RuntimeRegistry, driver: CgroupDriver },
  // Declared, not discovered: validation checks every runtime named in daemon.json has exactly
  // one provider before any plugin starts.
  runtimes: () => [RUNTIME_NAME],
  async init(ctx, { registry, driver }) {
    const binary = ctx.config.path ?? 'runc';
    const runtimeArgs = ctx.config.runtimeArgs ?? [];
    const journal = ctx.config.journal ?? path.join(ctx.daemonConfig.state, RUNTIME_NAME, 'journal.jsonl');
    const runc = createRuncRuntime({ name: RUNTIME_NAME, path: binary, runtimeArgs, daemonConfig: ctx.daemonConfig, driver });
    const runtime = new RecordingRuntime(runc, journal, ctx.logger);
    registry.register(ctx.identity, runtime);
    // A missing binary is not fatal at start (as for runc itself): Status then says why.
    const readiness = await runtime.checkReady();
    if (readiness.ready) ctx.logger.info(`runtime "${RUNTIME_NAME}" ready`, runtime.describe());
    else ctx.logger.warn(readiness.message);
  },
});
