"""Experiments about losses: repeated seeded comparisons and loss-landscape slices (week 06).

Two questions a single training run cannot answer:

* *Is loss A better than loss B?* :func:`compare_losses` trains once per loss and
  seed (the same seed gives both losses the same initial weights and data order),
  tabulates mean ± spread and runs a paired test with scipy (:func:`paired_test`);
  :func:`decisions` counts a yes/no model's hits and false alarms at a threshold, and
  :func:`minimise` fits a small model to the exact minimum of a loss.
* *What does the loss look like around a trained model?* :func:`landscape_1d`
  evaluates it along the straight line between two parameter vectors, and
  :func:`landscape_2d` on a plane spanned by two random, filter-normalised
  directions (:func:`filter_normalised_direction`, after Li et al., 2018).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np
import torch
from torch import nn
from torch.nn.utils import parameters_to_vector, vector_to_parameters

TESTS = ("t", "wilcoxon")


# --------------------------------------------------------------------------- comparing losses
def _check_scores(name: str, x) -> np.ndarray:
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or len(x) < 2:
        raise ValueError(f"{name} must be a 1-D sequence of at least 2 scores (one per seed), got shape {x.shape}")
    if not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf; a run diverged?")
    return x


def paired_test(a, b, test: str = "t") -> tuple[float, float]:
    """Paired test of scores ``a`` vs ``b`` (same seeds, (S,) each) → (statistic, two-sided p) (week 06).

    ``test="t"``: paired t-test, t = mean(a - b) / (sd(a - b) / √S); ``"wilcoxon"``: signed-rank test.
    """
    a, b = _check_scores("a", a), _check_scores("b", b)
    if a.shape != b.shape:
        raise ValueError(f"a and b must hold one score per seed each, got {len(a)} and {len(b)} scores")
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, got {test!r}")
    from scipy import stats  # imported lazily: keeps `import course_utils` light

    d = a - b
    if np.all(d == 0):
        return 0.0, 1.0  # identical runs: no evidence of any difference
    if test == "t":
        if np.all(d == d[0]):  # constant non-zero difference: sd = 0, t is infinite
            return math.copysign(math.inf, d[0]), 0.0
        res = stats.ttest_rel(a, b)
    else:
        # A rank test sees only signs and ranks: even when every difference has the same sign its
        # p-value cannot drop below 2 / 2**S (0.0625 for S = 5), and scipy's exact test says so.
        res = stats.wilcoxon(a, b)
    return float(res.statistic), float(res.pvalue)


class Decisions(NamedTuple):
    """Counts of the yes/no decisions ``score >= threshold`` against 0/1 targets (week 06)."""

    tp: int  # positives flagged (found)
    fp: int  # negatives flagged (false alarms)
    fn: int  # positives missed
    tn: int  # negatives left alone

    @property
    def recall(self) -> float:
        """Fraction of the positives that were flagged, tp / (tp + fn); NaN without positives."""
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else math.nan

    @property
    def precision(self) -> float:
        """Fraction of the flagged samples that are positive, tp / (tp + fp); NaN when nothing is flagged."""
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else math.nan


def decisions(scores, targets, threshold: float = 0.5) -> Decisions:
    """Decide ``scores >= threshold`` for scores (N,) (probabilities or logits) and count against 0/1 targets (N,).

    A score exactly at the threshold counts as "yes", the same rule as ``calibration.expected_cost``: there
    both choices cost the same, so acting is as good as not.
    """
    s = np.asarray(scores.detach().cpu() if isinstance(scores, torch.Tensor) else scores, dtype=float)
    y = np.asarray(targets.detach().cpu() if isinstance(targets, torch.Tensor) else targets, dtype=float)
    if s.ndim != 1 or s.shape != y.shape or len(s) == 0:
        raise ValueError(f"scores and targets must be 1-D with the same length, got shapes {s.shape} and {y.shape}")
    if not np.isin(y, (0.0, 1.0)).all():
        raise ValueError("targets must hold only 0 and 1")
    if not np.isfinite(s).all():
        raise ValueError("scores must be finite (no NaN or inf)")
    if not (isinstance(threshold, (int, float)) and math.isfinite(threshold)) or isinstance(threshold, bool):
        raise ValueError(f"threshold must be a finite number, got {threshold!r}")
    flag, pos = s >= threshold, y == 1
    return Decisions(tp=int((flag & pos).sum()), fp=int((flag & ~pos).sum()), fn=int((~flag & pos).sum()),
                     tn=int((~flag & ~pos).sum()))


def format_p(p: float) -> str:
    """A p-value for a table: three decimals, or "<0.001" below 0.001 (never a misleading "0.000") (week 06)."""
    if isinstance(p, bool) or not isinstance(p, (int, float, np.floating)) or not 0 <= p <= 1:
        raise ValueError(f"p must be a number between 0 and 1, got {p!r}")
    return "<0.001" if p < 0.001 else f"{p:.3f}"


class SummaryRow(dict):
    """One row of :meth:`Comparison.summary`: a dict whose missing keys say which keys there are."""

    def __missing__(self, key):
        keys = ", ".join(repr(k) for k in self)
        if key in ("t", "W", "t_value", "p_value", "statistic", "p", "diff", "pvalue"):
            if "statistic" not in self:
                raise KeyError(f"{key!r}: this row ({self['loss']!r}) is the baseline, which is not tested against "
                               "itself; the paired test against it is in the other rows (keys 'statistic' and 'p')")
            raise KeyError(f"{key!r}: a summary row has the keys {keys}; the table's column 't' (or 'W') is the key "
                           "'statistic'")
        raise KeyError(f"{key!r}: a summary row has the keys {keys}")


@dataclass
class Comparison:
    """Scores of repeated runs, one array (S,) per loss, and paired tests against the first loss."""

    scores: dict[str, np.ndarray]
    seeds: tuple[int, ...]
    metric: str = "score"
    test: str = "t"

    @property
    def baseline(self) -> str:
        return next(iter(self.scores))

    def summary(self) -> list[dict]:
        """One row per loss: mean, sample sd, min, max; and vs the baseline: mean paired difference, statistic, p.
        A key a row lacks raises a KeyError that lists the keys it has (the table's "t" is the key "statistic")."""
        base = self.scores[self.baseline]
        rows = []
        for name, s in self.scores.items():
            row = SummaryRow(loss=name, mean=s.mean(), sd=s.std(ddof=1), min=s.min(), max=s.max())
            if name != self.baseline:
                stat, p = paired_test(s, base, self.test)
                row.update(diff=float((s - base).mean()), statistic=stat, p=p)
            rows.append(row)
        return rows

    def table(self, digits: int = 3) -> str:
        """The summary as a fixed-width text table (mean ± sd over seeds)."""
        f = f"{{:.{digits}f}}"
        lines = [f"{'loss':<16} {self.metric + ' mean ± sd':>22} {'min':>7} {'max':>7} {'diff':>8} "
                 f"{'t' if self.test == 't' else 'W':>7} {'p':>7}"]
        for r in self.summary():
            ms = f"{f.format(r['mean'])} ± {f.format(r['sd'])}"
            tail = (f"{r['diff']:>+8.{digits}f} {r['statistic']:>7.2f} {format_p(r['p']):>7}" if "p" in r
                    else f"{'(base)':>8} {'':>7} {'':>7}")
            lines.append(f"{r['loss']:<16} {ms:>22} {f.format(r['min']):>7} {f.format(r['max']):>7} {tail}")
        return "\n".join(lines)


def _check_seeds(seeds) -> tuple[int, ...]:
    seeds = tuple(seeds)
    if len(seeds) < 2:
        raise ValueError(f"seeds must hold at least 2 seeds for a paired test, got {len(seeds)}")
    if any(isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 0 for s in seeds):
        raise ValueError(f"seeds must be non-negative ints, got {seeds}")
    if len(set(seeds)) != len(seeds):
        raise ValueError(f"seeds must be distinct (a repeated seed repeats the same run), got {seeds}")
    return tuple(int(s) for s in seeds)


def compare_losses(run: Callable[[Callable, int], float], losses: Mapping[str, Callable], seeds: Sequence[int],
                   *, metric: str = "score", test: str = "t") -> Comparison:
    """Call ``run(loss_fn, seed) -> float`` for every loss and seed; the first loss is the baseline (week 06).

    ``run`` should seed everything from ``seed`` (e.g. ``set_seed(seed)``) so that two losses
    with the same seed start from the same weights: that is what makes the test *paired*.
    """
    if not callable(run):
        raise TypeError(f"run must be a function run(loss_fn, seed) -> float, got {type(run).__name__}")
    if not isinstance(losses, Mapping) or len(losses) < 2:
        raise ValueError("losses must be a dict of at least 2 named loss functions, e.g. {'CE': ce, 'MSE': mse}")
    for name, fn in losses.items():
        if not callable(fn):
            raise TypeError(f"losses[{name!r}] must be a loss function, got {type(fn).__name__}")
    seeds = _check_seeds(seeds)
    if test not in TESTS:
        raise ValueError(f"test must be one of {TESTS}, got {test!r}")
    scores = {}
    for name, fn in losses.items():
        vals = [run(fn, seed) for seed in seeds]
        if not all(isinstance(v, (int, float, np.number)) and math.isfinite(v) for v in vals):
            raise ValueError(f"run must return one finite number per call; for {name!r} it returned {vals}")
        scores[name] = np.asarray(vals, dtype=float)
    return Comparison(scores=scores, seeds=seeds, metric=metric, test=test)


def _loss_type_hint(message: str) -> str | None:
    """A hint for a loss that passes a Python number where torch's loss wants a tensor (pos_weight, weight)."""
    for arg in ("pos_weight", "weight"):
        if f"argument '{arg}'" in message and "must be Tensor" in message:
            return (f"{arg} must be a tensor, not a Python number: keep it a tensor — e.g. (y == 0).sum() / y.sum(), "
                    f"without .item() or float() — or wrap a number as torch.tensor(w)")
    return None


def minimise(model: nn.Module, loss_fn: Callable, X: torch.Tensor, y: torch.Tensor, *, max_iter: int = 100) -> float:
    """Minimise ``loss_fn(model(X), y)`` over the whole (small) data set with L-BFGS; returns the final loss (week 06).

    For comparing *losses* on small, smooth problems (a linear model on a few hundred rows): the
    optimiser runs until the loss stops changing, so differences between two losses are not
    differences in when training stopped. ``X``: (N, D); ``y``: what ``loss_fn`` expects.
    """
    _check_model(model)
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be a function (output, target) -> scalar, got {type(loss_fn).__name__}")
    if isinstance(max_iter, bool) or not isinstance(max_iter, int) or max_iter < 1:
        raise ValueError(f"max_iter must be a positive int, got {max_iter!r}")
    opt = torch.optim.LBFGS(model.parameters(), max_iter=max_iter, tolerance_grad=1e-9, tolerance_change=1e-12,
                            line_search_fn="strong_wolfe")

    def closure():
        opt.zero_grad()
        loss = loss_fn(model(X), y)
        if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
            raise ValueError("loss_fn must return a single number (a 0-dim tensor)")
        loss.backward()
        return loss

    try:
        opt.step(closure)
    except TypeError as exc:  # a float where torch wants a tensor: say so, without the optimiser's frames
        hint = _loss_type_hint(str(exc))
        if hint is None:
            raise
        raise TypeError(f"loss_fn raised TypeError: {exc}\n  Hint: {hint}") from None
    with torch.no_grad():
        return float(loss_fn(model(X), y))


# --------------------------------------------------------------------------- loss landscapes
def _check_model(model) -> torch.Tensor:
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    params = list(model.parameters())
    if not params:
        raise ValueError("model has no parameters")
    return parameters_to_vector(params).detach().clone()


def _check_vector(name: str, v, n: int) -> torch.Tensor:
    if not isinstance(v, torch.Tensor) or not v.is_floating_point():
        raise TypeError(f"{name} must be a floating-point tensor (a flat parameter vector), got {type(v).__name__}")
    if v.shape != (n,):
        raise ValueError(f"{name} must have shape ({n},) like the model's flattened parameters, got {tuple(v.shape)}")
    return v


def filter_normalised_direction(model: nn.Module, seed: int = 0, *, ignore_biases: bool = True) -> torch.Tensor:
    """A random direction (P,) in parameter space, each filter rescaled to its weights' norm (week 06).

    For every weight matrix, row i (the weights into output unit i, a "filter") of the Gaussian
    direction is scaled to the norm of row i of the model's weights, so a step of 1 along it
    changes every unit by about as much as its own size. 1-D parameters (biases) get 0.
    """
    _check_model(model)
    gen = torch.Generator().manual_seed(seed)
    parts = []
    for p in model.parameters():
        w = p.detach().cpu()
        d = torch.randn(w.shape, generator=gen, dtype=w.dtype)
        if w.dim() <= 1:
            d = torch.zeros_like(w) if ignore_biases else d * w.norm() / d.norm().clamp_min(1e-12)
        else:
            d_rows, w_rows = d.reshape(d.shape[0], -1), w.reshape(w.shape[0], -1)
            d = (d_rows * (w_rows.norm(dim=1, keepdim=True) / d_rows.norm(dim=1, keepdim=True).clamp_min(1e-12))).view_as(w)
        parts.append(d.reshape(-1))
    return torch.cat(parts).to(next(model.parameters()).device)


def _evaluate_at(model: nn.Module, loss_of: Callable[[nn.Module], float], vectors) -> np.ndarray:
    """Loss at each parameter vector in ``vectors``; restores the model's own parameters afterwards."""
    params = list(model.parameters())
    original = parameters_to_vector(params).detach().clone()
    out = []
    try:
        with torch.no_grad():
            for v in vectors:
                vector_to_parameters(v, params)
                out.append(float(loss_of(model)))
    finally:
        with torch.no_grad():
            vector_to_parameters(original, params)
    return np.asarray(out)


def landscape_1d(model: nn.Module, loss_of: Callable[[nn.Module], float], start: torch.Tensor, end: torch.Tensor,
                 alphas) -> np.ndarray:
    """Loss along θ(α) = (1 - α)·start + α·end for each α in ``alphas`` (K,) → (K,) (week 06).

    ``start``, ``end``: flat parameter vectors (P,) (``parameters_to_vector``); ``loss_of(model)``
    returns the loss of the model as it is. The model's parameters are restored afterwards.
    """
    n = _check_model(model).numel()
    start, end = _check_vector("start", start, n), _check_vector("end", end, n)
    alphas = np.asarray(alphas, dtype=float)
    if alphas.ndim != 1 or len(alphas) == 0 or not np.isfinite(alphas).all():
        raise ValueError(f"alphas must be a non-empty 1-D sequence of finite numbers, got shape {alphas.shape}")
    return _evaluate_at(model, loss_of, ((1 - a) * start + a * end for a in alphas))


def landscape_2d(model: nn.Module, loss_of: Callable[[nn.Module], float], d1: torch.Tensor, d2: torch.Tensor,
                 coords) -> np.ndarray:
    """Loss on the plane θ* + a·d1 + b·d2 around the model's parameters θ* (week 06).

    ``d1``, ``d2``: directions (P,); ``coords``: (K,) values used for both a and b →
    (K, K) array with rows indexed by b and columns by a (ready for ``imshow``).
    """
    centre = _check_model(model)
    n = centre.numel()
    d1, d2 = _check_vector("d1", d1, n), _check_vector("d2", d2, n)
    coords = np.asarray(coords, dtype=float)
    if coords.ndim != 1 or len(coords) < 2 or not np.isfinite(coords).all():
        raise ValueError(f"coords must be a 1-D sequence of at least 2 finite numbers, got shape {coords.shape}")
    vecs = (centre + a * d1 + b * d2 for b in coords for a in coords)
    return _evaluate_at(model, loss_of, vecs).reshape(len(coords), len(coords))


def landscape_slices(model: nn.Module, loss_of: Callable[[nn.Module], float], d1: torch.Tensor, d2: torch.Tensor,
                     scales, n: int = 21) -> dict[float, dict]:
    """Precompute one (n, n) 2-D slice per half-width in ``scales``, for the week-06 explorer.

    Returns ``{scale: {"coords": (n,), "loss": (n, n)}}``; a slider then only picks a slice.
    """
    scales = [float(s) for s in np.atleast_1d(np.asarray(scales, dtype=float))]
    if not scales or any(not math.isfinite(s) or s <= 0 for s in scales):
        raise ValueError(f"scales must be positive finite numbers, got {scales}")
    if isinstance(n, bool) or not isinstance(n, int) or n < 3 or n % 2 == 0:
        raise ValueError(f"n must be an odd int >= 3 (so the grid has the trained model at its centre), got {n!r}")
    out = {}
    for s in scales:
        coords = np.linspace(-s, s, n)
        out[round(s, 6)] = {"coords": coords, "loss": landscape_2d(model, loss_of, d1, d2, coords)}
    return out
