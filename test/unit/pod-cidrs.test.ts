import assert from 'node:assert/strict';
import { parsePodCidrs } from '../../core/services/runtime-info/parse-pod-cidrs';

describe('pod CIDR parsing', () => {
  it('accepts IPv4, IPv6 and a dual-stack pair', () => {
    assert.deepEqual(parsePodCidrs('10.88.0.0/16'), ['10.88.0.0/16']);
    assert.deepEqual(parsePodCidrs('fd00:10::/64'), ['fd00:10::/64']);
    assert.deepEqual(parsePodCidrs('10.88.0.0/16, fd00:10::/64'), ['10.88.0.0/16', 'fd00:10::/64']);
  });

  it('names the bad range', () => {
    assert.throws(() => parsePodCidrs('10.88.0.0/33'), {
      code: 'INVALID_ARGUMENT',
      message: 'pod CIDR "10.88.0.0/33" in UpdateRuntimeConfig is not a valid IPv4 or IPv6 CIDR (for example 10.88.0.0/16)',
    });
    assert.throws(() => parsePodCidrs('banana'), { code: 'INVALID_ARGUMENT' });
    assert.throws(() => parsePodCidrs('10.0.0.0/8,10.1.0.0/16,fd00::/64'), { code: 'INVALID_ARGUMENT' });
  });
});
