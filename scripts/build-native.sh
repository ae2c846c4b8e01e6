#!/usr/bin/env bash
# Builds native/syscalls.c into native/build/caisson-syscalls.node (N-API, so one build serves
# every Node.js version from 20 on). Run by `npm run build`. Without a C compiler or Node's
# headers it says so and stops with success: the daemon then runs mount, umount and unshare as
# programs instead (core/syscalls/native-addon.ts), which is slower but does the same.
set -euo pipefail
cd "$(dirname "$0")/.."
source=native/syscalls.c
output=native/build/caisson-syscalls.node
if [[ -f "$output" && "$output" -nt "$source" && "$output" -nt "$0" ]]; then exit 0; fi

compiler=$(command -v cc || command -v gcc || true)
# Node's headers: beside the node executable (official builds, Debian, NodeSource), npm's nodedir
# setting, or node-gyp's cache (filled when `npm ci` built better-sqlite3 with downloaded headers).
node_prefix=$(dirname "$(dirname "$(command -v node)")")
gyp_cache="${HOME:-/root}/.cache/node-gyp/$(node -p process.versions.node)/include/node"
headers=""
for dir in "$node_prefix/include/node" "$(npm config get nodedir 2>/dev/null || true)/include/node" "$gyp_cache" /usr/include/node /usr/local/include/node; do
  if [[ -f "$dir/node_api.h" ]]; then headers=$dir; break; fi
done
if [[ -z "$compiler" || -z "$headers" ]]; then
  echo "build-native: no C compiler or no Node.js headers (node_api.h); mount, umount and unshare will run as programs" >&2
  exit 0
fi
mkdir -p native/build
"$compiler" -shared -fPIC -O2 -Wall -Wextra -Werror -std=gnu11 -DNODE_GYP_MODULE_NAME=caisson_syscalls \
  -I"$headers" -o "$output.tmp" "$source" -lpthread
mv "$output.tmp" "$output"
