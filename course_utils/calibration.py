"""Calibration: do a model's probabilities mean what they say? (week 07).

A classifier is *calibrated* when, among all samples to which it gives confidence 0.9, nine in
ten are right. The helpers here measure that (reliability bins, expected and maximum calibration
error, Brier score), repair it after training (temperature scaling, Platt scaling, both fitted on
validation data; histogram binning and isotonic regression, one class at a time, live in
``course_utils.recalibration`` and are re-exported here) and turn calibrated
probabilities into decisions (the cost-based threshold).

Two kinds of input are accepted throughout:

* multi-class: ``probs`` (N, C) rows summing to 1 and ``targets`` (N,) class indices. Binning uses
  the *top-label confidence* (the largest probability of each row) and whether that class is right;
* binary with one probability: ``probs`` (N,) = P(class 1) and ``targets`` (N,) of 0/1. Binning uses
  P(class 1) against the observed fraction of class 1 (the classic reliability diagram).

Everything is computed in float64 on the CPU and returned as tensors or plain floats.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import torch
import torch.nn.functional as F

STRATEGIES = ("uniform", "quantile")
#: Where fit_temperature looks for T: a bracket wide enough for any network met in this course.
T_BOUNDS = (0.05, 20.0)


class BoundaryTemperatureWarning(UserWarning):
    """fit_temperature ended at a bound of its search: the NLL has no minimum inside it."""


# --------------------------------------------------------------------------- validation
def _tensor(name: str, x) -> torch.Tensor:
    if isinstance(x, torch.Tensor):
        return x.detach().cpu()
    try:
        return torch.as_tensor(x)
    except (TypeError, ValueError, RuntimeError):
        raise TypeError(f"{name} must be a tensor or an array of numbers, got {type(x).__name__}") from None


def require_probs_targets(probs, targets) -> tuple[torch.Tensor, torch.Tensor]:
    """Probabilities (N, C) with class indices (N,), or P(class 1) (N,) with 0/1 targets (N,); float64/long."""
    p, y = _tensor("probs", probs), _tensor("targets", targets)
    if not p.is_floating_point():
        raise TypeError(f"probs must hold floating-point probabilities, got dtype {p.dtype}")
    p = p.double()
    if p.dim() not in (1, 2) or p.shape[0] == 0:
        raise ValueError(f"probs must have shape (N, C) or (N,) with N >= 1, got {tuple(p.shape)}")
    if y.dim() != 1 or y.shape[0] != p.shape[0]:
        raise ValueError(f"targets must have shape ({p.shape[0]},), one per row of probs, got {tuple(y.shape)}")
    if torch.isnan(p).any() or (p < 0).any() or (p > 1).any():
        raise ValueError("probs must lie in [0, 1] (no NaN) — did you pass logits? apply softmax (or sigmoid) first")
    if p.dim() == 2:
        if p.shape[1] < 2:
            raise ValueError(f"probs (N, C) needs C >= 2 classes, got C = {p.shape[1]}; for one probability pass (N,)")
        sums = p.sum(dim=1)
        if not torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
            raise ValueError(f"each row of probs must sum to 1 over the classes; sums range from {sums.min():.4g} to "
                             f"{sums.max():.4g} — did you apply softmax over the wrong dim?")
        if y.is_floating_point() or y.dtype == torch.bool:
            raise TypeError(f"targets must be integer class indices for probs (N, C), got dtype {y.dtype}")
        if ((y < 0) | (y >= p.shape[1])).any():
            raise ValueError(f"targets must be class indices in [0, {p.shape[1] - 1}]")
        return p, y.long()
    y = y.double()
    if not torch.all((y == 0) | (y == 1)):
        raise ValueError("targets must be 0 or 1 when probs is one probability per sample (N,)")
    return p, y


def require_n_bins(n_bins) -> int:
    """A whole number of bins >= 1."""
    if isinstance(n_bins, bool) or not isinstance(n_bins, int) or n_bins < 1:
        raise ValueError(f"n_bins must be an int >= 1, got {n_bins!r}")
    return n_bins


def _require_logits_targets(logits, targets) -> tuple[torch.Tensor, torch.Tensor]:
    z, y = _tensor("logits", logits), _tensor("targets", targets)
    if not z.is_floating_point() or z.dim() not in (1, 2) or z.shape[0] == 0:
        raise ValueError(f"logits must be a float tensor (N, C) or (N,) with N >= 1, got {z.dtype} {tuple(z.shape)}")
    if not torch.isfinite(z).all():
        raise ValueError("logits must be finite (no NaN or inf)")
    if y.dim() != 1 or y.shape[0] != z.shape[0]:
        raise ValueError(f"targets must have shape ({z.shape[0]},), one per row of logits, got {tuple(y.shape)}")
    z = z.double()
    if z.dim() == 2:
        if y.is_floating_point() or ((y < 0) | (y >= z.shape[1])).any():
            raise ValueError(f"targets must be class indices in [0, {z.shape[1] - 1}] for logits (N, C)")
        return z, y.long()
    if not torch.all((y == 0) | (y == 1)):
        raise ValueError("targets must be 0 or 1 for one logit per sample (N,)")
    return z, y.double()


def _require_T(T) -> float:
    if isinstance(T, bool) or not isinstance(T, (int, float)) or not math.isfinite(T) or T <= 0:
        raise ValueError(f"T (temperature) must be a positive finite number, got {T!r}")
    return float(T)


# --------------------------------------------------------------------------- reliability and calibration error
def confidences(probs, targets) -> tuple[torch.Tensor, torch.Tensor]:
    """What gets binned: (N, C) → top-label confidence and correctness (N,); (N,) → P(class 1) and the 0/1 target."""
    p, y = require_probs_targets(probs, targets)
    if p.dim() == 1:
        return p, y
    conf, pred = p.max(dim=1)
    return conf, (pred == y).double()


@dataclass(frozen=True)
class ReliabilityBins:
    """Per-bin summary of a reliability diagram (week 07); M bins, empty bins hold NaN means and count 0.

    ``confidence`` is the mean predicted value in each bin, ``accuracy`` the observed fraction right
    (or of class 1), ``edges`` (M + 1,) the bin limits, ``gap`` = confidence − accuracy.
    """

    edges: torch.Tensor
    counts: torch.Tensor
    confidence: torch.Tensor
    accuracy: torch.Tensor
    strategy: str

    @property
    def n(self) -> int:
        return int(self.counts.sum())

    @property
    def gap(self) -> torch.Tensor:
        return self.confidence - self.accuracy

    @property
    def weights(self) -> torch.Tensor:
        """The fraction of all samples that falls in each bin (M,)."""
        return self.counts.double() / self.n

    def ece(self) -> float:
        """Expected calibration error: sum over bins of (count / N) · |confidence − accuracy|."""
        filled = self.counts > 0
        return float((self.weights[filled] * self.gap[filled].abs()).sum())

    def mce(self) -> float:
        """Maximum calibration error: the largest |confidence − accuracy| over the non-empty bins."""
        filled = self.counts > 0
        return float(self.gap[filled].abs().max())


def reliability_bins(probs, targets, n_bins: int = 15, strategy: str = "uniform") -> ReliabilityBins:
    """Bin the confidences of ``probs`` (N, C) or (N,) against ``targets`` (N,) (week 07).

    ``strategy="uniform"``: M equal-width bins (k/M, (k+1)/M], the edges computed as k / M in float64
    (so that 0.55 is an edge of 20 bins exactly, not 0.5499999999999999 as from linspace); the first
    bin also holds 0, and a confidence of exactly 1.0 lands in the last bin. ``"quantile"``: M
    equal-mass bins, (lo, hi] again, cut where sorting the confidences into M groups of (nearly) equal
    size would cut them. Equal confidences always share a bin, so with ties a bin holds more samples
    and a later one may stay empty (as in scikit-learn's calibration_curve); so do bins when N < M.
    """
    conf, correct = confidences(probs, targets)
    m = require_n_bins(n_bins)
    if strategy not in STRATEGIES:
        raise ValueError(f"strategy must be one of {STRATEGIES}, got {strategy!r}")
    if strategy == "uniform":
        edges = torch.arange(m + 1, dtype=torch.float64) / m
    else:
        # the inner edges: the largest confidence of each of M groups of (nearly) equal size, sorted
        # by confidence; assigning by value below keeps equal confidences together, whatever their order
        ends = torch.tensor([len(g) for g in torch.tensor_split(torch.arange(len(conf)), m)]).cumsum(0)[:-1]
        inner = torch.sort(conf).values[(ends - 1).clamp(min=0)]
        edges = torch.cat([torch.zeros(1, dtype=torch.float64), inner, torch.ones(1, dtype=torch.float64)])
    index = torch.bucketize(conf.contiguous(), edges[1:-1], right=False)  # edges[k] < c <= edges[k+1]
    counts = torch.bincount(index, minlength=m)
    sums_c = torch.zeros(m, dtype=torch.float64).index_add_(0, index, conf)
    sums_a = torch.zeros(m, dtype=torch.float64).index_add_(0, index, correct)
    denom = counts.double()
    nan = torch.full((m,), float("nan"), dtype=torch.float64)
    mean_c = torch.where(counts > 0, sums_c / denom.clamp(min=1), nan)
    mean_a = torch.where(counts > 0, sums_a / denom.clamp(min=1), nan)
    return ReliabilityBins(edges, counts, mean_c, mean_a, strategy)


def expected_calibration_error(probs, targets, n_bins: int = 15, strategy: str = "uniform") -> float:
    """ECE (week 07): sum over bins of (n_b / N) · |mean confidence − accuracy| (Guo et al. 2017, 15 bins)."""
    return reliability_bins(probs, targets, n_bins, strategy).ece()


def maximum_calibration_error(probs, targets, n_bins: int = 15, strategy: str = "uniform") -> float:
    """MCE (week 07): the largest |mean confidence − accuracy| over the non-empty bins."""
    return reliability_bins(probs, targets, n_bins, strategy).mce()


def brier_score(probs, targets) -> float:
    """Brier score (week 07): (N, C) → mean over samples of sum_c (p_c − onehot_c)², in [0, 2];
    (N,) → mean (p − y)², in [0, 1]. (For two classes the (N, 2) form is twice the (N,) form.)"""
    p, y = require_probs_targets(probs, targets)
    if p.dim() == 1:
        return float(((p - y) ** 2).mean())
    onehot = F.one_hot(y, p.shape[1]).double()
    return float(((p - onehot) ** 2).sum(dim=1).mean())


def accuracy(probs, targets) -> float:
    """Fraction right (week 07): the argmax of (N, C), or P(class 1) >= 0.5 for (N,)."""
    p, y = require_probs_targets(probs, targets)
    pred = (p >= 0.5).double() if p.dim() == 1 else p.argmax(dim=1)
    return float((pred == y).double().mean())


def negative_log_likelihood(probs, targets) -> float:
    """Mean −log p(target) in nats (week 07): (N, C) with indices, or (N,) = P(class 1) with 0/1 targets."""
    p, y = require_probs_targets(probs, targets)
    if p.dim() == 1:
        p_true = torch.where(y == 1, p, 1 - p)
    else:
        p_true = p.gather(1, y.view(-1, 1)).squeeze(1)
    return float(-torch.log(p_true).mean())


def bootstrap(metric: Callable, probs, targets, *, n_boot: int = 1000, seed: int = 0) -> torch.Tensor:
    """``metric(probs, targets)`` on ``n_boot`` resamples (drawn with replacement, seeded) → (n_boot,) float64."""
    p, y = require_probs_targets(probs, targets)
    if isinstance(n_boot, bool) or not isinstance(n_boot, int) or n_boot < 1:
        raise ValueError(f"n_boot must be an int >= 1, got {n_boot!r}")
    gen = torch.Generator().manual_seed(seed)
    idx = torch.randint(0, len(y), (n_boot, len(y)), generator=gen)
    return torch.tensor([float(metric(p[i], y[i])) for i in idx], dtype=torch.float64)


def simulate_calibrated(n: int, n_classes: int = 10, *, scale: float = 3.0, seed: int = 0):
    """A perfectly calibrated model, by construction (week 07): returns probs (N, C) and targets (N,).

    Each row's logits are drawn from N(0, scale²); the target is then *drawn from* the row's own
    softmax probabilities, so in the long run a confidence of 0.9 is right nine times in ten.
    """
    gen = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, n_classes, generator=gen, dtype=torch.float64)
    probs = torch.softmax(logits, dim=1)
    targets = torch.multinomial(probs, 1, generator=gen).squeeze(1)
    return probs, targets


# --------------------------------------------------------------------------- temperature and Platt scaling
def temperature_scale(logits, T: float) -> torch.Tensor:
    """Week 07: probabilities softmax(z / T) (N, C) — or sigmoid(z / T) for one logit (N,) — in float64."""
    T = _require_T(T)
    z = _tensor("logits", logits).double()
    if z.dim() == 1:
        return torch.sigmoid(z / T)
    # shifted by the row maximum first (softmax does not change), so that a tiny T gives -inf, never inf - inf
    return torch.softmax((z - z.max(dim=-1, keepdim=True).values) / T, dim=-1)


def nll_at_temperature(logits, targets, T: float) -> float:
    """Mean cross-entropy (nats) of ``logits`` divided by ``T``: F.cross_entropy, or BCE-with-logits for (N,)."""
    z, y = _require_logits_targets(logits, targets)
    T = _require_T(T)
    if z.dim() == 1:
        return float(F.binary_cross_entropy_with_logits(z / T, y))
    return float(F.cross_entropy((z - z.max(dim=1, keepdim=True).values) / T, y))


def fit_temperature(logits, targets, *, bounds: tuple[float, float] = T_BOUNDS, tol: float = 1e-7) -> float:
    """The T > 0 that minimises the mean NLL of ``logits / T`` on held-out data (week 07).

    ``logits`` (N, C) with class indices, or one logit (N,) with 0/1 targets. The NLL is a strictly
    convex function of 1/T (its second derivative is the mean variance of the logits under the softmax,
    positive unless every sample's logits are all equal), so any minimum is the only one; a bounded
    golden-section search on log T inside ``bounds`` finds it. It exists when the data hold at least one
    mistake and the logits are better than chance (the true class's logit above the mean logit on
    average): with no mistake the NLL keeps falling as T → 0 and the search ends at the lower bound;
    without the second it ends at the upper one. A result at either bound is no minimum,
    so it comes with a warning (``BoundaryTemperatureWarning``). Fit on *validation* data, never on
    the test set you report.
    """
    z, y = _require_logits_targets(logits, targets)
    lo, hi = bounds
    if not 0 < lo < hi:
        raise ValueError(f"bounds must satisfy 0 < low < high, got {bounds!r}")

    def nll(log_t: float) -> float:
        t = math.exp(log_t)
        if z.dim() == 1:
            return float(F.binary_cross_entropy_with_logits(z / t, y))
        return float(F.cross_entropy(z / t, y))

    a, b = math.log(lo), math.log(hi)
    ratio = (math.sqrt(5) - 1) / 2
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = nll(c), nll(d)
    while b - a > tol:
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = nll(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = nll(d)
    log_t = (a + b) / 2
    for bound, log_bound in ((lo, math.log(lo)), (hi, math.log(hi))):
        if abs(log_t - log_bound) < 10 * tol:
            warnings.warn(f"fit_temperature stopped at the search bound T = {bound:g}: the NLL has no minimum "
                          f"inside {bounds!r} (with T at the lower bound, the data may hold no mistake at all); "
                          "the T returned is the bound, not a fitted value", BoundaryTemperatureWarning,
                          stacklevel=2)
    return math.exp(log_t)


def fit_platt(logits, targets, *, smooth: bool = False, steps: int = 100) -> tuple[float, float]:
    """Platt scaling for one logit (week 07): a, b minimising the NLL of sigmoid(a·z + b) on held-out data.

    ``logits`` (N,), ``targets`` (N,) of 0/1: a logistic regression with one input, fitted by Newton's
    method (with step halving) in float64. Temperature scaling is the special case b = 0, a = 1/T.
    ``smooth=True`` softens the targets to (N₊ + 1)/(N₊ + 2) and 1/(N₋ + 2) as in Platt (1999); without
    it, held-out data that the logit separates perfectly have no finite fit, and a ValueError says so.
    """
    z, y = _require_logits_targets(logits, targets)
    if z.dim() != 1:
        raise ValueError(f"fit_platt takes one logit per sample, logits of shape (N,), got {tuple(z.shape)}")
    pos, neg = z[y == 1], z[y == 0]
    # Separated, or quasi-separated (the classes touch only at one logit value, pos.min() == neg.max()):
    # in both cases a → ±∞ keeps lowering the NLL. A constant logit is neither: it carries no information.
    one_class = len(pos) == 0 or len(neg) == 0
    apart = not one_class and bool(pos.min() >= neg.max() or pos.max() <= neg.min()) and bool(z.max() > z.min())
    if (one_class or apart) and not smooth:
        raise ValueError("the logit separates the held-out 0/1 targets perfectly, or with ties only where the "
                         "classes meet (or only one class is present), so the Platt fit has no finite optimum; "
                         "use more validation data, or fit_platt(..., smooth=True)")
    if smooth:
        n_pos, n_neg = float(y.sum()), float((1 - y).sum())
        y = torch.where(y == 1, (n_pos + 1) / (n_pos + 2), 1 / (n_neg + 2))
    X = torch.stack([z, torch.ones_like(z)], dim=1)

    def nll(w):
        return float(F.binary_cross_entropy_with_logits(X @ w, y))

    w = torch.zeros(2, dtype=torch.float64)
    for _ in range(steps):
        p = torch.sigmoid(X @ w)
        grad = X.T @ (p - y) / len(y)
        hess = (X * (p * (1 - p)).unsqueeze(1)).T @ X / len(y) + 1e-12 * torch.eye(2, dtype=torch.float64)
        step = torch.linalg.solve(hess, grad)
        size, before = 1.0, nll(w)
        while nll(w - size * step) > before and size > 1e-8:
            size /= 2
        w = w - size * step
        if (size * step).abs().max() < 1e-11:
            break
    if not torch.isfinite(w).all():  # pragma: no cover - separated data are refused above
        raise ValueError("the Platt fit did not converge")
    return float(w[0]), float(w[1])


def platt_scale(logits, a: float, b: float) -> torch.Tensor:
    """Week 07: calibrated P(class 1) = sigmoid(a · z + b) for one logit per sample (N,)."""
    return torch.sigmoid(a * _tensor("logits", logits).double() + b)


def record_logits(model, loss_fn, optimizer, train_loader, inputs: dict, epochs: int, *, device=None) -> dict:
    """Week 07: week 05's loop for ``epochs`` epochs, keeping the logits on ``inputs`` after every epoch.

    ``inputs``: {name: X (N, D)}, e.g. the validation and test images. Returns {name: (E, N, C)
    float32 logits on the CPU}, so that any epoch can be examined afterwards without retraining.
    """
    from course_utils.training import train_one_epoch

    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")
    device = device or next(model.parameters()).device
    kept = {name: [] for name in inputs}
    for _ in range(epochs):
        train_one_epoch(model, loss_fn, optimizer, train_loader, device=device)
        model.eval()
        with torch.no_grad():
            for name, X in inputs.items():
                kept[name].append(model(X.to(device)).float().cpu())
        model.train()
    return {name: torch.stack(v) for name, v in kept.items()}


# --------------------------------------------------------------------------- decisions
def cost_threshold(cost_fn: float, cost_fp: float) -> float:
    """Week 07: act (e.g. biopsy) when P(positive) >= cost_fp / (cost_fp + cost_fn).

    Acting costs cost_fp when the sample is negative; not acting costs cost_fn when it is positive.
    The expected costs (1 − p)·cost_fp and p·cost_fn are equal at that threshold.
    """
    for name, v in (("cost_fn", cost_fn), ("cost_fp", cost_fp)):
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} must be a finite number >= 0, got {v!r}")
    if cost_fn + cost_fp == 0:
        raise ValueError("cost_fn and cost_fp cannot both be 0: then every decision is free")
    return cost_fp / (cost_fp + cost_fn)


def expected_cost(probs, targets, threshold: float, cost_fn: float, cost_fp: float) -> float:
    """Mean cost per sample (week 07) when acting on P(positive) ``probs`` (N,) >= ``threshold``; targets 0/1 (N,)."""
    p, y = require_probs_targets(probs, targets)
    if p.dim() != 1:
        raise ValueError(f"probs must be P(positive) of shape (N,), got {tuple(p.shape)}")
    act = p >= threshold
    cost = cost_fp * (act & (y == 0)).double() + cost_fn * (~act & (y == 1)).double()
    return float(cost.mean())


# Moved to course_utils.recalibration; still reachable as cal.<name>. Looked up on first use, because
# recalibration imports this module (an import at the top of either file would be circular).
_RECALIBRATION = ("StepMap", "fit_histogram_binning", "fit_isotonic", "fit_one_vs_rest", "classwise_calibration_error")


def __getattr__(name: str):
    if name in _RECALIBRATION:
        from course_utils import recalibration

        return getattr(recalibration, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(list(globals()) + list(_RECALIBRATION))
