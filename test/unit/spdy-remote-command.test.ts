import assert from 'node:assert/strict';
import * as http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import type { KubeStatus } from '../../core/streaming/channel-protocol';
import type { RemoteCommand, TerminalSize } from '../../core/streaming/remote-command';
import { acceptSpdyUpgrade } from '../../core/streaming/spdy-connection';
import { errorStreamPayload, expectedExecStreams, JsonMessageSplitter, serveRemoteCommandSpdy } from '../../core/streaming/spdy-remote-command';
import { spdyUpgrade, type SpdyClientSession } from '../support/spdy-client';

// The SPDY remote-command transport without a container: which streams a client must open, what
// the error stream says, how resize messages are cut, and a session with a TTY whose resize
// stream carries messages several to a write and split across writes, on a real SPDY
// connection over loopback.

describe('SPDY remote command', () => {
  describe('expectedExecStreams', () => {
    const request = { stdin: true, stdout: true, stderr: true, tty: false };
    it('asks for error plus the stdio the request named', () => {
      assert.deepEqual(expectedExecStreams(request, 'v4.channel.k8s.io'), ['error', 'stdin', 'stdout', 'stderr']);
      assert.deepEqual(expectedExecStreams({ ...request, stdin: false, stderr: false }, 'v2.channel.k8s.io'), ['error', 'stdout']);
    });
    it('with a TTY: no stderr (it is merged into stdout), and resize from v3 on', () => {
      const tty = { ...request, tty: true };
      assert.deepEqual(expectedExecStreams(tty, 'v4.channel.k8s.io'), ['error', 'stdin', 'stdout', 'resize']);
      assert.deepEqual(expectedExecStreams(tty, 'v3.channel.k8s.io'), ['error', 'stdin', 'stdout', 'resize']);
      assert.deepEqual(expectedExecStreams(tty, 'v2.channel.k8s.io'), ['error', 'stdin', 'stdout']);
    });
  });

  describe('errorStreamPayload', () => {
    const failure: KubeStatus = { metadata: {}, status: 'Failure', message: 'it broke', reason: 'InternalError' };
    it('v4 sends the Status as JSON, Success too', () => {
      assert.deepEqual(JSON.parse(errorStreamPayload(failure, 'v4.channel.k8s.io') ?? ''), failure);
      assert.equal(errorStreamPayload({ metadata: {}, status: 'Success' }, 'v4.channel.k8s.io'), '{"metadata":{},"status":"Success"}');
    });
    it('older protocols send the message of a failure and nothing on success', () => {
      assert.equal(errorStreamPayload(failure, 'v3.channel.k8s.io'), 'it broke');
      assert.equal(errorStreamPayload(failure, 'channel.k8s.io'), 'it broke');
      assert.equal(errorStreamPayload({ metadata: {}, status: 'Success' }, 'v2.channel.k8s.io'), undefined);
    });
  });

  describe('JsonMessageSplitter', () => {
    it('cuts back-to-back objects, with or without the newline a JSON encoder puts between', () => {
      const splitter = new JsonMessageSplitter();
      assert.deepEqual(splitter.push('{"Width":80,"Height":24}\n{"Width":100,"Height":40}{"Width":1,"Height":2}\n'), [
        '{"Width":80,"Height":24}',
        '{"Width":100,"Height":40}',
        '{"Width":1,"Height":2}',
      ]);
    });
    it('keeps a message split across writes until it is whole', () => {
      const splitter = new JsonMessageSplitter();
      assert.deepEqual(splitter.push('{"Width":8'), []);
      assert.deepEqual(splitter.push('0,"Hei'), []);
      assert.deepEqual(splitter.push(Buffer.from('ght":24}\n{"Width":')), ['{"Width":80,"Height":24}']);
      assert.deepEqual(splitter.push('90,"Height":30}'), ['{"Width":90,"Height":30}']);
    });
    it('keeps a multi-byte character split across writes, and braces inside strings', () => {
      const splitter = new JsonMessageSplitter();
      const text = Buffer.from('{"note":"é } {","Width":3,"Height":4}');
      const at = text.indexOf(0xa9); // the second byte of é
      assert.deepEqual(splitter.push(text.subarray(0, at)), []);
      assert.deepEqual(splitter.push(text.subarray(at)), ['{"note":"é } {","Width":3,"Height":4}']);
    });
    it('skips what is between objects and gives up on an object that never ends', () => {
      const splitter = new JsonMessageSplitter();
      assert.deepEqual(splitter.push('garbage\n{"Width":5,"Height":6}'), ['{"Width":5,"Height":6}']);
      assert.deepEqual(splitter.push(`{"x":"${'a'.repeat(5000)}`), []);
      assert.deepEqual(splitter.push('"}{"Width":7,"Height":8}'), ['{"Width":7,"Height":8}']);
    });
  });

  describe('a session with a TTY (v4)', () => {
    let server: http.Server;
    let session: SpdyClientSession | undefined;
    const sizes: TerminalSize[] = [];
    const stdin: string[] = [];
    let aborted = 0;

    const command: RemoteCommand = {
      description: 'exec in container test',
      stdin: true,
      stdout: true,
      stderr: true,
      tty: true,
      start: (given) => {
        return {
          writeStdin: (data) => stdin.push(data.toString()) > 0,
          whenStdinDrained: (resume) => resume(),
          closeStdin: () => {
            given.stdout(Buffer.from(`sizes ${sizes.map((s) => `${s.width}x${s.height}`).join(' ')}; stdin ${stdin.join('')}`));
            given.done({ metadata: {}, status: 'Success' });
          },
          resize: (size) => void sizes.push(size),
          abort: () => void aborted++,
        };
      },
    };

    beforeEach(async () => {
      sizes.length = 0;
      stdin.length = 0;
      aborted = 0;
      server = http.createServer();
      server.on('upgrade', (_req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
        serveRemoteCommandSpdy(acceptSpdyUpgrade(socket, head, 'v4.channel.k8s.io'), 'v4.channel.k8s.io', command, (error) => assert.fail(String(error)));
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
    });
    afterEach(async () => {
      session?.destroy();
      session = undefined;
      await new Promise<void>((resolve) => server.close(() => resolve()));
    });

    it('opens on error, stdin, stdout and resize; applies each resize message however the writes cut them', async () => {
      const answer = await spdyUpgrade(`http://127.0.0.1:${(server.address() as AddressInfo).port}/exec/x`, ['v4.channel.k8s.io']);
      assert.equal(answer.status, 101);
      session = answer.session;
      assert.ok(session);
      const error = await session.openStream({ streamtype: 'error' });
      const input = await session.openStream({ streamtype: 'stdin' });
      const output = await session.openStream({ streamtype: 'stdout' });
      const resize = await session.openStream({ streamtype: 'resize' });
      resize.stream.write('{"Width":80,"Height":24}\n{"Width":100,');
      resize.stream.write('"Height":50}\n{"Width":120,"Height":60}\n');
      input.stream.write('typed');
      // Both streams are read as the data comes; wait until the resizes are in before ending stdin.
      for (let i = 0; i < 100 && sizes.length < 3; i++) await new Promise((r) => setTimeout(r, 10));
      input.stream.end();
      assert.equal(await output.text(), 'sizes 80x24 100x50 120x60; stdin typed');
      assert.deepEqual(JSON.parse(await error.text()), { metadata: {}, status: 'Success' });
      session.destroy();
      await session.closed;
      // The session had ended: a connection closing afterwards aborts nothing twice, if at all.
      assert.ok(aborted <= 1, `abort called ${aborted} times`);
    });

    it('refuses a stderr stream with a TTY (the kubelet never expects one)', async () => {
      const answer = await spdyUpgrade(`http://127.0.0.1:${(server.address() as AddressInfo).port}/exec/x`, ['v4.channel.k8s.io']);
      session = answer.session;
      assert.ok(session);
      await session.openStream({ streamtype: 'error' });
      await assert.rejects(session.openStream({ streamtype: 'stderr' }), /the server did not accept stream streamtype=stderr: it was reset/);
    });
  });
});
