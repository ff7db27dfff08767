#!/bin/sh
# Build the scry desktop bundle (PyInstaller one-folder) into dist/scry/.
#
#     packaging/build.sh                 uses .venv (scripts/run creates it), adds PyInstaller
#     PYTHON=/path/to/python packaging/build.sh    uses that environment instead
#     CLEAN=0 packaging/build.sh         reuse PyInstaller's cache in build/ (faster rebuild)
#
# The environment must already have scry and its dependencies (CPU torch) installed: the
# bundle is made from what is installed there. Then: packaging/smoke_test.sh checks it.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
PYTHON=${PYTHON:-"$ROOT/.venv/bin/python"}
if [ ! -x "$PYTHON" ]; then
    echo "build.sh: no Python at $PYTHON; run scripts/run --version first (it creates .venv)," >&2
    echo "or set PYTHON to an environment where scry is installed." >&2
    exit 2
fi
"$PYTHON" -c "import scry.app.cli" 2>/dev/null || {
    echo "build.sh: scry is not installed in $PYTHON's environment (pip install -e .)." >&2
    exit 2
}
"$PYTHON" -m PyInstaller --version >/dev/null 2>&1 || "$PYTHON" -m pip install --quiet "pyinstaller>=6.10"
start=$(date +%s)
clean=--clean
[ "${CLEAN:-1}" = 0 ] && clean=
"$PYTHON" -m PyInstaller --noconfirm $clean --log-level WARN \
    --distpath "$ROOT/dist" --workpath "$ROOT/build/pyinstaller" "$ROOT/packaging/scry.spec"
end=$(date +%s)
echo "build.sh: built $ROOT/dist/scry in $((end - start)) s, $(du -sh "$ROOT/dist/scry" | cut -f1)"
