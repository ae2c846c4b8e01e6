import * as fs from 'node:fs';
import * as path from 'node:path';
import { pickConfigFile } from './cni-config';

// The network an embedded Caisson uses when the node has none: a Linux bridge with host-local
// addresses from a private subnet and hostPort support (portmap). The pod's loopback is brought up
// by the sandbox itself, so no loopback plugin is listed.

export const DEFAULT_NETWORK_FILE = '10-caisson.conflist';

export interface DefaultNetworkOptions {
  readonly bridge?: string;
  readonly subnet?: string;
}

/** The default conflist (documented verbatim in docs/pod-networking.md). */
export function defaultNetworkConflist(options: DefaultNetworkOptions = {}): Record<string, unknown> {
  return {
    cniVersion: '1.0.0',
    name: 'caisson',
    plugins: [
      {
        type: 'bridge',
        bridge: options.bridge ?? 'caisson0',
        isGateway: true,
        ipMasq: true,
        hairpinMode: true,
        ipam: {
          type: 'host-local',
          ranges: [[{ subnet: options.subnet ?? '10.89.0.0/16' }]],
          routes: [{ dst: '0.0.0.0/0' }],
        },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  };
}

/**
 * Writes the default conflist into `confDir` when it holds no network config yet (making the
 * directory if needed). Answers the file written, or undefined when a config was already there.
 */
export function writeDefaultNetwork(confDir: string, options: DefaultNetworkOptions = {}): string | undefined {
  fs.mkdirSync(confDir, { recursive: true, mode: 0o755 });
  if (pickConfigFile(fs.readdirSync(confDir)) !== undefined) return undefined;
  const file = path.join(confDir, DEFAULT_NETWORK_FILE);
  const temp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(temp, `${JSON.stringify(defaultNetworkConflist(options), null, 2)}\n`, { mode: 0o644 });
  fs.renameSync(temp, file);
  return file;
}

/**
 * A command-line entry the CLI or README start command can wire: `<confDir>` defaults to
 * /etc/cni/net.d. Answers the exit status and prints what it did.
 */
export function writeDefaultNetworkMain(argv: readonly string[], print: (line: string) => void = (line) => process.stdout.write(`${line}\n`)): number {
  const confDir = argv[0] ?? '/etc/cni/net.d';
  try {
    const written = writeDefaultNetwork(confDir);
    print(written ? `wrote ${written}` : `${confDir} already holds a network config; nothing written`);
    return 0;
  } catch (error) {
    print(`cannot write the default network into ${confDir}: ${(error as Error).message}`);
    return 1;
  }
}
