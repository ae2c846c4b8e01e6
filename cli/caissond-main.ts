import 'reflect-metadata';
import { Command } from 'commander';
import { loadDaemonConfig, DEFAULT_CONFIG_FILE } from '../config/load-config';
import { createDaemon, type Daemon } from '../core/daemon/create-daemon';
import { describeError } from '../core/errors';
import { packageInfo } from '../core/package-info';
import { builtinPlugins } from '../plugins/builtins';

// caissond: load daemon.json, run the daemon with the built-in plugins, stop cleanly on
// SIGTERM/SIGINT. Exit status 1 with one clear line when start-up fails.

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('caissond')
    .description('Caisson CRI container engine daemon')
    .version(packageInfo().version)
    .option('--config <file>', `daemon.json to use (default: ${DEFAULT_CONFIG_FILE} if it exists, else built-in defaults)`)
    .parse(argv, { from: 'user' });
  const options = program.opts<{ config?: string }>();

  let daemon: Daemon | undefined;
  try {
    const config = await loadDaemonConfig(options.config === undefined ? {} : { configFile: options.config });
    daemon = createDaemon({ config, plugins: builtinPlugins });
    stopOnSignals(daemon);
    await daemon.start();
  } catch (error) {
    process.stderr.write(`caissond: ${describeError(error)}\n`);
    process.exitCode = 1;
  }
}

function stopOnSignals(daemon: Daemon): void {
  let stopping = false;
  const stop = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    process.stderr.write(`caissond: ${signal} received, shutting down\n`);
    daemon.stop().then(
      () => process.exit(0),
      (error: unknown) => {
        process.stderr.write(`caissond: shutdown failed: ${describeError(error)}\n`);
        process.exit(1);
      },
    );
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}
