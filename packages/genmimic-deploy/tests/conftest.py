"""Fixtures of the genmimic-deploy tests: small real ONNX policies with the runtime's contract (a PolicySpec)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from onnx import TensorProto, helper, numpy_helper

from genmimic.core.runtime import make_spec, write_spec
from genmimic.core.tracking import root_relative_distances

#: The interface of students v0.1 and v0.2: 3 proprioception frames, goals 0, 2, 5, 10 steps ahead, 50 Hz (the
#: shipped v0.3 takes 10 frames; the tests that run it read its own spec).
SPEC = make_spec(3, (0, 2, 5, 10), 0.02, np.full(29, 0.25), training={"name": "linear test policy"})


def write_linear_policy(path: Path, bias: float = 0.0) -> Path:
    """A linear ONNX policy ``action = obs @ 0 + bias`` (bias NaN: a policy gone bad), with its JSON."""
    size = SPEC.observation.size
    w = numpy_helper.from_array(np.zeros((size, 29), np.float32), "w")
    b = numpy_helper.from_array(np.full((29,), bias, np.float32), "b")
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["obs", "w"], ["xw"]), helper.make_node("Add", ["xw", "b"], ["action"])],
        "linear_policy",
        [helper.make_tensor_value_info("obs", TensorProto.FLOAT, [1, size])],
        [helper.make_tensor_value_info("action", TensorProto.FLOAT, [1, 29])],
        initializer=[w, b],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.save(model, path)
    write_spec(SPEC, path.with_suffix(".json"))
    return path


@pytest.fixture(scope="session")
def zero_policy(tmp_path_factory) -> Path:
    """Always answers action 0: joint targets at the default pose."""
    return write_linear_policy(tmp_path_factory.mktemp("policies") / "zero.onnx")


@pytest.fixture(scope="session")
def nan_policy(tmp_path_factory) -> Path:
    return write_linear_policy(tmp_path_factory.mktemp("policies") / "nan.onnx", bias=float("nan"))


@pytest.fixture(scope="session")
def saturating_policy(tmp_path_factory) -> Path:
    """Always answers action 9: beyond the +-5 the project's policies are clipped to."""
    return write_linear_policy(tmp_path_factory.mktemp("policies") / "nine.onnx", bias=9.0)


def _pose_error(robot, first: int, reference) -> float:
    """Mean root-relative keypoint error [m] (``genmimic.core.tracking``'s, the strict criterion's: each pose
    about its own pelvis in its own heading frame) of ``robot`` (a clip with keypoints and root_quat) from
    frame ``first`` on against ``reference``'s frames from 0, over the frames both have. Global errors are not
    compared: where a robot wanders while it waves differs between two simulations of the same policy."""
    n = min(reference.num_frames, robot.num_frames - first)
    rel, _ = root_relative_distances(robot.keypoints[first: first + n], robot.root_quat[first: first + n],
                                     reference.keypoints[:n], reference.root_quat[:n])
    return float(rel.mean())


@pytest.fixture(scope="session")
def pose_error():
    """:func:`_pose_error`, for the tests that compare a deployed run with `genmimic-policy track`."""
    return _pose_error
