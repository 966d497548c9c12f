"""``genmimic-bench``: GenMimicBench-style evaluation: corrupted motions, metrics, baselines, reports."""

from genmimic.core.cli_support import stage_app

app = stage_app(
    "genmimic-bench",
    "GenMimic bench: GenMimicBench-style evaluation: corrupted motions, metrics, baselines, reports."
    " (Skeleton: the stage is being built.)",
)
