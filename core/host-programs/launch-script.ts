// The line of shell the program launcher writes for one program. Pure, so its quoting is tested
// without a shell: every word the daemon passes is single-quoted, so nothing in a path, an
// argument or a value can end the line, start a command or expand.

export interface LaunchSpec {
  /** Number that tags the launcher's answers about this program. */
  readonly tag: number;
  readonly file: string;
  readonly args: readonly string[];
  /** Variables to set in the program's environment (on top of the launcher's own). */
  readonly setEnv: Readonly<Record<string, string>>;
  /** Variables of the launcher's environment the program must not see. */
  readonly unsetEnv: readonly string[];
  readonly cwd?: string;
  /** cgroup.procs files the program's process writes its own pid to before it is exec'd. */
  readonly joinCgroups?: readonly string[];
  /** The program's descriptors: 0, 1 and 2 always, then any others it is given. */
  readonly redirections: readonly Redirection[];
}

/** One descriptor of the program: a file opened for it, or a copy of another of its descriptors. */
export type Redirection =
  | { readonly fd: number; readonly op: '<' | '>' | '>>' | '<>'; readonly path: string }
  | { readonly fd: number; readonly op: '>&'; readonly toFd: number };

const SHELL_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Quotes one word for a POSIX shell: inside single quotes only `'` itself needs care. */
export function shellQuote(word: string): string {
  if (word.includes('\0')) throw new Error(`a program argument cannot contain a NUL byte: ${JSON.stringify(word)}`);
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** True when `name` can be set or unset by a POSIX shell (other names need a real spawn). */
export function isShellVariableName(name: string): boolean {
  return SHELL_NAME.test(name);
}

/**
 * One line for the launcher shell. The program runs in a subshell that execs it (so `$!` is
 * the program's own pid, which the daemon may kill on a timeout), inside a background group
 * that reports `<tag> pid <pid>` and then `<tag> exit <status>` on the launcher's stdout. Each
 * report is one short write, so the reports of programs ending together never interleave.
 */
export function launchLine(spec: LaunchSpec): string {
  const environment = [
    ...spec.unsetEnv.map((name) => `unset ${checkedName(name)}; `),
    ...Object.entries(spec.setEnv).map(([name, value]) => `export ${checkedName(name)}=${shellQuote(value)}; `),
  ].join('');
  const directory = spec.cwd === undefined ? '' : `cd ${shellQuote(spec.cwd)} && `;
  // `read` is a builtin, so /proc/self is the subshell that is about to exec the program.
  const cgroups = spec.joinCgroups?.length
    ? `read -r self rest </proc/self/stat && ${spec.joinCgroups.map((file) => `printf '%s' "$self" >${shellQuote(file)} && `).join('')}`
    : '';
  const command = [spec.file, ...spec.args].map(shellQuote).join(' ');
  const redirections = spec.redirections.map(redirection).join(' ');
  const tag = String(spec.tag);
  return `{ (${environment}${cgroups}${directory}exec ${command}) ${redirections} & echo "${tag} pid $!"; wait $!; echo "${tag} exit $?"; } &\n`;
}

function redirection(r: Redirection): string {
  if (!Number.isInteger(r.fd) || r.fd < 0 || r.fd > 9) throw new Error(`a shell redirects descriptors 0 to 9, not ${r.fd}`);
  if (r.op === '>&') {
    if (!Number.isInteger(r.toFd) || r.toFd < 0 || r.toFd > 9) throw new Error(`a shell redirects descriptors 0 to 9, not ${r.toFd}`);
    return `${r.fd}>&${r.toFd}`;
  }
  return `${r.fd}${r.op}${shellQuote(r.path)}`;
}

function checkedName(name: string): string {
  if (!isShellVariableName(name)) throw new Error(`environment variable ${JSON.stringify(name)} cannot be named in a shell`);
  return name;
}

export type LauncherReport = { readonly tag: number; readonly kind: 'pid' | 'exit'; readonly value: number };

/** Parses one line the launcher wrote; undefined for anything else (the shell's own noise). */
export function parseReport(line: string): LauncherReport | undefined {
  const match = /^(\d+) (pid|exit) (\d+)$/.exec(line);
  if (!match) return undefined;
  return { tag: Number(match[1]), kind: match[2] as 'pid' | 'exit', value: Number(match[3]) };
}
