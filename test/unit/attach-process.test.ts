import assert from 'node:assert/strict';
import type { ContainerRecord } from '../../core/containers/container-record';
import type { AttachSession, AttachSessionEvents } from '../../core/runtime/attach-session';
import type { KubeStatus } from '../../core/streaming/channel-protocol';
import { startAttach, type AttachTarget } from '../../core/streaming/attach-process';
import type { StdioSink, TerminalSize } from '../../core/streaming/remote-command';

// The Attach session's flow control and lifecycle over a fake runtime session: what the runtime
// speaks underneath (conmon's packets) is the runc plugin's, tested in conmon-attach-session.test.ts.

class FakeSession implements AttachSession {
  readonly peer = 'fake (/run/attach)';
  events!: AttachSessionEvents;
  readonly stdin: Buffer[] = [];
  readonly written: (() => void)[] = [];
  stdinClosed: (() => void) | undefined;
  readonly sizes: TerminalSize[] = [];
  resizeError: Error | undefined;
  closed = 0;

  writeStdin(data: Buffer, written: () => void): void {
    this.stdin.push(data);
    this.written.push(written);
  }
  closeStdin(then: () => void): void {
    this.stdinClosed = then;
  }
  resize(size: TerminalSize): void {
    if (this.resizeError) throw this.resizeError;
    this.sizes.push(size);
  }
  close(): void {
    this.closed += 1;
  }
}

class RecordingSink implements StdioSink {
  readonly out: string[] = [];
  readonly err: string[] = [];
  readonly statuses: KubeStatus[] = [];
  stdout(chunk: Buffer): boolean {
    this.out.push(chunk.toString());
    return true;
  }
  stderr(chunk: Buffer): boolean {
    this.err.push(chunk.toString());
    return true;
  }
  whenDrained(resume: () => void): void {
    resume();
  }
  done(status: KubeStatus): void {
    this.statuses.push(status);
  }
}

function record(config: { stdin?: boolean; stdin_once?: boolean; tty?: boolean } = {}): ContainerRecord {
  return { id: 'c1', state: 'CONTAINER_RUNNING', config: { stdin: false, stdin_once: false, tty: false, ...config } } as unknown as ContainerRecord;
}

function setup(streams: Partial<Omit<AttachTarget, 'record' | 'open'>> = {}, config: Parameters<typeof record>[0] = {}) {
  const session = new FakeSession();
  const sink = new RecordingSink();
  const errors: unknown[] = [];
  const target: AttachTarget = {
    record: record(config),
    open: (events) => {
      session.events = events;
      return session;
    },
    stdin: false,
    stdout: true,
    stderr: false,
    tty: false,
    ...streams,
  };
  const control = startAttach(target, sink, (error) => errors.push(error));
  return { session, sink, errors, control };
}

