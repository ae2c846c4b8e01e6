#!/usr/bin/env bash
# Installs what Caisson needs on Debian 12, idempotently: Debian packages only when one is
# missing, npm packages only when package-lock.json changed, and the build only when sources
# are newer than dist/. Run as root from anywhere; it works on the checkout it lives in.
set -euo pipefail
cd "$(dirname "$0")/.."

# Runtime: runc runs containers, conmon supervises them, util-linux pins namespaces, iproute2 and
# the CNI plugins (with iptables for portmap) wire pods, procps sets pod sysctls, dbus talks to
# systemd; tar, attr (setfattr) and zstd unpack layers; criu checkpoints ("enable-criu-support").
# Tests add a registry, busybox to build images from, skopeo as the pull benchmark's floor,
# htpasswd for registry auth, a real kubectl as a streaming client (Debian's kubernetes-client,
# only where no kubectl is installed: another package may own /usr/bin/kubectl), and strace to
# show what reaches the disk when. The build needs python3, make and a C/C++ compiler for
# better-sqlite3 and for Caisson's own addon (native/syscalls.c: mount and namespaces without
# starting a program); util-linux's mount, umount and unshare stay the fallback without it.
RUNTIME_PACKAGES=(runc conmon util-linux procps iproute2 iptables containernetworking-plugins dbus ca-certificates tar attr zstd criu)
BUILD_PACKAGES=(python3 make gcc g++ libc6-dev)
TEST_PACKAGES=(docker-registry busybox-static skopeo apache2-utils openssl systemd strace)

want=("${RUNTIME_PACKAGES[@]}" "${BUILD_PACKAGES[@]}")
if [[ "${1:-}" == "--test" ]]; then
  want+=("${TEST_PACKAGES[@]}")
  command -v kubectl >/dev/null 2>&1 || want+=(kubernetes-client)
fi

missing=()
for package in "${want[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
if ((${#missing[@]} > 0)); then
  echo "install-deps: installing Debian packages: ${missing[*]}"
  apt-get update -qq
  # No service may start on install (the tests start their own registry on 127.0.0.1): a
  # temporary policy-rc.d says so, unless the host already has its own.
  own_policy=0
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d && chmod +x /usr/sbin/policy-rc.d
    own_policy=1
    trap 'rm -f /usr/sbin/policy-rc.d' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if ((own_policy)); then rm -f /usr/sbin/policy-rc.d; trap - EXIT; fi
fi

node_major=$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)
if ((node_major < 20)); then
  echo "install-deps: Node.js 20 or newer is required (found: $(node --version 2>/dev/null || echo none))" >&2
  exit 1
fi

# npm ci when node_modules is missing or older than the lock file.
if [[ ! -f node_modules/.package-lock.json || package-lock.json -nt node_modules/.package-lock.json ]]; then
  echo "install-deps: installing npm packages"
  npm ci --no-audit --no-fund
fi

# Build when dist/ is missing or any source is newer than it.
if [[ ! -f dist/cli/caissond-main.js ]] || [[ -n "$(find core config plugins cli test bench native scripts/build-native.sh package.json tsconfig.json -newer dist/cli/caissond-main.js -type f -print -quit 2>/dev/null)" ]]; then
  echo "install-deps: building"
  npm run build --silent
fi
