"""``genmimic-deploy``: run an exported policy on the Unitree G1 through unitree_sdk2py (DDS), with a DDS simulator."""

from genmimic.core.cli_support import stage_app

app = stage_app(
    "genmimic-deploy",
    "GenMimic deploy: run an exported policy on the Unitree G1 through unitree_sdk2py (DDS), with a DDS simulator."
    " (Skeleton: the stage is being built.)",
)