describe('attach process', () => {
  it('passes the streams the client asked for, drops the others, and ends with Success when the runtime side ends', () => {
    const { session, sink } = setup({ stdout: true, stderr: false });
    session.events.output('stdout', Buffer.from('out'));
    session.events.output('stderr', Buffer.from('err'));
    assert.deepEqual(sink.out, ['out']);
    assert.deepEqual(sink.err, []);
    session.events.end();
    session.events.end();
    assert.deepEqual(sink.statuses, [{ metadata: {}, status: 'Success' }]);
    assert.equal(session.closed, 1);
    session.events.output('stdout', Buffer.from('late'));
    assert.deepEqual(sink.out, ['out']);
  });

  it('answers a Failure Status when the session cannot be opened (the container exited)', () => {
    const sink = new RecordingSink();
    const target: AttachTarget = {
      record: record(),
      open: () => {
        throw new Error('cannot connect to the attach socket /b/attach: ENOENT');
      },
      stdin: true,
      stdout: true,
      stderr: false,
      tty: false,
    };
    const control = startAttach(target, sink, () => assert.fail('not an error of the session'));
    assert.equal(sink.statuses.length, 1);
    assert.equal(sink.statuses[0]?.status, 'Failure');
    assert.equal(sink.statuses[0]?.message, 'cannot attach to container c1: cannot connect to the attach socket /b/attach: ENOENT (has the container exited?)');
    assert.equal(control.writeStdin(Buffer.from('x')), true);
  });

  it('reports a lost connection once, naming the peer', () => {
    const { session, sink, errors } = setup();
    const error = new Error('ECONNRESET');
    session.events.error(error);
    session.events.error(new Error('again'));
    assert.deepEqual(errors, [error]);
    assert.equal(sink.statuses.length, 1);
    assert.equal(sink.statuses[0]?.message, 'attach to container c1 lost its connection to fake (/run/attach): ECONNRESET');
    assert.equal(session.closed, 1);
  });

  it('asks the client to wait past 1 MiB of stdin on its way, and resumes it once the bytes are written', () => {
    const { session, control } = setup({ stdin: true }, { stdin: true });
    assert.equal(control.writeStdin(Buffer.alloc(512 * 1024)), true);
    assert.equal(control.writeStdin(Buffer.alloc(512 * 1024)), false);
    let resumed = 0;
    control.whenStdinDrained(() => (resumed += 1));
    assert.equal(resumed, 0);
    session.written[0]?.();
    assert.equal(resumed, 1);
    control.whenStdinDrained(() => (resumed += 1));
    assert.equal(resumed, 2);
    assert.deepEqual(session.stdin.map((chunk) => chunk.length), [512 * 1024, 512 * 1024]);
  });

  it('ignores stdin the client did not ask for, and stdin after it closed', () => {
    const none = setup({ stdin: false }, { stdin: true });
    assert.equal(none.control.writeStdin(Buffer.from('x')), true);
    none.control.closeStdin();
    assert.deepEqual(none.session.stdin, []);
    assert.equal(none.session.stdinClosed, undefined);

    const { session, control } = setup({ stdin: true }, { stdin: true, stdin_once: true });
    control.closeStdin();
    control.writeStdin(Buffer.from('late'));
    assert.deepEqual(session.stdin, []);
  });

  it('ends when the client closes stdin the container keeps open (stdin without stdin_once), not otherwise', () => {
    const kept = setup({ stdin: true }, { stdin: true, stdin_once: false });
    kept.control.closeStdin();
    assert.deepEqual(kept.sink.statuses, []);
    kept.session.stdinClosed?.();
    assert.deepEqual(kept.sink.statuses, [{ metadata: {}, status: 'Success' }]);

    const once = setup({ stdin: true }, { stdin: true, stdin_once: true });
    once.control.closeStdin();
    once.session.stdinClosed?.();
    assert.deepEqual(once.sink.statuses, []);
  });

  it('resizes only with a TTY, and reports a failed resize once', () => {
    const plain = setup({ tty: false });
    plain.control.resize({ width: 80, height: 24 });
    assert.deepEqual(plain.session.sizes, []);

    const { session, control, errors } = setup({ tty: true }, { tty: true });
    control.resize({ width: 80, height: 24 });
    assert.deepEqual(session.sizes, [{ width: 80, height: 24 }]);
    session.resizeError = new Error('ENXIO');
    control.resize({ width: 100, height: 30 });
    control.resize({ width: 120, height: 40 });
    assert.equal(errors.length, 1);
    assert.equal((errors[0] as Error).message, 'cannot resize the terminal of container c1: ENXIO');
  });

  it('detaches on abort: the session closes, waiting stdin resumes, the status is Success', () => {
    const { session, sink, control } = setup({ stdin: true }, { stdin: true });
    control.writeStdin(Buffer.alloc(2 * 1024 * 1024));
    let resumed = false;
    control.whenStdinDrained(() => (resumed = true));
    control.abort();
    control.abort();
    assert.equal(resumed, true);
    assert.equal(session.closed, 1);
    assert.deepEqual(sink.statuses, [{ metadata: {}, status: 'Success' }]);
  });
});
