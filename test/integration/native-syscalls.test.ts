import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { mountRootfs, unmountRootfs } from '../../core/containers/container-rootfs';
import { isMountPoint } from '../../core/pods/pod-shm';
import { namespaceFile, pinAndSetUpNamespaces, unpinNamespaces, type PinnedKind } from '../../core/pods/pinned-namespaces';
import { mountFilesystem, unmountAll } from '../../core/syscalls/mounts';
import { nativeSyscalls, useNativeSyscalls } from '../../core/syscalls/native-addon';
import { makeTempRoot } from '../support/temp-root';

// The pod's namespaces, its shm and a container's overlay, made by the native addon (mount(2),
// umount2(2), unshare(2) in a thread of its own) and by the programs it replaces where it is not
// built: both must leave the same things on the host, and neither may move the daemon's own
// threads into a pod's namespaces.

/** The namespace (inode) of each of this process's threads, for one kind. */
function threadNamespaces(kind: string): Set<number> {
  return new Set(fs.readdirSync('/proc/self/task').map((tid) => fs.statSync(`/proc/self/task/${tid}/ns/${kind}`).ino));
}

function mountOptions(target: string): string {
  const line = fs.readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((entry) => entry.split(' ')[4] === target);
  assert.ok(line, `${target} is not in the mount table`);
  return line;
}

function inside(dir: string, kinds: readonly PinnedKind[], script: string): string {
  const enter = kinds.map((kind) => `--${kind}=${namespaceFile(dir, kind)}`);
  return execFileSync('nsenter', [...enter, 'sh', '-c', script], { encoding: 'utf8' });
}

describe('the native addon', () => {
  // The README's test command installs a compiler and builds it: the daemon the tests run is the
  // one operators run.
  it('is built and loaded, so the tests run what the daemon runs', () => {
    assert.ok(nativeSyscalls(), 'native/build/caisson-syscalls.node is not built (scripts/build-native.sh)');
  });
});

