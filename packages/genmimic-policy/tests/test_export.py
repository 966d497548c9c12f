import json

import jax.numpy as jnp
import numpy as np
import onnxruntime as ort

from genmimic.core import g1_constants as g1
from genmimic.policy.export import export_onnx
from genmimic.policy.networks import policy_mean
from genmimic.policy.policy_file import load_policy, save_policy


def test_onnx_export_matches_the_jax_policy(policy, tmp_path):
    net, meta, params, norm = policy
    onnx_path, json_path = export_onnx(net, meta, tmp_path / "policy.onnx")
    rng = np.random.default_rng(0)
    obs = (rng.normal(size=(64, net.obs_size)) * 2).astype(np.float32)
    obs[0] = 1e3  # far outside the normaliser's range: clipped alike
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    out = session.run(["action"], {"obs": obs})[0]
    ref = np.asarray(policy_mean(params, norm, jnp.asarray(obs)))
    np.testing.assert_allclose(out, ref, atol=1e-5)
    np.testing.assert_allclose(net(obs), ref, atol=1e-5)  # the NumPy runner used by track
    info = json.loads(json_path.read_text())
    assert info["joint_names"] == list(g1.JOINT_NAMES) and info["control_period_s"] == 0.02
    assert info["observation"]["size"] == net.obs_size == sum(b["size"] for b in info["observation"]["blocks"])
    np.testing.assert_allclose(info["kp"], g1.TRACKING_GAINS.kp)
    np.testing.assert_allclose(info["action_scale"][0], 0.25 * 88 / g1.TRACKING_GAINS.kp[0])


def test_policy_file_round_trip_and_bad_files(policy, tmp_path):
    import pytest

    from genmimic.policy.errors import CheckpointError

    net, meta, _, _ = policy
    save_policy(net, meta, tmp_path / "p.npz")
    net2, meta2 = load_policy(tmp_path / "p.npz")
    assert meta2 == meta
    x = np.ones((2, net.obs_size), np.float32)
    np.testing.assert_array_equal(net2(x), net(x))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(CheckpointError, match="bad.npz: not a genmimic policy file"):
        load_policy(tmp_path / "bad.npz")
