// Who the container runs as: process.user (uid, gid and the additional gids). The CRI user wins
// over the image User; names and the groups a user belongs to are looked up in the image's own
// /etc/passwd and /etc/group, as the runtime would inside the container.

import type { LinuxContainerSecurityContext__Output } from '../cri/generated/runtime/v1/LinuxContainerSecurityContext';
import { findGroupByName, findUserByName, findUserByUid, groupsOfUser, MAX_ID, parseId, type ImageUsers } from './image-users';
import type { OciUser } from './oci-spec';
import type { SpecFail } from './spec-fail';
import type { SpecImage } from './spec-input';

/** The parts of the CRI security context that choose the user. */
export type UserRequest = Pick<
  LinuxContainerSecurityContext__Output,
  'run_as_user' | 'run_as_username' | 'run_as_group' | 'supplemental_groups'
>;

/**
 * run_as_user, else run_as_username, else the image User, else root. run_as_group replaces the
 * primary gid. The additional gids are the user's /etc/group memberships plus
 * supplemental_groups: unique, sorted, without the primary gid.
 */
export function processUser(sc: UserRequest | null, image: SpecImage, users: ImageUsers, fail: SpecFail): OciUser {
  const runAsUser = sc?.run_as_user ?? null;
  const runAsUsername = sc?.run_as_username ?? '';
  const runAsGroup = sc?.run_as_group ?? null;

  if (runAsGroup && !runAsUser && !runAsUsername) {
    throw fail('run_as_group is set but neither run_as_user nor run_as_username is (the CRI requires a user with a group)');
  }

  let uid: number;
  let gid: number;
  let name: string | undefined;
  if (runAsUser) {
    uid = criId('run_as_user', runAsUser.value, fail);
    const entry = findUserByUid(users, uid);
    gid = entry?.gid ?? 0;
    name = entry?.name;
  } else if (runAsUsername) {
    const entry = findUserByName(users, runAsUsername);
    if (!entry) throw fail(`run_as_username "${runAsUsername}" is not a user in the image's /etc/passwd`);
    ({ uid, gid, name } = entry);
  } else if (image.config.User) {
    ({ uid, gid, name } = imageUser(image.config.User, image.name, users, fail));
  } else {
    uid = 0;
    const entry = findUserByUid(users, 0);
    gid = entry?.gid ?? 0;
    name = entry?.name;
  }
  if (runAsGroup) gid = criId('run_as_group', runAsGroup.value, fail);

  const extra = new Set<number>();
  if (name !== undefined) for (const g of groupsOfUser(users, name)) extra.add(g.gid);
  for (const g of sc?.supplemental_groups ?? []) extra.add(criId('supplemental_groups', g, fail));
  extra.delete(gid);
  return { uid, gid, additionalGids: [...extra].sort((a, b) => a - b) };
}

/** The image's User: "uid", "uid:gid", "name", "name:group" (and mixes), resolved in the image. */
function imageUser(
  userSpec: string,
  imageName: string,
  users: ImageUsers,
  fail: SpecFail,
): { uid: number; gid: number; name: string | undefined } {
  const parts = userSpec.split(':');
  const [userPart = '', groupPart] = parts;
  if (parts.length > 2 || userPart === '' || groupPart === '') {
    throw fail(`user "${userSpec}" of image ${imageName} is not valid (want uid, uid:gid, name or name:group)`);
  }
  let uid: number;
  let gid: number;
  let name: string | undefined;
  const numericUid = parseId(userPart);
  if (numericUid !== undefined) {
    uid = numericUid;
    const entry = findUserByUid(users, uid);
    gid = entry?.gid ?? 0;
    name = entry?.name;
  } else {
    const entry = findUserByName(users, userPart);
    if (!entry) throw fail(`user "${userPart}" of image ${imageName} is not in the image's /etc/passwd`);
    ({ uid, gid, name } = entry);
  }
  if (groupPart !== undefined) {
    const numericGid = parseId(groupPart);
    if (numericGid !== undefined) {
      gid = numericGid;
    } else {
      const group = findGroupByName(users, groupPart);
      if (!group) throw fail(`group "${groupPart}" of image ${imageName} is not in the image's /etc/group`);
      gid = group.gid;
    }
  }
  return { uid, gid, name };
}

/** A CRI id sent as a decimal string; the CRI does not range-check it, so we do. */
function criId(field: string, value: string, fail: SpecFail): number {
  const id = parseId(value);
  if (id === undefined) throw fail(`${field} ${value} is not a valid id (0 to ${MAX_ID})`);
  return id;
}
