import { Command, Option } from 'commander';
import { DEFAULT_SOCKET } from '../config/defaults';
import { packageInfo } from '../core/package-info';
import { imagefsinfoCommand } from './commands/imagefsinfo';
import { imagesCommand } from './commands/images';
import { infoCommand } from './commands/info';
import { inspectiCommand } from './commands/inspecti';
import { pullCommand } from './commands/pull';
import { rmiCommand } from './commands/rmi';
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
  program
    .command('pull <image>')
    .description('pull an image (a progress bar on a terminal, plain lines otherwise)')
    .option('--creds <user:password>', 'registry credentials')
    .action((image: string, options: { creds?: string }) => {
      const colon = options.creds?.indexOf(':') ?? -1;
      const creds = options.creds === undefined ? {} : { username: options.creds.slice(0, colon < 0 ? undefined : colon), password: colon < 0 ? '' : options.creds.slice(colon + 1) };
      return run((client) => pullCommand(client, image, creds))();
    });
  program
    .command('images [image]')
    .description('list images (or the one named)')
    .action((image: string | undefined) => run((client, output) => imagesCommand(client, output, image))());
  program.command('inspecti <image>').description('image status and config, as JSON').action((image: string) => run((client) => inspectiCommand(client, image))());
  program.command('rmi <images...>').description('remove images by ID, tag or digest').action((images: string[]) => run((client) => rmiCommand(client, images))());
  program.command('imagefsinfo').description('bytes and inodes used by the image store').action(run(imagefsinfoCommand));

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    const details = (error as { details?: string }).details;
    process.stderr.write(`caisson: ${details ?? (error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = 1;
  }
}
