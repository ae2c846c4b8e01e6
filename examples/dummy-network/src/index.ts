import * as path from 'node:path';
import { z } from 'zod';
import { definePlugin, NetworkPlugin, PluginType } from 'caisson/plugin';
import { AddressBook } from './address-book';
import { DummyNetwork, LINK_TYPES } from './dummy-network';
import { parseSubnet } from './subnet';

// network.dummy: pod networking without a bridge, CNI or any traffic off the node. Each pod gets
// a dummy eth0 with the lowest free address of a subnet. Runs when daemon.json says
// "network-plugin": "dummy"; the built-in network.cni runs only for "cni", so at most one of them
// provides NetworkPlugin.

const DEFAULT_SUBNET = '10.213.0.0/24';

const configSchema = z
  .object({
    /**
     * The kind of link: "dummy" (default), or "ifb" for kernels built without dummy links (some VM
     * kernels). Both have no peer and drop what is sent through them.
     */
    linkType: z.enum(LINK_TYPES).default('dummy'),
    /** Pods' addresses come from here (never the network address, .1 or the broadcast address). */
    subnet: z
      .string()
      .superRefine((text, check) => {
        const parsed = parseSubnet(text);
        if (typeof parsed === 'string') check.addIssue({ code: z.ZodIssueCode.custom, message: parsed });
      })
      .default(DEFAULT_SUBNET),
  })
  .strict();

export const caissonPlugin = definePlugin({
  id: 'dummy',
  type: PluginType.Network,
  configSchema,
  selectedBy: { key: 'network-plugin', when: (config) => config.networkPlugin === 'dummy' },
  // The sandbox service asks for NetworkPlugin (optionally); listing it here makes this plugin
  // start before it, and lets ctx.provide bind it.
  provides: [NetworkPlugin],
  init(ctx) {
    const subnet = parseSubnet(ctx.config.subnet);
    // The schema already refused a bad subnet; this narrows the type.
    if (typeof subnet === 'string') throw new Error(subnet);
    const book = new AddressBook(path.join(ctx.daemonConfig.state, 'dummy-network', 'addresses.json'));
    const { linkType } = ctx.config;
    ctx.provide(NetworkPlugin, new DummyNetwork({ subnet, linkType, book, logger: ctx.logger }));
    ctx.logger.info(`network plugin dummy: each pod gets eth0 (${linkType}) with an address of ${subnet.text}`);
  },
});
