"""Recalibration maps fitted class by class: histogram binning and isotonic regression (week 07).

Each map answers one yes/no question at a time, P(class c) (N,) → a calibrated P(class c); with C classes
:func:`fit_one_vs_rest` fits one map per class and renormalises the rows. The class-wise ECE checks every
class's probability, not only the top one. ``course_utils.calibration`` re-exports all of these, so
``cal.fit_isotonic`` and friends keep working.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import torch

from course_utils.calibration import _tensor, expected_calibration_error, reliability_bins, require_probs_targets


@dataclass(frozen=True)
class StepMap:
    """Week 07: a recalibration map that is constant on bins: score s in (inner[k-1], inner[k]] → values[k].

    ``inner`` (K − 1,) increasing bin limits, ``values`` (K,) the calibrated probability in each bin.
    Histogram binning fixes the bins first; isotonic regression chooses them from the data.
    """

    inner: torch.Tensor
    values: torch.Tensor

    def __call__(self, scores) -> torch.Tensor:
        s = _tensor("scores", scores).double()
        if torch.isnan(s).any():
            raise ValueError("scores must not contain NaN")
        return self.values[torch.bucketize(s.contiguous(), self.inner, right=False)]


def _require_scores_binary(scores, targets) -> tuple[torch.Tensor, torch.Tensor]:
    s, y = _tensor("scores", scores), _tensor("targets", targets)
    if not s.is_floating_point() or s.dim() != 1 or s.shape[0] == 0 or not torch.isfinite(s).all():
        raise ValueError(f"scores must be finite floats of shape (N,) with N >= 1, got {s.dtype} {tuple(s.shape)}")
    if y.shape != s.shape or not torch.all((y == 0) | (y == 1)):
        raise ValueError(f"targets must hold 0 or 1, one per score, shape ({s.shape[0]},), got {tuple(y.shape)}")
    return s.double(), y.double()


def fit_histogram_binning(scores, targets, n_bins: int = 10, strategy: str = "uniform") -> StepMap:
    """Histogram binning (week 07; Zadrozny & Elkan 2001): P(class 1) (N,) → the fraction of 1s in its bin.

    Bins as in :func:`reliability_bins` (``"uniform"``: equal width on [0, 1]; ``"quantile"``: equal mass);
    an empty bin keeps its midpoint. Fit on held-out data; the map is piecewise constant, not smooth.
    """
    s, y = _require_scores_binary(scores, targets)
    if (s < 0).any() or (s > 1).any():
        raise ValueError("scores must be probabilities in [0, 1] for histogram binning — apply sigmoid first")
    bins = reliability_bins(s, y, n_bins, strategy)
    mid = (bins.edges[:-1] + bins.edges[1:]) / 2
    return StepMap(bins.edges[1:-1].clone(), torch.where(bins.counts > 0, bins.accuracy, mid))


def fit_isotonic(scores, targets) -> StepMap:
    """Isotonic regression (week 07): the non-decreasing step map from scores (N,) to 0/1 targets (N,) with the
    least squared error, by pool-adjacent-violators. Any increasing score works (a logit or a probability)."""
    s, y = _require_scores_binary(scores, targets)
    # equal scores must get one value: pool them first, into (sum of targets, count) per distinct score
    unique, index = torch.unique(s, sorted=True, return_inverse=True)
    sums = torch.zeros(len(unique), dtype=torch.float64).index_add_(0, index, y)
    counts = torch.bincount(index, minlength=len(unique)).double()
    blocks = []  # [sum of targets, count, largest score], pooled while a block's mean is below the one before
    for total, count, top in zip(sums.tolist(), counts.tolist(), unique.tolist(), strict=True):
        blocks.append([total, count, top])
        while len(blocks) > 1 and blocks[-1][0] * blocks[-2][1] < blocks[-2][0] * blocks[-1][1]:
            total, count, top = blocks.pop()
            blocks[-1] = [blocks[-1][0] + total, blocks[-1][1] + count, top]
    values = torch.tensor([b[0] / b[1] for b in blocks], dtype=torch.float64)
    return StepMap(torch.tensor([b[2] for b in blocks[:-1]], dtype=torch.float64), values)


def fit_one_vs_rest(fit: Callable, probs, targets, **kwargs) -> Callable[[torch.Tensor], torch.Tensor]:
    """Week 07: a binary map ``fit(P(class c), 1[y = c], **kwargs)`` per class of ``probs`` (N, C).

    Returns a function (M, C) → (M, C): each column mapped by its class's map, rows divided by their sum
    (as Guo et al. 2017 extend binning and isotonic regression); a row mapped to all zeros gets 1 / C.
    Unlike temperature scaling, this can change the predicted class.
    """
    p, y = require_probs_targets(probs, targets)
    if p.dim() != 2:
        raise ValueError(f"probs must have shape (N, C) for one map per class, got {tuple(p.shape)}")
    maps = [fit(p[:, c], (y == c).double(), **kwargs) for c in range(p.shape[1])]

    def apply(new_probs) -> torch.Tensor:
        q = _tensor("probs", new_probs).double()
        if q.dim() != 2 or q.shape[1] != len(maps):
            raise ValueError(f"probs must have shape (M, {len(maps)}), got {tuple(q.shape)}")
        out = torch.stack([m(q[:, c]) for c, m in enumerate(maps)], dim=1)
        sums = out.sum(dim=1, keepdim=True)
        return torch.where(sums > 0, out / sums.clamp(min=1e-300), torch.full_like(out, 1 / len(maps)))

    return apply


def classwise_calibration_error(probs, targets, n_bins: int = 15, strategy: str = "uniform") -> float:
    """Class-wise ECE (week 07): the mean over classes c of the ECE of P(class c) (N,) against 1[y = c]."""
    p, y = require_probs_targets(probs, targets)
    if p.dim() != 2:
        raise ValueError(f"probs must have shape (N, C), got {tuple(p.shape)}")
    return sum(expected_calibration_error(p[:, c], (y == c).double(), n_bins, strategy)
               for c in range(p.shape[1])) / p.shape[1]
