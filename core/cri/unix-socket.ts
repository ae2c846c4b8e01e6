import * as fs from 'node:fs';
import * as net from 'node:net';
import * as path from 'node:path';
import { FailedPreconditionError } from '../errors';
import type { Logger } from '../log/logger';

// The unix socket a daemon serves on: a stale file from a dead daemon is replaced, a live daemon
// on the same path is never disturbed, and the socket is made rw for root and `group` only.

export function socketPathOf(host: string): string {
  return host.replace(/^unix:\/\//, '');
}

/** Makes the socket's directory and removes a stale socket; refuses when a daemon answers there. */
export async function prepareSocketPath(socketPath: string): Promise<void> {
  fs.mkdirSync(path.dirname(socketPath), { recursive: true, mode: 0o755 });
  const existing = fs.lstatSync(socketPath, { throwIfNoEntry: false });
  if (!existing) return;
  if (!existing.isSocket()) {
    throw new FailedPreconditionError(`${socketPath} exists and is not a socket; refusing to replace it (check "hosts" in daemon.json)`);
  }
  if (await somethingListens(socketPath)) {
    throw new FailedPreconditionError(
      `another daemon is already serving on unix://${socketPath}; stop it first or give this one other "hosts" in daemon.json`,
    );
  }
  fs.rmSync(socketPath, { force: true });
}

function somethingListens(socketPath: string): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = net.connect(socketPath);
    probe.once('connect', () => {
      probe.destroy();
      resolve(true);
    });
    probe.once('error', () => resolve(false));
  });
}

/** Mode 0660, owner root, group `group` (a missing group is a warning: root-only access then). */
export function restrictSocket(socketPath: string, group: string, logger: Logger): void {
  fs.chmodSync(socketPath, 0o660);
  const gid = groupId(group);
  if (gid === undefined) {
    logger.warn(`group "${group}" does not exist; ${socketPath} is reachable by root only`, { group });
    fs.chownSync(socketPath, 0, 0);
    return;
  }
  fs.chownSync(socketPath, 0, gid);
}

/** The gid of a group from /etc/group, or undefined. */
export function groupId(group: string, groupFile = '/etc/group'): number | undefined {
  let text: string;
  try {
    text = fs.readFileSync(groupFile, 'utf8');
  } catch {
    return undefined;
  }
  for (const line of text.split('\n')) {
    const [name, , gid] = line.split(':');
    if (name === group && gid !== undefined && /^\d+$/.test(gid)) return Number(gid);
  }
  return undefined;
}
