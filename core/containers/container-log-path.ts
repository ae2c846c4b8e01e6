import * as path from 'node:path';
import { InvalidArgumentError } from '../errors';

/** The container's log file: log_directory + log_path, which must stay inside the directory. */
export function containerLogPath(logDirectory: string, logPath: string, name: string): string {
  if (logDirectory === '' || logPath === '') {
    if (logPath !== '' && path.isAbsolute(logPath)) {
      throw new InvalidArgumentError(`log path "${logPath}" of container "${name}" must be relative to the sandbox's log directory`);
    }
    return '/dev/null';
  }
  const resolved = path.resolve(logDirectory, logPath);
  if (path.isAbsolute(logPath) || !resolved.startsWith(`${path.resolve(logDirectory)}/`)) {
    throw new InvalidArgumentError(`log path "${logPath}" of container "${name}" escapes the sandbox's log directory ${logDirectory}`);
  }
  return resolved;
}
