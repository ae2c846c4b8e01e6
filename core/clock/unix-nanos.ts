// The one clock for CRI timestamps. CRI carries times as nanoseconds since the Unix epoch (int64,
// sent as a decimal string by our proto options); the host gives milliseconds, so every stamp is
// milliseconds scaled up, and every reader of a stamp scales it back down here too.

const NANOS_PER_MILLI = 1_000_000n;

/** Now, in nanoseconds since the epoch. */
export function nowNanos(): bigint {
  return BigInt(Date.now()) * NANOS_PER_MILLI;
}

/** Now, as the decimal string CRI messages and records carry. */
export function nowNanosText(): string {
  return nowNanos().toString();
}

/** A time in milliseconds since the epoch (Date.now(), a file's mtimeMs), in nanoseconds. */
export function millisToNanos(millis: number): bigint {
  return BigInt(Math.trunc(millis)) * NANOS_PER_MILLI;
}

/** A nanosecond stamp (bigint, or the string a message carries) in whole milliseconds. */
export function nanosToMillis(nanos: bigint | string | number): number {
  return Number(BigInt(nanos) / NANOS_PER_MILLI);
}
