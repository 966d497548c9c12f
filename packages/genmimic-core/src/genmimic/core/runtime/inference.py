"""Running a policy without JAX: a NumPy MLP (:class:`NumpyPolicy`) and ONNX Runtime (:class:`OnnxPolicy`)
behind one small interface (:class:`Inference`), and the two policy files that carry a
:class:`~genmimic.core.runtime.policy_spec.PolicySpec`:

- ``policy.npz`` (:func:`save_npz_policy`, :func:`load_npz_policy`): normaliser ``mean``, ``std``, dense
  layers ``w<i>``, ``b<i>`` and the spec as JSON in ``meta``.
- ``policy.onnx`` (:func:`load_onnx_policy`): the graph (``obs`` (N, D) float32 -> ``action`` (N, 29)) with the
  spec in its ``metadata_props`` and in ``policy.json`` beside it. genmimic-policy's ``export`` writes it.

onnxruntime is imported only when an ONNX file is loaded.
"""

from __future__ import annotations

import io
import json
import os
import zipfile
from pathlib import Path
from typing import NamedTuple, Protocol

import numpy as np

from ..files import read_bytes, write_bytes_atomic
from .errors import PolicyFileError
from .policy_spec import ONNX_METADATA_KEY, PolicySpec, first_difference, spec_from_json

NORM_CLIP = 10.0  #: normalised observations are clipped to +- this
STD_EPS = 1e-6  #: added to the running variance before the square root


class Inference(Protocol):
    """A deterministic policy: observations (D,) or (N, D) float32 -> actions (29,) or (N, 29)."""

    @property
    def obs_size(self) -> int: ...

    def __call__(self, obs: np.ndarray) -> np.ndarray: ...


class NumpyPolicy(NamedTuple):
    """A deterministic policy as plain arrays: normaliser ``mean``, ``std`` (D,), and dense layers
    ``weights[i]`` (in, out), ``biases[i]`` (out,), ELU between layers; normalised inputs clipped to
    +- :data:`NORM_CLIP`."""

    mean: np.ndarray
    std: np.ndarray
    weights: tuple[np.ndarray, ...]
    biases: tuple[np.ndarray, ...]

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = np.clip((np.asarray(obs, np.float32) - self.mean) / self.std, -NORM_CLIP, NORM_CLIP)
        for i, (w, b) in enumerate(zip(self.weights, self.biases, strict=True)):
            x = x @ w + b
            if i < len(self.weights) - 1:
                x = np.where(x > 0, x, np.expm1(np.minimum(x, 0)))
        return x

    @property
    def obs_size(self) -> int:
        return int(self.mean.shape[0])


class OnnxPolicy:
    """An ONNX graph run by ONNX Runtime on the CPU (one thread: a small MLP gains only latency from more).

    Raises:
        PolicyFileError: onnxruntime missing, or the file is not a loadable model.
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        try:
            import onnxruntime as ort
        except ImportError:
            raise PolicyFileError(str(path), "running an ONNX policy needs onnxruntime "
                                             "(pip install onnxruntime)") from None
        self.path = Path(path)
        try:
            options = ort.SessionOptions()
            options.intra_op_num_threads = options.inter_op_num_threads = 1
            self.session = ort.InferenceSession(str(self.path), options, providers=["CPUExecutionProvider"])
        except Exception as err:  # onnxruntime raises its own exception types
            reason = str(err).splitlines()[0][:120]
            raise PolicyFileError(str(self.path), f"not a loadable ONNX model ({reason}); fix: export it again "
                                  "(genmimic-policy export RUN/ -o policy.onnx, or --shipped)") from None
        inp = self.session.get_inputs()[0]
        self.input_name = inp.name
        self._size = inp.shape[-1] if isinstance(inp.shape[-1], int) else None

    @property
    def obs_size(self) -> int:
        """Observation size the graph declares (0 when its last input axis is symbolic)."""
        return int(self._size or 0)

    @property
    def metadata(self) -> dict[str, str]:
        """The model's ``metadata_props``."""
        return dict(self.session.get_modelmeta().custom_metadata_map)

    def __call__(self, obs: np.ndarray) -> np.ndarray:
        x = np.asarray(obs, np.float32)
        out = self.session.run(None, {self.input_name: x.reshape(-1, x.shape[-1])})[0]
        return np.asarray(out).reshape(x.shape[:-1] + (-1,))


def _check_size(policy: Inference, spec: PolicySpec, source: str) -> None:
    if policy.obs_size and policy.obs_size != spec.observation.size:
        raise PolicyFileError(source, f"model takes {policy.obs_size} inputs but its spec says {spec.observation.size}")


