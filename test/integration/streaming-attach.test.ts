import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type { CriClient } from '../../cli/cri-client';
import { useBusyboxPods, type BusyboxPod } from '../support/busybox-pods';
import { ChannelClient } from '../support/channel-client';
import { containerConfig, startContainer, waitForExit } from '../support/pod-fixtures';

// Attach over WebSocket (v5.channel.k8s.io) with real runc and conmon: the session relays the
// container's own stdio through conmon's attach socket, resizes its terminal through conmon's
// control FIFO, and leaves the container running when the client detaches.

/** The answers of `stty size` ("rows cols" lines) in a terminal's output, in order. */
const sizeAnswers = (text: string): string[] => [...text.matchAll(/^(\d+ \d+)\r?$/gm)].map((m) => m[1] ?? '');

/**
 * Asks the shell for its terminal size until it answers `expected`. The resize (control FIFO)
 * and the input (attach socket) reach conmon by two ways, so a `stty size` may run before the
 * resize lands.
 */
async function waitForSize(session: ChannelClient, expected: string): Promise<void> {
  for (let attempt = 1; sizeAnswers(session.text(1)).at(-1) !== expected; attempt++) {
    assert.ok(attempt <= 50, `the terminal never became ${expected}; output: ${JSON.stringify(session.text(1))}`);
    const before = sizeAnswers(session.text(1)).length;
    session.send(0, 'stty size\n');
    await session.waitFor(1, (text) => sizeAnswers(text).length > before, `an answer to stty size (attempt ${attempt})`);
  }
}

const SUCCESS = { metadata: {}, status: 'Success' };

