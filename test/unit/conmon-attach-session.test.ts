import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import type { SeqpacketServer, SeqpacketSocket } from 'node-unix-socket';
import type { AttachStream } from '../../core/runtime/attach-session';
import { conmonAttachEndpoints } from '../../plugins/runc/conmon';
import { openConmonAttachSession } from '../../plugins/runc/conmon-attach-session';

// The runc plugin's attach session against a stand-in for conmon: a SOCK_SEQPACKET server and a
// FIFO in a temporary bundle, the way conmon --full-attach lays them out. No root needed.

const { SeqpacketServer: Server } = require('node-unix-socket') as typeof import('node-unix-socket');

/** Resolves once `check` holds, polling the event loop (the addon calls back asynchronously). */
async function until(check: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 5_000;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('conmon attach session', () => {
  let bundle: string;
  let server: SeqpacketServer | undefined;
  let peer: SeqpacketSocket | undefined;
  const received: Buffer[] = [];
  let peerEnded = false;

  beforeEach(() => {
    bundle = fs.mkdtempSync(path.join(os.tmpdir(), 'caisson-attach-'));
    received.length = 0;
    peerEnded = false;
    peer = undefined;
    server = new Server();
    server.on('connection', (socket: SeqpacketSocket) => {
      peer = socket;
      socket.on('data', (packet: Buffer) => received.push(Buffer.from(packet)));
      socket.on('end', () => (peerEnded = true));
      socket.on('error', () => undefined);
    });
    server.listen(conmonAttachEndpoints(bundle).socket);
  });

  afterEach(() => {
    peer?.destroy();
    server?.close();
    server = undefined;
    fs.rmSync(bundle, { recursive: true, force: true });
  });

  const collect = () => {
    const output: [AttachStream, string][] = [];
    let ended = 0;
    const errors: Error[] = [];
    const events = {
      output: (stream: AttachStream, data: Buffer) => output.push([stream, data.toString()]),
      end: () => (ended += 1),
      error: (error: Error) => errors.push(error),
    };
    return { output, errors, events, ended: () => ended };
  };

  it('sends stdin written before the connection is up, in packets, and says when it is out', async () => {
    const { events } = collect();
    const session = openConmonAttachSession(conmonAttachEndpoints(bundle), events);
    assert.equal(session.peer, `conmon (${bundle}/attach)`);
    const input = Buffer.from('early\n');
    let written = 0;
    session.writeStdin(input, () => (written += 1));
    input.fill(0); // the caller may reuse its buffer at once
    session.writeStdin(Buffer.alloc(40_000, 'a'), () => (written += 1));
    await until(() => written === 2 && received.length === 3, 'stdin to arrive');
    assert.deepEqual(received.map((packet) => packet.length), [6, 32_767, 7_233]);
    assert.equal(received[0]?.toString(), 'early\n');
    session.close();
  });

  it('splits output by its pipe byte, drops other pipes, and ends when conmon closes', async () => {
    const { output, events, ended, errors } = collect();
    const session = openConmonAttachSession(conmonAttachEndpoints(bundle), events);
    await until(() => peer !== undefined, 'the connection');
    peer?.write(Buffer.from('\x02out'));
    peer?.write(Buffer.from('\x03err'));
    peer?.write(Buffer.from('\x01in'));
    peer?.write(Buffer.from('\x02more'));
    await until(() => output.length === 3, 'output');
    assert.deepEqual(output, [['stdout', 'out'], ['stderr', 'err'], ['stdout', 'more']]);
    peer?.end();
    await until(() => ended() === 1, 'the end');
    assert.deepEqual(errors, []);
    session.close();
    session.close();
  });

  it('half-closes stdin (held until connected) and then calls back', async () => {
    const { events } = collect();
    const session = openConmonAttachSession(conmonAttachEndpoints(bundle), events);
    let closed = false;
    session.writeStdin(Buffer.from('last'), () => undefined);
    session.closeStdin(() => (closed = true));
    await until(() => closed && peerEnded, 'the half-close');
    assert.deepEqual(received.map(String), ['last']);
    session.close();
  });

  it('writes resizes to the control FIFO, clamped, and fails with the FIFO when conmon is gone', async () => {
    const { events } = collect();
    const { controlFifo } = conmonAttachEndpoints(bundle);
    execFileSync('mkfifo', [controlFifo]);
    const session = openConmonAttachSession(conmonAttachEndpoints(bundle), events);
    assert.throws(() => session.resize({ width: 80, height: 24 }), (error: Error) =>
      error.message.startsWith(`cannot write to conmon's control FIFO ${controlFifo}: `) && error.message.includes('ENXIO'),
    );
    const reader = fs.openSync(controlFifo, fs.constants.O_RDONLY | fs.constants.O_NONBLOCK);
    try {
      session.resize({ width: 4000, height: 30 });
      const buffer = Buffer.alloc(64);
      const length = fs.readSync(reader, buffer);
      assert.equal(buffer.subarray(0, length).toString(), '1 30 1000\n');
    } finally {
      session.close();
      fs.closeSync(reader);
    }
  });

  it('throws when there is no socket to connect to (the container exited)', () => {
    const { events } = collect();
    const endpoints = conmonAttachEndpoints(path.join(bundle, 'gone'));
    assert.throws(() => openConmonAttachSession(endpoints, events), /^Error: cannot open the directory of the attach socket .*\/gone\/attach: /);
    fs.mkdirSync(path.join(bundle, 'gone'));
    assert.throws(() => openConmonAttachSession(endpoints, events), /^Error: cannot connect to the attach socket .*\/gone\/attach: /);
  });
});
