import * as grpc from '@grpc/grpc-js';
import { loadCriServices } from '../../core/cri/cri-proto';
import type { ContainerEventResponse__Output } from '../../core/cri/generated/runtime/v1/ContainerEventResponse';
import { truncateId } from '../format';

// `caisson events`: prints the daemon's pod lifecycle events (GetContainerEvents) as they happen,
// a table line (or a JSON line) each, until Ctrl-C or the daemon ends the stream.

export interface EventsOptions {
  readonly json?: boolean;
}

const COLUMNS = [
  ['TIME', 30],
  ['TYPE', 8],
  ['CONTAINER', 13],
  ['POD', 13],
] as const;

/** CONTAINER_STOPPED_EVENT → STOPPED. */
export function eventTypeWord(type: string): string {
  return type.replace(/^CONTAINER_/, '').replace(/_EVENT$/, '');
}

/** Nanoseconds since the epoch (a decimal string) → RFC 3339 UTC with nanoseconds. */
export function eventTime(nanos: string): string {
  const value = BigInt(nanos === '' ? '0' : nanos);
  const seconds = value / 1_000_000_000n;
  const fraction = (value % 1_000_000_000n).toString().padStart(9, '0');
  return new Date(Number(seconds) * 1000).toISOString().replace(/\.\d{3}Z$/, `.${fraction}Z`);
}

export function eventTableHeader(): string {
  return formatRow(COLUMNS.map(([name]) => name));
}

export function eventTableLine(event: ContainerEventResponse__Output): string {
  return formatRow([eventTime(event.created_at), eventTypeWord(event.container_event_type), truncateId(event.container_id), truncateId(event.pod_sandbox_status?.id ?? '')]);
}

function formatRow(cells: readonly string[]): string {
  return cells.map((cell, i) => (i === cells.length - 1 ? cell : cell.padEnd(COLUMNS[i]?.[1] ?? 0))).join('   ');
}

type EventsClient = grpc.Client & { GetContainerEvents(request: object): grpc.ClientReadableStream<ContainerEventResponse__Output> };

/** Streams until interrupted (SIGINT/SIGTERM: exits 0) or the daemon ends the stream (an error exits 1). */
export async function eventsCommand(address: string, options: EventsOptions): Promise<void> {
  const target = address.startsWith('unix://') ? address : `unix://${address}`;
  const { RuntimeService } = loadCriServices('v1');
  const client = new RuntimeService(target, grpc.credentials.createInsecure()) as unknown as EventsClient;
  const call = client.GetContainerEvents({});
  let interrupted = false;
  const interrupt = (): void => {
    interrupted = true;
    call.cancel();
  };
  process.once('SIGINT', interrupt);
  process.once('SIGTERM', interrupt);
  try {
    if (!options.json) process.stdout.write(`${eventTableHeader()}\n`);
    await new Promise<void>((resolve, reject) => {
      call.on('data', (event: ContainerEventResponse__Output) => {
        process.stdout.write(options.json ? `${JSON.stringify(event)}\n` : `${eventTableLine(event)}\n`);
      });
      call.on('error', (error: grpc.ServiceError) => (interrupted && error.code === grpc.status.CANCELLED ? resolve() : reject(error)));
      call.on('end', () => resolve());
    });
  } finally {
    process.removeListener('SIGINT', interrupt);
    process.removeListener('SIGTERM', interrupt);
    client.close();
  }
}
