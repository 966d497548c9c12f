"""genmimic-deploy installs and runs without the training stack (JAX, Flax, Optax, MJX, TensorBoard)."""

from __future__ import annotations

import re
import subprocess
import sys
from importlib import metadata

from genmimic.core.testing import TRAINING_STACK, env_without_modules

HEAVY = {"jax", "jaxlib", "flax", "optax", "mujoco-mjx", "tensorboard"}


def _name(requirement: str) -> str:
    return re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def _extras_of(requirement: str) -> set[str]:
    m = re.match(r"[^\[;]*\[([^\]]*)\]", requirement)
    return {e.strip() for e in m.group(1).split(",")} if m else set()


def requirement_closure(dist: str, extras: set[str]) -> set[str]:
    """Names of everything ``dist`` (with ``extras``) requires, following the local genmimic packages'
    own requirements (with the extras they are asked for); third-party packages are leaves."""
    seen: set[tuple[str, frozenset[str]]] = set()
    names: set[str] = set()
    todo = [(dist, frozenset(extras))]
    while todo:
        name, wanted = todo.pop()
        if (name, wanted) in seen:
            continue
        seen.add((name, wanted))
        for req in metadata.requires(name) or []:
            marker = req.split(";", 1)[1] if ";" in req else ""
            extra = re.search(r"extra\s*==\s*['\"]([^'\"]+)['\"]", marker)
            if extra and extra.group(1) not in wanted:
                continue
            dep = _name(req)
            names.add(dep)
            if dep.startswith("genmimic-"):
                todo.append((dep, frozenset(_extras_of(req))))
    return names


def test_deploy_and_its_test_extra_do_not_require_the_training_stack():
    closure = requirement_closure("genmimic-deploy", {"test"})
    assert "genmimic-core" in closure and "onnxruntime" in closure  # the resolver follows requirements
    assert not closure & HEAVY, f"genmimic-deploy[test] pulls in {sorted(closure & HEAVY)}"
    # the check can fail: the policy package's training extra does bring them
    assert HEAVY - {"jaxlib"} <= requirement_closure("genmimic-policy", {"train"})  # jaxlib comes with jax


CODE = """
import sys
try:
    import jax  # noqa: F401
except ImportError:
    pass
else:
    sys.exit("jax still importable: the blocker did not work")
import numpy as np
from genmimic.core.testing import waving_g1_clip
from genmimic.deploy.controller import Controller, ControllerConfig, EndMode, Phase
from genmimic.deploy.messages import RobotState
from genmimic.deploy.policy_runner import OnnxPolicy
from genmimic.deploy import cli, sim  # noqa: F401
import genmimic.core.runtime  # noqa: F401

policy = OnnxPolicy(sys.argv[1])
c = Controller(policy, waving_g1_clip(50), ControllerConfig(prepare_s=0.1, hold_s=0.1, damp_s=0.1,
                                                            then=EndMode.DAMP))
q, observed = np.asarray(policy.default_dof_pos), 0
for k in range(1000):  # an ideal servo: the joints are where the last command put them
    state = RobotState(q, np.zeros(29), np.zeros(29), np.array([1.0, 0, 0, 0]), np.zeros(3), np.zeros(3), 20 * k, 5)
    cmd, info = c.step(state, 0.0)
    q = cmd.q if cmd is not None else q
    if info.obs is not None:
        assert info.obs.shape == (policy.obs_size,) and np.isfinite(info.obs).all()
        observed += 1
    if observed == 10:
        break
assert observed == 10 and c.phase == Phase.TRACK and c.fault is None, (c.phase, c.fault, observed)
heavy = sorted(m for m in sys.modules if m.split(".")[0] in {"jax", "jaxlib", "flax", "optax", "tensorboard"})
assert not heavy, heavy
print("ok", c.phase.name)
"""


def test_deploy_imports_and_steps_a_policy_with_jax_unimportable(zero_policy, tmp_path):
    env = env_without_modules(tmp_path / "blocker", TRAINING_STACK)
    out = subprocess.run([sys.executable, "-c", CODE, str(zero_policy)], env=env, capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.startswith("ok")
