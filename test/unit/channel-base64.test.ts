import assert from 'node:assert/strict';
import {
  carriesStatusJson,
  channelCodec,
  chooseSubprotocol,
  EXEC_SUBPROTOCOLS,
  frameBase64,
  isBase64Subprotocol,
  parseBase64ClientMessage,
  PORT_FORWARD_SUBPROTOCOLS,
  portPrefix,
} from '../../core/streaming/channel-protocol';

// The base64 channel framing (wsstream's base64.channel.k8s.io): a channel digit, then the data
// in standard base64, in text messages both ways. Examples are the ones wsstream documents.

describe('base64 channel framing', () => {
  it('encodes a frame as the channel digit and padded base64 (wsstream: "\\n" on stdout is "1Cg==")', () => {
    assert.equal(frameBase64(1, '\n'), '1Cg==');
    assert.equal(frameBase64(0, Buffer.from('foo\n')), '0Zm9vCg==');
    assert.equal(frameBase64(3), '3');
    assert.equal(frameBase64(2, Buffer.from([0, 255, 128])), '2AP+A');
    // Port-forward channels past 9 keep counting from '0' (channel 10 is ':'), as '0'+n in Go.
    assert.equal(frameBase64(10, portPrefix(8080)), ':kB8=');
  });

  it('decodes a client frame into its channel and bytes', () => {
    assert.deepEqual(parseBase64ClientMessage('0Zm9vCg=='), { kind: 'data', channel: 0, data: Buffer.from('foo\n') });
    assert.deepEqual(parseBase64ClientMessage(Buffer.from('4eyJXaWR0aCI6ODAsIkhlaWdodCI6MjR9')), {
      kind: 'data',
      channel: 4,
      data: Buffer.from('{"Width":80,"Height":24}'),
    });
    assert.deepEqual(parseBase64ClientMessage('0'), { kind: 'data', channel: 0, data: Buffer.alloc(0) });
    assert.deepEqual(parseBase64ClientMessage(''), { kind: 'empty' });
    // Go's decoder skips line breaks inside the text; so do we.
    assert.deepEqual(parseBase64ClientMessage('0Zm9v\r\nCg=='), { kind: 'data', channel: 0, data: Buffer.from('foo\n') });
  });

  it('round-trips any bytes on any channel', () => {
    const data = Buffer.from(Array.from({ length: 300 }, (_, i) => (i * 7) % 256));
    for (const channel of [0, 1, 2, 3, 4, 9, 12]) {
      for (const length of [0, 1, 2, 3, 4, 299]) {
        const parsed = parseBase64ClientMessage(frameBase64(channel, data.subarray(0, length)));
        assert.deepEqual(parsed, { kind: 'data', channel, data: data.subarray(0, length) });
      }
    }
  });

  it('reports frames that are not base64 instead of delivering part of them', () => {
    assert.deepEqual(parseBase64ClientMessage('0Zm9vCg'), { kind: 'invalid', reason: 'the data of a frame on channel 0 is not valid base64' });
    assert.deepEqual(parseBase64ClientMessage('1Zm9v*g=='), { kind: 'invalid', reason: 'the data of a frame on channel 1 is not valid base64' });
    assert.deepEqual(parseBase64ClientMessage('0Zm9vCg==Zg=='), { kind: 'invalid', reason: 'the data of a frame on channel 0 is not valid base64' });
    assert.deepEqual(parseBase64ClientMessage(Buffer.from([0, 0x5a, 0x67, 0x3d, 0x3d])), {
      kind: 'invalid',
      reason: 'a base64 frame starts with the channel digit, not byte 0',
    });
  });

  it('has no close-of-channel message: [255, 0] in text is just an invalid frame', () => {
    const codec = channelCodec('v4.base64.channel.k8s.io');
    assert.equal(codec.decode(Buffer.from([255, 0])).kind, 'invalid');
  });

  it('picks the codec and the Status format from the negotiated subprotocol', () => {
    const base64 = channelCodec('base64.channel.k8s.io');
    assert.equal(base64.base64, true);
    assert.equal(base64.encode(1, 'hi'), '1aGk=');
    assert.deepEqual(base64.decode(Buffer.from('0aGk=')), { kind: 'data', channel: 0, data: Buffer.from('hi') });

    const v5 = channelCodec('v5.channel.k8s.io');
    assert.equal(v5.base64, false);
    assert.deepEqual(v5.encode(1, 'hi'), Buffer.from([1, 104, 105]));
    assert.deepEqual(v5.decode(Buffer.from([255, 0])), { kind: 'close', channel: 0 });
    assert.deepEqual(channelCodec('v4.channel.k8s.io').decode(Buffer.from([255, 0])), { kind: 'data', channel: 255, data: Buffer.from([0]) });
    assert.equal(channelCodec('').base64, false, 'no subprotocol: binary, as wsstream\'s "" entry');

    assert.deepEqual(
      EXEC_SUBPROTOCOLS.map((p) => [p, isBase64Subprotocol(p), carriesStatusJson(p)]),
      [
        ['v5.channel.k8s.io', false, true],
        ['v4.channel.k8s.io', false, true],
        ['v4.base64.channel.k8s.io', true, true],
        ['channel.k8s.io', false, false],
        ['base64.channel.k8s.io', true, false],
      ],
    );
  });

  it('negotiates the base64 subprotocols for exec, attach and port-forward, binary first', () => {
    assert.equal(chooseSubprotocol(['base64.channel.k8s.io'], EXEC_SUBPROTOCOLS), 'base64.channel.k8s.io');
    assert.equal(chooseSubprotocol(['base64.channel.k8s.io', 'v4.base64.channel.k8s.io'], EXEC_SUBPROTOCOLS), 'v4.base64.channel.k8s.io');
    assert.equal(chooseSubprotocol(['v4.base64.channel.k8s.io', 'v4.channel.k8s.io'], EXEC_SUBPROTOCOLS), 'v4.channel.k8s.io');
    assert.equal(chooseSubprotocol(['v4.base64.channel.k8s.io'], PORT_FORWARD_SUBPROTOCOLS), 'v4.base64.channel.k8s.io');
    // The kubelet's port-forward has no unversioned base64 protocol.
    assert.equal(chooseSubprotocol(['base64.channel.k8s.io'], PORT_FORWARD_SUBPROTOCOLS), undefined);
  });
});
