import assert from 'node:assert/strict';
import {
  ATTACH_STDIN_PACKET_MAX,
  parseAttachPacket,
  resizeControlLine,
  stdinPackets,
} from '../../plugins/runc/conmon-attach-protocol';
import { checkAttachable, validateAttachRequest } from '../../core/services/streaming/attach';
import type { ContainerRecord } from '../../core/containers/container-record';
import { conmonAttachEndpoints } from '../../plugins/runc/conmon';

describe('conmon attach protocol', () => {
  it('finds the attach socket and the control FIFO in the bundle (conmon --full-attach)', () => {
    assert.deepEqual(conmonAttachEndpoints('/run/c/abc/bundle'), { socket: '/run/c/abc/bundle/attach', controlFifo: '/run/c/abc/bundle/ctl' });
  });

  it('reads the pipe byte conmon puts before each output packet: 2 stdout, 3 stderr', () => {
    assert.deepEqual(parseAttachPacket(Buffer.from('\x02out\n')), { stream: 'stdout', data: Buffer.from('out\n') });
    assert.deepEqual(parseAttachPacket(Buffer.from('\x03err\n')), { stream: 'stderr', data: Buffer.from('err\n') });
    assert.deepEqual(parseAttachPacket(Buffer.from('\x01in')), { stream: 'unknown', pipe: 1 });
    assert.deepEqual(parseAttachPacket(Buffer.alloc(0)), { stream: 'unknown', pipe: undefined });
  });

  it('cuts stdin into packets conmon reads whole', () => {
    assert.equal(ATTACH_STDIN_PACKET_MAX, 32_767);
    assert.deepEqual(stdinPackets(Buffer.from('abcdefg'), 3).map(String), ['abc', 'def', 'g']);
    assert.deepEqual(stdinPackets(Buffer.alloc(0)), []);
    const big = stdinPackets(Buffer.alloc(70_000, 1));
    assert.deepEqual(big.map((p) => p.length), [32_767, 32_767, 4_466]);
  });

  it('writes a resize as "1 <height> <width>", clamped to what conmon accepts', () => {
    assert.equal(resizeControlLine({ width: 100, height: 30 }), '1 30 100\n');
    assert.equal(resizeControlLine({ width: 4000, height: 0 }), '1 0 1000\n');
  });
});

describe('Attach request checks', () => {
  const request = { container_id: 'c1', stdin: false, stdout: true, stderr: false, tty: false };
  const record = (state: ContainerRecord['state'], config: { stdin?: boolean; tty?: boolean }): ContainerRecord =>
    ({ id: 'c1', state, config: { stdin: false, stdin_once: false, tty: false, ...config } }) as unknown as ContainerRecord;

  it('needs an id, some stream, and not a TTY with stderr', () => {
    assert.throws(() => validateAttachRequest({ ...request, container_id: '' }), { code: 'INVALID_ARGUMENT', message: 'Attach needs a container_id' });
    assert.throws(() => validateAttachRequest({ ...request, stdout: false }), {
      code: 'INVALID_ARGUMENT',
      message: 'Attach to container c1: one of stdin, stdout or stderr must be set',
    });
    assert.throws(() => validateAttachRequest({ ...request, tty: true, stderr: true }), { code: 'INVALID_ARGUMENT' });
    validateAttachRequest({ ...request, stdin: true, stdout: false });
  });

  it('needs a running container that has the stdin and TTY asked for; a TTY container may be attached without one', () => {
    assert.throws(() => checkAttachable(record('CONTAINER_CREATED', {}), request), {
      code: 'FAILED_PRECONDITION',
      message: 'container c1 is not running (CONTAINER_CREATED); Attach needs a running container',
    });
    assert.throws(() => checkAttachable(record('CONTAINER_RUNNING', {}), { ...request, stdin: true }), { code: 'FAILED_PRECONDITION' });
    assert.throws(() => checkAttachable(record('CONTAINER_RUNNING', { stdin: true }), { ...request, stdin: true, tty: true }), { code: 'FAILED_PRECONDITION' });
    checkAttachable(record('CONTAINER_RUNNING', { stdin: true, tty: true }), { ...request, stdin: true, tty: true });
    checkAttachable(record('CONTAINER_RUNNING', { stdin: true, tty: true }), request);
  });
});
