// Users and groups of an image, parsed from its rootfs /etc/passwd and /etc/group, and the
// lookups the OCI spec builder needs to resolve a CRI or image user to ids. Pure: the caller reads
// the files (an absent file is the empty string). Lookups behave like getpwnam/getgrnam on the
// files: the first matching line wins.

export interface PasswdEntry {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  readonly home: string;
  readonly shell: string;
}

export interface GroupEntry {
  readonly name: string;
  readonly gid: number;
  /** User names listed in the group's fourth field. */
  readonly members: readonly string[];
}

export interface ImageUsers {
  readonly users: readonly PasswdEntry[];
  readonly groups: readonly GroupEntry[];
}

export const EMPTY_IMAGE_USERS: ImageUsers = Object.freeze({ users: Object.freeze([]), groups: Object.freeze([]) });

/**
 * Parses passwd ("name:password:uid:gid:gecos:home:shell") and group ("name:password:gid:members")
 * text. Blank lines, comments and malformed lines (too few fields, non-numeric ids, NIS "+"/"-"
 * entries) are skipped, as libc does.
 */
export function parseImageUsers(passwd: string, group: string): ImageUsers {
  const users: PasswdEntry[] = [];
  for (const fields of records(passwd)) {
    if (fields.length < 4) continue;
    const [name = '', , uidText = '', gidText = '', , home = '', shell = ''] = fields;
    const uid = parseId(uidText);
    const gid = parseId(gidText);
    if (!name || uid === undefined || gid === undefined) continue;
    users.push({ name, uid, gid, home, shell });
  }
  const groups: GroupEntry[] = [];
  for (const fields of records(group)) {
    if (fields.length < 3) continue;
    const [name = '', , gidText = '', memberText = ''] = fields;
    const gid = parseId(gidText);
    if (!name || gid === undefined) continue;
    const members = memberText
      .split(',')
      .map((m) => m.trim())
      .filter((m) => m !== '');
    groups.push({ name, gid, members });
  }
  return { users, groups };
}

export function findUserByName(image: ImageUsers, name: string): PasswdEntry | undefined {
  return image.users.find((u) => u.name === name);
}

export function findUserByUid(image: ImageUsers, uid: number): PasswdEntry | undefined {
  return image.users.find((u) => u.uid === uid);
}

export function findGroupByName(image: ImageUsers, name: string): GroupEntry | undefined {
  return image.groups.find((g) => g.name === name);
}

export function findGroupByGid(image: ImageUsers, gid: number): GroupEntry | undefined {
  return image.groups.find((g) => g.gid === gid);
}

/** The groups that list `userName` as a member in /etc/group, in file order (a gid only once). */
export function groupsOfUser(image: ImageUsers, userName: string): GroupEntry[] {
  const seen = new Set<number>();
  const result: GroupEntry[] = [];
  for (const g of image.groups) {
    if (!g.members.includes(userName) || seen.has(g.gid)) continue;
    seen.add(g.gid);
    result.push(g);
  }
  return result;
}

/** A decimal user or group id in [0, 2^32 - 2]; undefined for anything else. */
export function parseId(text: string): number | undefined {
  if (!/^\d+$/.test(text)) return undefined;
  const n = Number(text);
  return n <= MAX_ID ? n : undefined;
}

/** (uid_t)-1 is reserved, so the largest usable id is 2^32 - 2. */
export const MAX_ID = 4294967294;

function* records(text: string): Generator<string[]> {
  for (const raw of text.split('\n')) {
    const line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith('+') || trimmed.startsWith('-')) continue;
    yield line.split(':');
  }
}
