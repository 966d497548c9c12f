"""``genmimic-lift``: video -> SMPL sequence (4D human), offline on the CPU, plus mocap importers."""

from genmimic.core.cli_support import stage_app

app = stage_app(
    "genmimic-lift",
    "GenMimic lift: video -> SMPL sequence (4D human), offline on the CPU, plus mocap importers."
    " (Skeleton: the stage is being built.)",
)
