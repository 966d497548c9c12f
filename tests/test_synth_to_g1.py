"""Cross-stage: the project's procedural human motions retarget cleanly to the G1 (issue targets)."""

from __future__ import annotations

import numpy as np
import pytest

synth = pytest.importorskip("genmimic.lift.synth")

from genmimic.retarget import retarget  # noqa: E402


@pytest.mark.parametrize("kind", ["wave", "squat", "turn", "walk"])
def test_procedural_motion_retargets_within_targets(kind):
    clip = synth.synthesize(kind, seed=1, fps=30.0)
    result = retarget(clip)
    r = result.report
    assert r.keypoint_error_mean <= 0.03
    assert r.joint_limit_violations == 0
    assert r.penetration <= 0.01
    assert r.foot_slide <= 0.01
    assert result.clip.num_frames == pytest.approx(clip.duration * 50 + 1, abs=1)
    assert np.all(result.clip.root_pos[:, 2] > 0.5)  # the robot stands
