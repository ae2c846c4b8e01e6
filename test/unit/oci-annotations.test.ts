// spec.annotations (core/oci/spec-annotations.ts).

import assert from 'node:assert/strict';
import { build } from '../support/spec-fixtures';

describe('buildContainerSpec: annotations', () => {
  it('keeps the CRI annotations and adds the CRI plugin ones', () => {
    assert.deepEqual(build().annotations, {
      'example.com/owner': 'team-a',
      'io.kubernetes.cri.container-type': 'container',
      'io.kubernetes.cri.sandbox-id': 'sandbox-1',
      'io.kubernetes.cri.sandbox-name': 'web-pod',
      'io.kubernetes.cri.sandbox-namespace': 'default',
      'io.kubernetes.cri.container-name': 'web',
      'io.kubernetes.cri.image-name': 'docker.io/library/busybox:latest',
    });
  });

  it('does not let a client forge the CRI plugin annotations', () => {
    const spec = build({ config: { annotations: { 'io.kubernetes.cri.container-type': 'sandbox' } } });
    assert.equal(spec.annotations['io.kubernetes.cri.container-type'], 'container');
  });
});
