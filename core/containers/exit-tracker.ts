import * as fs from 'node:fs';
import * as path from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { oomKillCount } from '../cgroup/oom-kills';
import { nowNanosText } from '../clock/unix-nanos';
import { NotFoundError } from '../errors';
import type { CgroupDriver, EventBus, Logger, MetadataStore } from '../tokens';
import type { ContainerRecord } from './container-record';
import { ExitWatcher, readExitCode } from './exit-watcher';
import { publishContainerEvent } from './publish-container-event';

// Container exits: conmon writes a file named after the container into the exit directory. The
// tracker folds that file into the container's record (exit code, time, reason, OOM kill) once,
// persists it and publishes CONTAINER_STOPPED, whether the exit is noticed by the watcher, by a
// reader of the record, or at start-up for exits that happened while the daemon was down. It
// also wakes whoever waits for a container to exit (a stop).

export interface ExitTrackerDependencies {
  readonly exitDir: string;
  readonly store: MetadataStore;
  readonly driver: CgroupDriver;
  readonly events: EventBus;
  readonly logger: Logger;
}

export class ExitTracker {
  private readonly watcher: ExitWatcher;
  private readonly waiters = new Map<string, (() => void)[]>();
  /** Containers inside StartContainer: their exit is folded in by start itself, after RUNNING. */
  private readonly starting = new Set<string>();

  constructor(private readonly deps: ExitTrackerDependencies) {
    this.watcher = new ExitWatcher(deps.exitDir, (id) => this.onExit(id), deps.logger);
  }

  /** Starts watching for exits and folds in those that happened while the daemon was down. */
  open(): void {
    this.watcher.start();
    for (const record of this.deps.store.listContainers<ContainerRecord>()) this.refresh(record);
  }

  close(): void {
    this.watcher.stop();
  }

  /** The container's exit file (removed with the container). */
  exitFile(id: string): string {
    return path.join(this.deps.exitDir, id);
  }

  /** Runs a start: an exit seen meanwhile is left for the starter to fold in once it has recorded RUNNING. */
  async whileStarting<T>(id: string, start: () => Promise<T>): Promise<T> {
    this.starting.add(id);
    try {
      return await start();
    } finally {
      this.starting.delete(id);
    }
  }

  /** Folds an exit file into the record (and persists it) when the container has exited. */
  refresh(given: ContainerRecord): ContainerRecord {
    if (this.starting.has(given.id)) return given;
    // The stored record is the truth: a copy read earlier may predate an exit already folded in.
    const record = this.deps.store.getContainer<ContainerRecord>(given.id) ?? given;
    if (record.state !== 'CONTAINER_RUNNING' && record.state !== 'CONTAINER_CREATED') return record;
    const exit = readExitCode(this.deps.exitDir, record.id);
    if (!exit) return record;
    // conmon's marker, or the cgroup's own count: either is evidence of an OOM kill.
    const oomKilled = fs.existsSync(path.join(record.paths.persistDir, 'oom')) || oomKillCount(this.deps.driver.cgroupDirs(record.cgroupsPath)) > 0;
    const updated: ContainerRecord = {
      ...record,
      state: 'CONTAINER_EXITED',
      exitCode: exit.code,
      finishedAt: exit.atNanos.toString(),
      reason: oomKilled ? 'OOMKilled' : exit.code === 0 ? 'Completed' : 'Error',
      startedAt: record.startedAt === '0' && record.state === 'CONTAINER_RUNNING' ? nowNanosText() : record.startedAt,
    };
    this.deps.store.putContainer(updated.id, updated.sandboxId, updated);
    publishContainerEvent(this.deps.events, 'CONTAINER_STOPPED_EVENT', updated);
    this.deps.logger.info(`container ${record.id} exited`, { exitCode: exit.code, reason: updated.reason });
    return updated;
  }

  /** Resolves when the container has exited (its exit folded in), or with false after `ms`. */
  async waitForExit(id: string, ms: number): Promise<boolean> {
    if (readExitCode(this.deps.exitDir, id)) {
      this.foldIn(id);
      return true;
    }
    const exited = new Promise<boolean>((resolve) => {
      const waiters = this.waiters.get(id) ?? [];
      waiters.push(() => resolve(true));
      this.waiters.set(id, waiters);
    });
    const result = await Promise.race([exited, delay(ms).then(() => false)]);
    if (!result && readExitCode(this.deps.exitDir, id)) {
      this.foldIn(id);
      return true;
    }
    return result;
  }

  /** The exit of a container that must still be known (a stop waits on one it just read). */
  private foldIn(id: string): void {
    const record = this.deps.store.getContainer<ContainerRecord>(id);
    if (!record) throw new NotFoundError(`container ${id} not found`);
    this.refresh(record);
  }

  private onExit(id: string): void {
    const record = this.deps.store.getContainer<ContainerRecord>(id);
    if (record) this.refresh(record);
    for (const wake of this.waiters.get(id)?.splice(0) ?? []) wake();
    this.waiters.delete(id);
  }
}
