import assert from 'node:assert/strict';
import { splitMountOptions } from '../../core/syscalls/mounts';

// mount(8) options as the daemon writes them become mount(2)'s flags and the filesystem's data.

describe('splitMountOptions', () => {
  it('turns the flag words into bits and hands the rest to the filesystem', () => {
    assert.deepEqual(splitMountOptions('nosuid,nodev,noexec,mode=1777,size=64m'), { flags: 0x2 | 0x4 | 0x8, data: 'mode=1777,size=64m' });
  });

  it('keeps an overlay\'s options whole, in order', () => {
    assert.deepEqual(splitMountOptions('lowerdir=0:1,upperdir=/a/upper,workdir=/a/work'), { flags: 0, data: 'lowerdir=0:1,upperdir=/a/upper,workdir=/a/work' });
  });

  it('reads ro and rw, and ignores empty words', () => {
    assert.deepEqual(splitMountOptions('ro,,relatime'), { flags: 0x1 | 0x200000, data: '' });
    assert.deepEqual(splitMountOptions('rw'), { flags: 0, data: '' });
  });
});
