#!/usr/bin/env bash
# Install everything (venv, extras, test servers' packages: terraform, bao, moto) and run
# ruff, mypy and the whole test suite. Exits non-zero on any failure.
set -euo pipefail
source "$(dirname "$0")/bootstrap.sh" "[dev]"
cd "$ROOT"
# The shell-completion tests run the real zsh and fish (bash is here already);
# benchmarks/server_vs_openbao.py drives its servers with hey; tests/ui drives Debian's chromium.
missing=""
for tool in zsh fish hey chromium; do command -v "$tool" >/dev/null || missing="$missing $tool"; done
if [ -n "$missing" ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        echo "== installing$missing for the shell-completion and browser tests and the benchmarks (apt-get)"
        # shellcheck disable=SC2086
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $missing; } \
            >/dev/null || echo "warning: could not install$missing; completion tests skip" \
                               "(and fail under CI=true) without zsh/fish"
    else
        echo "== note:$missing not installed: their completion tests skip (and fail under CI=true)"
    fi
fi
# Compiled bytecode is kept (in .venv/pycache, outside the source tree) even where the
# environment sets PYTHONDONTWRITEBYTECODE: without it every process of the run (pytest's
# workers, each CLI run, each Terraform provider start, the Prefect servers and flows) compiles
# its imports from source again: the README test took 3x as long.
export PYTHONPYCACHEPREFIX="${PYTHONPYCACHEPREFIX:-$ROOT/.venv/pycache}"
unset PYTHONDONTWRITEBYTECODE
echo "== ruff"
ruff check blocks terraform/provider tests benchmarks examples
echo "== mypy (strict) on blocks/ and the Terraform provider"
MYPYPATH=terraform/provider mypy -p blocks -p blocks_terraform
# pytest-xdist workers: BLOCKS_TEST_WORKERS (default: two per CPU, at most 8; 0 = one process).
# Most tests wait on subprocesses (terraform, servers, CLI runs), so two per CPU keep it busy.
workers="${BLOCKS_TEST_WORKERS:-$(n=$(nproc 2>/dev/null || echo 2); echo $((2 * n < 8 ? 2 * n : 8)))}"
parallel=()
if [ "$workers" != 0 ]; then
    parallel=(-n "$workers")
fi
echo "== pytest (${workers/#0/no} workers)"
python -m pytest "${parallel[@]}" --durations=25 "$@"
