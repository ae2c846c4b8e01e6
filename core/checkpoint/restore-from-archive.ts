import * as fs from 'node:fs';
import * as path from 'node:path';
import { FailedPreconditionError, UnimplementedError } from '../errors';
import { criuVerdict } from './criu-check';

// A CreateContainer whose image is a checkpoint archive (a file path, as CRI-O takes it) asks to
// restore that checkpoint. Restoring needs CRIU; where `criu check` fails the call answers
// FAILED_PRECONDITION with CRIU's words, before anything is made.

/** True when `image` names a checkpoint archive rather than an image: an absolute path to a file. */
export function isCheckpointArchive(image: string): boolean {
  return path.isAbsolute(image) && fs.statSync(image, { throwIfNoEntry: false })?.isFile() === true;
}

export async function restoreFromArchive(archive: string, containerName: string): Promise<never> {
  const criu = await criuVerdict();
  if (!criu.usable) throw new FailedPreconditionError(`container "${containerName}" cannot be restored from checkpoint ${archive}: CRIU does not work on this host: ${criu.reason}`);
  throw new UnimplementedError(`container "${containerName}" cannot be restored from checkpoint ${archive}: criu check passes here, but this build of caissond does not restore checkpoints yet`);
}
