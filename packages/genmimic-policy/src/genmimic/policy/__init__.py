"""genmimic.policy: a keypoint-conditioned G1 tracking policy.

- Training: :mod:`train` (teacher PPO with a symmetry loss, :mod:`ppo`), :mod:`distill` (student, DAgger),
  on :mod:`env_cpu` (C MuJoCo, all envs stepped by `mujoco.rollout` threads) or :mod:`env_mjx` (MJX), both
  built on :mod:`env_core`; :mod:`config` holds the settings.
- Shared by training, ``track`` and genmimic-deploy (NumPy only, no JAX): :mod:`observation`
  (:class:`~genmimic.policy.observation.StudentObservationBuilder`), :mod:`reference`, :mod:`mirror`,
  :mod:`policy_file` (:func:`~genmimic.policy.policy_file.load_policy`).
- Use: :func:`~genmimic.policy.track.track_clip` (a G1 clip -> a physically simulated Trajectory) and
  :func:`~genmimic.policy.export.export_onnx`.

Heavy modules (JAX, MuJoCo) are imported only when used.
"""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("genmimic-policy")
except PackageNotFoundError:  # running from a source tree without installing
    __version__ = "0.0.0+unknown"

__all__ = ["__version__"]
