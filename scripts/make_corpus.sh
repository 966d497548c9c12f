#!/usr/bin/env bash
# The tracker's training corpus, reproducibly (fixed seeds; held-out evaluation uses seeds >= 9000):
#
#   scripts/make_corpus.sh OUT_DIR [SYNTH_CLIPS] [JOINT_CLIPS] [ARM_CLIPS] [LIFTED_PER_KIND]
#
# Writes G1 clips (.npz, float32 arrays to keep the folder small enough to carry to a GPU machine) into one
# flat OUT_DIR:
#   synth_*    every genmimic-synth kind, round robin, seeds 1000.. (genmimic-policy corpus --source synth)
#   joints_*   joint-space procedural motions (genmimic-policy corpus --source joints), seeds 1000..
#   jumps_*    more jumps: 16 at seeds 1000.. and 8 with another arm posture at seeds 2000.. (the round robin
#              gives the jump kind 1 clip in 22; a flight is the hardest phase to hold, and the teacher stood
#              through or fell on every jump until it had these, ledger row 50 of the policy README)
#   turns_*    quick turn-arounds (genmimic-synth turn_around, 135-225 deg/s): 24 at seeds 1000.. and 12 with
#              another arm posture at seeds 2000.. (the teacher at 524.7 M env steps and student v0.4 fell on the
#              CMU clip's turn-around at 9-10 s and on such clips, having had only 45-80 deg/s turns; 2026-12-04)
#   arms_*     more genmimic-synth kinds, seeds 2000.., each with another arm posture from its first frame
#              (genmimic-policy corpus --arm-variety: upper arms and wrists turned, elbows bent or straight):
#              every synth clip starts with the arms untwisted, lifted videos and mocap do not, and the teacher
#              trained without these turned those joints away within 0.1 s of such starts (2026-12-02)
#   corrupt_*  generated-video-like versions: one motion per kind at seed 3000, corrupted by genmimic-bench's
#              corruptions at their default severities (genmimic-bench make --from), retargeted; without the
#              corruptions whose *reference* no robot can follow (jitter at severity 2-3, foot_skate,
#              global_drift, floating at severity 3): the teacher's reward tracks the clip itself, and in the
#              run of 2026-11-30 (14.4 M env steps) 55 % of all training failures were on the 14 jitter-2/3
#              clips (adaptive sampling then drew most starts there). Generated-video-like *goals* still
#              come from the env's goal noise (jitter, limb scaling, stale frames) and the milder corruptions.
#   severe_*   those left-out corruptions after all, on other motions (seed 3001): the teacher at 413.7 M env
#              steps ran 77 % of them to the end untrained, while every student distilled without them fell
#              within 0.7 s on the benchmark's jitter-3 clips that the teacher ran to their ends (2026-12-04)
#   mocap_*    every BVH in ../shared/data/motions (when present), lifted and retargeted, and its mirror image
#              (mocap_mirror_*, genmimic.policy.mirror.mirror_clip: the CMU clip's 180 deg hop-turn, where the
#              teacher fell from 330 M to 382 M env steps, also to the other side; 2026-12-03)
#   lifted_*   every genmimic-synth kind rendered as a video, lifted back by genmimic-lift and retargeted
#              (scripts/make_lifted.sh), LIFTED seeds a kind from 4000: what the pipeline gives for a video
# Uses the stage commands of this checkout's .venv (make install) when there is one, else those on PATH.
set -euo pipefail
OUT=${1:?usage: make_corpus.sh OUT_DIR [SYNTH_CLIPS] [JOINT_CLIPS] [ARM_CLIPS] [LIFTED_PER_KIND]}
SYNTH=${2:-210}
JOINTS=${3:-56}
ARMS=${4:-140}
LIFTED=${5:-2}
. "$(dirname "$0")/corpus_setup.sh" make_corpus "$OUT"
genmimic-policy corpus "$TMP/synth" --count "$SYNTH" --seed 1000 --duration 8 --source synth
genmimic-policy corpus "$TMP/joints" --count "$JOINTS" --seed 1000 --duration 8 --source joints
genmimic-policy corpus "$TMP/arms" --count "$ARMS" --seed 2000 --duration 8 --source synth --arm-variety
# more_of PART KIND N M: N clips of one synth kind at seeds 1000.. and M with another arm posture at seeds 2000..
more_of() {
  genmimic-policy corpus "$TMP/$1" --count "$3" --seed 1000 --duration 8 --source synth --kinds "$2"
  genmimic-policy corpus "$TMP/$1_arms" --count "$4" --seed 2000 --duration 8 --source synth --kinds "$2" --arm-variety
  mkdir -p "$TMP/$1"
  for f in "$TMP/$1_arms"/*.npz; do mv "$f" "$TMP/$1/arms_$(basename "$f")"; done
}
more_of jumps jump 16 8
more_of turns turn_around 24 12
mkdir -p "$TMP/smpl" "$TMP/corrupt" "$TMP/mocap"
mkdir -p "$TMP/smpl_severe" "$TMP/severe"
for kind in $(genmimic-synth --list | awk '{print $1}'); do
  genmimic-synth "$kind" --seed 3000 --duration 8 -o "$TMP/smpl/$kind.npz"
  genmimic-synth "$kind" --seed 3001 --duration 8 -o "$TMP/smpl_severe/${kind}_3001.npz"
done
genmimic-bench make -o "$TMP/bench" --from "$TMP/smpl" >/dev/null
genmimic-retarget batch "$TMP/bench/clips" -o "$TMP/corrupt" >/dev/null
genmimic-bench make -o "$TMP/bench_severe" --from "$TMP/smpl_severe" >/dev/null
genmimic-retarget batch "$TMP/bench_severe/clips" -o "$TMP/severe" >/dev/null
for bvh in "$ROOT"/../shared/data/motions/*.bvh; do
  [ -f "$bvh" ] || continue
  name=$(basename "$bvh" .bvh)
  genmimic-lift "$bvh" -o - | genmimic-retarget - -o "$TMP/mocap/$name.npz"
done
[ "$LIFTED" -gt 0 ] && "$ROOT/scripts/make_lifted.sh" "$TMP/lifted" "$LIFTED" 4000 8
mkdir -p "$OUT"
python3 - "$TMP" "$OUT" <<'PYEOF'
import dataclasses, sys
from pathlib import Path
import numpy as np
from genmimic.core.clips import G1Clip, load_clip, save_clip
from genmimic.policy.mirror import mirror_clip
tmp, out = Path(sys.argv[1]), Path(sys.argv[2])
n = 0
UNTRACKABLE = ("__jitter2", "__jitter3", "__foot_skate", "__global_drift", "__floating3")
for part in ("synth", "joints", "jumps", "turns", "arms", "corrupt", "severe", "mocap", "lifted"):
    for f in sorted((tmp / part).glob("*.npz")):
        if any(tag in f.name for tag in UNTRACKABLE) != (part == "severe"):
            continue
        c = load_clip(f, G1Clip)
        copies = [(f"{part}_{f.name}", c)] + ([(f"{part}_mirror_{f.name}", mirror_clip(c))] if part == "mocap" else [])
        for name, clip in copies:
            small = {k: getattr(clip, k).astype(np.float32) for k in ("root_pos", "root_quat", "dof_pos", "keypoints")}
            save_clip(dataclasses.replace(clip, **small), out / name)
            n += 1
print(f"make_corpus: {n} clips in {out}")
PYEOF
