// Which seccomp filter (linux.seccomp) and AppArmor profile (process.apparmorProfile) confine the
// container. Both are asked for the same way in the CRI: a SecurityProfile, or the deprecated
// string form. A privileged container runs unconfined by either, whatever was asked.

import { describeError } from '../errors';
import type { LinuxContainerSecurityContext__Output } from '../cri/generated/runtime/v1/LinuxContainerSecurityContext';
import type { SecurityProfile__Output } from '../cri/generated/runtime/v1/SecurityProfile';
import { defaultSeccompProfile } from './default-seccomp-profile';
import type { OciSeccomp } from './oci-spec';
import type { SpecFail } from './spec-fail';
import type { HostFacts, SeccompProfiles } from './spec-input';

/** The AppArmor profile a RuntimeDefault container runs under (loaded by the daemon). */
export const DEFAULT_APPARMOR_PROFILE = 'caisson-default';

const LOCALHOST_PREFIX = 'localhost/';

type ResolvedProfile = { kind: 'RuntimeDefault' } | { kind: 'Unconfined' } | { kind: 'Localhost'; ref: string } | { kind: 'unset' };

/** The parts of the CRI security context that choose the seccomp filter. */
export type SeccompRequest = Pick<LinuxContainerSecurityContext__Output, 'seccomp' | 'seccomp_profile_path'>;

/** The parts of the CRI security context that choose the AppArmor profile. */
export type AppArmorRequest = Pick<LinuxContainerSecurityContext__Output, 'apparmor' | 'apparmor_profile'>;

/**
 * No filter when nothing is asked or for Unconfined; for RuntimeDefault the default profile,
 * which follows the container's capabilities; for Localhost the profile file, read through the
 * injected reader.
 */
export function seccompProfile(
  sc: SeccompRequest | null,
  privileged: boolean,
  capabilities: readonly string[],
  arch: string | undefined,
  profiles: SeccompProfiles,
  fail: SpecFail,
): OciSeccomp | undefined {
  if (privileged) return undefined;
  const profile = resolveProfile('seccomp', sc?.seccomp ?? null, sc?.seccomp_profile_path ?? '', fail);
  switch (profile.kind) {
    case 'unset':
    case 'Unconfined':
      return undefined;
    case 'RuntimeDefault':
      return defaultSeccompProfile(capabilities, arch);
    case 'Localhost': {
      let loaded: unknown;
      try {
        loaded = profiles.localhost(profile.ref);
      } catch (error) {
        throw fail(`seccomp profile ${profile.ref} cannot be loaded: ${describeError(error)}`, error);
      }
      if (typeof loaded !== 'object' || loaded === null || Array.isArray(loaded)) {
        throw fail(`seccomp profile ${profile.ref} is not a JSON object`);
      }
      return loaded as OciSeccomp;
    }
  }
}

/**
 * The default profile for RuntimeDefault and when nothing is asked, but only where AppArmor is
 * enabled and the profile is loaded; a Localhost profile by name, which needs AppArmor.
 */
export function apparmorProfile(
  sc: AppArmorRequest | null,
  privileged: boolean,
  host: Pick<HostFacts, 'appArmorEnabled' | 'appArmorDefaultLoaded'>,
  fail: SpecFail,
): string | undefined {
  if (privileged) return undefined;
  const profile = resolveProfile('AppArmor', sc?.apparmor ?? null, sc?.apparmor_profile ?? '', fail);
  const enabled = host.appArmorEnabled;
  switch (profile.kind) {
    case 'Unconfined':
      return undefined;
    case 'unset': // as containerd (kubernetes#51746): no profile asked for means the default one
    case 'RuntimeDefault':
      return enabled && host.appArmorDefaultLoaded ? DEFAULT_APPARMOR_PROFILE : undefined;
    case 'Localhost':
      if (!enabled) throw fail(`AppArmor profile "${profile.ref}" requested, but AppArmor is not enabled on this host`);
      return profile.ref;
  }
}

/** A SecurityProfile, else the deprecated string form ("runtime/default", "unconfined", "localhost/<ref>"). */
function resolveProfile(what: string, sp: SecurityProfile__Output | null, legacy: string, fail: SpecFail): ResolvedProfile {
  if (sp) {
    const ref = sp.localhost_ref;
    switch (sp.profile_type) {
      case 'RuntimeDefault':
      case 'Unconfined':
        if (ref !== '') throw fail(`${what} localhost_ref "${ref}" is only valid with profile type Localhost`);
        return { kind: sp.profile_type };
      case 'Localhost': {
        const trimmed = ref.startsWith(LOCALHOST_PREFIX) ? ref.slice(LOCALHOST_PREFIX.length) : ref;
        if (trimmed === '') throw fail(`${what} profile type Localhost needs a localhost_ref`);
        return { kind: 'Localhost', ref: trimmed };
      }
      default:
        throw fail(`unknown ${what} profile type ${String(sp.profile_type)}`);
    }
  }
  switch (legacy) {
    case '':
      return { kind: 'unset' };
    case 'runtime/default':
    case 'docker/default':
      return { kind: 'RuntimeDefault' };
    case 'unconfined':
      return { kind: 'Unconfined' };
    default:
      if (legacy.startsWith(LOCALHOST_PREFIX) && legacy.length > LOCALHOST_PREFIX.length) {
        return { kind: 'Localhost', ref: legacy.slice(LOCALHOST_PREFIX.length) };
      }
      throw fail(`invalid ${what} profile "${legacy}" (want runtime/default, unconfined or localhost/<name>)`);
  }
}
