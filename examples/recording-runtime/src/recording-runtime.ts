import * as fs from 'node:fs';
import * as path from 'node:path';
import { describeError } from 'caisson/plugin';
import type { AttachSession, AttachSessionEvents, ContainerRuntimePaths, CreateContainerOptions, Logger, OciRuntime, Readiness, RuntimeContainerState } from 'caisson/plugin';

// An OciRuntime that writes one JSON line per call on a container to a journal file, then hands
// the call to the runtime it wraps. The line is written when the call settles, so it can say
// whether the call succeeded; lines therefore follow completion order.

/** One journal line. */
export interface JournalEntry {
  /** ISO 8601, when the call settled. */
  readonly time: string;
  readonly method: string;
  /** The container (a pod's pause container included); "" for calls that name only its files. */
  readonly id: string;
  readonly ok: boolean;
  /** The wrapped runtime's message, when the call failed. */
  readonly error?: string;
  /** Extra arguments worth seeing (the signal of a kill, the bundle of a reopenLog or attach). */
  readonly detail?: Record<string, unknown>;
  readonly ms: number;
}

export class RecordingRuntime implements OciRuntime {
  readonly name: string;
  /** Present only when the wrapped runtime can attach, so Attach is refused exactly as it would be. */
  readonly attach?: (paths: ContainerRuntimePaths, events: AttachSessionEvents) => AttachSession;

  constructor(
    private readonly inner: OciRuntime,
    private readonly journal: string,
    private readonly logger: Logger,
  ) {
    this.name = inner.name;
    fs.mkdirSync(path.dirname(journal), { recursive: true });
    const innerAttach = inner.attach?.bind(inner);
    if (innerAttach) {
      this.attach = (paths, events) => this.recordSync('attach', '', () => innerAttach(paths, events), { bundle: paths.bundle });
    }
  }

  checkReady(): Promise<Readiness> {
    return this.inner.checkReady();
  }

  describe(): Record<string, string> {
    return { ...this.inner.describe(), journal: this.journal };
  }

  create(options: CreateContainerOptions): Promise<{ readonly pid: number }> {
    return this.record('create', options.id, () => this.inner.create(options));
  }

  start(id: string): Promise<void> {
    return this.record('start', id, () => this.inner.start(id));
  }

  kill(id: string, signal: string, all?: boolean): Promise<void> {
    return this.record('kill', id, () => this.inner.kill(id, signal, all), { signal, all: all === true });
  }

  delete(id: string): Promise<void> {
    return this.record('delete', id, () => this.inner.delete(id));
  }

  state(id: string): Promise<RuntimeContainerState | undefined> {
    return this.record('state', id, () => this.inner.state(id));
  }

  reopenLog(paths: ContainerRuntimePaths): Promise<void> {
    // The contract passes the container's files, not its ID: the bundle says which container.
    return this.record('reopenLog', '', () => this.inner.reopenLog(paths), { bundle: paths.bundle });
  }

  execCommand(id: string, processFile: string): readonly string[] {
    // Only builds the command line (the daemon spawns it), so the line records the request.
    return this.recordSync('execCommand', id, () => this.inner.execCommand(id, processFile));
  }

  update(id: string, resourcesFile: string): Promise<void> {
    return this.record('update', id, () => this.inner.update(id, resourcesFile));
  }

  private async record<T>(method: string, id: string, call: () => Promise<T>, detail?: Record<string, unknown>): Promise<T> {
    const started = Date.now();
    try {
      const result = await call();
      this.append({ method, id, ok: true, started, detail });
      return result;
    } catch (error) {
      this.append({ method, id, ok: false, started, detail, error: describeError(error) });
      throw error;
    }
  }

  private recordSync<T>(method: string, id: string, call: () => T, detail?: Record<string, unknown>): T {
    const started = Date.now();
    try {
      const result = call();
      this.append({ method, id, ok: true, started, detail });
      return result;
    } catch (error) {
      this.append({ method, id, ok: false, started, detail, error: describeError(error) });
      throw error;
    }
  }

  private append(call: { method: string; id: string; ok: boolean; started: number; detail?: Record<string, unknown> | undefined; error?: string }): void {
    const entry: JournalEntry = {
      time: new Date().toISOString(),
      method: call.method,
      id: call.id,
      ok: call.ok,
      ...(call.error !== undefined ? { error: call.error } : {}),
      ...(call.detail !== undefined ? { detail: call.detail } : {}),
      ms: Date.now() - call.started,
    };
    // appendFileSync writes the whole line in one write(2) with O_APPEND, so lines of concurrent
    // calls never interleave. A journal that cannot be written must not fail the container call:
    // it is a record of the work, not part of it, so the failure is only logged.
    try {
      fs.appendFileSync(this.journal, `${JSON.stringify(entry)}\n`);
    } catch (error) {
      this.logger.warn(`cannot write the journal ${this.journal}: ${describeError(error)}`, { method: call.method, id: call.id });
    }
  }
}
