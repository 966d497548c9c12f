"""``genmimic-retarget``: SMPL clip -> G1 joints and keypoints with Pink IK."""

from genmimic.core.cli_support import stage_app

app = stage_app(
    "genmimic-retarget",
    "GenMimic retarget: SMPL clip -> G1 joints and keypoints with Pink IK."
    " (Skeleton: the stage is being built.)",
)
