# Sourced by bin/mailfate and bin/test: make .venv with the pinned packages, once.
# usage: . bin/_venv.sh [EXTRAS]   (EXTRAS: "dev" for the test tools, "postgres,ses" for the drivers)
set -eu
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
PY="${PYTHON:-python3}"
EXTRA="${1:-}"
STAMP="$VENV/.mailfate-installed${EXTRA:+-$EXTRA}"
if [ ! -x "$VENV/bin/python" ]; then
    if ! "$PY" -c "import ensurepip, venv" 2>/dev/null && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
        # Debian splits venv's pip bootstrap into python3-venv: `python3 -m venv` fails without it.
        . "$ROOT/bin/_apt.sh"
        apt_install python3-venv
    fi
    "$PY" -m venv "$VENV"
fi
NEED=0
[ -f "$STAMP" ] || NEED=1
for f in "$ROOT/pyproject.toml" "$ROOT/constraints.txt"; do
    [ -f "$STAMP" ] && [ "$f" -nt "$STAMP" ] && NEED=1
done
if [ "$NEED" = 1 ]; then
    SPEC="$ROOT"
    [ -n "$EXTRA" ] && SPEC="$ROOT[$EXTRA]"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check -c "$ROOT/constraints.txt" -e "$SPEC" >&2
    touch "$STAMP"
fi
