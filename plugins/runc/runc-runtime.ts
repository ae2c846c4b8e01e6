import * as path from 'node:path';
import { describeError, findExecutable, ProgramError, runProgram, type AttachSession, type AttachSessionEvents, type CgroupDriver, type ContainerRuntimePaths, type CreateContainerOptions, type OciRuntime, type Readiness, type RuntimeContainerState } from '../../core/plugin-api';
import { conmonAttachEndpoints, launchUnderConmon, reopenConmonLog } from './conmon';
import { openConmonAttachSession } from './conmon-attach-session';
import { binaryIdentity } from './binary-identity';
import { signalDirectly } from './direct-signal';
import { startThroughExecFifo } from './exec-fifo-start';
import { deleteDirectly } from './direct-delete';

const VERSION_TIMEOUT_MS = 10_000;
const COMMAND_TIMEOUT_MS = 30_000;

/**
 * One runc-compatible binary with its global arguments (a `runtimes` entry of daemon.json). Its
 * state lives under its own --root, so runtimes (and daemons) never see each other's containers.
 */
export class RuncRuntime implements OciRuntime {
  private lastVersion = '';
  /** The binary that last answered --version (see binary-identity.ts); unchanged, it is asked no more. */
  private answeredBy: string | undefined;

  constructor(
    readonly name: string,
    readonly path: string,
    readonly runtimeArgs: readonly string[],
    private readonly root: string,
    private readonly systemdCgroup: boolean,
    private readonly driver?: Pick<CgroupDriver, 'placeSupervisor' | 'supervisorCgroupProcs'>,
  ) {}

  /**
   * Ready when the binary answers `--version`; the reason says what failed otherwise. The kubelet
   * asks Status every few seconds: while the binary on disk is the one that last answered, its
   * answer stands, and no program is spawned.
   */
  async checkReady(): Promise<Readiness> {
    const identity = binaryIdentity(this.path);
    if (identity !== undefined && identity === this.answeredBy) return { ready: true, reason: '', message: '' };
    try {
      const { stdout } = await runProgram(this.path, ['--version'], { timeoutMs: VERSION_TIMEOUT_MS });
      this.lastVersion = stdout.split('\n')[0]?.trim() ?? '';
      this.answeredBy = identity;
      return { ready: true, reason: '', message: '' };
    } catch (error) {
      this.answeredBy = undefined;
      return {
        ready: false,
        reason: 'RuntimeBinaryNotReady',
        message: `runtime "${this.name}" (${this.path}) does not answer: ${describeError(error)}`,
      };
    }
  }

  describe(): Record<string, string> {
    return { path: this.path, runtimeArgs: this.runtimeArgs.join(' '), version: this.lastVersion, root: this.root };
  }

  create(options: CreateContainerOptions): Promise<{ pid: number }> {
    // conmon wants an absolute runtime path; daemon.json may name the binary only.
    const runtimePath = findExecutable(this.path);
    if (!runtimePath) return Promise.reject(new Error(`runtime "${this.name}": ${this.path} is not found on PATH`));
    const driver = this.driver;
    const podCgroup = options.podCgroup;
    const placeSupervisor = driver?.placeSupervisor && podCgroup !== undefined ? (pid: number) => driver.placeSupervisor?.(pid, options.id, podCgroup) ?? Promise.resolve() : undefined;
    let supervisorCgroupProcs: string[] | undefined;
    try {
      supervisorCgroupProcs = podCgroup !== undefined ? driver?.supervisorCgroupProcs?.(options.id, podCgroup) : undefined;
    } catch (error) {
      return Promise.reject(new Error(`conmon for container ${options.id} could not be given its own cgroup: ${describeError(error)}`, { cause: error }));
    }
    return launchUnderConmon({
      options,
      runtimePath,
      runtimeArgs: this.globalArgs(),
      systemdCgroup: this.systemdCgroup,
      ...(placeSupervisor ? { placeSupervisor } : {}),
      ...(supervisorCgroupProcs ? { supervisorCgroupProcs } : {}),
    });
  }

  async start(id: string): Promise<void> {
    // What `runc start` would do, without starting it, when runc's files say it is safe.
    if (!this.runtimeArgs.includes('--root') && (await startThroughExecFifo(this.root, id))) return;
    await this.run(['start', id]);
  }

  async kill(id: string, signal: string, all = false): Promise<void> {
    // What `runc kill` would do, without starting it, when its state file says it is safe.
    if (!this.runtimeArgs.includes('--root') && signalDirectly(this.root, id, signal, all)) return;
    await this.run(['kill', ...(all ? ['--all'] : []), id, signal]);
  }

  async delete(id: string): Promise<void> {
    // What `runc delete --force` would do, without starting it, for a container that has ended.
    if (!this.runtimeArgs.includes('--root') && !this.systemdCgroup && (await deleteDirectly(this.root, id))) return;
    try {
      await this.run(['delete', '--force', id]);
    } catch (error) {
      if (error instanceof ProgramError && /does not exist|not found/i.test(error.stderr)) return;
      throw error;
    }
  }

  async state(id: string): Promise<RuntimeContainerState | undefined> {
    try {
      const { stdout } = await this.run(['state', id]);
      const state = JSON.parse(stdout) as { status?: string; pid?: number };
      const status = (['created', 'running', 'stopped', 'paused'] as const).find((s) => s === state.status) ?? 'unknown';
      return { status, pid: state.pid ?? 0 };
    } catch (error) {
      if (error instanceof ProgramError && /does not exist|not found/i.test(error.stderr)) return undefined;
      throw error;
    }
  }

  reopenLog(paths: ContainerRuntimePaths): Promise<void> {
    return reopenConmonLog(paths.bundle);
  }

  attach(paths: ContainerRuntimePaths, events: AttachSessionEvents): AttachSession {
    return openConmonAttachSession(conmonAttachEndpoints(paths.bundle), events);
  }

  execCommand(id: string, processFile: string): readonly string[] {
    return [this.path, ...this.globalArgs(), 'exec', '--process', processFile, id];
  }

  async update(id: string, resourcesFile: string): Promise<void> {
    await this.run(['update', '--resources', resourcesFile, id]);
  }

  private globalArgs(): string[] {
    return ['--root', this.root, ...(this.systemdCgroup ? ['--systemd-cgroup'] : []), ...this.runtimeArgs];
  }

  private run(args: readonly string[]): Promise<{ stdout: string; stderr: string }> {
    return runProgram(this.path, [...this.globalArgs(), ...args], { timeoutMs: COMMAND_TIMEOUT_MS });
  }
}

/** Where a runtime keeps its state: one --root per runtime name under the daemon's state dir. */
export function runtimeRoot(stateDir: string, runtimeName: string): string {
  return path.join(stateDir, 'runtimes', runtimeName);
}
