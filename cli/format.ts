// Human formats for the CLI's tables.
import { nanosToMillis } from '../core/clock/unix-nanos';

export function formatBytes(bytes: number): string {
  const units = ['B', 'kB', 'MB', 'GB', 'TB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1000 && unit < units.length - 1) {
    value /= 1000;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(value < 10 ? 2 : 1)}${units[unit]}`;
}

/** "sha256:0123…" → "0123456789ab" (12 hex digits, as docker and crictl show IDs). */
export function shortId(id: string): string {
  return id.replace(/^sha256:/, '').slice(0, 12);
}

/** Left-aligned columns separated by three spaces. */
export function formatTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]): string => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0))).join('   ');
  return [line(header), ...rows.map(line)].join('\n') + '\n';
}

/** A CRI container or sandbox ID as crictl shows it in tables: its first 13 characters. */
export function truncateId(id: string, length = 13): string {
  return id.slice(0, length);
}

/** Like docker's go-units HumanDuration: "Less than a second", "5 seconds", "About a minute"… */
export function humanDuration(ms: number): string {
  const seconds = Math.floor(ms / 1000);
  if (seconds < 1) return 'Less than a second';
  if (seconds === 1) return '1 second';
  if (seconds < 60) return `${seconds} seconds`;
  const minutes = Math.floor(seconds / 60);
  if (minutes === 1) return 'About a minute';
  if (minutes < 60) return `${minutes} minutes`;
  const hours = Math.round(ms / 3_600_000);
  if (hours === 1) return 'About an hour';
  if (hours < 48) return `${hours} hours`;
  if (hours < 24 * 7 * 2) return `${Math.floor(hours / 24)} days`;
  if (hours < 24 * 30 * 2) return `${Math.floor(hours / 24 / 7)} weeks`;
  if (hours < 24 * 365 * 2) return `${Math.floor(hours / 24 / 30)} months`;
  return `${Math.floor(ms / 3_600_000 / 24 / 365)} years`;
}

/** A CRI timestamp (int64 nanoseconds since the epoch, as a string) → "5 seconds ago". */
export function createdAgo(nanos: unknown, now: number = Date.now()): string {
  const ms = nanosToMillis(String(nanos ?? 0));
  return `${humanDuration(Math.max(0, now - ms))} ago`;
}

/** SANDBOX_READY → Ready, SANDBOX_NOTREADY → NotReady (as crictl pods shows them). */
export function podStateName(state: unknown): string {
  return state === 'SANDBOX_READY' ? 'Ready' : state === 'SANDBOX_NOTREADY' ? 'NotReady' : String(state);
}

/** CONTAINER_RUNNING → Running, and so on (as crictl ps shows them). */
export function containerStateName(state: unknown): string {
  const word = String(state).replace(/^CONTAINER_/, '').toLowerCase();
  return word.charAt(0).toUpperCase() + word.slice(1);
}
