import { Command, Option } from 'commander';
import { DEFAULT_SOCKET } from '../config/defaults';
import { packageInfo } from '../core/package-info';
import { collectLabel } from './command-helpers';
import { attachCommand, type AttachOptions } from './commands/attach';
import { createCommand } from './commands/create';
import { eventsCommand } from './commands/events';
import { execCommand, parseExecTimeout, type ExecOptions } from './commands/exec';
import { imagefsinfoCommand } from './commands/imagefsinfo';
import { imagesCommand } from './commands/images';
import { infoCommand } from './commands/info';
import { inspectCommand } from './commands/inspect';
import { inspectiCommand } from './commands/inspecti';
import { inspectpCommand } from './commands/inspectp';
import { logsCommand, parseTail } from './commands/logs';
import { podsCommand, type PodsOptions } from './commands/pods';
import { portForwardCommand } from './commands/port-forward';
import { psCommand, type PsOptions } from './commands/ps';
import { pullCommand } from './commands/pull';
import { rmCommand, type RmOptions } from './commands/rm';
import { rmiCommand } from './commands/rmi';
import { rmpCommand, type RmpOptions } from './commands/rmp';
import { runCommand } from './commands/run';
import { runpCommand } from './commands/runp';
import { runtimeConfigCommand } from './commands/runtime-config';
import { startCommand } from './commands/start';
import { statsCommand, type StatsOptions } from './commands/stats';
import { DEFAULT_STOP_TIMEOUT_SECONDS, parseStopTimeout, stopCommand } from './commands/stop';
import { stoppCommand } from './commands/stopp';
import { versionCommand } from './commands/version';
import { CriClient } from './cri-client';
import { parseOutputFormat, type OutputFormat } from './output';
import { updateCommand, type UpdateOptions } from './commands/update';

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
    .showHelpAfterError()
    // Global options go before the command, so `exec` can pass every later argument to its command.
    .enablePositionalOptions();

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

  // Pods and containers, as crictl spells them.
  program
    .command('runp <pod-config>')
    .description('run a pod sandbox from a PodSandboxConfig JSON file; prints its ID')
    .option('-r, --runtime <handler>', 'runtime handler', '')
    .action((file: string, options: { runtime: string }) => run((client) => runpCommand(client, file, options.runtime))());
  program
    .command('pods')
    .description('list pod sandboxes')
    .option('--id <id>', 'pods whose ID starts with this')
    .option('--name <regexp>', 'pods whose name matches')
    .option('--namespace <regexp>', 'pods whose namespace matches')
    .option('-s, --state <state>', 'ready or notready')
    .option('--label <key=value>', 'pods with this label (repeatable)', collectLabel)
    .option('-q, --quiet', 'print full pod IDs only')
    .action((options: PodsOptions) => run((client, output) => podsCommand(client, output, options))());
  program.command('inspectp <pod>').description('pod sandbox status and info, as JSON').action((pod: string) => run((client) => inspectpCommand(client, pod))());
  program.command('stopp <pods...>').description('stop pod sandboxes and their containers').action((pods: string[]) => run((client) => stoppCommand(client, pods))());
  program
    .command('rmp [pods...]')
    .description('remove pod sandboxes and their containers')
    .option('-f, --force', 'stop a ready pod first')
    .option('-a, --all', 'every pod sandbox')
    .action((pods: string[], options: RmpOptions) => run((client) => rmpCommand(client, pods, options))());
  program
    .command('create <pod> <container-config> <pod-config>')
    .description('create a container in a pod from ContainerConfig and PodSandboxConfig JSON files; prints its ID')
    .option('--with-pull', 'pull the image first if it is not present')
    .action((pod: string, containerFile: string, podFile: string, options: { withPull?: boolean }) =>
      run((client) => createCommand(client, pod, containerFile, podFile, options))(),
    );
  program.command('start <containers...>').description('start created containers').action((ids: string[]) => run((client) => startCommand(client, ids))());
  program
    .command('stop <containers...>')
    .description('stop running containers (the stop signal, then SIGKILL after the timeout)')
    .option('-t, --timeout <seconds>', 'seconds to wait before SIGKILL', parseStopTimeout, DEFAULT_STOP_TIMEOUT_SECONDS)
    .action((ids: string[], options: { timeout: number }) => run((client) => stopCommand(client, ids, options.timeout))());
  program
    .command('rm [containers...]')
    .description('remove containers')
    .option('-f, --force', 'stop a running container first')
    .option('-a, --all', 'every container')
    .action((ids: string[], options: RmOptions) => run((client) => rmCommand(client, ids, options))());
  program
    .command('ps')
    .description('list containers (running ones unless -a or --state)')
    .option('-a, --all', 'containers in every state')
    .option('--id <id>', 'containers whose ID starts with this')
    .option('-p, --pod <pod>', 'containers of this pod (ID or unique prefix)')
    .option('--name <regexp>', 'containers whose name matches')
    .option('-s, --state <state>', 'created, running, exited or unknown')
    .option('--label <key=value>', 'containers with this label (repeatable)', collectLabel)
    .option('-q, --quiet', 'print full container IDs only')
    .action((options: PsOptions) => run((client, output) => psCommand(client, output, options))());
  program
    .command('stats [containers...]')
    .description('CPU, memory and writable layer use of containers (running ones unless -a)')
    .option('-a, --all', 'containers in every state')
    .option('-p, --pod <pod>', 'containers of this pod (ID or unique prefix)')
    .option('-w, --watch', 'redraw every 2 seconds until Ctrl-C')
    .action((ids: string[], options: StatsOptions) => run((client, output) => statsCommand(client, output, ids, options))());
  program.command('inspect <container>').description('container status and info, as JSON').action((id: string) => run((client) => inspectCommand(client, id))());
  program
    .command('logs <container>')
    .description("print a container's log (stdout to stdout, stderr to stderr)")
    .option('-f, --follow', 'keep printing until the container exits (or Ctrl-C)')
    .option('--tail <lines>', 'only the last lines (-1: all)', parseTail, -1)
    .option('-t, --timestamps', 'prefix each line with its timestamp')
    .action((id: string, options: { follow?: boolean; tail: number; timestamps?: boolean }) => run((client) => logsCommand(client, id, options))());
  program
    .command('exec <container> [cmd...]')
    .description('run a command in a running container and exit with its exit code: ExecSync (output once it ends), or with -i/-t the streaming Exec (connected as it runs)')
    .option('-i, --interactive', "pass stdin to the command (streaming; stdin's end closes the command's stdin)")
    .option('-t, --tty', 'run the command on a terminal (streaming; raw mode and window size on a local terminal)')
    .option('-s, --sync', 'ExecSync even with -i or -t')
    .option('--timeout <seconds>', 'end the command after this many seconds (0: none)', parseExecTimeout, 0)
    .passThroughOptions()
    .action((id: string, cmd: string[], options: ExecOptions) => run((client) => execCommand(client, id, cmd, options))());
  program
    .command('attach <container>')
    .description("attach to a running container's output (and stdin with -i) until it exits; leaving detaches")
    .option('-i, --interactive', "pass stdin to the container's stdin")
    .option('-t, --tty', 'the container runs on a terminal: raw mode and window size on a local terminal')
    .action((id: string, options: AttachOptions) => run((client) => attachCommand(client, id, options))());
  program
    .command('port-forward <pod> <ports...>')
    .description('forward 127.0.0.1:LOCAL_PORT to REMOTE_PORT in a pod, one session per connection, until Ctrl-C; ports as [LOCAL_PORT:]REMOTE_PORT (no LOCAL_PORT or 0: a free port, printed)')
    .action((pod: string, ports: string[]) => run((client) => portForwardCommand(client, pod, ports))());
  program
    .command('update <containers...>')
    .description('change the resource limits of running containers')
    .option('--memory <size>', 'memory limit, e.g. 64m or 1g')
    .option('--cpu-shares <shares>', 'relative CPU weight')
    .option('--cpu-quota <microseconds>', 'CPU time per period')
    .option('--cpu-period <microseconds>', 'CFS period')
    .option('--cpuset-cpus <cpus>', 'CPUs allowed, e.g. 0-1')
    .option('--cpuset-mems <nodes>', 'memory nodes allowed')
    .action((ids: string[], options: UpdateOptions) => run((client) => updateCommand(client, ids, options))());
  program
    .command('events')
    .description('print pod and container lifecycle events as they happen, until Ctrl-C')
    .option('--json', 'one JSON object (ContainerEventResponse) per line')
    .action((options: { json?: boolean }) => run((client, output) => eventsCommand(client.address, { json: options.json === true || output === 'json' }))());
  program
    .command('run <container-config> <pod-config>')
    .description('run a pod, pull the image if needed, create and start the container; prints its ID')
    .option('-r, --runtime <handler>', 'runtime handler', '')
    .action((containerFile: string, podFile: string, options: { runtime: string }) => run((client) => runCommand(client, containerFile, podFile, options.runtime))());

  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (error) {
    const details = (error as { details?: string }).details;
    process.stderr.write(`caisson: ${details ?? (error instanceof Error ? error.message : String(error))}\n`);
    process.exitCode = 1;
  }
}
