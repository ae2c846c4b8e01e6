// Which /proc and /sys paths the container may not see (linux.maskedPaths) or not write
// (linux.readonlyPaths): the kernel interfaces that leak host information or let a container
// change the host. The CRI lists replace the defaults; a privileged container gets neither.

export const DEFAULT_MASKED_PATHS: readonly string[] = [
  '/proc/acpi',
  '/proc/asound',
  '/proc/kcore',
  '/proc/keys',
  '/proc/latency_stats',
  '/proc/timer_list',
  '/proc/timer_stats',
  '/proc/sched_debug',
  '/proc/scsi',
  '/sys/firmware',
  '/sys/devices/virtual/powercap',
];

export const DEFAULT_READONLY_PATHS: readonly string[] = ['/proc/bus', '/proc/fs', '/proc/irq', '/proc/sys', '/proc/sysrq-trigger'];

export function maskedPaths(sent: readonly string[] | undefined, privileged: boolean): string[] {
  return privileged ? [] : pathsOrDefault(sent, DEFAULT_MASKED_PATHS);
}

export function readonlyPaths(sent: readonly string[] | undefined, privileged: boolean): string[] {
  return privileged ? [] : pathsOrDefault(sent, DEFAULT_READONLY_PATHS);
}

/** CRI masked/readonly paths when the client sent some, else the defaults (proto3 cannot tell "none" from "unset"). */
function pathsOrDefault(sent: readonly string[] | undefined, defaults: readonly string[]): string[] {
  return sent && sent.length > 0 ? [...sent] : [...defaults];
}
