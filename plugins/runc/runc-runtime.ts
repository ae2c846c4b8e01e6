import { describeError } from '../../core/errors';
import { runProgram } from '../../core/exec/run-program';
import type { OciRuntime } from '../../core/runtime/runtime-registry';
import type { Readiness } from '../../core/tokens';

const VERSION_TIMEOUT_MS = 10_000;

/** One runc-compatible binary with its global arguments (a `runtimes` entry of daemon.json). */
export class RuncRuntime implements OciRuntime {
  private lastVersion = '';

  constructor(
    readonly name: string,
    readonly path: string,
    readonly runtimeArgs: readonly string[],
  ) {}

  /** Ready when the binary answers `--version`; the reason says what failed otherwise. */
  async checkReady(): Promise<Readiness> {
    try {
      const { stdout } = await runProgram(this.path, ['--version'], { timeoutMs: VERSION_TIMEOUT_MS });
      this.lastVersion = stdout.split('\n')[0]?.trim() ?? '';
      return { ready: true, reason: '', message: '' };
    } catch (error) {
      return {
        ready: false,
        reason: 'RuntimeBinaryNotReady',
        message: `runtime "${this.name}" (${this.path}) does not answer: ${describeError(error)}`,
      };
    }
  }

  describe(): Record<string, string> {
    return { path: this.path, runtimeArgs: this.runtimeArgs.join(' '), version: this.lastVersion };
  }
}
