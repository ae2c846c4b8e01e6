import type { CgroupDriver, DaemonConfig, OciRuntime } from '../../core/plugin-api';
import { RuncRuntime, runtimeRoot } from './runc-runtime';

// The runc plugin's building block, public (`caisson/builtins`) so a runtime plugin can serve a
// runc-compatible binary under conmon without writing the supervisor protocol again: wrap it, give
// it other arguments, or record its calls (examples/recording-runtime does all three).

export interface RuncRuntimeOptions {
  /** The runtime's name in `runtimes`, `default-runtime` and `cri-runtimes`. */
  readonly name: string;
  /** The binary: runc, crun, or any program that speaks runc's command line. */
  readonly path: string;
  /** Global arguments put before every command (for example `--debug`, `--log FILE`). */
  readonly runtimeArgs?: readonly string[];
  /** The daemon's configuration: its state root holds the runtime's --root, per runtime name. */
  readonly daemonConfig: Pick<DaemonConfig, 'state' | 'systemdCgroup'>;
  /** The daemon's cgroup driver, which places each container's conmon in a cgroup of its own. */
  readonly driver: CgroupDriver;
}

export function createRuncRuntime(options: RuncRuntimeOptions): OciRuntime {
  const { name, path, runtimeArgs = [], daemonConfig, driver } = options;
  return new RuncRuntime(name, path, runtimeArgs, runtimeRoot(daemonConfig.state, name), daemonConfig.systemdCgroup, driver);
}
