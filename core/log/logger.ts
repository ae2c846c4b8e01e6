import * as fs from 'node:fs';
import type { LogLevel } from '../../config/daemon-config-schema';
import type { Logger } from '../tokens';

// A small leveled logger: one line per entry, "time level component: message key=value…".
// Plugins get a child named after their identity, so every line says who wrote it.

export type { Logger } from '../tokens';

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export type LogSink = (line: string) => void;

export function stderrSink(): LogSink {
  return (line) => process.stderr.write(line);
}

export function fileSink(path: string): LogSink {
  const fd = fs.openSync(path, 'a', 0o640);
  return (line) => fs.writeSync(fd, line);
}

export function createLogger(level: LogLevel, sink: LogSink, component = 'caissond'): Logger {
  const threshold = RANK[level];
  const write = (entryLevel: LogLevel, message: string, fields?: Record<string, unknown>): void => {
    if (RANK[entryLevel] < threshold) return;
    sink(`${new Date().toISOString()} ${entryLevel.padEnd(5)} ${component}: ${message}${formatFields(fields)}\n`);
  };
  return {
    debug: (m, f) => write('debug', m, f),
    info: (m, f) => write('info', m, f),
    warn: (m, f) => write('warn', m, f),
    error: (m, f) => write('error', m, f),
    child: (name) => createLogger(level, sink, name),
  };
}

function formatFields(fields?: Record<string, unknown>): string {
  if (!fields) return '';
  const parts = Object.entries(fields).map(([key, value]) => `${key}=${typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value) ?? String(value)}`);
  return parts.length > 0 ? ` ${parts.join(' ')}` : '';
}
