import type { CriClient } from '../cri-client';
import { exitWith, runOnThisTerminal } from '../streaming/terminal-session';

export interface AttachOptions {
  /** -i: pass this process's stdin to the container's stdin (the container must keep stdin open). */
  readonly interactive?: boolean;
  /** -t: the container runs on a terminal; this one goes raw and sends its size. */
  readonly tty?: boolean;
}

/**
 * `caisson attach [-i] [-t] CONTAINER`, as crictl: Attach, then the streaming session on its URL,
 * which carries the container's output from now on until it exits or this client goes away
 * (which detaches, leaving the container running). Exits with what the server reports.
 */
export async function attachCommand(client: CriClient, containerId: string, options: AttachOptions): Promise<void> {
  const stdin = options.interactive === true;
  const tty = options.tty === true;
  const { url } = await client.call('Attach', { container_id: containerId, stdin, stdout: true, stderr: !tty, tty });
  exitWith(await runOnThisTerminal(String(url), `attach session to container ${containerId}`, { stdin, tty }));
}
