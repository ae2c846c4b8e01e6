import * as fs from 'node:fs';
import * as path from 'node:path';
import { randomBytes } from 'node:crypto';
import { describeError, ProgramError, runProgram, type Logger, type NetworkPlugin, type PodNetworkRequest, type Readiness } from '../../core/plugin-api';
import { findPluginBinary, loadNetwork, type CniNetworkList } from './cni-config';
import { cniEnvironment, parseCniError, parseResult, pluginInput, versionPassesPrevResultOnDel, type CniCommand } from './cni-protocol';

// network.cni: wires pods with the CNI plugins of the lowest-sorted config in the conf dir. The
// config is read again on every call, so a new or fixed file counts without a restart. What a pod
// was wired with (the network list and the ADD result) is kept in <state>/cni/<sandbox>.json
// before ADD runs, so DEL gets the same config and prevResult after a partial ADD or a restart.

export interface CniNetworkOptions {
  readonly confDir: string;
  readonly binDirs: readonly string[];
  /** Where per-pod records live (<daemon state>/cni). */
  readonly stateDir: string;
  /** A plugin still running after this long is killed. */
  readonly timeoutMs: number;
  readonly logger: Logger;
}

/** What is kept per pod between ADD and DEL. */
interface PodRecord {
  readonly sandboxId: string;
  readonly list: CniNetworkList;
  /** The last plugin's ADD result, once ADD succeeded. */
  readonly result?: unknown;
}

export class CniNetwork implements NetworkPlugin {
  readonly name = 'cni';

  constructor(private readonly options: CniNetworkOptions) {}

  async status(): Promise<Readiness> {
    const loaded = loadNetwork(this.options.confDir, this.options.binDirs);
    if (!loaded.ok) return { ready: false, reason: 'NetworkPluginNotReady', message: `cni: ${loaded.message}` };
    return { ready: true, reason: '', message: '' };
  }

  async setUpPod(pod: PodNetworkRequest): Promise<{ readonly ips: readonly string[] }> {
    const loaded = loadNetwork(this.options.confDir, this.options.binDirs);
    if (!loaded.ok) throw new Error(`cannot wire pod ${pod.namespace}/${pod.name}: ${loaded.message}`);
    const { list } = loaded;
    await this.writeRecord({ sandboxId: pod.sandboxId, list });
    try {
      let prevResult: unknown;
      for (const plugin of list.plugins) {
        const stdout = await this.call('ADD', plugin.type, pluginInput(list, plugin, pod, prevResult), pod);
        prevResult = parseJson(stdout, plugin.type);
      }
      await this.writeRecord({ sandboxId: pod.sandboxId, list, result: prevResult });
      const { ips } = parseResult(JSON.stringify(prevResult ?? {}));
      this.options.logger.info(`pod ${pod.namespace}/${pod.name} wired by network "${list.name}"`, { sandbox: pod.sandboxId, ips: ips.join(',') });
      return { ips };
    } catch (error) {
      // Undo what the plugins made before the failure. The sandbox is rolled back after this, so
      // nothing would ever retry a DEL that fails too (e.g. the config itself is invalid): say
      // so and forget the pod rather than keep a record for a sandbox that is gone.
      await this.tearDownPod(pod).catch((delError: unknown) => {
        this.options.logger.warn(`CNI DEL after the failed ADD of sandbox ${pod.sandboxId} failed; what the plugins made may be left: ${describeError(delError)}`);
        fs.rmSync(this.recordFile(pod.sandboxId), { force: true });
      });
      throw error;
    }
  }

  async tearDownPod(pod: PodNetworkRequest): Promise<void> {
    const record = this.readRecord(pod.sandboxId);
    // No record: never wired, or already unwired.
    if (!record) return;
    const { list } = record;
    const prevResult = versionPassesPrevResultOnDel(list.cniVersion) ? record.result : undefined;
    const failures: string[] = [];
    for (const plugin of [...list.plugins].reverse()) {
      try {
        await this.call('DEL', plugin.type, pluginInput(list, plugin, pod, prevResult), pod);
      } catch (error) {
        failures.push(describeError(error));
      }
    }
    if (failures.length > 0) throw new Error(`CNI DEL of sandbox ${pod.sandboxId} in network "${list.name}" failed: ${failures.join('; ')}`);
    await fs.promises.rm(this.recordFile(pod.sandboxId), { force: true });
  }

