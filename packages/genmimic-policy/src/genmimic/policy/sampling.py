"""Adaptive sampling of reference clips and start frames, weighted towards where the policy fails.

The method is BeyondMimic's adaptive sampling (Liao et al. 2025, "BeyondMimic", Sec. on adaptive
sampling), extended from one motion to many: each clip's start frames are cut into time bins of
``SamplingConfig.bin_s``; a failure (termination, not truncation) at frame ``t`` of clip ``c`` adds one
to bin ``(c, t // bin_frames)``; all counts decay by ``decay`` every env step. A start is drawn from
``uniform_floor`` x uniform over all bins + (1 - ``uniform_floor``) x the normalised counts (a bin's own
plus ``lookahead`` times the next bin's, so episodes begin a little before the hard part; no clip above
``max_clip_share`` of these, the excess drawn uniformly), then uniformly within the bin.

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


class SamplerState(NamedTuple):
    """``failures`` (C, B) float32: decayed failure counts per clip and time bin; ``updates`` (1,) int32:
    env steps counted so far; ``total_failures`` (C,) int32: failures per clip, never decayed."""

    failures: Any
    updates: Any
    total_failures: Any


class SamplingSummary(NamedTuple):
    """For the metrics: ``entropy`` of the start distribution over bins divided by its maximum (1 =
    uniform); ``top_clip`` the clip with the largest probability; ``top_share`` that probability."""

    entropy: float
    top_clip: int
    top_share: float


def make_bins(clip_len: np.ndarray, ctrl_dt: float, cfg: SamplingConfig) -> SamplingBins:
    """Bins over the start frames ``[0, max(1, len - 10))`` of each clip (lengths (C,) in control steps)."""
    bin_frames = max(1, round(cfg.bin_s / ctrl_dt))
    starts = np.maximum(1, np.asarray(clip_len, np.int64) - 10)
    nbins = -(-starts // bin_frames)
    b = np.arange(int(nbins.max()))[None, :]
    valid = b < nbins[:, None]
    frames = np.where(valid, np.minimum(bin_frames, starts[:, None] - b * bin_frames), 0)
    return SamplingBins(valid.astype(np.float32), frames.astype(np.int32), np.asarray([bin_frames], np.int32))


def init_state(bins: SamplingBins) -> SamplerState:
    c, b = bins.valid.shape
    return SamplerState(np.zeros((c, b), np.float32), np.zeros(1, np.int32), np.zeros(c, np.int32))


def probabilities(xp: Any, state: SamplerState, bins: SamplingBins, cfg: SamplingConfig) -> Any:
    """Start probabilities (C, B) over the bins (0 on invalid bins, sum 1)."""
    valid = bins.valid
    uniform = valid / xp.sum(valid)
    if not cfg.adaptive:
        return uniform
    f = state.failures * valid
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
           failed: Any) -> SamplerState:
    """Decay the counts and add this env step's failures: ``clip``, ``t`` (N,) frame where each env is,
    ``failed`` (N,) bool."""
    c, nb = bins.valid.shape
    nbins = xp.sum(bins.valid, 1).astype(xp.int32)
    b = xp.minimum(t // bins.bin_frames[0], nbins[clip] - 1)
    w = failed.astype(xp.float32)
    added = _scatter_add(xp, c * nb, clip * nb + b, w).reshape(c, nb).astype(xp.float32)
    per_clip = _scatter_add(xp, c, clip, w).astype(state.total_failures.dtype)
    return SamplerState((cfg.decay * state.failures + added).astype(xp.float32), state.updates + 1,
                        state.total_failures + per_clip)


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
