#!/usr/bin/env bash
# Paired clips for the student's generated-video-like goals, reproducibly (fixed seeds, never the held-out
# seeds >= 9000 nor the benchmark's):
#
#   scripts/make_goal_pairs.sh OUT_DIR [SEEDS_PER_KIND]
#
# For every genmimic-synth kind at seeds 3100.. (SEEDS_PER_KIND, default 2), genmimic-bench make writes the
# motion and its corrupted variants (every corruption, one severity each, rotating); both are retargeted.
# OUT_DIR gets, per variant NAME (for example walk_3100__jitter3.npz):
#   OUT_DIR/paired_NAME        the clean motion retargeted: the teacher's goals, the reward and the reference
#                              state initialisation
#   OUT_DIR/goals/paired_NAME  the corrupted variant retargeted: the student's goals
# genmimic-policy train reads a CLIPS folder's goals/ this way (genmimic.policy.train.load_bank), so a DAgger
# student learns to act as the teacher does on the clean motion from goals with jitter, flicker, drifting limbs,
# lost frames, foot skate, floating and camera drift, without the teacher ever tracking them (a wrong scale is
# left out: the retargeter rescales the person, so its goals equal the clean motion's).
# Copy or link OUT_DIR's files (and goals/) beside a corpus to train on both.
# Uses the stage commands of this checkout's .venv (make install) when there is one, else those on PATH.
set -euo pipefail
OUT=${1:?usage: make_goal_pairs.sh OUT_DIR [SEEDS_PER_KIND]}
SEEDS=${2:-2}
[[ "$SEEDS" =~ ^[1-9][0-9]*$ ]] || { echo "make_goal_pairs: SEEDS_PER_KIND must be a whole number >= 1, got '$SEEDS'" >&2; exit 2; }
. "$(dirname "$0")/corpus_setup.sh" make_goal_pairs "$OUT"
mkdir -p "$TMP/smpl"
for kind in $(genmimic-synth --list | awk '{print $1}'); do
  for ((i = 0; i < SEEDS; i++)); do
    genmimic-synth "$kind" --seed $((3100 + i)) --duration 8 -o "$TMP/smpl/${kind}_$((3100 + i)).npz"
  done
done
genmimic-bench make -o "$TMP/bench" --from "$TMP/smpl" >/dev/null
genmimic-retarget batch "$TMP/bench/clips" -o "$TMP/g1" >/dev/null 2>"$TMP/retarget.log" \
  || { cat "$TMP/retarget.log" >&2; exit 1; }
python3 - "$TMP/g1" "$OUT" <<'PYEOF'
import dataclasses, sys
from pathlib import Path
import numpy as np
from genmimic.core.clips import G1Clip, load_clip, save_clip
src, out = Path(sys.argv[1]), Path(sys.argv[2])
(out / "goals").mkdir(parents=True)
n, same = 0, 0
def small(clip):
    return dataclasses.replace(clip, **{k: getattr(clip, k).astype(np.float32)
                                        for k in ("root_pos", "root_quat", "dof_pos", "keypoints")})
for f in sorted(src.glob("*__*.npz")):
    clean_file = src / (f.name.split("__")[0] + ".npz")
    clean, noisy = load_clip(clean_file, G1Clip), load_clip(f, G1Clip)
    if clean.num_frames != noisy.num_frames or clean.fps != noisy.fps:
        print(f"make_goal_pairs: {f.name}: {noisy.num_frames} frames at {noisy.fps} fps, its motion "
              f"{clean.num_frames} at {clean.fps}; left out", file=sys.stderr)
        continue
    about_root = [c.keypoints - c.root_pos[:, None] for c in (clean, noisy)]  # as the student sees goals
    if np.abs(about_root[0] - about_root[1]).max() < 1e-5:  # e.g. a wrong scale, which retargeting undoes
        same += 1
        continue
    save_clip(small(clean), out / f"paired_{f.name}")
    save_clip(small(noisy), out / "goals" / f"paired_{f.name}")
    n += 1
print(f"make_goal_pairs: {n} pairs in {out} ({same} left out: their goals equal the clean motion's)")
PYEOF
