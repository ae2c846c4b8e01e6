// linux.seccomp and process.apparmorProfile (core/oci/spec-security-profiles.ts).

import assert from 'node:assert/strict';
import { defaultSeccompProfile } from '../../core/oci/default-seccomp-profile';
import type { OciSeccomp } from '../../core/oci/oci-spec';
import { assertInvalid, build, buildPrivileged, DEFAULT_CAPS_IN_KERNEL_ORDER, type Overrides } from '../support/spec-fixtures';

describe('buildContainerSpec: seccomp and AppArmor', () => {
  const seccompOf = (over: Overrides) => build(over).linux.seccomp;
  const apparmorOf = (over: Overrides) => build(over).process.apparmorProfile;

  describe('seccomp', () => {
    it('is off when nothing is asked, and for Unconfined', () => {
      assert.equal(seccompOf({}), undefined);
      assert.ok(!('seccomp' in build().linux));
      assert.equal(seccompOf({ security: { seccomp: { profile_type: 'Unconfined', localhost_ref: '' } } }), undefined);
      assert.equal(seccompOf({ security: { seccomp_profile_path: 'unconfined' } }), undefined);
    });

    it('is the default profile for the container capabilities for RuntimeDefault', () => {
      const spec = build({ security: { seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' } } });
      assert.deepEqual(spec.linux.seccomp, defaultSeccompProfile(spec.process.capabilities.bounding));
      assert.equal(spec.linux.seccomp?.defaultAction, 'SCMP_ACT_ERRNO');
    });

    it('follows the capabilities: admin syscalls only with CAP_SYS_ADMIN', () => {
      const allowed = (s: OciSeccomp | undefined) =>
        new Set((s?.syscalls ?? []).filter((c) => c.action === 'SCMP_ACT_ALLOW' && !c.args).flatMap((c) => c.names));
      const plain = allowed(seccompOf({ security: { seccomp_profile_path: 'runtime/default' } }));
      assert.ok(!plain.has('mount'));
      const admin = allowed(
        seccompOf({
          security: {
            seccomp_profile_path: 'runtime/default',
            capabilities: { add_capabilities: ['SYS_ADMIN'], drop_capabilities: [], add_ambient_capabilities: [] },
          },
        }),
      );
      assert.ok(admin.has('mount') && admin.has('unshare') && admin.has('clone3'));
    });

    it('narrows the architectures to the host family when the host says which', () => {
      const profile = seccompOf({ host: { arch: 'arm64' }, security: { seccomp_profile_path: 'runtime/default' } });
      assert.deepEqual(profile?.architectures, ['SCMP_ARCH_AARCH64', 'SCMP_ARCH_ARM']);
    });

    it('accepts the legacy profile strings', () => {
      const runtimeDefault = seccompOf({ security: { seccomp_profile_path: 'runtime/default' } });
      assert.deepEqual(runtimeDefault, defaultSeccompProfile(DEFAULT_CAPS_IN_KERNEL_ORDER));
      assert.deepEqual(seccompOf({ security: { seccomp_profile_path: 'docker/default' } }), runtimeDefault);
      assert.deepEqual(seccompOf({ security: { seccomp_profile_path: 'localhost//var/lib/kubelet/seccomp/audit.json' } }), {
        defaultAction: 'SCMP_ACT_LOG',
        architectures: [],
        syscalls: [],
      });
      assertInvalid(
        { security: { seccomp_profile_path: 'strict' } },
        'container "web": invalid seccomp profile "strict" (want runtime/default, unconfined or localhost/<name>)',
      );
      assertInvalid(
        { security: { seccomp_profile_path: 'localhost/' } },
        'container "web": invalid seccomp profile "localhost/" (want runtime/default, unconfined or localhost/<name>)',
      );
    });

    it('prefers the SecurityProfile over the legacy string', () => {
      assert.equal(
        seccompOf({ security: { seccomp: { profile_type: 'Unconfined', localhost_ref: '' }, seccomp_profile_path: 'runtime/default' } }),
        undefined,
      );
    });

    it('loads a Localhost profile through the injected reader', () => {
      assert.deepEqual(
        seccompOf({ security: { seccomp: { profile_type: 'Localhost', localhost_ref: '/var/lib/kubelet/seccomp/audit.json' } } }),
        { defaultAction: 'SCMP_ACT_LOG', architectures: [], syscalls: [] },
      );
    });

    it('rejects Localhost profiles that are missing, not objects or not named', () => {
      assert.throws(
        () => build({ security: { seccomp: { profile_type: 'Localhost', localhost_ref: '/nope.json' } } }),
        (error: Error) => {
          assert.equal(error.message, 'container "web": seccomp profile /nope.json cannot be loaded: open /nope.json: no such file or directory');
          assert.equal((error as { code?: string }).code, 'INVALID_ARGUMENT');
          assert.ok(error.cause instanceof Error);
          return true;
        },
      );
      assertInvalid(
        { security: { seccomp: { profile_type: 'Localhost', localhost_ref: '/var/lib/kubelet/seccomp/array.json' } } },
        'container "web": seccomp profile /var/lib/kubelet/seccomp/array.json is not a JSON object',
      );
      assertInvalid(
        { security: { seccomp: { profile_type: 'Localhost', localhost_ref: '' } } },
        'container "web": seccomp profile type Localhost needs a localhost_ref',
      );
      assertInvalid(
        { security: { seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '/x.json' } } },
        'container "web": seccomp localhost_ref "/x.json" is only valid with profile type Localhost',
      );
    });
  });

  describe('AppArmor', () => {
    const enabled = { appArmorEnabled: true, appArmorDefaultLoaded: true };

    it('runs without a profile where caisson-default is not loaded, even with AppArmor enabled', () => {
      const notLoaded = { appArmorEnabled: true, appArmorDefaultLoaded: false };
      assert.equal(apparmorOf({ host: notLoaded }), undefined);
      assert.equal(apparmorOf({ host: notLoaded, security: { apparmor: { profile_type: 'RuntimeDefault', localhost_ref: '' } } }), undefined);
    });

    it('uses caisson-default for RuntimeDefault and when nothing is asked, if AppArmor is enabled', () => {
      assert.equal(apparmorOf({ host: enabled, security: { apparmor: { profile_type: 'RuntimeDefault', localhost_ref: '' } } }), 'caisson-default');
      assert.equal(apparmorOf({ host: enabled }), 'caisson-default');
      assert.equal(apparmorOf({ host: enabled, security: { apparmor_profile: 'runtime/default' } }), 'caisson-default');
    });

    it('sets no profile when AppArmor is disabled, unless a Localhost one is required', () => {
      assert.equal(apparmorOf({ security: { apparmor: { profile_type: 'RuntimeDefault', localhost_ref: '' } } }), undefined);
      assert.ok(!('apparmorProfile' in build().process));
      assertInvalid(
        { security: { apparmor: { profile_type: 'Localhost', localhost_ref: 'k8s-nginx' } } },
        'container "web": AppArmor profile "k8s-nginx" requested, but AppArmor is not enabled on this host',
      );
    });

    it('uses a Localhost profile by name (with or without the localhost/ prefix)', () => {
      assert.equal(apparmorOf({ host: enabled, security: { apparmor: { profile_type: 'Localhost', localhost_ref: 'k8s-nginx' } } }), 'k8s-nginx');
      assert.equal(apparmorOf({ host: enabled, security: { apparmor: { profile_type: 'Localhost', localhost_ref: 'localhost/k8s-nginx' } } }), 'k8s-nginx');
      assert.equal(apparmorOf({ host: enabled, security: { apparmor_profile: 'localhost/k8s-nginx' } }), 'k8s-nginx');
    });

    it('sets no profile for Unconfined', () => {
      assert.equal(apparmorOf({ host: enabled, security: { apparmor: { profile_type: 'Unconfined', localhost_ref: '' } } }), undefined);
      assert.equal(apparmorOf({ host: enabled, security: { apparmor_profile: 'unconfined' } }), undefined);
    });

    it('rejects an unknown legacy profile string', () => {
      assertInvalid(
        { host: enabled, security: { apparmor_profile: 'strict' } },
        'container "web": invalid AppArmor profile "strict" (want runtime/default, unconfined or localhost/<name>)',
      );
    });
  });

  describe('of a privileged container', () => {
    it('has no seccomp and no AppArmor profile, whatever was asked', () => {
      const spec = buildPrivileged({
        host: { appArmorEnabled: true },
        security: {
          seccomp: { profile_type: 'RuntimeDefault', localhost_ref: '' },
          apparmor: { profile_type: 'Localhost', localhost_ref: 'custom' },
        },
      });
      assert.equal(spec.linux.seccomp, undefined);
      assert.equal(spec.process.apparmorProfile, undefined);
      assert.ok(!('seccomp' in spec.linux) && !('apparmorProfile' in spec.process));
    });
  });
});
