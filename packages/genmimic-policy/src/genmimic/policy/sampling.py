"""Adaptive sampling of reference clips and start frames, weighted towards where the policy fails.

The method is BeyondMimic's adaptive sampling (Liao et al. 2025, "BeyondMimic", Sec. on adaptive
sampling), extended from one motion to many: each clip's start frames are cut into time bins of
``SamplingConfig.bin_s``. Each bin's weight is, with ``weighting = "rate"`` (the default since
2026-12-01), the share of the episodes started in it that ended by a failure (termination, not
truncation), a moving average over that bin's own episodes; with ``"count"`` (before), the failures at
its frames, decayed by ``decay`` every env step. Counts follow what was drawn: with 337 clips a clip that
is rarely drawn is rarely seen failing, and its counts decay within seconds of training (measured
2026-12-01: the teacher's mean failed every held-out and training ``turn`` clip, yet each training
``turn`` clip had 37-76 failures in 23 k iterations and ~0 % of the weight), so the rate, which does not
depend on how often a bin is drawn, replaces them. A start is drawn from ``uniform_floor`` x uniform over
all bins + (1 - ``uniform_floor``) x the normalised weights (a bin's own plus ``lookahead`` times the
next bin's, so episodes begin a little before the hard part; no clip above ``max_clip_share`` of these,
the excess drawn uniformly), then uniformly within the bin.

Pure functions over an array namespace ``xp`` (``numpy`` or ``jax.numpy``); the state is a NamedTuple
of arrays that ``train.py`` saves in the checkpoint.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from .config import SamplingConfig


class SamplingBins(NamedTuple):
    """Static layout of the bins: ``valid`` (C, B) float 1.0 where clip c has a bin b; ``frames`` (C, B)
    int start frames in each bin (0 where invalid); ``bin_frames`` (1,) int frames per bin."""

    valid: Any
    frames: Any
    bin_frames: Any


#: the failure rate a bin starts with (:attr:`SamplerState.fail_rate`): no episode from it has ended yet
RATE_PRIOR = 0.3


class SamplerState(NamedTuple):
    """``failures`` (C, B) float32: decayed failure counts per clip and time bin; ``updates`` (1,) int32:
    env steps counted so far; ``total_failures`` (C,) int32: failures per clip, never decayed;
    ``fail_rate`` (C, B) float32: the share of the episodes started in a bin that ended by a failure, a
    moving average over that bin's own episodes (``SamplingConfig.rate_step``; :data:`RATE_PRIOR` before
    the first)."""

    failures: Any
    updates: Any
    total_failures: Any
    fail_rate: Any


class SamplerStateV1(NamedTuple):
    """The sampler state before ``fail_rate`` (checkpoints written before 2026-12-01): :func:`upgrade`."""

    failures: Any
    updates: Any
    total_failures: Any


def upgrade(old: SamplerStateV1) -> SamplerState:
    """A :class:`SamplerStateV1` with every bin's failure rate at :data:`RATE_PRIOR`."""
    failures = np.asarray(old.failures)
    return SamplerState(failures, old.updates, old.total_failures, np.full(failures.shape, RATE_PRIOR, np.float32))


class SamplingSummary(NamedTuple):
    """For the metrics: ``entropy`` of the start distribution over bins divided by its maximum (1 =
    uniform); ``top_clip`` the clip with the largest probability; ``top_share`` that probability."""

    entropy: float
    top_clip: int
    top_share: float


