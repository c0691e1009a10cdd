#!/usr/bin/env bash
# The main journey on the embedded default (SQLite + local master key), from a fresh machine.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh" "[terraform]"
cd "$ROOT"
exec python examples/journey.py "$@"
