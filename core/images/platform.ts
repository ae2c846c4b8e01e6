import type { Descriptor, Platform } from './media-types';

// The platform this daemon runs images for, and picking it from a manifest list, as containerd's
// default matcher does: same OS and architecture; for arm, the closest variant.

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ia32: '386', ppc64: 'ppc64le', s390x: 's390x', riscv64: 'riscv64' };

export function hostPlatform(): Platform {
  const architecture = GO_ARCH[process.arch] ?? process.arch;
  return architecture === 'arm64' ? { os: 'linux', architecture, variant: 'v8' } : { os: 'linux', architecture };
}

export function formatPlatform(platform: Platform): string {
  return `${platform.os}/${platform.architecture}${platform.variant ? `/${platform.variant}` : ''}`;
}

/** The best manifest of an index for `wanted`, or undefined when none fits. */
export function pickPlatformManifest(manifests: readonly Descriptor[], wanted: Platform): Descriptor | undefined {
  const candidates = manifests.filter(
    (m) => m.platform !== undefined && m.platform.os === wanted.os && m.platform.architecture === wanted.architecture,
  );
  if (wanted.variant === undefined) return candidates.find((m) => !m.platform?.variant) ?? candidates[0];
  return (
    candidates.find((m) => m.platform?.variant === wanted.variant) ??
    candidates.find((m) => !m.platform?.variant) ??
    candidates[0]
  );
}
