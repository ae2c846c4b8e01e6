import type { CriClient } from '../cri-client';

// `caisson update`: new resource limits for running containers (UpdateContainerResources).

export interface UpdateOptions {
  readonly memory?: string;
  readonly cpuShares?: string;
  readonly cpuQuota?: string;
  readonly cpuPeriod?: string;
  readonly cpusetCpus?: string;
  readonly cpusetMems?: string;
}

/** "64m", "1g", "512k" or plain bytes → a decimal byte count. */
export function parseBytes(text: string): string {
  const match = /^(\d+)([kmg]?)b?$/i.exec(text.trim());
  if (!match) throw new Error(`--memory must be a size such as 64m, 1g or 1048576, not "${text}"`);
  const power = { '': 0, k: 1, m: 2, g: 3 }[(match[2] ?? '').toLowerCase() as '' | 'k' | 'm' | 'g'];
  return (BigInt(match[1] ?? '0') * 1024n ** BigInt(power)).toString();
}

export async function updateCommand(client: CriClient, ids: readonly string[], options: UpdateOptions): Promise<void> {
  const linux = {
    ...(options.memory !== undefined ? { memory_limit_in_bytes: parseBytes(options.memory) } : {}),
    ...(options.cpuShares !== undefined ? { cpu_shares: options.cpuShares } : {}),
    ...(options.cpuQuota !== undefined ? { cpu_quota: options.cpuQuota } : {}),
    ...(options.cpuPeriod !== undefined ? { cpu_period: options.cpuPeriod } : {}),
    ...(options.cpusetCpus !== undefined ? { cpuset_cpus: options.cpusetCpus } : {}),
    ...(options.cpusetMems !== undefined ? { cpuset_mems: options.cpusetMems } : {}),
  };
  if (Object.keys(linux).length === 0) throw new Error('update needs at least one of --memory, --cpu-shares, --cpu-quota, --cpu-period, --cpuset-cpus, --cpuset-mems');
  for (const id of ids) {
    await client.call('UpdateContainerResources', { container_id: id, linux });
    process.stdout.write(`${id}\n`);
  }
}