describe('streaming: Attach over WebSocket', function () {
  this.timeout(120_000);
  const pods = useBusyboxPods('attachlogs');
  const start = (): Promise<BusyboxPod> => pods.startPod();
  const attach = async (client: CriClient, request: Record<string, unknown>): Promise<ChannelClient> => {
    const { url } = await client.call('Attach', request);
    assert.match(String(url), /^http:\/\/127\.0\.0\.1:\d+\/attach\/[A-Za-z0-9_-]{22}$/);
    return ChannelClient.open(String(url), ['v5.channel.k8s.io']);
  };
  const state = async (client: CriClient, id: string): Promise<string> => String((await client.call('ContainerStatus', { container_id: id })).status?.state);

  it('relays stdin to a non-TTY container and its stdout back; closing stdin ends the session, the container runs on', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('cat', pods.image, ['cat'], { stdin: true }));
    const session = await attach(client, { container_id: id, stdin: true, stdout: true });
    session.send(0, 'hello\n');
    assert.equal(await session.waitFor(1, /hello\n/), 'hello\n');
    // stdin stays open across sessions (no stdin_once): the client's half-close ends the session.
    session.halfCloseStdin();
    assert.equal(await session.closed, 1000);
    assert.deepEqual(JSON.parse(session.text(3)), SUCCESS);
    assert.equal(await state(client, id), 'CONTAINER_RUNNING');

    const again = await attach(client, { container_id: id, stdin: true, stdout: true });
    again.send(0, 'still there\n');
    assert.equal(await again.waitFor(1, /still there\n/), 'still there\n');
    again.ws.close();
    await again.closed;
  });

  it('relays a large input whole (cut into packets conmon reads whole)', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('cat', pods.image, ['cat'], { stdin: true }));
    const session = await attach(client, { container_id: id, stdin: true, stdout: true });
    const line = 'abcdefghijklmnopqrstuvwxyz0123456789\n';
    const input = line.repeat(Math.ceil(200_000 / line.length));
    session.send(0, input);
    await session.waitFor(1, (text) => text.length >= input.length, `${input.length} bytes back`);
    assert.equal(session.text(1), input);
    session.ws.close();
    await session.closed;
  });

  it('relays stdout and stderr of a container on their own channels', async () => {
    const { client, podId, pod } = await start();
    const script = 'while true; do echo to-stdout; echo to-stderr >&2; sleep 0.2; done';
    const id = await startContainer(client, podId, pod, containerConfig('chatty', pods.image, ['sh', '-c', script]));
    const session = await attach(client, { container_id: id, stdout: true, stderr: true });
    await session.waitFor(1, /to-stdout\n/);
    await session.waitFor(2, /to-stderr\n/);
    assert.doesNotMatch(session.text(1), /to-stderr/);
    assert.doesNotMatch(session.text(2), /to-stdout/);

    // Asking for stderr only: stdout is read from conmon and dropped.
    const errOnly = await attach(client, { container_id: id, stderr: true });
    await errOnly.waitFor(2, /(to-stderr\n){2}/);
    assert.equal(errOnly.text(1), '');
    session.ws.close();
    errOnly.ws.close();
    await Promise.all([session.closed, errOnly.closed]);
  });

  it('resizes the terminal of a TTY container and relays what its shell prints', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('shell', pods.image, ['sh'], { stdin: true, tty: true }));
    const session = await attach(client, { container_id: id, stdin: true, stdout: true, tty: true });
    session.resize(100, 30);
    await waitForSize(session, '30 100');
    session.resize(123, 45);
    await waitForSize(session, '45 123');
    session.ws.close();
    await session.closed;
    assert.equal(await state(client, id), 'CONTAINER_RUNNING');
  });

  it('detaching (closing the socket) leaves the container running, its stdin still attachable', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('cat', pods.image, ['cat'], { stdin: true }));
    const first = await attach(client, { container_id: id, stdin: true, stdout: true });
    first.send(0, 'one\n');
    await first.waitFor(1, /one\n/);
    first.ws.terminate();
    await first.closed;
    assert.equal(await state(client, id), 'CONTAINER_RUNNING');

    const second = await attach(client, { container_id: id, stdin: true, stdout: true });
    second.send(0, 'two\n');
    assert.equal(await second.waitFor(1, /two\n/), 'two\n');
    second.ws.close();
    await second.closed;
    assert.equal(await state(client, id), 'CONTAINER_RUNNING');
  });

  it('ends the session with a Success Status on channel 3 when the container exits', async () => {
    const { client, podId, pod } = await start();
    const config = containerConfig('once', pods.image, ['sh', '-c', 'read line; echo "bye $line"; echo gone >&2; exit 3'], { stdin: true, stdin_once: true });
    const id = await startContainer(client, podId, pod, config);
    const session = await attach(client, { container_id: id, stdin: true, stdout: true, stderr: true });
    session.send(0, 'now\n');
    assert.equal(await session.closed, 1000);
    assert.equal(session.text(1), 'bye now\n');
    assert.equal(session.text(2), 'gone\n');
    // As the kubelet's attach: the session ended well; the exit code is ContainerStatus's to tell.
    assert.deepEqual(JSON.parse(session.text(3)), SUCCESS);
    const status = await waitForExit(client, id);
    assert.equal(status.exit_code, 3);
  });

  it('validates Attach requests', async () => {
    const { client, podId, pod } = await start();
    const plain = await startContainer(client, podId, pod, containerConfig('plain', pods.image, ['sleep', '300']));
    const quick = await startContainer(client, podId, pod, containerConfig('quick', pods.image, ['true']));
    await assert.rejects(client.call('Attach', { container_id: '', stdout: true }), { code: grpc.status.INVALID_ARGUMENT, details: 'Attach needs a container_id' });
    await assert.rejects(client.call('Attach', { container_id: plain }), {
      code: grpc.status.INVALID_ARGUMENT,
      details: `Attach to container ${plain}: one of stdin, stdout or stderr must be set`,
    });
    await assert.rejects(client.call('Attach', { container_id: plain, tty: true, stdout: true, stderr: true }), {
      code: grpc.status.INVALID_ARGUMENT,
      details: `Attach to container ${plain}: tty and stderr cannot both be set (a terminal merges stderr into stdout)`,
    });
    await assert.rejects(client.call('Attach', { container_id: 'nope', stdout: true }), { code: grpc.status.NOT_FOUND, details: 'container nope not found' });
    await assert.rejects(client.call('Attach', { container_id: plain, stdin: true, stdout: true }), {
      code: grpc.status.FAILED_PRECONDITION,
      details: `Attach to container ${plain}: stdin was requested, but the container was created without stdin (set stdin in its config to attach input)`,
    });
    await assert.rejects(client.call('Attach', { container_id: plain, tty: true, stdout: true }), {
      code: grpc.status.FAILED_PRECONDITION,
      details: `Attach to container ${plain}: a TTY was requested, but the container was created without one (attach without tty, or create it with tty)`,
    });
    await waitForExit(client, quick);
    await assert.rejects(client.call('Attach', { container_id: quick, stdout: true }), {
      code: grpc.status.FAILED_PRECONDITION,
      details: `container ${quick} is not running (CONTAINER_EXITED); Attach needs a running container`,
    });
  });

  it('answers a Failure Status when the container exits between Attach and opening the URL', async () => {
    const { client, podId, pod } = await start();
    const id = await startContainer(client, podId, pod, containerConfig('short', pods.image, ['sh', '-c', 'read line'], { stdin: true, stdin_once: true }));
    const { url } = await client.call('Attach', { container_id: id, stdout: true });
    // Ends the container through a first session, so the URL above outlives its conmon.
    const closer = await attach(client, { container_id: id, stdin: true, stdout: true });
    closer.send(0, 'done\n');
    await closer.closed;
    await waitForExit(client, id);
    const late = await ChannelClient.open(String(url), ['v5.channel.k8s.io']);
    await late.closed;
    const status = JSON.parse(late.text(3)) as { status: string; message: string };
    assert.equal(status.status, 'Failure');
    assert.match(status.message, new RegExp(`^cannot attach to container ${id}: cannot connect to the attach socket .*/bundle/attach: .* \\(has the container exited\\?\\)$`));
  });
});
