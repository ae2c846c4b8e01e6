// The client's side of the Kubernetes WebSocket channel protocols (what kubectl and crictl
// speak to a kubelet's streaming server): every binary message starts with a channel byte.
// Written from the protocol's description, not from the daemon's server code, so the CLI tests
// check one against the other. Pure functions, unit-tested without a server.

/** Exec and attach: v5 (stdin half-close) first, v4 (Status JSON on channel 3) as the fallback. */
export const REMOTE_COMMAND_SUBPROTOCOLS = ['v5.channel.k8s.io', 'v4.channel.k8s.io'];
/** Port-forward: the kubelet's v4 binary protocol, and portforward.k8s.io for older Caisson daemons. */
export const PORT_FORWARD_SUBPROTOCOLS = ['v4.channel.k8s.io', 'portforward.k8s.io'];

export const STDIN = 0;
export const STDOUT = 1;
export const STDERR = 2;
export const ERROR = 3;
export const RESIZE = 4;
/** v5: [255, n] tells the server that the client will send nothing more on channel n. */
const CLOSE_CHANNEL = 255;

export function channelFrame(channel: number, data: Buffer | string = Buffer.alloc(0)): Buffer {
  return Buffer.concat([Buffer.from([channel]), typeof data === 'string' ? Buffer.from(data) : data]);
}

/** The v5 message that half-closes a channel (stdin at EOF). */
export function closeChannelFrame(channel: number): Buffer {
  return Buffer.from([CLOSE_CHANNEL, channel]);
}

/** The resize message kubectl's TerminalSizeQueue sends on channel 4. */
export function resizeFrame(size: TerminalSize): Buffer {
  return channelFrame(RESIZE, JSON.stringify({ Width: size.width, Height: size.height }));
}

export interface TerminalSize {
  readonly width: number;
  readonly height: number;
}

/** How a remote command ended: its exit code, and for a failure that is not an exit code, the server's message. */
export interface RemoteOutcome {
  readonly exitCode: number;
  readonly message?: string;
}

/**
 * Reads the error channel at the end of a session. On v4 and v5 it holds a metav1.Status: Success,
 * or Failure with reason NonZeroExitCode and an ExitCode cause (kubectl's reading), or another
 * Failure whose message is for the user. Nothing at all means success, as kubectl takes it.
 */
export function outcomeOf(errorChannel: string): RemoteOutcome {
  if (errorChannel.trim() === '') return { exitCode: 0 };
  let status: unknown;
  try {
    status = JSON.parse(errorChannel);
  } catch {
    return { exitCode: 1, message: errorChannel.trim() };
  }
  if (typeof status !== 'object' || status === null) return { exitCode: 1, message: errorChannel.trim() };
  const { status: state, reason, message, details } = status as { status?: unknown; reason?: unknown; message?: unknown; details?: { causes?: unknown } };
  if (state === 'Success') return { exitCode: 0 };
  if (reason === 'NonZeroExitCode' && Array.isArray(details?.causes)) {
    const cause = (details.causes as { reason?: unknown; message?: unknown }[]).find((c) => c.reason === 'ExitCode');
    const code = Number(cause?.message);
    if (cause && Number.isInteger(code) && code >= 0) return { exitCode: code };
  }
  return { exitCode: 1, message: typeof message === 'string' && message !== '' ? message : `the session failed: ${errorChannel.trim()}` };
}
