import assert from 'node:assert/strict';
import { TokenCache } from '../../core/streaming/token-cache';
import { chooseSubprotocol, EXEC_SUBPROTOCOLS, exitCodeStatus, frame, parseClientMessage, parsePorts, portPrefix } from '../../core/streaming/channel-protocol';

describe('streaming token cache', () => {
  it('answers unguessable base64url tokens of 16 bytes, each different', () => {
    const cache = new TokenCache<string>();
    const a = cache.insert('a');
    const b = cache.insert('b');
    assert.match(a, /^[A-Za-z0-9_-]{22}$/);
    assert.notEqual(a, b);
  });

  it('gives a value once: a reused token is refused', () => {
    const cache = new TokenCache<string>();
    const token = cache.insert('exec');
    assert.equal(cache.has(token), true);
    assert.equal(cache.consume(token), 'exec');
    assert.equal(cache.has(token), false);
    assert.equal(cache.consume(token), undefined);
    assert.equal(cache.consume('never-issued'), undefined);
  });

  it('refuses a token after one minute', () => {
    let now = 1_000_000;
    const cache = new TokenCache<string>({ now: () => now });
    const fresh = cache.insert('fresh');
    const stale = cache.insert('stale');
    now += 59_999;
    assert.equal(cache.consume(fresh), 'fresh');
    now += 1;
    assert.equal(cache.has(stale), false);
    assert.equal(cache.consume(stale), undefined);
    assert.equal(cache.size, 0);
  });

  it('retries a colliding token and caps the number waiting', () => {
    const bytes = [Buffer.alloc(16, 1), Buffer.alloc(16, 1), Buffer.alloc(16, 2)];
    const cache = new TokenCache<number>({ maxPending: 2, random: () => bytes.shift() ?? Buffer.alloc(16, 9) });
    const a = cache.insert(1);
    const b = cache.insert(2);
    assert.notEqual(a, b);
    assert.throws(() => cache.insert(3), { code: 'RESOURCE_EXHAUSTED', message: 'too many streaming requests are waiting for their client (2); try again later' });
  });
});

describe('streaming channel protocol', () => {
  it('chooses our first preference among the offered subprotocols', () => {
    assert.equal(chooseSubprotocol(['channel.k8s.io', 'v4.channel.k8s.io'], EXEC_SUBPROTOCOLS), 'v4.channel.k8s.io');
    assert.equal(chooseSubprotocol(['v5.channel.k8s.io', 'v4.channel.k8s.io'], EXEC_SUBPROTOCOLS), 'v5.channel.k8s.io');
    assert.equal(chooseSubprotocol(['base64.channel.k8s.io'], EXEC_SUBPROTOCOLS), 'base64.channel.k8s.io');
    assert.equal(chooseSubprotocol(['v9.channel.k8s.io'], EXEC_SUBPROTOCOLS), undefined);
  });

  it('frames and parses channel messages; 255 closes a channel on v5 only', () => {
    assert.deepEqual([...frame(1, 'hi')], [1, 104, 105]);
    assert.deepEqual(parseClientMessage(Buffer.from([0, 65]), true), { kind: 'data', channel: 0, data: Buffer.from('A') });
    assert.deepEqual(parseClientMessage(Buffer.from([255, 0]), true), { kind: 'close', channel: 0 });
    assert.deepEqual(parseClientMessage(Buffer.from([255, 0]), false), { kind: 'data', channel: 255, data: Buffer.from([0]) });
    assert.deepEqual(parseClientMessage(Buffer.alloc(0), true), { kind: 'empty' });
  });

  it('reports exit codes as Kubernetes Status', () => {
    assert.deepEqual(exitCodeStatus(0), { metadata: {}, status: 'Success' });
    assert.deepEqual(exitCodeStatus(3), {
      metadata: {},
      status: 'Failure',
      message: 'command terminated with non-zero exit code: error executing command, exit status 3',
      reason: 'NonZeroExitCode',
      details: { causes: [{ reason: 'ExitCode', message: '3' }] },
    });
  });

  it('reads ports from the URL query and prefixes them little-endian', () => {
    assert.deepEqual(parsePorts(new URLSearchParams('port=8080,9090&port=80')), [8080, 9090, 80]);
    assert.deepEqual(parsePorts(new URLSearchParams('ports=8080')), [8080]);
    assert.deepEqual(parsePorts(new URLSearchParams('')), []);
    assert.throws(() => parsePorts(new URLSearchParams('port=70000')), { message: 'invalid port "70000" in the port-forward URL: ports are 1-65535' });
    assert.deepEqual([...portPrefix(8080)], [0x90, 0x1f]);
  });
});
