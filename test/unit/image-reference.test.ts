import assert from 'node:assert/strict';
import { formatReference, parseImageReference } from '../../core/images/image-reference';

const digest = `sha256:${'a'.repeat(64)}`;

describe('image references', () => {
  const normalised: [string, string][] = [
    ['busybox', 'docker.io/library/busybox:latest'],
    ['busybox:1.36', 'docker.io/library/busybox:1.36'],
    ['library/busybox', 'docker.io/library/busybox:latest'],
    ['someone/app:v2', 'docker.io/someone/app:v2'],
    ['docker.io/busybox', 'docker.io/library/busybox:latest'],
    ['index.docker.io/library/busybox', 'docker.io/library/busybox:latest'],
    ['registry.k8s.io/pause:3.9', 'registry.k8s.io/pause:3.9'],
    ['127.0.0.1:5000/app', '127.0.0.1:5000/app:latest'],
    ['127.0.0.1:5000/team/app:1.0', '127.0.0.1:5000/team/app:1.0'],
    ['localhost/app', 'localhost/app:latest'],
    [`busybox@${digest}`, `docker.io/library/busybox@${digest}`],
    [`busybox:1.36@${digest}`, `docker.io/library/busybox:1.36@${digest}`],
    [`[::1]:5000/app`, '[::1]:5000/app:latest'],
  ];
  for (const [input, expected] of normalised) {
    it(`normalises ${input}`, () => assert.equal(formatReference(parseImageReference(input)), expected));
  }

  it('splits registry, repository, tag and digest', () => {
    assert.deepEqual(parseImageReference('127.0.0.1:5000/team/app:1.0'), { registry: '127.0.0.1:5000', repository: 'team/app', tag: '1.0' });
    assert.deepEqual(parseImageReference(`app@${digest}`), { registry: 'docker.io', repository: 'library/app', digest });
  });

  it('rejects malformed references with the reason', () => {
    assert.throws(() => parseImageReference(''), { code: 'INVALID_ARGUMENT', message: 'image reference "" is invalid: it is empty' });
    assert.throws(() => parseImageReference('Busybox'), {
      message: 'image reference "Busybox" is invalid: "Busybox" is not a valid repository component (lower-case letters, digits, separators)',
    });
    assert.throws(() => parseImageReference('busybox@sha256:abc'), {
      message: 'image reference "busybox@sha256:abc" is invalid: "sha256:abc" is not a sha256 digest (sha256:<64 hex digits>)',
    });
    assert.throws(() => parseImageReference('busybox:bad/tag:x'), { code: 'INVALID_ARGUMENT' });
  });
});
