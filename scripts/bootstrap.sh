# Shared by scripts/demo.sh and scripts/test.sh: make .venv and install the package into it.
# Usage: source scripts/bootstrap.sh EXTRAS   (EXTRAS like "" or "[dev]")
#
# PYTHON=/path/to/python3.12 picks the interpreter (default: python3; Python >= 3.11).
# A line per stage; the installer's own output goes to .venv/bootstrap.log. A rerun skips the
# install when pyproject.toml, the extras and the Python version are unchanged
# (.venv/bootstrap.stamp). The installer is uv (installed into .venv by pip first: several
# times faster than pip); BLOCKS_INSTALLER=pip installs with pip alone.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
EXTRAS="${1:-}"
INSTALLER="${BLOCKS_INSTALLER:-uv}"
_bootstrap_started=$SECONDS

if ! command -v "$PY" >/dev/null 2>&1; then
    echo "error: no Python interpreter '$PY' on PATH; install Python >= 3.11 (and git), or" \
         "name one with PYTHON=/path/to/python3.11" >&2
    exit 1
fi
if ! "$PY" -c 'import sys; sys.exit(sys.version_info < (3, 11))' >/dev/null 2>&1; then
    echo "error: Blocks needs Python >= 3.11, but $PY is $("$PY" --version 2>&1 | head -1);" \
         "install a newer one and run again with PYTHON=/path/to/python3.11 (or newer)" >&2
    exit 1
fi
PY_VERSION="$("$PY" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])')"

LOG="$VENV/bootstrap.log"
_make_venv() {  # without ensurepip's silent minute: pip goes in with progress lines
    "$PY" -m venv --clear --without-pip "$VENV"
    if ! "$PY" "$ROOT/scripts/pip_progress.py" --label="installing pip into .venv" "$LOG" -- \
            "$VENV/bin/python" -m ensurepip --default-pip; then
        echo "error: could not install pip into .venv; on Debian/Ubuntu install the" \
             "python3-venv package (apt-get install python3-venv)" >&2
        exit 1
    fi
}
if [ -x "$VENV/bin/python" ] && [ -x "$VENV/bin/pip" ]; then
    VENV_VERSION="$("$VENV/bin/python" -c 'import sys; print("%d.%d.%d" % sys.version_info[:3])' \
                    2>/dev/null || echo broken)"
    if [ "$VENV_VERSION" != "$PY_VERSION" ]; then
        echo "== .venv has Python $VENV_VERSION, $PY is $PY_VERSION: making it again"
        _make_venv
    fi
else
    echo "== creating .venv with $PY (Python $PY_VERSION)"
    _make_venv
fi

STAMP="$VENV/bootstrap.stamp"
if reason="$("$VENV/bin/python" "$ROOT/scripts/install_state.py" check "$STAMP" "$EXTRAS")" \
        && [ -x "$VENV/bin/blocks" ]; then
    echo "== .venv is up to date (Python $PY_VERSION, blocks-registry$EXTRAS): pip not run"
else
    echo "== installing blocks-registry$EXTRAS and its dependencies into .venv" \
         "(${reason:-blocks command missing}; pip's log: .venv/bootstrap.log)"
    if ! "$VENV/bin/python" -c 'import pip, sys; sys.exit(int(pip.__version__.split(".")[0]) < 23)'
    then
        echo "   upgrading pip"
        "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip
    fi
    : > "$LOG"
    if [ "$INSTALLER" = uv ] && [ ! -x "$VENV/bin/uv" ]; then
        if ! "$VENV/bin/python" "$ROOT/scripts/pip_progress.py" \
                --label="installing uv into .venv (the installer; BLOCKS_INSTALLER=pip for pip)" \
                "$LOG" -- "$VENV/bin/python" -m pip install --disable-pip-version-check \
                --progress-bar off uv 2>/dev/null; then
            echo "   could not install uv (see .venv/bootstrap.log): installing with pip"
            INSTALLER=pip
        fi
    fi
    if [ "$INSTALLER" = uv ]; then
        "$VENV/bin/python" "$ROOT/scripts/pip_progress.py" "$LOG" -- \
            "$VENV/bin/uv" pip install --python "$VENV/bin/python" -e "$ROOT$EXTRAS"
    else
        "$VENV/bin/python" "$ROOT/scripts/pip_progress.py" "$LOG" -- \
            "$VENV/bin/python" -m pip install --disable-pip-version-check --progress-bar off \
            -e "$ROOT$EXTRAS"
    fi
    "$VENV/bin/python" "$ROOT/scripts/install_state.py" write "$STAMP" "$EXTRAS"
    echo "== installed in $((SECONDS - _bootstrap_started)) s"
fi
export PATH="$VENV/bin:$PATH"
