#!/bin/sh
# Check that a built bundle starts and answers, without touching the user's data.
#
#     packaging/smoke_test.sh [BUNDLE_DIR]           default: dist/scry
#     SCRY_SMOKE_MODEL=DIR packaging/smoke_test.sh   also index two notes and search them with
#                                                    the model in DIR (a local text or CLIP model)
#
# Runs: scry --version; scry status --json (a fresh SCRY_HOME); scry integrate status --json (a
# temp HOME: the templates and icons are in the bundle); the window, offscreen, until it reports
# it is shown (60 s at most); optionally index + search. Exit 0 = ok.
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUNDLE=${1:-"$ROOT/dist/scry"}
EXE="$BUNDLE/scry"
[ -x "$EXE" ] || EXE="$BUNDLE/scry.exe"
[ -x "$EXE" ] || { echo "smoke_test: no scry executable in $BUNDLE (run packaging/build.sh)" >&2; exit 2; }

TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT INT TERM
fail() { echo "smoke_test: FAIL: $*" >&2; exit 1; }
start=$(date +%s)

out=$("$EXE" --version) || fail "--version exited $?"
case "$out" in "scry "*) echo "ok: --version -> $out" ;; *) fail "--version printed '$out'" ;; esac

SCRY_HOME="$TMP/home" "$EXE" status --json >"$TMP/status.json" 2>"$TMP/status.err" ||
    fail "status --json exited $?: $(cat "$TMP/status.err")"
grep -q '"files": 0' "$TMP/status.json" || fail "status --json: no '\"files\": 0' in $(cat "$TMP/status.json")"
echo "ok: status --json on an empty data folder"

mkdir -p "$TMP/user"
HOME="$TMP/user" XDG_DATA_HOME="" XDG_CONFIG_HOME="" "$EXE" integrate status --json >"$TMP/integ.json" 2>&1 ||
    fail "integrate status exited $?: $(cat "$TMP/integ.json")"
grep -q '"not installed"' "$TMP/integ.json" || fail "integrate status: $(cat "$TMP/integ.json")"
echo "ok: integrate status (templates and icons bundled)"

# the window (offscreen Qt: no display needed): it must come up and report "shown"
SCRY_HOME="$TMP/home" SCRY_GUI_BENCH=1 QT_QPA_PLATFORM=offscreen HF_HUB_OFFLINE=1 \
    timeout 60 "$EXE" --show >"$TMP/gui.out" 2>&1 || true
grep -q '"event": "shown"' "$TMP/gui.out" || fail "the window did not come up: $(tail -5 "$TMP/gui.out")"
echo "ok: the window comes up (Qt platform plugins bundled)"

if [ -n "${SCRY_SMOKE_MODEL:-}" ]; then
    mkdir -p "$TMP/notes"
    echo "The recipe needs flour, butter, sugar and two eggs; bake for forty minutes." >"$TMP/notes/cake.txt"
    echo "Change the car's engine oil and check the tyre pressure before the long drive." >"$TMP/notes/car.txt"
    SCRY_HOME="$TMP/home" "$EXE" index --model "$SCRY_SMOKE_MODEL" --quiet "$TMP/notes" >"$TMP/index.out" 2>&1 ||
        fail "index exited $?: $(cat "$TMP/index.out")"
    SCRY_HOME="$TMP/home" "$EXE" search --model "$SCRY_SMOKE_MODEL" --mode vector --all -k 1 --json \
        "baking a dessert in the oven" >"$TMP/search.json" 2>"$TMP/search.err" ||
        fail "search exited $?: $(cat "$TMP/search.err")"
    grep -q 'cake.txt' "$TMP/search.json" || fail "search did not find cake.txt: $(cat "$TMP/search.json")"
    echo "ok: index + search with $SCRY_SMOKE_MODEL (torch and transformers bundled)"
fi
echo "smoke_test: all ok in $(( $(date +%s) - start )) s ($(du -sh "$BUNDLE" | cut -f1) bundle)"
