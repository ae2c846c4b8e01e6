import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseImageUsers, type ImageUsers } from '../oci/image-users';

/** The users and groups of a mounted image rootfs; an image without /etc/passwd or /etc/group has none. */
export function rootfsImageUsers(rootfs: string): ImageUsers {
  return parseImageUsers(readIfExists(path.join(rootfs, 'etc', 'passwd')), readIfExists(path.join(rootfs, 'etc', 'group')));
}

function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}
