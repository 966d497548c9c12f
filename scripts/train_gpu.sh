#!/usr/bin/env bash
# Train the tracker on the MJX backend (a CUDA machine with JAX, Flax and Optax, no MuJoCo, no network).
#
#   scripts/train_gpu.sh MINUTES OUT_DIR [CLIPS_DIR] [CONFIG_JSON]
#
# Installs mujoco + mujoco-mjx from the cp312 wheels in .whl/ (fetched beforehand with
# `pip download --python-version 3.12 --only-binary :all: --no-deps`, kept out of git), puts the
# repository's genmimic-core and genmimic-policy sources on PYTHONPATH, copies the committed run
# (packages/genmimic-policy/run/) into a work directory so training resumes from it, trains for MINUTES
# in all (teacher PPO, then the DAgger student, each capped), and copies the run's small files
# (checkpoints, metrics, config, policy.npz) into OUT_DIR. A run killed early still leaves the newest
# checkpoint in OUT_DIR. The same script runs on a CPU for testing (GENMIMIC_NO_WHEELS=1 uses the
# installed packages; GENMIMIC_NUM_ENVS overrides the number of envs; GENMIMIC_RUN_SRC names another
# run directory to resume from). Checkpoints carry the env's state (episodes, random and adaptive-sampling
# state); with another number of envs than the checkpoint's, the envs start anew and the learner resumes.
set -uo pipefail
MINUTES=${1:?usage: train_gpu.sh MINUTES OUT_DIR [CLIPS_DIR] [CONFIG_JSON]}
OUT=${2:?usage: train_gpu.sh MINUTES OUT_DIR [CLIPS_DIR] [CONFIG_JSON]}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLIPS=${3:-$ROOT/.gpu_clips}
CONFIG=${4:-$ROOT/packages/genmimic-policy/configs/gpu.json}
RUN_SRC=${GENMIMIC_RUN_SRC:-$ROOT/packages/genmimic-policy/run}  # the run to resume (only read: copied)
PY=${PYTHON:-python3}
mkdir -p "$OUT"
LOG=$OUT/train_gpu.log
say() { echo "train_gpu: $*" | tee -a "$LOG" >&2; }

[ -d "$CLIPS" ] || { say "$CLIPS: no clips directory; make one with: genmimic-policy corpus $CLIPS"; exit 2; }
[ -f "$CONFIG" ] || { say "$CONFIG: no such config file"; exit 2; }
if [ -z "${GENMIMIC_NO_WHEELS:-}" ]; then
  ls "$ROOT"/.whl/*.whl >/dev/null 2>&1 || { say "$ROOT/.whl: no wheels; fetch mujoco and mujoco-mjx cp312 wheels there"; exit 2; }
  $PY -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/gm_site \
    "$ROOT"/.whl/*.whl 2>&1 | tee -a "$LOG" || { say "installing the wheels failed"; exit 2; }
  export PYTHONPATH=/tmp/gm_site:$ROOT/packages/genmimic-core/src:$ROOT/packages/genmimic-policy/src${PYTHONPATH:+:$PYTHONPATH}
fi
export PYTHONUNBUFFERED=1 XLA_PYTHON_CLIENT_PREALLOCATE=false
WORK=$(mktemp -d /tmp/gm_run.XXXX)/run
mkdir -p "$WORK"
[ -d "$RUN_SRC" ] && cp -r "$RUN_SRC"/. "$WORK"/ && say "resuming from $RUN_SRC"
$PY - "$CONFIG" "$WORK" "$MINUTES" <<'PYEOF' 2>&1 | tee -a "$LOG"
import json, sys, os
cfg, work, minutes = json.load(open(sys.argv[1])), sys.argv[2], float(sys.argv[3])
if os.environ.get("GENMIMIC_NUM_ENVS"):
    cfg["num_envs"] = int(os.environ["GENMIMIC_NUM_ENVS"])
# Every local device by default (config "devices": "all"; GENMIMIC_DEVICES=N for the first N): the envs and
# the PPO batch are split over them (genmimic.policy.sharding); num_envs must be a multiple of their count.
cfg["devices"] = os.environ.get("GENMIMIC_DEVICES", cfg.get("devices", "all"))
cfg["max_minutes"] = minutes
json.dump(cfg, open(work + "/overrides.json", "w"))
import jax
print("jax", jax.__version__, jax.devices())
PYEOF
copy_out() {
  for f in teacher.msgpack teacher.json student.msgpack student.json metrics_teacher.csv \
           metrics_student.csv policy.npz; do
    [ -f "$WORK/$f" ] && cp "$WORK/$f" "$OUT/"
  done
  # the teacher without its env snapshot (34 MB at 4,096 envs; files come back only under 16 MB)
  [ -f "$OUT/teacher.msgpack" ] && $PY -c "import sys; from pathlib import Path
from genmimic.policy.config import load_config; from genmimic.policy.train import drop_env_state
drop_env_state(Path(sys.argv[1]), load_config(sys.argv[2]))" "$OUT/teacher.msgpack" "$WORK/overrides.json" 2>/dev/null
}
# Copy the newest checkpoints out every 30 s too, so a run killed from outside still returns them.
( while sleep 30; do copy_out; done ) &
COPIER=$!
trap 'kill $COPIER 2>/dev/null' EXIT
# Teacher gets 75 % of the minutes, the student the rest; a hard timeout leaves room to copy out.
# GENMIMIC_TEACHER_SHARE: the teacher's share of the minutes (default 0.75); 1 trains the teacher only.
SHARE=${GENMIMIC_TEACHER_SHARE:-0.75}
T_MIN=$($PY -c "print(round($MINUTES*$SHARE, 2))"); S_MIN=$($PY -c "print(round($MINUTES*(1-$SHARE), 2))")
$PY - "$WORK" "$T_MIN" <<'PYEOF'
import json, sys
p = sys.argv[1] + "/overrides.json"; c = json.load(open(p)); c["max_minutes"] = float(sys.argv[2]); json.dump(c, open(p, "w"))
PYEOF
# Stretch wall time: the teacher's cap plus its compile time, the student's likewise.
timeout $(( ${MINUTES%.*} * 60 + 240 )) $PY -m genmimic.policy train --clips "$CLIPS" --out "$WORK" \
  --config "$WORK/overrides.json" --phase teacher 2>&1 | tee -a "$LOG"
rc=$?
copy_out
[ $rc = 0 ] || [ $rc = 124 ] || { say "teacher training failed (exit $rc)"; exit $rc; }
[ "$S_MIN" = "0.0" ] && { say "teacher only; files in $OUT"; ls -la "$OUT" | tee -a "$LOG"; exit 0; }
$PY - "$WORK" "$S_MIN" <<'PYEOF'
import json, sys
p = sys.argv[1] + "/overrides.json"; c = json.load(open(p)); c["max_minutes"] = float(sys.argv[2]); json.dump(c, open(p, "w"))
PYEOF
timeout $(( ${MINUTES%.*} * 60 / 3 + 120 )) $PY -m genmimic.policy train --clips "$CLIPS" --out "$WORK" \
  --config "$WORK/overrides.json" --phase student 2>&1 | tee -a "$LOG"
rc=$?
copy_out
[ $rc = 0 ] || [ $rc = 124 ] || { say "student training failed (exit $rc)"; exit $rc; }
say "done; files in $OUT"
ls -la "$OUT" | tee -a "$LOG"
