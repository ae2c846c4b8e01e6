import * as path from 'node:path';
import { z } from 'zod';
import { definePlugin, NetworkPlugin, PluginType } from '../../core/plugin-api';
import { CniNetwork } from './cni-network';
import { writeDefaultNetwork } from './default-network';

const configSchema = z
  .object({
    /** A CNI plugin still running after this many milliseconds is killed (default 60 s). */
    timeoutMs: z.number().int().positive().optional(),
    /** Write the default bridge network into the conf dir at start when it holds none. */
    writeDefaultNetwork: z.boolean().optional(),
  })
  .strict();

/** network.cni: pod networking with CNI plugins, selected by daemon.json `network-plugin: "cni"`. */
export const cniPlugin = definePlugin<z.infer<typeof configSchema>>({
  id: 'cni',
  type: PluginType.Network,
  selectedBy: { key: 'network-plugin', when: (config) => config.networkPlugin === 'cni' },
  configSchema,
  provides: [NetworkPlugin],
  init(ctx) {
    const { cniConfDir, cniBinDirs, state } = ctx.daemonConfig;
    if (ctx.config.writeDefaultNetwork === true) {
      const written = writeDefaultNetwork(cniConfDir);
      if (written) ctx.logger.info(`wrote the default pod network ${written}`);
    }
    const network = new CniNetwork({
      confDir: cniConfDir,
      binDirs: cniBinDirs,
      stateDir: path.join(state, 'cni'),
      timeoutMs: ctx.config.timeoutMs ?? 60_000,
      logger: ctx.logger,
    });
    ctx.provide(NetworkPlugin, network);
    ctx.logger.info('network plugin cni', { confDir: cniConfDir, binDirs: cniBinDirs.join(':') });
  },
});
