"""``genmimic-policy``: keypoint-conditioned G1 tracking policy: JAX PPO on MJX, CPU rollouts, ONNX export."""

from genmimic.core.cli_support import stage_app

app = stage_app(
    "genmimic-policy",
    "GenMimic policy: keypoint-conditioned G1 tracking policy: JAX PPO on MJX, CPU rollouts, ONNX export."
    " (Skeleton: the stage is being built.)",
)
