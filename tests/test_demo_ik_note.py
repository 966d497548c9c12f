"""scripts/demo.py's note on the retargeter's "frames with a keypoint over 5 cm off": what it means, and when
it matters."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

DEMO = Path(__file__).resolve().parents[1] / "scripts" / "demo.py"


@pytest.fixture(scope="module")
def demo():
    spec = importlib.util.spec_from_file_location("genmimic_demo_script", DEMO)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _report(bad: int, worst_m: float, frames_in: int = 232, fps_in: float = 25.0, **where):
    from genmimic.retarget.pipeline import RetargetReport

    return RetargetReport(frames_in=frames_in, frames_out=463, fps_in=fps_in, fps_out=50.0, ik_frames_per_second=1e3,
                          keypoint_error_mean=0.029, keypoint_error_max=worst_m, joint_limit_margin=0.05,
                          joint_limit_violations=0, penetration=0.0, foot_slide=0.0, contact_fraction=0.5,
                          nonconverged_frames=list(range(bad)), scales={}, **where)


def test_the_note_counts_ik_frames_and_says_a_small_miss_is_harmless(demo):
    note = demo.ik_note(_report(232, 0.087))
    assert "in every IK frame some G1 keypoint" in note and "5 cm" in note and "8.7 cm" in note
    assert "232 of 232 IK frames with a keypoint over 5 cm off" in _report(232, 0.087).summary()
    assert "does not change the motion visibly" in note
    # which keypoints miss, in the summary and the note (the demo's: the trunk, on every frame)
    trunk = _report(232, 0.087, nonconverged_keypoints=(("torso", 232), ("head", 232), ("left_shoulder", 232),
                                                           ("pelvis", 9)))
    assert trunk.summary().endswith("over 5 cm off (torso on 232, head on 232, left_shoulder on 232)")
    assert ("(the torso, head, left_shoulder miss on (nearly) every frame: the G1's build differs there from the "
            "lifted body's" in demo.ik_note(trunk))
    scattered = _report(40, 0.087, nonconverged_keypoints=(("right_hand", 30), ("head", 12)))
    assert "cannot match the human there; most often the right_hand, head; largest" in demo.ik_note(scattered)


def test_the_note_flags_a_large_miss(demo):
    note = demo.ik_note(_report(20, 0.147))  # the demo's largest miss (2026-12-01): not called small
    assert "20 of 232 IK frames (9 %)" in note and "big enough to change the motion visibly" in note
    # where the largest miss is, when the report says
    note = demo.ik_note(_report(232, 0.147, worst_time=3.2, worst_keypoint="right_hand"))
    assert "largest 14.7 cm (right_hand at 3.20 s)" in note and note.endswith("look at the right_hand around 3.20 s")
    assert "max 14.7 cm (right_hand at 3.20 s);" in _report(232, 0.147, worst_time=3.2,
                                                             worst_keypoint="right_hand").summary()
    # IK runs at the output rate when the input is faster
    assert "of 463 IK frames" in demo.ik_note(_report(20, 0.02, frames_in=1000, fps_in=120.0))