for (const variant of ['native addon', 'programs'] as const) {
  describe(`mounts and pinned namespaces by the ${variant}`, function () {
    this.timeout(20_000);
    let root: string;
    const cleanups: (() => void)[] = [];

    before(() => {
      useNativeSyscalls(variant === 'native addon');
      root = makeTempRoot('syscalls');
    });

    after(() => {
      for (const cleanup of cleanups.reverse()) {
        try {
          cleanup();
        } catch {
          // already gone
        }
      }
      useNativeSyscalls(true);
      if (root) fs.rmSync(root, { recursive: true, force: true });
    });

    const unmountLater = (target: string): void => {
      cleanups.push(() => execFileSync('umount', [target], { stdio: 'ignore' }));
    };

    it('mounts a tmpfs with mount(8) options split into flags and data, and unmounts it', async () => {
      const target = path.join(root, 'shm');
      fs.mkdirSync(target);
      unmountLater(target);
      await mountFilesystem({ type: 'tmpfs', source: 'shm', target, options: 'nosuid,nodev,noexec,mode=1777,size=64m' });
      const line = mountOptions(target);
      assert.match(line, / rw,nosuid,nodev,noexec[, ]/);
      assert.match(line, /size=65536k/);
      assert.equal(fs.statSync(target).mode & 0o7777, 0o1777);
      await unmountAll([target]);
      assert.equal(isMountPoint(target), false);
    });

    it('mounts an overlay whose lower folders are relative to a working folder, leaving the daemon\'s own', async () => {
      const layers = [path.join(root, 'layer-top'), path.join(root, 'layer-base')];
      fs.mkdirSync(layers[0]!);
      fs.mkdirSync(layers[1]!);
      fs.writeFileSync(path.join(layers[1]!, 'base'), 'from the base');
      fs.writeFileSync(path.join(layers[0]!, 'top'), 'from the top');
      const target = path.join(root, 'c', 'rootfs');
      const cwd = process.cwd();
      unmountLater(target);
      await mountRootfs(layers, path.join(root, 'c', 'upper'), path.join(root, 'c', 'work'), target);
      assert.equal(process.cwd(), cwd);
      assert.equal(fs.readFileSync(path.join(target, 'base'), 'utf8'), 'from the base');
      assert.equal(fs.readFileSync(path.join(target, 'top'), 'utf8'), 'from the top');
      fs.writeFileSync(path.join(target, 'new'), 'written');
      assert.equal(fs.readFileSync(path.join(root, 'c', 'upper', 'new'), 'utf8'), 'written');
      await unmountRootfs(target);
      assert.equal(isMountPoint(target), false);
    });

    it('pins net, IPC and UTS namespaces set up from inside, with the shm, and unpins them', async () => {
      const dir = path.join(root, 'pod');
      const shm = path.join(dir, 'shm');
      const kinds: PinnedKind[] = ['net', 'ipc', 'uts'];
      for (const kind of kinds) unmountLater(namespaceFile(dir, kind));
      unmountLater(shm);
      const before = { net: threadNamespaces('net'), ipc: threadNamespaces('ipc'), uts: threadNamespaces('uts') };
      await pinAndSetUpNamespaces(dir, kinds, {
        hostname: 'a-pod-host',
        sysctls: { 'net.ipv4.ip_unprivileged_port_start': '80', 'kernel.shmmni': '1234' },
        shm,
      });
      const seen = inside(dir, kinds, 'hostname; ip -o link show lo; cat /proc/sys/net/ipv4/ip_unprivileged_port_start /proc/sys/kernel/shmmni');
      const [hostname, lo, port, shmmni] = seen.trim().split('\n');
      assert.equal(hostname, 'a-pod-host');
      assert.match(lo ?? '', /<LOOPBACK,UP,LOWER_UP>/);
      assert.equal(port, '80');
      assert.equal(shmmni, '1234');
      assert.match(mountOptions(shm), /size=65536k/);
      // Nothing of the daemon's moved: every thread is still in the namespaces it was in.
      assert.deepEqual(threadNamespaces('net'), before.net);
      assert.deepEqual(threadNamespaces('ipc'), before.ipc);
      assert.deepEqual(threadNamespaces('uts'), before.uts);
      assert.notEqual(execFileSync('hostname', { encoding: 'utf8' }).trim(), 'a-pod-host');
      await unpinNamespaces(dir, shm);
      for (const kind of kinds) assert.equal(fs.existsSync(namespaceFile(dir, kind)), false);
      assert.equal(isMountPoint(shm), false);
    });

    it('pins only the namespaces asked for (a host-network pod: IPC only)', async () => {
      const dir = path.join(root, 'host-network-pod');
      unmountLater(namespaceFile(dir, 'ipc'));
      await pinAndSetUpNamespaces(dir, ['ipc'], { hostname: 'ignored', sysctls: { 'kernel.msgmax': '4096' } });
      assert.equal(inside(dir, ['ipc'], 'cat /proc/sys/kernel/msgmax').trim(), '4096');
      assert.equal(fs.existsSync(namespaceFile(dir, 'net')), false);
      assert.notEqual(fs.readFileSync('/proc/sys/kernel/msgmax', 'utf8').trim(), '4096');
      await unpinNamespaces(dir);
    });

    it('names the target and the cause when a mount fails', async () => {
      const missing = path.join(root, 'no-such-folder');
      await assert.rejects(mountFilesystem({ type: 'tmpfs', source: 'shm', target: missing, options: 'size=1m' }), (error: Error) => {
        assert.match(error.message, /no-such-folder/);
        assert.match(error.message, /No such file or directory|does not exist/);
        return true;
      });
    });

    it('tries every target when one will not unmount, and names the one that failed', async () => {
      const mounted = path.join(root, 'still-mounted');
      const plain = path.join(root, 'not-a-mount');
      fs.mkdirSync(mounted);
      fs.mkdirSync(plain);
      unmountLater(mounted);
      await mountFilesystem({ type: 'tmpfs', source: 'shm', target: mounted, options: 'size=1m' });
      await assert.rejects(unmountAll([plain, mounted]), /not-a-mount/);
      assert.equal(isMountPoint(mounted), false);
    });
  });
}

describe('the native addon\'s arguments', () => {
  it('refuses a path with a NUL byte before making any call', () => {
    const native = nativeSyscalls();
    assert.ok(native);
    assert.throws(() => native.umount('/tmp/a\0b', 0), /NUL/);
    assert.throws(() => native.mount('shm', '/tmp/x', 'tmpfs', 0, 'size=1m\0', ''), /NUL/);
  });

  it('names the call\'s arguments when some are missing or of the wrong kind', () => {
    const native = nativeSyscalls() as unknown as Record<string, (...args: unknown[]) => unknown>;
    assert.throws(() => native.mount?.('shm', '/tmp/x'), /mount\(source, target, fstype, flags, data, cwd\)/);
    assert.throws(() => native.umount?.('/tmp/x', 'zero'), /flags must be a number/);
    assert.throws(() => native.pinNamespaces?.('', '', '', '', true, ['/proc/sys/kernel/shmmni']), /file, value pairs/);
  });
});
