"""The NumPy-only policy runtime that ``track``, the bench and genmimic-deploy share (no JAX anywhere here).

- :mod:`.policy_spec`: :class:`PolicySpec`, a policy's typed contract; :func:`write_spec`, :func:`read_spec`
  and the one validator :func:`spec_from_dict` (errors name the file and the field).
- :mod:`.observation`: the student observation (pure functions over an array namespace, and
  :class:`StudentObservationBuilder` for a robot or a simulator stepping one control period at a time).
- :mod:`.reference`: a G1 clip resampled to the control period (:func:`reference_from_clip`).
- :mod:`.inference`: :class:`NumpyPolicy` and :class:`OnnxPolicy` behind :class:`Inference`; the policy files
  ``policy.npz`` and ``policy.onnx`` (+ JSON), each carrying its spec.

The fall and success tests that judge a run are :mod:`genmimic.core.tracking`'s.
"""

from .errors import PolicyFileError, PolicySpecError
from .inference import (
    Inference,
    NumpyPolicy,
    OnnxPolicy,
    load_npz_policy,
    load_onnx_policy,
    load_policy_file,
    save_npz_policy,
)
from .observation import StudentObservationBuilder
from .policy_spec import ObservationBlock, ObservationSpec, PolicySpec, make_spec, read_spec, spec_from_dict, write_spec
from .reference import ReferenceMotion, reference_from_clip, smooth_derivative

__all__ = [
    "Inference", "NumpyPolicy", "ObservationBlock", "ObservationSpec", "OnnxPolicy", "PolicyFileError", "PolicySpec",
    "PolicySpecError", "ReferenceMotion", "StudentObservationBuilder", "load_npz_policy", "load_onnx_policy",
    "load_policy_file", "make_spec", "read_spec", "reference_from_clip", "save_npz_policy", "smooth_derivative",
    "spec_from_dict", "write_spec",
]
