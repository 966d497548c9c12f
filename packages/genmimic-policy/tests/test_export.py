"""ONNX export and the policy files: each carries its PolicySpec, reads back equal, refuses what it cannot run."""

import json
import shutil

import jax.numpy as jnp
import numpy as np
import onnx
import onnxruntime as ort
import pytest

from genmimic.core import g1_constants as g1
from genmimic.core.runtime import (
    PolicyFileError,
    PolicySpecError,
    load_npz_policy,
    load_onnx_policy,
    read_spec,
    save_npz_policy,
    spec_from_dict,
    write_spec,
)
from genmimic.core.runtime.policy_spec import ONNX_METADATA_KEY
from genmimic.policy.export import export_onnx
from genmimic.policy.networks import policy_mean
from genmimic.policy.policy_file import load_policy


def test_onnx_export_matches_the_jax_policy(policy, tmp_path):
    net, spec, params, norm = policy
    onnx_path, json_path = export_onnx(net, spec, tmp_path / "policy.onnx")
    rng = np.random.default_rng(0)
    obs = (rng.normal(size=(64, net.obs_size)) * 2).astype(np.float32)
    obs[0] = 1e3  # far outside the normaliser's range: clipped alike
    session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    out = session.run(["action"], {"obs": obs})[0]
    ref = np.asarray(policy_mean(params, norm, jnp.asarray(obs)))
    np.testing.assert_allclose(out, ref, atol=1e-5)
    np.testing.assert_allclose(net(obs), ref, atol=1e-5)  # the NumPy runner used by track
    runner, spec2 = load_onnx_policy(onnx_path)  # the runtime's ONNX inference: same numbers, same spec
    np.testing.assert_allclose(runner(obs), ref, atol=1e-5)
    assert spec2 == spec and runner.obs_size == net.obs_size
    info = json.loads(json_path.read_text())
    assert info["joint_names"] == list(g1.JOINT_NAMES) and info["control_period_s"] == 0.02
    assert info["observation"]["size"] == net.obs_size == sum(b["size"] for b in info["observation"]["blocks"])
    np.testing.assert_allclose(info["kp"], g1.TRACKING_GAINS.kp)
    np.testing.assert_allclose(info["action_scale"][0], 0.25 * 88 / g1.TRACKING_GAINS.kp[0])
    props = {p.key: p.value for p in onnx.load(str(onnx_path)).metadata_props}
    assert spec_from_dict(json.loads(props[ONNX_METADATA_KEY])) == spec == read_spec(json_path)


def test_an_onnx_file_describes_itself_and_a_mismatch_is_refused(policy, tmp_path):
    net, spec, _, _ = policy
    onnx_path, json_path = export_onnx(net, spec, tmp_path / "policy.onnx")
    lonely = tmp_path / "alone" / "policy.onnx"
    lonely.parent.mkdir()
    shutil.copy(onnx_path, lonely)
    assert load_onnx_policy(lonely)[1] == spec  # no JSON beside it: the spec comes from the graph
    d = json.loads(json_path.read_text())
    d["kp"][3] += 1.0
    json_path.write_text(json.dumps(d))
    with pytest.raises(PolicyFileError, match=r"policy.json: disagrees with the spec inside policy.onnx on 'kp'"):
        load_onnx_policy(onnx_path)


def test_policy_file_round_trip_and_bad_files(policy, tmp_path):
    net, spec, _, _ = policy
    save_npz_policy(net, spec, tmp_path / "p.npz")
    net2, spec2 = load_policy(tmp_path / "p.npz")
    assert spec2 == spec
    x = np.ones((2, net.obs_size), np.float32)
    np.testing.assert_array_equal(net2(x), net(x))
    (tmp_path / "bad.npz").write_bytes(b"not a zip")
    with pytest.raises(PolicyFileError, match="bad.npz: not a genmimic policy file"):
        load_policy(tmp_path / "bad.npz")


def test_the_shipped_policy_meta_reads_as_a_spec_and_round_trips(tmp_path):
    net, spec = load_policy()
    assert spec.name.startswith("genmimic G1 student v") and spec.training["clips"] > 0
    write_spec(spec, tmp_path / "s.json")
    assert read_spec(tmp_path / "s.json") == spec
    save_npz_policy(net, spec, tmp_path / "p.npz")
    assert load_npz_policy(tmp_path / "p.npz")[1] == spec


@pytest.mark.parametrize(("edit", "field", "message"), [
    (lambda d: d.pop("kd"), "kd", "missing"),
    (lambda d: d.update(format="other/9"), "format", "unknown policy format"),
    (lambda d: d.update(joint_names=d["joint_names"][::-1]), "joint_names", "not the G1 SDK order"),
    (lambda d: d.update(kp=d["kp"][:12]), "kp", "expected 29 numbers"),
    (lambda d: d["action_scale"].__setitem__(4, 0.0), "action_scale", "expected values > 0"),
    (lambda d: d.update(control_period_s=2.0), "control_period_s", "implausible control period"),
    (lambda d: d["observation"].update(gyro_scale=0.3), "observation.gyro_scale", "builds observations with 0.25"),
    (lambda d: d["observation"].update(size=500), "observation.size", r"history \d+ and future frames .* make \d+"),
    (lambda d: d["observation"]["blocks"][2].update(start=7), "observation.blocks[2]", "not the layout"),
    (lambda d: d.update(colour="red"), "colour", "unknown key"),
])
def test_the_validator_names_the_file_and_the_field(tmp_path, edit, field, message):
    _, spec = load_policy()
    d = spec.to_dict()
    edit(d)
    (tmp_path / "p.json").write_text(json.dumps(d))
    with pytest.raises(PolicySpecError, match=message) as err:
        read_spec(tmp_path / "p.json")
    assert err.value.field == field and str(err.value).startswith(f"{tmp_path / 'p.json'}: policy spec field")
