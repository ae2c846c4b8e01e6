import * as fs from 'node:fs';
import type { Logger } from '../log/logger';

// Container exits, as conmon reports them: a file named after the container appears in the exit
// directory. fs.watch is inotify here, so an exit is seen at once rather than at the next poll;
// callers also check the file directly whenever they read a container's state, so a missed
// event never leaves a wrong answer.

export class ExitWatcher {
  private watcher: fs.FSWatcher | undefined;

  constructor(
    private readonly exitDir: string,
    private readonly onExit: (containerId: string) => void,
    private readonly logger: Logger,
  ) {}

  start(): void {
    fs.mkdirSync(this.exitDir, { recursive: true, mode: 0o700 });
    this.watcher = fs.watch(this.exitDir, (event, name) => {
      if (name && event === 'rename' && fs.existsSync(`${this.exitDir}/${name}`)) this.onExit(name.toString());
    });
    this.watcher.on('error', (error) => this.logger.error(`exit watcher failed: ${error.message}`));
  }

  stop(): void {
    this.watcher?.close();
    this.watcher = undefined;
  }
}

/** The exit code conmon wrote for a container, or undefined while it runs. */
export function readExitCode(exitDir: string, containerId: string): { code: number; atNanos: bigint } | undefined {
  const file = `${exitDir}/${containerId}`;
  let text: string;
  let stat: fs.BigIntStats;
  try {
    text = fs.readFileSync(file, 'utf8').trim();
    stat = fs.statSync(file, { bigint: true });
  } catch {
    return undefined;
  }
  const code = Number(text);
  return { code: Number.isInteger(code) ? code : 255, atNanos: stat.mtimeNs };
}
