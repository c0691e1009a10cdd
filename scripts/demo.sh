#!/usr/bin/env bash
# The main journey on the embedded default (SQLite + local master key), from a fresh machine:
# terraform apply of examples/demo/terraform (blocks + a work pool published to a local Prefect
# server) -> the seed pipeline deployed and run by a real `prefect worker` -> `blocks rotate`
# of the database password -> the flow again -> `blocks keys rotate` -> an empty plan.
#
# Usage: bash scripts/demo.sh [--keep DIR]
#   --keep DIR   leave the registry, the Terraform workspace and the logs in DIR (new or
#                empty) and the blocks server running (web UI at /ui); print the commands
#                to explore them. Default: a temporary directory, removed at the end.
# Environment: PYTHON=/path/to/python3.11 picks the interpreter of .venv;
#   BLOCKS_DEMO_VENV=DIR uses that existing venv (with blocks-registry[demo]) instead of .venv;
#   BLOCKS_DEMO_POSTGRES_ADMIN_URL (default postgresql://postgres@127.0.0.1:5432/postgres) is
#   the PostgreSQL admin login; when it does not answer, the warehouse is SQLite.
set -euo pipefail
keep=""
while [ $# -gt 0 ]; do
    case "$1" in
        --keep) [ $# -ge 2 ] || { echo "error: --keep needs a directory" >&2; exit 2; }
                keep="$2"; shift 2 ;;
        --keep=*) keep="${1#--keep=}"; shift ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "error: unknown argument '$1' (usage: bash scripts/demo.sh [--keep DIR])" >&2
           exit 2 ;;
    esac
done
if [ -n "$keep" ] && [ -e "$keep" ] && [ -n "$(ls -A "$keep" 2>/dev/null)" ]; then
    echo "error: --keep $keep: the directory is not empty; name a new or empty one" >&2
    exit 2
fi

if [ -n "${BLOCKS_DEMO_VENV:-}" ]; then
    ROOT="$(cd "$(dirname "$0")/.." && pwd)"
    echo "== using the venv $BLOCKS_DEMO_VENV (BLOCKS_DEMO_VENV): pip not run"
    export PATH="$BLOCKS_DEMO_VENV/bin:$PATH"
else
    source "$(dirname "$0")/bootstrap.sh" "[demo]"
fi
cd "$ROOT"

if [ -n "$keep" ]; then
    mkdir -p "$keep"
    demo_dir="$(cd "$keep" && pwd)"
else
    demo_dir="$(mktemp -d "${TMPDIR:-/tmp}/blocks-demo.XXXXXX")"
fi
cleanup() {
    # Whatever the journey left running (it stops its servers itself; this is for a crash).
    if [ -f "$demo_dir/servers.pids" ]; then
        while read -r pid; do
            kill -TERM -- "-$pid" 2>/dev/null || true
        done < "$demo_dir/servers.pids"
    fi
    if [ -z "$keep" ]; then rm -rf "$demo_dir"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP
keep_flag=()
if [ -n "$keep" ]; then keep_flag=(--keep); fi
python scripts/demo_journey.py --dir "$demo_dir" "${keep_flag[@]}"
