#!/usr/bin/env bash
# The README's start command: install what is missing, build, and run caissond in the foreground
# on its embedded defaults (or on /etc/caisson/daemon.json when it exists). Extra arguments go to
# caissond, e.g. --config FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
# A fresh machine has no pod network: write the default one (a bridge with host-local IPs and
# portmap, see docs/pod-networking.md) when /etc/cni/net.d holds no config yet.
node -e 'process.exitCode = require("./dist/plugins/cni/default-network.js").writeDefaultNetworkMain(["/etc/cni/net.d"])'
exec bin/caissond "$@"
