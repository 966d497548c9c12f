# Sourced by the corpus scripts: `. "$(dirname "$0")/corpus_setup.sh" SCRIPT_NAME OUT_DIR`.
# Puts this checkout's .venv (make install) first on PATH when there is one, checks the stage commands are
# there and OUT_DIR is new, and makes TMP (removed on exit). Sets ROOT (the checkout) and TMP.
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
[ -x "$ROOT/.venv/bin/genmimic-policy" ] && PATH="$ROOT/.venv/bin:$PATH"
for cmd in genmimic-policy genmimic-bench genmimic-retarget genmimic-synth; do
  command -v "$cmd" >/dev/null || { echo "$1: $cmd not found; fix: run make install first" >&2; exit 2; }
done
[ -e "$2" ] && { echo "$1: $2 exists; choose a new folder" >&2; exit 2; }
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
