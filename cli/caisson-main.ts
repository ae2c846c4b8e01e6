import { Command, Option } from 'commander';
import { DEFAULT_SOCKET } from '../config/defaults';
import { packageInfo } from '../core/package-info';
import { infoCommand } from './commands/info';
import { runtimeConfigCommand } from './commands/runtime-config';
import { versionCommand } from './commands/version';
import { CriClient } from './cri-client';
import { parseOutputFormat, type OutputFormat } from './output';

// caisson: the command-line client. It speaks CRI v1 to caissond over the daemon socket.

interface GlobalOptions {
  host: string;
  output: OutputFormat;
  timeout: number;
}

type Action = (client: CriClient, output: OutputFormat) => Promise<void>;

export async function main(argv: readonly string[]): Promise<void> {
  const program = new Command('caisson')
    .description('Command-line client of the Caisson container engine')
    .version(packageInfo().version, '--client-version', 'print the client version')
    .addOption(new Option('-H, --host <address>', 'daemon socket').env('CAISSON_HOST').default(DEFAULT_SOCKET))
    .addOption(new Option('-o, --output <format>', 'json or table').argParser(parseOutputFormat).default('table'))
    .showHelpAfterError();

  const run = (action: Action) => async () => {
    const options = program.opts<GlobalOptions>();
    const client = new CriClient(options.host);
    try {
      await action(client, options.output);
    } finally {
      client.close();
    }
  };
  program.command('version').description('runtime name and versions').action(run(versionCommand));
  program.command('info').description('runtime and network readiness, plugins, driver and configuration').action(run(infoCommand));
  program.command('runtime-config').description('the cgroup driver the daemon uses').action(run(runtimeConfigCommand));

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    const details = (error as { details?: string }).details;
    process.stderr.write(`caisson: ${details ?? (error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = 1;
  }
}
