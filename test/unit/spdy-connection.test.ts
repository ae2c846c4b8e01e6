import assert from 'node:assert/strict';
import { negotiateStreamProtocol, offeredStreamProtocols, SPDY_EXEC_PROTOCOLS } from '../../core/streaming/spdy-connection';

// Protocol negotiation on a SPDY upgrade (apimachinery's httpstream.Handshake): the client sends
// X-Stream-Protocol-Version once per protocol, newest first; the server takes the client's
// first choice that it knows.

describe('SPDY upgrade negotiation', () => {
  it('reads offered protocols from repeated headers and comma lists, in order', () => {
    assert.deepEqual(offeredStreamProtocols({ 'x-stream-protocol-version': 'v4.channel.k8s.io, v3.channel.k8s.io' }), ['v4.channel.k8s.io', 'v3.channel.k8s.io']);
    assert.deepEqual(offeredStreamProtocols(['v2.channel.k8s.io', ' channel.k8s.io ,']), ['v2.channel.k8s.io', 'channel.k8s.io']);
    assert.deepEqual(offeredStreamProtocols({}), []);
  });

  it("takes the client's first choice that the server supports", () => {
    assert.equal(negotiateStreamProtocol(['v5.channel.k8s.io', 'v4.channel.k8s.io', 'v3.channel.k8s.io'], SPDY_EXEC_PROTOCOLS), 'v4.channel.k8s.io');
    assert.equal(negotiateStreamProtocol(['v2.channel.k8s.io', 'v4.channel.k8s.io'], SPDY_EXEC_PROTOCOLS), 'v2.channel.k8s.io');
    assert.equal(negotiateStreamProtocol(['v5.channel.k8s.io'], SPDY_EXEC_PROTOCOLS), undefined);
  });
});
