import assert from 'node:assert/strict';
import type { ContainerEventResponse__Output } from '../../core/cri/generated/runtime/v1/ContainerEventResponse';
import { eventTableHeader, eventTableLine, eventTime, eventTypeWord } from '../../cli/commands/events';

// The table lines of `caisson events`.

describe('pod-events CLI formatting', () => {
  it('names event types without CONTAINER_ and _EVENT', () => {
    assert.deepEqual(
      ['CONTAINER_CREATED_EVENT', 'CONTAINER_STARTED_EVENT', 'CONTAINER_STOPPED_EVENT', 'CONTAINER_DELETED_EVENT'].map(eventTypeWord),
      ['CREATED', 'STARTED', 'STOPPED', 'DELETED'],
    );
  });

  it('prints times with nanoseconds in UTC', () => {
    assert.equal(eventTime('1700000000123456789'), '2023-11-14T22:13:20.123456789Z');
    assert.equal(eventTime('0'), '1970-01-01T00:00:00.000000000Z');
  });

  it('lines up TIME, TYPE, CONTAINER and POD with IDs cut to 13 characters', () => {
    const event = {
      container_id: 'a'.repeat(64),
      container_event_type: 'CONTAINER_STOPPED_EVENT',
      created_at: '1700000000123456789',
      pod_sandbox_status: { id: 'b'.repeat(64) },
      containers_statuses: [],
    } as unknown as ContainerEventResponse__Output;
    assert.equal(eventTableHeader(), 'TIME                             TYPE       CONTAINER       POD');
    assert.equal(eventTableLine(event), `2023-11-14T22:13:20.123456789Z   STOPPED    ${'a'.repeat(13)}   ${'b'.repeat(13)}`);
  });
});
