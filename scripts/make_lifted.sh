#!/usr/bin/env bash
# Lifted clips: genmimic-synth motions rendered as videos (scripts/render_demo_video.py, the demo's renderer),
# lifted back by genmimic-lift and retargeted, so that the tracker trains and is evaluated on what the
# pipeline really gives for a video (lag, jitter, foot slide), not only on procedural motion. Measured
# 2026-12-02: the teacher at 193 M env steps, 81 % strict on the procedural held-out set, fell within 2 s on
# the demo's lifted clip and on a lifted dance.
#
#   scripts/make_lifted.sh OUT_DIR [PER_KIND] [SEED] [DURATION]
#
# Writes OUT_DIR/<kind>_<seed>.npz (G1 clips), PER_KIND seeds (default 1) from SEED (default 4000) for every
# genmimic-synth kind. About 40 s a clip on one core. Held-out sets use seeds >= 9000.
set -euo pipefail
OUT=${1:?usage: make_lifted.sh OUT_DIR [PER_KIND] [SEED] [DURATION]}
PER_KIND=${2:-1}
SEED=${3:-4000}
DURATION=${4:-8}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
[ -x "$ROOT/.venv/bin/genmimic-lift" ] && PATH="$ROOT/.venv/bin:$PATH"
command -v genmimic-lift >/dev/null || { echo "make_lifted: genmimic-lift not found; fix: run make install first" >&2; exit 2; }
export MUJOCO_GL=${MUJOCO_GL:-osmesa}
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
mkdir -p "$OUT"
for kind in $(genmimic-synth --list | awk '{print $1}'); do
  for ((i = 0; i < PER_KIND; i++)); do
    seed=$((SEED + i))
    [ -f "$OUT/${kind}_${seed}.npz" ] && continue
    python3 "$ROOT/scripts/render_demo_video.py" --kind "$kind" --seed "$seed" --duration "$DURATION" \
      -o "$TMP/video.mp4" >/dev/null
    # a lift that fails (a far figure the detector does not find) skips the clip, with the lift's error
    if ! genmimic-lift "$TMP/video.mp4" -o "$TMP/smpl.npz" 2>"$TMP/lift.err" \
        || ! genmimic-retarget "$TMP/smpl.npz" -o "$TMP/clip.npz" 2>"$TMP/lift.err"; then
      echo "make_lifted: skipped $kind seed $seed: $(grep -i error "$TMP/lift.err" | tail -1)" >&2
      continue
    fi
    # genmimic-synth motions keep the G1's pelvis between 0.42 m (the deepest crouch) and 0.79 m (standing),
    # so a pelvis above 1.0 m or below 0.35 m is the lift losing the figure's depth, not a motion (seen
    # 2026-12-02 on 2 of 48: crouch 4000 rising to 1.09 m, walk_speed 9000 sinking to 0.30 m): skip it. Except
    # a jump's flight: its apex passes 1.0 m for at most a flight's time (0.28-0.46 s; the lifted jumps of
    # seeds 4000 and 4001 rose to 1.04 and 1.06 m for 0.20 and 0.22 s, 2026-12-03), so above 1.0 m counts only
    # for longer than 0.5 s at a stretch
    if ! python3 -c "import sys, numpy as np; from genmimic.core.clips import G1Clip, load_clip; \
c = load_clip(sys.argv[1], G1Clip); z = c.root_pos[:, 2]; up = np.r_[0, (z > 1.0).astype(int), 0]; \
d = np.diff(up); runs = np.flatnonzero(d == -1) - np.flatnonzero(d == 1); \
sys.exit(int(runs.max(initial=0) > 0.5 * c.fps or z.min() < 0.35))" \
        "$TMP/clip.npz"; then
      echo "make_lifted: skipped $kind seed $seed: the lifted pelvis leaves 0.35-1.0 m (a failed lift)" >&2
      continue
    fi
    mv "$TMP/clip.npz" "$OUT/${kind}_${seed}.npz"
    echo "make_lifted: $OUT/${kind}_${seed}.npz" >&2
  done
done
