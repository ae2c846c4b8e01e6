import assert from 'node:assert/strict';
import {
  EMPTY_IMAGE_USERS,
  findGroupByGid,
  findGroupByName,
  findUserByName,
  findUserByUid,
  groupsOfUser,
  parseId,
  parseImageUsers,
} from '../../core/oci/image-users';

const PASSWD = [
  'root:x:0:0:root:/root:/bin/sh',
  'daemon:x:1:1:daemon:/usr/sbin:/bin/false',
  '# a comment',
  '',
  'www-data:x:33:33:www-data:/var/www:/bin/false',
  'alice:x:1000:1000:Alice Liddell:/home/alice:/bin/sh',
  'alias:x:1000:1001:same uid as alice:/home/alias:/bin/sh',
  'broken:x:abc:1:bad uid:/:/bin/sh',
  'short:x:7',
  '+nisuser::::::',
  'nobody:x:65534:65534:nobody:/home:/bin/false',
].join('\n');

const GROUP = [
  'root:x:0:',
  'wheel:x:10:root',
  'audio:x:29:alice',
  'video:x:44: alice , root ,',
  'staff:x:50:',
  'bad:x:-1:alice',
  'dup-video:x:44:alice',
  'nogroup:x:65534:',
].join('\n');

describe('image users: parseImageUsers', () => {
  const users = parseImageUsers(PASSWD, GROUP);

  it('reads every well-formed passwd line with its ids, home and shell', () => {
    assert.deepEqual(
      users.users.map((u) => [u.name, u.uid, u.gid]),
      [
        ['root', 0, 0],
        ['daemon', 1, 1],
        ['www-data', 33, 33],
        ['alice', 1000, 1000],
        ['alias', 1000, 1001],
        ['nobody', 65534, 65534],
      ],
    );
    assert.deepEqual(findUserByName(users, 'alice'), { name: 'alice', uid: 1000, gid: 1000, home: '/home/alice', shell: '/bin/sh' });
  });

  it('skips comments, blank lines, NIS entries and malformed lines', () => {
    assert.equal(findUserByName(users, 'broken'), undefined);
    assert.equal(findUserByName(users, 'short'), undefined);
    assert.equal(findUserByName(users, '+nisuser'), undefined);
    assert.equal(findGroupByName(users, 'bad'), undefined);
  });

  it('reads groups with their members (trimmed, empty names dropped)', () => {
    assert.deepEqual(findGroupByName(users, 'video'), { name: 'video', gid: 44, members: ['alice', 'root'] });
    assert.deepEqual(findGroupByName(users, 'staff'), { name: 'staff', gid: 50, members: [] });
  });

  it('accepts CRLF line endings', () => {
    const crlf = parseImageUsers('root:x:0:0:root:/root:/bin/sh\r\nalice:x:1000:1000::/home/alice:/bin/sh\r\n', 'wheel:x:10:root\r\n');
    assert.deepEqual(findUserByName(crlf, 'alice')?.shell, '/bin/sh');
    assert.deepEqual(findGroupByName(crlf, 'wheel')?.members, ['root']);
  });

  it('treats absent files (empty text) as no users and no groups', () => {
    assert.deepEqual(parseImageUsers('', ''), { users: [], groups: [] });
    assert.deepEqual(EMPTY_IMAGE_USERS, { users: [], groups: [] });
    assert.equal(findUserByUid(EMPTY_IMAGE_USERS, 0), undefined);
  });
});

describe('image users: lookups', () => {
  const users = parseImageUsers(PASSWD, GROUP);

  it('finds users by name and by uid, the first line winning', () => {
    assert.equal(findUserByUid(users, 1000)?.name, 'alice');
    assert.equal(findUserByUid(users, 33)?.name, 'www-data');
    assert.equal(findUserByUid(users, 4242), undefined);
    assert.equal(findUserByName(users, 'alias')?.gid, 1001);
    assert.equal(findUserByName(users, 'Alice'), undefined);
  });

  it('finds groups by name and by gid, the first line winning', () => {
    assert.equal(findGroupByGid(users, 44)?.name, 'video');
    assert.equal(findGroupByGid(users, 65534)?.name, 'nogroup');
    assert.equal(findGroupByGid(users, 12345), undefined);
    assert.equal(findGroupByName(users, 'nope'), undefined);
  });

  it('lists the groups a user is a member of by name, once per gid', () => {
    assert.deepEqual(
      groupsOfUser(users, 'alice').map((g) => g.gid),
      [29, 44],
    );
    assert.deepEqual(
      groupsOfUser(users, 'root').map((g) => g.name),
      ['wheel', 'video'],
    );
    assert.deepEqual(groupsOfUser(users, 'www-data'), []);
  });
});

describe('image users: parseId', () => {
  it('accepts decimal ids from 0 to 2^32-2', () => {
    assert.equal(parseId('0'), 0);
    assert.equal(parseId('65534'), 65534);
    assert.equal(parseId('4294967294'), 4294967294);
  });
  it('rejects anything else', () => {
    for (const bad of ['', '-1', '4294967295', '1.5', '0x10', ' 1', 'root']) assert.equal(parseId(bad), undefined, bad);
  });
});