def save_npz_policy(policy: NumpyPolicy, spec: PolicySpec, dest: str | os.PathLike[str]) -> None:
    """Write ``policy`` and ``spec`` to ``dest`` (``.npz``) atomically."""
    arrays = {"mean": policy.mean, "std": policy.std, "meta": np.array(json.dumps(spec.to_dict()))}
    for i, (w, b) in enumerate(zip(policy.weights, policy.biases, strict=True)):
        arrays[f"w{i}"], arrays[f"b{i}"] = w, b
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    write_bytes_atomic(dest, buf.getvalue())


def load_npz_policy(source: str | os.PathLike[str] | bytes, name: str | None = None
                    ) -> tuple[NumpyPolicy, PolicySpec]:
    """A ``policy.npz`` (a path, or its bytes named ``name``) as (policy, spec).

    Raises:
        PolicyFileError: unreadable or not a policy file, or weights that do not fit the spec.
        PolicySpecError: a bad field in its spec.
    """
    name = name or str(source)
    data = source if isinstance(source, bytes) else read_bytes(source)
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as z:
            meta_text = str(z["meta"])
            n = sum(1 for k in z.files if k.startswith("w"))
            policy = NumpyPolicy(z["mean"], z["std"], tuple(z[f"w{i}"] for i in range(n)),
                                 tuple(z[f"b{i}"] for i in range(n)))
    except (zipfile.BadZipFile, ValueError, KeyError, OSError) as err:
        raise PolicyFileError(name, f"not a genmimic policy file ({str(err).splitlines()[0][:100]})") from None
    spec = spec_from_json(meta_text, name)
    if not policy.weights or policy.weights[0].shape[0] != policy.obs_size:
        raise PolicyFileError(name, "weights do not match the normaliser")
    _check_size(policy, spec, name)
    return policy, spec


def spec_path(onnx_path: str | os.PathLike[str]) -> Path | None:
    """The JSON that goes with ``policy.onnx``: ``policy.json`` or ``policy.onnx.json``; None if neither."""
    p = Path(onnx_path)
    return next((c for c in (p.with_suffix(".json"), p.with_name(p.name + ".json")) if c.is_file()), None)


def load_onnx_policy(path: str | os.PathLike[str]) -> tuple[OnnxPolicy, PolicySpec]:
    """``policy.onnx`` as (inference, spec). The spec comes from the JSON beside the graph and from the
    graph's metadata: from whichever exists, and both must agree.

    Raises:
        PolicyFileError: no such file; no spec (neither JSON nor metadata); JSON and metadata disagree
            (naming the first field); a model whose input size is not the spec's.
        PolicySpecError: a bad field in a spec.
    """
    path = Path(path)
    if path.is_dir():
        raise PolicyFileError(str(path), "is a directory; give the policy's .onnx file (genmimic-policy export)")
    if not path.is_file():
        raise PolicyFileError(str(path), "no such policy file")
    policy = OnnxPolicy(path)
    beside = spec_path(path)
    embedded = policy.metadata.get(ONNX_METADATA_KEY)
    if beside is None and embedded is None:
        raise PolicyFileError(str(path), f"no policy JSON beside it (expected {path.with_suffix('.json').name}) "
                                         "and no spec in its metadata; export it with genmimic-policy export")
    from_graph = spec_from_json(embedded, f"{path} (metadata {ONNX_METADATA_KEY})") if embedded else None
    spec = spec_from_json(beside.read_bytes(), beside) if beside is not None else from_graph
    if from_graph is not None and spec is not None and spec != from_graph:
        raise PolicyFileError(str(beside), f"disagrees with the spec inside {path.name} on "
                                           f"'{first_difference(spec, from_graph)}'; re-export the policy")
    assert spec is not None  # one of the two exists (checked above)
    _check_size(policy, spec, str(path))
    return policy, spec


def load_policy_file(path: str | os.PathLike[str]) -> tuple[Inference, PolicySpec]:
    """A policy file by its suffix: ``.onnx`` (:func:`load_onnx_policy`), else ``.npz`` (:func:`load_npz_policy`)."""
    if Path(path).suffix.lower() == ".onnx":
        return load_onnx_policy(path)
    return load_npz_policy(path)


__all__ = ["NORM_CLIP", "STD_EPS", "Inference", "NumpyPolicy", "OnnxPolicy", "load_npz_policy", "load_onnx_policy",
           "load_policy_file", "save_npz_policy", "spec_path"]
