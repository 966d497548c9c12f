"""ONNX export of the student: observation normalisation inside the graph, written with onnx.helper from
the MLP weights. Its :class:`~genmimic.core.runtime.PolicySpec` goes both into the model's ``metadata_props``
(key ``genmimic.policy_spec``) and into the JSON beside it, so the file describes itself
(:func:`genmimic.core.runtime.load_onnx_policy` reads either and refuses a mismatch). Needs ``onnx``
(``pip install 'genmimic-policy[train]'``).

Graph: ``obs`` (N, D) float32 -> (obs - mean) / std -> clip(+-10) -> [MatMul, Add, Elu] x hidden ->
MatMul, Add -> ``action`` (N, 29): joint targets are ``default_dof_pos + action_scale * action``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np

from genmimic.core.files import write_bytes_atomic
from genmimic.core.runtime import NumpyPolicy, PolicySpec
from genmimic.core.runtime.inference import NORM_CLIP
from genmimic.core.runtime.policy_spec import ONNX_METADATA_KEY, write_spec

from .errors import PolicyError

OPSET = 17


def _onnx():
    try:
        import onnx
    except ImportError:
        raise PolicyError("export needs the onnx package: pip install 'genmimic-policy[train]'") from None
    return onnx


def policy_to_onnx(policy: NumpyPolicy, spec: PolicySpec | None = None, doc: str = "genmimic G1 student policy"):
    """An ``onnx.ModelProto`` computing ``policy`` exactly (float32), with ``spec`` in its metadata_props."""
    onnx = _onnx()
    from onnx import TensorProto, helper, numpy_helper

    f32 = lambda a: np.asarray(a, np.float32)  # noqa: E731
    inits = [numpy_helper.from_array(f32(policy.mean), "obs_mean"), numpy_helper.from_array(f32(policy.std), "obs_std"),
             numpy_helper.from_array(np.array(-NORM_CLIP, np.float32), "clip_lo"),
             numpy_helper.from_array(np.array(NORM_CLIP, np.float32), "clip_hi")]
    nodes = [helper.make_node("Sub", ["obs", "obs_mean"], ["centred"]),
             helper.make_node("Div", ["centred", "obs_std"], ["scaled"]),
             helper.make_node("Clip", ["scaled", "clip_lo", "clip_hi"], ["x0"])]
    x = "x0"
    n = len(policy.weights)
    for i, (w, b) in enumerate(zip(policy.weights, policy.biases, strict=True)):
        inits += [numpy_helper.from_array(f32(w), f"w{i}"), numpy_helper.from_array(f32(b), f"b{i}")]
        nodes += [helper.make_node("MatMul", [x, f"w{i}"], [f"mm{i}"]),
                  helper.make_node("Add", [f"mm{i}", f"b{i}"], ["action" if i == n - 1 else f"pre{i}"])]
        if i < n - 1:
            nodes.append(helper.make_node("Elu", [f"pre{i}"], [f"x{i + 1}"], alpha=1.0))
            x = f"x{i + 1}"
    graph = helper.make_graph(
        nodes, "genmimic_student",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, ["batch", policy.obs_size])],
        [helper.make_tensor_value_info("action", TensorProto.FLOAT, ["batch", policy.weights[-1].shape[1]])],
        initializer=inits, doc_string=doc)
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", OPSET)], producer_name="genmimic-policy")
    model.ir_version = 8
    if spec is not None:
        helper.set_model_props(model, {ONNX_METADATA_KEY: json.dumps(spec.to_dict())})
    onnx.checker.check_model(model)
    return model


def export_onnx(policy: NumpyPolicy, spec: PolicySpec, dest: str | os.PathLike[str]) -> tuple[Path, Path]:
    """Write ``dest`` (ONNX, the spec in its metadata) and ``dest`` with suffix ``.json`` (the spec, plus the
    graph's file and tensor names); returns both paths."""
    if policy.obs_size != spec.observation.size:
        raise PolicyError(f"{dest}: the policy takes {policy.obs_size} observations, its spec says "
                          f"{spec.observation.size}")
    dest = Path(dest)
    model = policy_to_onnx(policy, spec)
    json_path = dest.with_suffix(".json")
    write_bytes_atomic(dest, model.SerializeToString())
    write_spec(spec, json_path, {"onnx": dest.name, "onnx_input": "obs", "onnx_output": "action"})
    return dest, json_path
