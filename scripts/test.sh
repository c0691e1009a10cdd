#!/usr/bin/env bash
# Install everything (venv, extras, test servers' packages: terraform, bao, moto) and run
# ruff, mypy and the whole test suite. Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh" "[dev]"
cd "$ROOT"
echo "== ruff"
ruff check blocks terraform/provider tests benchmarks examples
echo "== mypy (strict) on blocks/ and the Terraform provider"
MYPYPATH=terraform/provider mypy -p blocks -p blocks_terraform
echo "== pytest"
python -m pytest "$@"
