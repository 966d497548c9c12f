"""The G1 revisions table: mode_machine values as Unitree lists them, limits from the project's model."""

from __future__ import annotations

import mujoco
import numpy as np
import pytest

from genmimic.core import g1_constants as g1
from genmimic.core.errors import ModelError
from genmimic.core.g1_model import g1_mjcf
from genmimic.core.g1_revisions import (
    G1_29DOF_REV_1_0,
    KNOWN_MODE_MACHINES,
    SUPPORTED,
    RevisionError,
    describe_mode_machine,
    revision_by_name,
    revision_for_mode_machine,
)


def test_rev_1_0_is_mode_5_and_the_only_supported_revision():
    assert revision_for_mode_machine(5) is G1_29DOF_REV_1_0
    assert revision_by_name("g1_29dof_rev_1_0") is G1_29DOF_REV_1_0
    assert list(SUPPORTED) == ["g1_29dof_rev_1_0"]
    assert "g1_29dof_rev_1_0" in KNOWN_MODE_MACHINES[5]


@pytest.mark.parametrize(("mode", "named"), [(4, "g1_23dof_rev_1_0"), (2, "g1_29dof"), (15, "g1_29dof_mode_15"),
                                             (0, "not a known G1"), (255, "not a known G1")])
def test_other_revisions_are_refused_naming_what_was_found_and_what_is_supported(mode, named):
    with pytest.raises(RevisionError) as err:
        revision_for_mode_machine(mode)
    message = str(err.value)
    assert f"mode_machine {mode} ({named}" in message
    assert "supported: g1_29dof_rev_1_0 (mode_machine 5)" in message
    assert err.value.found == mode and err.value.supported == ("g1_29dof_rev_1_0",)
    assert isinstance(err.value, ModelError) and "\n" not in message


def test_unknown_name_is_refused():
    with pytest.raises(RevisionError, match="unknown G1 revision 'g1_99dof'; supported: g1_29dof_rev_1_0"):
        revision_by_name("g1_99dof")
    assert describe_mode_machine(4) == "mode_machine 4 (g1_23dof_rev_1_0)"


def test_rev_1_0_limits_are_the_models_limits():
    rev = G1_29DOF_REV_1_0
    assert rev.num_dof == 29 and rev.joint_names == g1.JOINT_NAMES
    for field in ("lower", "upper", "effort", "velocity"):
        assert len(getattr(rev, field)) == 29
    lower, upper = np.array(rev.lower), np.array(rev.upper)
    assert np.all(lower < upper)
    # the generated MuJoCo model (what the simulator runs) has the same ranges and motor efforts
    model = mujoco.MjModel.from_xml_string(g1_mjcf())
    for i, name in enumerate(rev.joint_names):
        j = model.joint(name)
        np.testing.assert_allclose(j.range, [lower[i], upper[i]], rtol=1e-9)
        np.testing.assert_allclose(model.jnt_actfrcrange[j.id], [-rev.effort[i], rev.effort[i]])
    # known answers from Unitree's rev 1.0 URDF / MJCF: knee range, 139 Nm hip roll, 50 Nm ankles
    knee = g1.JOINT_NAMES.index("left_knee_joint")
    assert (rev.lower[knee], rev.upper[knee]) == (-0.087267, 2.8798)
    assert rev.effort[g1.JOINT_NAMES.index("left_hip_roll_joint")] == 139.0
    assert rev.effort[g1.JOINT_NAMES.index("left_ankle_pitch_joint")] == 50.0
