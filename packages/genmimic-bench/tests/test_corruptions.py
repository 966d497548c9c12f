"""Corruptions do what they say, at the size they say, reproducibly."""

from __future__ import annotations

import numpy as np
import pytest

from genmimic.bench.corruptions import CORRUPTIONS, LIMB_ROOT, LIMBS, SEVERITY, corrupt
from genmimic.core import smpl
from genmimic.core.testing import standing_wave_smpl_clip

J = smpl.JOINT_NAMES.index


@pytest.fixture(scope="module")
def clean():
    return standing_wave_smpl_clip(150, 30.0)


def _bone(joints: np.ndarray, a: str, b: str) -> np.ndarray:
    return np.linalg.norm(joints[:, J(b)] - joints[:, J(a)], axis=-1)


@pytest.mark.parametrize("severity", [1, 2, 3])
def test_jitter_has_the_requested_std(clean, severity):
    noisy = corrupt(clean, "jitter", severity, seed=0)
    measured = np.std(noisy.joints - clean.joints)
    assert measured == pytest.approx(SEVERITY["jitter"][severity - 1], rel=0.05)


@pytest.mark.parametrize("severity", [1, 2, 3])
def test_limb_length_changes_by_the_requested_fraction(clean, severity):
    out = corrupt(clean, "limb_drift", severity, seed=1)
    amount = SEVERITY["limb_drift"][severity - 1]
    for limb in LIMBS:
        root, child = LIMB_ROOT[limb], LIMBS[limb][0]
        ratio = _bone(out.joints, root, child) / _bone(clean.joints, root, child)
        assert np.max(np.abs(ratio - 1)) == pytest.approx(amount, rel=0.1)


def test_missing_frames_are_held_and_flagged(clean):
    out = corrupt(clean, "missing_frames", 2, seed=2)
    lost = np.all(out.confidence == 0, axis=1)
    assert lost.mean() == pytest.approx(SEVERITY["missing_frames"][1], abs=0.08)
    t = np.flatnonzero(lost)[0]
    np.testing.assert_array_equal(out.joints[t], out.joints[t - 1])


def test_flicker_snaps_limbs_on_some_frames_only(clean):
    out = corrupt(clean, "flicker", 3, seed=3)
    moved = np.any(np.linalg.norm(out.joints - clean.joints, axis=-1) > 0.05, axis=1)
    assert moved.mean() == pytest.approx(SEVERITY["flicker"][2], abs=0.07)
    # a snapped limb keeps its lengths: only directions change
    for limb in LIMBS:
        np.testing.assert_allclose(_bone(out.joints, LIMB_ROOT[limb], LIMBS[limb][0]),
                                   _bone(clean.joints, LIMB_ROOT[limb], LIMBS[limb][0]), atol=1e-9)


def test_whole_body_artefacts(clean):
    floating = corrupt(clean, "floating", 3, seed=4)
    lift = floating.joints[:, :, 2] - clean.joints[:, :, 2]
    assert lift.max() == pytest.approx(SEVERITY["floating"][2], rel=0.05) and lift.min() >= 0
    drift = corrupt(clean, "global_drift", 2, seed=5)
    travelled = np.linalg.norm(drift.transl[-1, :2] - clean.transl[-1, :2])
    assert travelled == pytest.approx(SEVERITY["global_drift"][1] * clean.duration, rel=0.1)
    scaled = corrupt(clean, "wrong_scale", 2, seed=6)
    ratio = _bone(scaled.joints, "left_hip", "left_knee") / _bone(clean.joints, "left_hip", "left_knee")
    assert abs(ratio.mean() - 1) == pytest.approx(SEVERITY["wrong_scale"][1], rel=1e-6)


@pytest.mark.parametrize("name", list(CORRUPTIONS))
def test_every_corruption_is_seeded_and_recorded(clean, name):
    a, b = corrupt(clean, name, 2, seed=9), corrupt(clean, name, 2, seed=9)
    np.testing.assert_array_equal(a.joints, b.joints)
    assert a.meta["corruption"]["name"] == name and a.meta["corruption"]["severity"] == 2
    assert not np.array_equal(a.joints, clean.joints)


def test_bad_arguments(clean):
    with pytest.raises(KeyError, match="unknown corruption 'blur'"):
        corrupt(clean, "blur", 1, 0)
    with pytest.raises(ValueError, match="severity must be 1, 2 or 3"):
        corrupt(clean, "jitter", 4, 0)