  /**
   * CNI CHECK of a wired pod, where its network asks for it: spec 0.4.0 and later, unless the
   * list says "disableCheck". Answers what was found; throws with the plugin's words on failure.
   */
  async checkPod(pod: PodNetworkRequest): Promise<string> {
    const record = this.readRecord(pod.sandboxId);
    if (!record || record.result === undefined) return 'not wired';
    const { list } = record;
    if (list.disableCheck) return `not checked: network "${list.name}" sets disableCheck`;
    if (!versionPassesPrevResultOnDel(list.cniVersion)) return `not checked: CHECK needs CNI 0.4.0 or later (network "${list.name}" is ${list.cniVersion})`;
    for (const plugin of list.plugins) {
      await this.call('CHECK', plugin.type, pluginInput(list, plugin, pod, record.result), pod);
    }
    return 'ok';
  }

  /** Runs one plugin binary; answers its stdout, or throws with its error object and stderr. */
  private async call(command: CniCommand, type: string, input: string, pod: PodNetworkRequest): Promise<string> {
    const binary = findPluginBinary(type, this.options.binDirs);
    if (binary === undefined) throw new Error(`CNI plugin "${type}" (${command}) is in none of ${this.options.binDirs.join(', ')}`);
    // The plugin's stdout (its result or error) goes to a file: a plugin that leaves a process
    // behind holding its stdout cannot keep the call waiting for the pipe to close.
    fs.mkdirSync(this.options.stateDir, { recursive: true, mode: 0o700 });
    const outFile = path.join(this.options.stateDir, `.out-${randomBytes(6).toString('hex')}`);
    const env = { ...process.env, ...cniEnvironment(command, pod, this.options.binDirs) };
    try {
      await runProgram(binary, [], { input, env, timeoutMs: this.options.timeoutMs, stdoutPath: outFile });
      return readIfExists(outFile);
    } catch (error) {
      const stdout = readIfExists(outFile);
      if (!(error instanceof ProgramError)) throw error;
      const said = [parseCniError(stdout) ?? stdout.trim(), error.stderr.trim() ? `stderr: ${error.stderr.trim()}` : ''].filter(Boolean).join('; ');
      const reason =
        error.exitCode !== null
          ? `exited with status ${error.exitCode}`
          : error.message.includes(' timed out after ')
            ? `timed out after ${this.options.timeoutMs} ms and was killed`
            : 'was killed or could not start';
      throw new ProgramError(`CNI plugin ${binary}`, [command, `for sandbox ${pod.sandboxId}`], error.exitCode, said, reason);
    } finally {
      await fs.promises.rm(outFile, { force: true });
    }
  }

  private recordFile(sandboxId: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(sandboxId)) throw new Error(`sandbox id ${JSON.stringify(sandboxId)} cannot name a file`);
    return path.join(this.options.stateDir, `${sandboxId}.json`);
  }

  /** Written and fsynced in the thread pool, then renamed into place. */
  private async writeRecord(record: PodRecord): Promise<void> {
    await fs.promises.mkdir(this.options.stateDir, { recursive: true, mode: 0o700 });
    const file = this.recordFile(record.sandboxId);
    const temp = `${file}.tmp`;
    const handle = await fs.promises.open(temp, 'w', 0o600);
    try {
      await handle.writeFile(JSON.stringify(record));
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temp, file);
  }

  private readRecord(sandboxId: string): PodRecord | undefined {
    const text = readIfExists(this.recordFile(sandboxId));
    if (text === '') return undefined;
    return JSON.parse(text) as PodRecord;
  }
}

function readIfExists(file: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

function parseJson(stdout: string, type: string): unknown {
  try {
    return JSON.parse(stdout);
  } catch {
    throw new Error(`CNI plugin "${type}" answered ADD with something that is not JSON: ${JSON.stringify(stdout.slice(0, 200))}`);
  }
}
