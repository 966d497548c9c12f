"""Cross-stage: real mocap (CMU BVH in ../shared/data) through genmimic-lift's importer and the retargeter."""

from __future__ import annotations

import numpy as np
import pytest

bvh = pytest.importorskip("genmimic.lift.bvh")

from genmimic.core import g1_constants as g1  # noqa: E402
from genmimic.retarget import retarget  # noqa: E402


def test_cmu_forward_jumps_retarget_to_the_g1(shared_data):
    human = bvh.import_bvh(shared_data / "motions" / "cmu_01_01_forward_jumps.bvh")
    result = retarget(human)
    clip, r = result.clip, result.report
    assert clip.fps == 50.0 and clip.duration == pytest.approx(human.duration, abs=0.05)
    assert r.joint_limit_violations == 0
    assert r.keypoint_error_mean < 0.05
    assert r.penetration <= 0.01
    lower = np.array([j.lower for j in g1.JOINTS])
    assert np.all(clip.dof_pos >= lower)
    pelvis = clip.root_pos[:, 2]
    assert 0.5 < np.median(pelvis) < 0.85  # a G1 standing between jumps
    assert np.ptp(clip.root_pos[:, 0]) > 1.0  # the jumps travel forward
    assert 0.2 < r.contact_fraction < 0.95  # on the ground between jumps, in the air during them
