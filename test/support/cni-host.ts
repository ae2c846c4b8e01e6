import * as fs from 'node:fs';
import { runProgram } from '../../core/host-programs/run-program';

// Host state that CNI tests change, snapshotted before and put back after (even on failure):
// test bridges, the iptables rules and chains portmap adds (CNI-HOSTPORT-*, CNI-DN-*), and the
// sysctls the bridge plugin (ip_forward) and hostPort-on-localhost (route_localnet) set.

const SYSCTLS = ['/proc/sys/net/ipv4/ip_forward', '/proc/sys/net/ipv4/conf/all/route_localnet'];
const TABLES = ['nat', 'filter'];
const IPTABLES = ['iptables', 'ip6tables'];

export interface HostSnapshot {
  readonly sysctls: ReadonlyMap<string, string>;
  /** `<binary> <table>` → lines of `-S` output. */
  readonly rules: ReadonlyMap<string, ReadonlySet<string>>;
}

export async function snapshotHost(): Promise<HostSnapshot> {
  const sysctls = new Map<string, string>();
  for (const file of SYSCTLS) sysctls.set(file, fs.readFileSync(file, 'utf8').trim());
  const rules = new Map<string, ReadonlySet<string>>();
  for (const binary of IPTABLES) {
    for (const table of TABLES) rules.set(`${binary} ${table}`, new Set(await listRules(binary, table)));
  }
  return { sysctls, rules };
}

/** Deletes the bridges, the CNI iptables rules and chains that were not there before, restores sysctls. */
export async function restoreHost(snapshot: HostSnapshot, bridges: readonly string[]): Promise<string[]> {
  const problems: string[] = [];
  for (const bridge of bridges) {
    if (fs.existsSync(`/sys/class/net/${bridge}`)) {
      await runProgram('ip', ['link', 'del', bridge]).catch((e: unknown) => problems.push(String(e)));
    }
  }
  for (const binary of IPTABLES) {
    for (const table of TABLES) {
      const before = snapshot.rules.get(`${binary} ${table}`) ?? new Set<string>();
      const now = await listRules(binary, table);
      const added = now.filter((line) => !before.has(line) && /CNI-/.test(line));
      for (const rule of added.filter((line) => line.startsWith('-A ')).reverse()) {
        await runProgram(binary, ['-t', table, '-D', ...splitRule(rule.slice(3))]).catch((e: unknown) => problems.push(String(e)));
      }
      const chains = added.filter((line) => line.startsWith('-N ')).map((line) => line.slice(3).trim());
      for (const chain of chains) await runProgram(binary, ['-t', table, '-F', chain]).catch((e: unknown) => problems.push(String(e)));
      for (const chain of chains) await runProgram(binary, ['-t', table, '-X', chain]).catch((e: unknown) => problems.push(String(e)));
    }
  }
  for (const [file, value] of snapshot.sysctls) {
    try {
      if (fs.readFileSync(file, 'utf8').trim() !== value) fs.writeFileSync(file, value);
    } catch (error) {
      problems.push(String(error));
    }
  }
  return problems;
}

/** The CNI-made iptables lines present now that were not in the snapshot (for assertions). */
export async function addedCniRules(snapshot: HostSnapshot): Promise<string[]> {
  const added: string[] = [];
  for (const binary of IPTABLES) {
    for (const table of TABLES) {
      const before = snapshot.rules.get(`${binary} ${table}`) ?? new Set<string>();
      added.push(...(await listRules(binary, table)).filter((line) => !before.has(line) && /CNI-/.test(line)).map((line) => `${binary} -t ${table} ${line}`));
    }
  }
  return added;
}

async function listRules(binary: string, table: string): Promise<string[]> {
  try {
    const { stdout } = await runProgram(binary, ['-w', '-t', table, '-S']);
    return stdout.split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

/** Splits an `iptables -S` rule into arguments (quoted comments kept whole). */
function splitRule(rule: string): string[] {
  const args: string[] = [];
  for (const match of rule.matchAll(/"((?:[^"\\]|\\.)*)"|(\S+)/g)) args.push(match[1] !== undefined ? match[1].replace(/\\"/g, '"') : (match[2] ?? ''));
  return args;
}

/** Addresses host-local still reserves in `dataDir/<network>` (files named by an IP). */
export function reservedAddresses(dataDir: string, network: string): string[] {
  const dir = `${dataDir}/${network}`;
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir).filter((name) => /^\d+\.\d+\.\d+\.\d+$/.test(name) || name.includes(':'));
}
