import * as fs from 'node:fs';
import * as path from 'node:path';

// Which cgroup layout the host has. Both drivers need it: v1 (one hierarchy per controller),
// hybrid (v1 controllers plus an empty v2 tree at unified/), or unified v2.

export type CgroupMode = 'v1' | 'hybrid' | 'v2';

export const CGROUP_ROOT = '/sys/fs/cgroup';

export function detectCgroupMode(root: string = CGROUP_ROOT): CgroupMode {
  if (fs.existsSync(path.join(root, 'cgroup.controllers'))) return 'v2';
  if (fs.existsSync(path.join(root, 'memory')) || fs.existsSync(path.join(root, 'cpu'))) {
    return fs.existsSync(path.join(root, 'unified', 'cgroup.controllers')) ? 'hybrid' : 'v1';
  }
  throw new Error(`no cgroup filesystem is mounted at ${root} (neither cgroup v2 nor v1 controller hierarchies found)`);
}
