#!/usr/bin/env bash
# The README's start command: install what is missing, build, and run caissond in the foreground
# on its embedded defaults (or on /etc/caisson/daemon.json when it exists). Extra arguments go to
# caissond, e.g. --config FILE.
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh
exec node bin/caissond "$@"
