// Which device nodes the container gets (linux.devices) and which it may use (the device cgroup
// rules, linux.resources.devices). A privileged container gets every host device and may use
// any; otherwise everything is denied except the usual pseudo-devices and the CRI devices.

import * as path from 'node:path';
import type { Device__Output } from '../cri/generated/runtime/v1/Device';
import type { OciDevice, OciDeviceCgroup } from './oci-spec';
import type { SpecFail } from './spec-fail';
import type { DeviceNode, HostPaths } from './spec-input';

/** Device cgroup rules after "deny all": mknod of anything, and the usual pseudo-devices and ttys. */
export const DEFAULT_DEVICE_RULES: readonly OciDeviceCgroup[] = [
  { allow: true, type: 'c', access: 'm' },
  { allow: true, type: 'b', access: 'm' },
  { allow: true, type: 'c', major: 1, minor: 3, access: 'rwm' }, // /dev/null
  { allow: true, type: 'c', major: 1, minor: 8, access: 'rwm' }, // /dev/random
  { allow: true, type: 'c', major: 1, minor: 7, access: 'rwm' }, // /dev/full
  { allow: true, type: 'c', major: 5, minor: 0, access: 'rwm' }, // /dev/tty
  { allow: true, type: 'c', major: 1, minor: 5, access: 'rwm' }, // /dev/zero
  { allow: true, type: 'c', major: 1, minor: 9, access: 'rwm' }, // /dev/urandom
  { allow: true, type: 'c', major: 5, minor: 1, access: 'rwm' }, // /dev/console
  { allow: true, type: 'c', major: 136, access: 'rwm' }, // /dev/pts/*
  { allow: true, type: 'c', major: 5, minor: 2, access: 'rwm' }, // /dev/ptmx
];

export interface ContainerDevices {
  readonly devices: OciDevice[];
  /** The device cgroup rules, for linux.resources.devices. */
  readonly rules: OciDeviceCgroup[];
}

export function containerDevices(
  criDevices: readonly Device__Output[],
  privileged: boolean,
  hostDevices: readonly string[],
  hostPaths: Pick<HostPaths, 'device'>,
  fail: SpecFail,
): ContainerDevices {
  const devices: OciDevice[] = [];
  // A later device at the same container path replaces the earlier one (a CRI device over a host one).
  const add = (device: OciDevice): void => {
    const i = devices.findIndex((d) => d.path === device.path);
    if (i >= 0) devices[i] = device;
    else devices.push(device);
  };

  let rules: OciDeviceCgroup[];
  if (privileged) {
    for (const hostPath of hostDevices) {
      const node = hostPaths.device(hostPath);
      // Skip nodes that vanished since the host was listed, and 0:0 (not a real device).
      if (!node || (node.major === 0 && node.minor === 0)) continue;
      add(deviceEntry(hostPath, node));
    }
    rules = [{ allow: true, access: 'rwm' }];
  } else {
    rules = [{ allow: false, access: 'rwm' }, ...DEFAULT_DEVICE_RULES.map((r) => ({ ...r }))];
  }

  for (const d of criDevices) {
    if (!path.posix.isAbsolute(d.host_path)) throw fail(`device host_path "${d.host_path}" is not an absolute path`);
    if (!path.posix.isAbsolute(d.container_path)) {
      throw fail(`device container_path "${d.container_path}" (for ${d.host_path}) is not an absolute path`);
    }
    const access = d.permissions === '' ? 'rwm' : d.permissions;
    if (!/^[rwm]{1,3}$/.test(access) || new Set(access).size !== access.length) {
      throw fail(`device ${d.host_path} has invalid permissions "${d.permissions}" (a combination of r, w and m)`);
    }
    const node = hostPaths.device(d.host_path);
    if (!node) throw fail(`device ${d.host_path} is not a character or block device on the host`);
    add(deviceEntry(d.container_path, node));
    if (!privileged) rules.push({ allow: true, type: node.type, major: node.major, minor: node.minor, access });
  }
  return { devices, rules };
}

function deviceEntry(containerPath: string, node: DeviceNode): OciDevice {
  return {
    path: containerPath,
    type: node.type,
    major: node.major,
    minor: node.minor,
    fileMode: node.fileMode,
    uid: node.uid,
    gid: node.gid,
  };
}