def make_bins(clip_len: np.ndarray, ctrl_dt: float, cfg: SamplingConfig) -> SamplingBins:
    """Bins over the start frames ``[0, max(1, len - 10))`` of each clip (lengths (C,) in control steps)."""
    if cfg.weighting not in ("rate", "count"):
        raise ValueError(f"sampling.weighting must be 'rate' or 'count', got {cfg.weighting!r}")
    bin_frames = max(1, round(cfg.bin_s / ctrl_dt))
    starts = np.maximum(1, np.asarray(clip_len, np.int64) - 10)
    nbins = -(-starts // bin_frames)
    b = np.arange(int(nbins.max()))[None, :]
    valid = b < nbins[:, None]
    frames = np.where(valid, np.minimum(bin_frames, starts[:, None] - b * bin_frames), 0)
    return SamplingBins(valid.astype(np.float32), frames.astype(np.int32), np.asarray([bin_frames], np.int32))


def init_state(bins: SamplingBins) -> SamplerState:
    c, b = bins.valid.shape
    return SamplerState(np.zeros((c, b), np.float32), np.zeros(1, np.int32), np.zeros(c, np.int32),
                        np.full((c, b), RATE_PRIOR, np.float32))


def probabilities(xp: Any, state: SamplerState, bins: SamplingBins, cfg: SamplingConfig) -> Any:
    """Start probabilities (C, B) over the bins (0 on invalid bins, sum 1)."""
    valid = bins.valid
    uniform = valid / xp.sum(valid)
    if not cfg.adaptive:
        return uniform
    f = (state.failures if cfg.weighting == "count" else state.fail_rate) * valid
    nxt = xp.concatenate([f[:, 1:], xp.zeros_like(f[:, :1])], 1)
    score = (f + cfg.lookahead * nxt) * valid
    total = xp.sum(score)
    adaptive = xp.where(total > 0, score / xp.maximum(total, 1e-12), uniform)
    # no clip above max_clip_share of the adaptive part; what is cut off is drawn uniformly
    per_clip = xp.sum(adaptive, 1, keepdims=True)
    adaptive = adaptive * xp.minimum(1.0, cfg.max_clip_share / xp.maximum(per_clip, 1e-12))
    adaptive = adaptive + (1.0 - xp.sum(adaptive)) * uniform
    return cfg.uniform_floor * uniform + (1.0 - cfg.uniform_floor) * adaptive


def draw(xp: Any, state: SamplerState, bins: SamplingBins, cfg: SamplingConfig, u_bin: Any,
         u_frame: Any) -> tuple[Any, Any]:
    """Clips and start frames (N,) int32 from uniforms ``u_bin``, ``u_frame`` (N,) in [0, 1)."""
    p = probabilities(xp, state, bins, cfg).reshape(-1)
    cdf = xp.cumsum(p)
    nb = bins.valid.shape[1]
    idx = xp.searchsorted(cdf, u_bin * cdf[-1], side="right")
    idx = xp.minimum(idx, p.shape[0] - 1)
    # never land on an invalid (zero-probability) bin because of rounding at the end of the cdf
    idx = xp.where(p[idx] > 0, idx, xp.argmax(p))
    clip, b = idx // nb, idx % nb
    width = bins.frames.reshape(-1)[idx]
    wf = width.astype(xp.float32)
    start = b * bins.bin_frames[0] + xp.minimum(xp.floor(u_frame * wf).astype(xp.int32), width - 1)
    return clip.astype(xp.int32), start.astype(xp.int32)


def _scatter_add(xp: Any, size: int, idx: Any, weights: Any) -> Any:
    if xp is np:
        return np.bincount(idx, weights=weights, minlength=size)
    return xp.zeros(size, weights.dtype).at[idx].add(weights)


def update(xp: Any, state: SamplerState, bins: SamplingBins, cfg: SamplingConfig, clip: Any, t: Any,
           start: Any, failed: Any, ended: Any) -> SamplerState:
    """This env step's outcome: ``clip``, ``t`` (N,) the frame where each env is, ``start`` (N,) the frame
    its episode started at, ``failed`` (N,) bool (terminated), ``ended`` (N,) bool (terminated or
    truncated). The failure counts decay and gain this step's failures at the bins of ``t``; the failure
    rate of the start bin of every ended episode moves by ``rate_step`` towards 1 (failed) or 0."""
    c, nb = bins.valid.shape
    nbins = xp.sum(bins.valid, 1).astype(xp.int32)
    b = xp.minimum(t // bins.bin_frames[0], nbins[clip] - 1)
    w = failed.astype(xp.float32)
    added = _scatter_add(xp, c * nb, clip * nb + b, w).reshape(c, nb).astype(xp.float32)
    per_clip = _scatter_add(xp, c, clip, w).astype(state.total_failures.dtype)
    b0 = xp.minimum(start // bins.bin_frames[0], nbins[clip] - 1)
    idx = clip * nb + b0
    rate = state.fail_rate.reshape(-1)
    step = cfg.rate_step * ended.astype(xp.float32) * (w - rate[idx])
    fail_rate = (rate + _scatter_add(xp, c * nb, idx, step).astype(xp.float32)).reshape(c, nb)
    return SamplerState((cfg.decay * state.failures + added).astype(xp.float32), state.updates + 1,
                        state.total_failures + per_clip, xp.clip(fail_rate, 0.0, 1.0).astype(xp.float32))


def summary(state: SamplerState, bins: SamplingBins, cfg: SamplingConfig) -> SamplingSummary:
    """Entropy (normalised) and the most sampled clip of the current start distribution."""
    p = np.asarray(probabilities(np, SamplerState(*(np.asarray(x) for x in state)),
                                 SamplingBins(*(np.asarray(x) for x in bins)), cfg), np.float64)
    nz = p[p > 0]
    n_valid = float(np.asarray(bins.valid).sum())
    ent = float(-(nz * np.log(nz)).sum() / np.log(n_valid)) if n_valid > 1 else 1.0
    per_clip = p.sum(1)
    top = int(np.argmax(per_clip))
    return SamplingSummary(ent, top, float(per_clip[top]))
