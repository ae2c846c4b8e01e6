import type { LinuxContainerResources__Output } from '../cri/generated/runtime/v1/LinuxContainerResources';

/** The resources in force after an update: what was set before, overridden by what the update sets. */
export function mergeResources(before: LinuxContainerResources__Output | null, update: LinuxContainerResources__Output): LinuxContainerResources__Output {
  if (!before) return update;
  const merged: Record<string, unknown> = { ...before };
  for (const [key, value] of Object.entries(update)) {
    const unset = value === '' || value === '0' || value === null || (Array.isArray(value) && value.length === 0) || (typeof value === 'object' && value !== null && !Array.isArray(value) && Object.keys(value).length === 0);
    if (!unset) merged[key] = value;
  }
  return merged as unknown as LinuxContainerResources__Output;
}
