import * as fs from 'node:fs';

/**
 * The pid a runtime wrote to `pidFile` (runc --pid-file), or undefined while the file is not
 * there yet or does not hold a pid.
 */
export function readPidFile(pidFile: string): number | undefined {
  try {
    const pid = Number(fs.readFileSync(pidFile, 'utf8').trim());
    return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
