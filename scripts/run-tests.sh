#!/usr/bin/env bash
# The README's test command: install what is missing (test packages included), then run the
# whole suite with `npm test` (build, then mocha: unit and integration tests).
set -euo pipefail
cd "$(dirname "$0")/.."
./scripts/install-deps.sh --test
npm test
