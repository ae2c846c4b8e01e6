// process.user: the CRI or image user, its groups (core/oci/spec-user.ts).

import assert from 'node:assert/strict';
import { parseImageUsers } from '../../core/oci/image-users';
import { assertInvalid, build } from '../support/spec-fixtures';

describe('buildContainerSpec: user and groups', () => {
  const id = (value: string) => ({ value });

  it('runs as root with root\'s /etc/group memberships by default', () => {
    assert.deepEqual(build().process.user, { uid: 0, gid: 0, additionalGids: [10, 44] });
  });

  it('runs as run_as_user with the primary gid of its passwd entry and its groups', () => {
    assert.deepEqual(build({ security: { run_as_user: id('1000') } }).process.user, { uid: 1000, gid: 1000, additionalGids: [29, 44] });
  });

  it('needs no passwd entry for a numeric run_as_user (gid 0, no groups)', () => {
    assert.deepEqual(build({ security: { run_as_user: id('4242') } }).process.user, { uid: 4242, gid: 0, additionalGids: [] });
  });

  it('resolves run_as_username in the image /etc/passwd', () => {
    assert.deepEqual(build({ security: { run_as_username: 'alice' } }).process.user, { uid: 1000, gid: 1000, additionalGids: [29, 44] });
  });

  it('prefers run_as_user when both run_as_user and run_as_username are set', () => {
    assert.equal(build({ security: { run_as_user: id('33'), run_as_username: 'alice' } }).process.user.uid, 33);
  });

  it('rejects a run_as_username the image does not have', () => {
    assertInvalid(
      { security: { run_as_username: 'mallory' } },
      'container "web": run_as_username "mallory" is not a user in the image\'s /etc/passwd',
    );
    assertInvalid(
      { security: { run_as_username: 'root' }, imageUsers: parseImageUsers('', '') },
      'container "web": run_as_username "root" is not a user in the image\'s /etc/passwd',
    );
  });

  it('lets run_as_group replace the primary gid', () => {
    assert.deepEqual(build({ security: { run_as_user: id('1000'), run_as_group: id('44') } }).process.user, {
      uid: 1000,
      gid: 44,
      additionalGids: [29],
    });
    assert.deepEqual(build({ security: { run_as_username: 'alice', run_as_group: id('50') } }).process.user, {
      uid: 1000,
      gid: 50,
      additionalGids: [29, 44],
    });
  });

  it('rejects run_as_group without a user', () => {
    assertInvalid(
      { security: { run_as_group: id('50') } },
      'container "web": run_as_group is set but neither run_as_user nor run_as_username is (the CRI requires a user with a group)',
    );
  });

  it('rejects ids out of range', () => {
    assertInvalid({ security: { run_as_user: id('-1') } }, 'container "web": run_as_user -1 is not a valid id (0 to 4294967294)');
    assertInvalid(
      { security: { run_as_user: id('0'), run_as_group: id('4294967295') } },
      'container "web": run_as_group 4294967295 is not a valid id (0 to 4294967294)',
    );
    assertInvalid({ security: { supplemental_groups: ['-5'] } }, 'container "web": supplemental_groups -5 is not a valid id (0 to 4294967294)');
  });

  describe('the image User, when the CRI names no user', () => {
    const cases: [string, { uid: number; gid: number; additionalGids: number[] }][] = [
      ['33', { uid: 33, gid: 33, additionalGids: [] }],
      ['4242', { uid: 4242, gid: 0, additionalGids: [] }],
      ['1000:50', { uid: 1000, gid: 50, additionalGids: [29, 44] }],
      ['4242:4343', { uid: 4242, gid: 4343, additionalGids: [] }],
      ['alice', { uid: 1000, gid: 1000, additionalGids: [29, 44] }],
      ['alice:staff', { uid: 1000, gid: 50, additionalGids: [29, 44] }],
      ['alice:44', { uid: 1000, gid: 44, additionalGids: [29] }],
      ['1000:staff', { uid: 1000, gid: 50, additionalGids: [29, 44] }],
      ['www-data', { uid: 33, gid: 33, additionalGids: [] }],
    ];
    for (const [user, expected] of cases) {
      it(`resolves "${user}"`, () => assert.deepEqual(build({ image: { User: user } }).process.user, expected));
    }

    it('is overridden by the CRI user', () => {
      assert.equal(build({ image: { User: 'alice' }, security: { run_as_user: id('33') } }).process.user.uid, 33);
      assert.equal(build({ image: { User: 'alice' }, security: { run_as_username: 'nobody' } }).process.user.uid, 65534);
    });

    it('rejects a user or group the image does not have, and malformed values', () => {
      assertInvalid(
        { image: { User: 'mallory' } },
        'container "web": user "mallory" of image docker.io/library/busybox:latest is not in the image\'s /etc/passwd',
      );
      assertInvalid(
        { image: { User: 'alice:wheelz' } },
        'container "web": group "wheelz" of image docker.io/library/busybox:latest is not in the image\'s /etc/group',
      );
      for (const bad of ['a:b:c', ':50', 'alice:']) {
        assertInvalid(
          { image: { User: bad } },
          `container "web": user "${bad}" of image docker.io/library/busybox:latest is not valid (want uid, uid:gid, name or name:group)`,
        );
      }
    });
  });

  it('merges supplemental_groups with the /etc/group memberships: unique, sorted, without the primary gid', () => {
    assert.deepEqual(build({ security: { supplemental_groups: ['5000', '44', '0', '7', '5000'] } }).process.user, {
      uid: 0,
      gid: 0,
      additionalGids: [7, 10, 44, 5000],
    });
  });
});
