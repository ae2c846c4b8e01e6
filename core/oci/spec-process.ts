// What the container runs and where: process.args, process.env and process.cwd, from the CRI
// config over the image config, as containerd's CRI plugin and Docker combine them.

import * as path from 'node:path';
import type { KeyValue__Output } from '../cri/generated/runtime/v1/KeyValue';
import type { SpecFail } from './spec-fail';
import type { SpecImage } from './spec-input';

export const DEFAULT_PATH_ENV = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/**
 * The CRI command replaces the image Entrypoint (and then the image Cmd is dropped); CRI args
 * replace the image Cmd. Fails when nothing is left to run.
 */
export function processArgs(command: readonly string[], args: readonly string[], image: SpecImage, fail: SpecFail): string[] {
  const imageEntrypoint = image.config.Entrypoint ?? [];
  // An image built with ENTRYPOINT [""] means "no entrypoint" (Docker's way to reset it).
  const entrypoint = imageEntrypoint.length === 1 && imageEntrypoint[0] === '' ? [] : imageEntrypoint;
  let effectiveCommand = command;
  let effectiveArgs = args;
  if (effectiveCommand.length === 0) {
    effectiveCommand = entrypoint;
    if (effectiveArgs.length === 0) effectiveArgs = image.config.Cmd ?? [];
  }
  const result = [...effectiveCommand, ...effectiveArgs];
  if (result.length === 0) {
    throw fail(`no command to run: neither the container config nor image ${image.name} gives one`);
  }
  return result;
}

/**
 * HOSTNAME first, then the image Env, then the CRI envs; a later entry replaces an earlier one
 * with the same key in place, so the order stays that of first appearance. PATH gets a default
 * (second, after HOSTNAME) when nobody sets one.
 */
export function processEnv(
  hostname: string,
  imageEnv: readonly string[] | undefined,
  criEnvs: readonly KeyValue__Output[],
  fail: SpecFail,
): string[] {
  const order: string[] = [];
  const values = new Map<string, string>();
  const set = (entry: string): void => {
    const eq = entry.indexOf('=');
    const key = eq < 0 ? entry : entry.slice(0, eq);
    if (!values.has(key)) order.push(key);
    values.set(key, entry);
  };
  set(`HOSTNAME=${hostname}`);
  for (const entry of imageEnv ?? []) set(entry);
  criEnvs.forEach((kv, i) => {
    // A key with '=' would split elsewhere than the client meant: "A=B" + "C" reads as A="B=C".
    if (kv.key === '' || kv.key.includes('=')) throw fail(`config.envs[${i}] key ${JSON.stringify(kv.key)} must be non-empty and hold no "="`);
    set(`${kv.key}=${kv.value}`);
  });
  if (!values.has('PATH')) {
    order.splice(1, 0, 'PATH');
    values.set('PATH', `PATH=${DEFAULT_PATH_ENV}`);
  }
  return order.map((key) => values.get(key) ?? key);
}

/** The CRI working_dir, else the image WorkingDir, else /; it must be absolute. */
export function processCwd(criWorkingDir: string, imageWorkingDir: string | undefined, fail: SpecFail): string {
  const cwd = criWorkingDir || imageWorkingDir || '/';
  if (!path.posix.isAbsolute(cwd)) throw fail(`working directory "${cwd}" is not an absolute path`);
  return cwd;
}
