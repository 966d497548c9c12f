"""Damaged inputs a user really produces: one-line errors naming the file, the problem and the fix."""

import pytest

from genmimic.lift.errors import LiftError
from genmimic.lift.importers import lift_any

HIERARCHY = """HIERARCHY
ROOT Hips
{
  OFFSET 0 0 0
  CHANNELS 6 Xposition Yposition Zposition Zrotation Xrotation Yrotation
  JOINT Spine
  {
    OFFSET 0 0.1 0
    CHANNELS 3 Zrotation Xrotation Yrotation
    End Site
    {
      OFFSET 0 0.1 0
    }
  }
}
MOTION
Frames: 3
Frame Time: 0.0333333
"""


def test_a_short_motion_line_names_the_frame_and_the_fix(tmp_path):
    bad = tmp_path / "short.bvh"
    bad.write_text(HIERARCHY + "0 0.9 0 0 0 0 0 0 0\n0 0.9 0 0 0 0 0 0\n0 0.9 0 0 0 0 0 0 0\n")
    with pytest.raises(LiftError,
                       match=r"short.bvh.*frame 1 \(about line 20\) holds 8 values.*need 9.*; fix: re-export"):
        lift_any(bad)


def test_a_word_in_the_motion_section_is_named_not_a_numpy_error(tmp_path):
    bad = tmp_path / "word.bvh"
    bad.write_text(HIERARCHY + "0 0.9 0 0 0 0 0 0 0\n0 0.9 0 0 x 0 0 0 0\n0 0.9 0 0 0 0 0 0 0\n")
    with pytest.raises(LiftError, match=r"word.bvh.*not a number.*; fix: re-export") as info:
        lift_any(bad)
    assert "inhomogeneous" not in str(info.value)


def test_a_bvh_cut_inside_its_hierarchy_says_so_and_a_bad_line_inside_gets_a_fix(tmp_path):
    cut = tmp_path / "cut.bvh"
    cut.write_text(HIERARCHY[:HIERARCHY.index("Xrotation Yrotation\n    End")])  # cut mid-line, as a copy stops
    with pytest.raises(LiftError, match=r"cut.bvh: line 9: CHANNELS says 3 but lists 1 .*without a MOTION section "
                                        r"\(cut short\?\); fix: re-export or re-copy it"):
        lift_any(cut)
    bad = tmp_path / "bad.bvh"
    bad.write_text(HIERARCHY.replace("CHANNELS 3 Zrotation", "CHANNELS 3 Wrotation") + "0 " * 9 + "\n" * 3)
    with pytest.raises(LiftError, match=r"bad.bvh: line 9: bad CHANNELS line .*; fix: correct that line"):
        lift_any(bad)


@pytest.mark.parametrize("count, said", [(5, "5 but lists 6"), (7, "7 but lists 6")])
def test_a_channel_count_that_disagrees_with_its_names_is_named(tmp_path, count, said):
    """A hand-edited or mis-exported CHANNELS line: the count and the names listed are both given (before, a
    count of 5 with 6 names read as "unexpected 'Yrotation'")."""
    bad = tmp_path / "count.bvh"
    bad.write_text(HIERARCHY.replace("CHANNELS 6 Xposition", f"CHANNELS {count} Xposition") + "0 " * 9 + "\n" * 3)
    with pytest.raises(LiftError, match=rf"count.bvh: line 5: .*CHANNELS.* {said}.*; fix: correct that line"):
        lift_any(bad)


def test_a_channel_count_that_is_not_a_number_is_named(tmp_path):
    bad = tmp_path / "six.bvh"
    bad.write_text(HIERARCHY.replace("CHANNELS 6 Xposition", "CHANNELS six Xposition") + "0 " * 9 + "\n" * 3)
    with pytest.raises(LiftError, match=r"six.bvh: line 5: CHANNELS needs a count of channels, got 'six'; fix") as info:
        lift_any(bad)
    assert "invalid literal" not in str(info.value)


def test_a_text_file_named_mp4_gets_a_fix(tmp_path):
    pytest.importorskip("av")
    bad = tmp_path / "notvideo.mp4"
    bad.write_text("hello")
    with pytest.raises(LiftError, match=r"notvideo.mp4: cannot open as a video.*pass a video file") as info:
        lift_any(bad)
    assert "Errno" not in str(info.value)


def test_a_hierarchy_missing_a_closing_brace_gets_a_fix(tmp_path):
    bad = tmp_path / "brace.bvh"
    bad.write_text(HIERARCHY.replace("  }\n}\nMOTION", "  }\nMOTION") + "0 " * 9 + "\n" * 3)
    with pytest.raises(LiftError, match=r"brace.bvh: the HIERARCHY is incomplete \(1 '\{' without a matching '\}'.*; "
                                        r"fix: re-export the file") as info:
        lift_any(str(bad))
    assert "\n" not in str(info.value)
