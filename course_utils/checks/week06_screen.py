"""Week 06 exercise 7 checks: the rare-class screen — plain BCE, BCE + ``pos_weight`` and plain BCE with its decision
threshold moved to 1 / (1 + w), compared over paired seeds and reported (pos_weight against the moved threshold: the
95 % confidence interval of the mean paired difference and the verdict it supports)."""

from __future__ import annotations

import contextlib
import functools
import math

import numpy as np
import torch

from ._core import CheckFailed, close, passed, silently

SCREEN_SEEDS = tuple(range(10))
SCREEN_NAMES = ("BCE", "BCE + pos_weight", "moved threshold")
VERDICTS = ("better", "worse", "no detectable difference")


@functools.cache
def _screen_data():
    """Week 06: the exercise's screen — radius and texture of the nuclei, validation biopsies (loaded once)."""
    from course_utils.data import load_dataset

    cancer = load_dataset("breast_cancer", seed=0)
    pair = [cancer.feature_names.index("mean radius"), cancer.feature_names.index("mean texture")]
    return cancer, pair


def moved_threshold(y: torch.Tensor) -> float:
    """Week 06: the logit threshold log(n_pos / n_neg) of 0/1 labels y (N,): the logit of 1 / (1 + w), w = n_neg / n_pos."""
    return math.log(float(y.sum()) / float((y == 0).sum()))


_THRESHOLDS = {"0": lambda y: 0.0, "moved": moved_threshold, "wrong way": lambda y: -moved_threshold(y),
               "probability": lambda y: 1 / (1 + float((y == 0).sum()) / float(y.sum()))}


def screen_run(loss_fn, seed: int, *, draw_seed: int | None = None, threshold: str = "0") -> float:
    """Week 06: the reference run of the exercise — balanced accuracy of a logistic regression fitted exactly,
    deciding at the logit ``threshold``: "0" (p = 0.5), "moved" (p = 1 / (1 + w)) or a usual mistake."""
    from torch import nn

    from course_utils.devices import set_seed
    from course_utils.experiments import decisions, minimise

    cancer, pair = _screen_data()
    gen = torch.Generator().manual_seed(seed if draw_seed is None else draw_seed)
    keep = (cancer.y_train == 0) | (torch.rand(len(cancer.y_train), generator=gen) < 0.1)
    X, y = cancer.X_train[keep][:, pair], cancer.y_train[keep]
    set_seed(seed)
    model = nn.Sequential(nn.Linear(2, 1), nn.Flatten(0))
    minimise(model, loss_fn, X, y)
    with torch.no_grad():
        d = decisions(model(cancer.X_val[:, pair]), cancer.y_val, _THRESHOLDS[threshold](y))
    return 0.5 * (d.tp / (d.tp + d.fn) + d.tn / (d.tn + d.fp))


@contextlib.contextmanager
def _one_thread():
    """Week 06: tiny models train fastest on one CPU thread; the caller's setting is restored afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _bce(z, y):
    return torch.nn.functional.binary_cross_entropy_with_logits(z, y)


def _bce_pos_weight(z, y, invert: bool = False, fixed: float | None = None):
    w = (y == 0).sum() / y.sum() if fixed is None else torch.tensor(fixed)
    return torch.nn.functional.binary_cross_entropy_with_logits(z, y, pos_weight=1 / w if invert else w)


#: kind -> (loss, logit threshold) of the reference runs and of the usual mistakes
_SCREEN_RUNS = {"plain": (_bce, "0"), "weighted": (_bce_pos_weight, "0"),
                "inverted": (lambda z, y: _bce_pos_weight(z, y, invert=True), "0"),
                "weighted 10": (lambda z, y: _bce_pos_weight(z, y, fixed=10.0), "0"),
                "moved": (_bce, "moved"), "moved wrong way": (_bce, "wrong way"),
                "moved probability": (_bce, "probability"), "weighted moved": (_bce_pos_weight, "moved")}


@functools.cache
def _screen_scores(kind: str) -> tuple[float, ...]:
    """Week 06: the scores of the reference runs (or of a usual mistake) over the seeds, computed once."""
    loss_fn, threshold = _SCREEN_RUNS[kind]
    with _one_thread():
        return tuple(screen_run(loss_fn, s, threshold=threshold) for s in SCREEN_SEEDS)


_RECIPE = ("follow the recipe of run(): X, y = rare_malignant(seed); set_seed(seed); the model "
           "nn.Sequential(nn.Linear(2, 1), nn.Flatten(0)); minimise(model, loss_fn, X, y); return "
           "balanced_accuracy(model, threshold)")
_MISTAKES = (
    # (arm, scores of, hint): the arm's scores equal the scores of a usual mistake
    (0, "weighted", "these are the pos_weight scores: the baseline (the first loss in the dict) is plain BCE, "
     "the second loss uses pos_weight"),
    (0, "moved", "these are the moved-threshold scores: bce_threshold_moved must be a function of its own (def "
     "bce_threshold_moved(logits, y): ...); written as bce_threshold_moved = F.binary_cross_entropy_with_logits it is "
     "the very same function as the baseline's, so `loss_fn is bce_threshold_moved` is true for plain BCE too"),
    (1, "plain", "these are the scores of plain BCE: pass pos_weight=n_neg / n_pos to "
     "F.binary_cross_entropy_with_logits in the second loss"),
    (1, "inverted", "pos_weight is upside down: it is (number of negatives) / (number of positives), "
     "(y == 0).sum() / y.sum()"),
    (1, "weighted 10", "these are the scores of a fixed pos_weight = 10: compute it from the y of each run, "
     "(y == 0).sum() / y.sum() — every rare sample has its own ratio"),
    (1, "weighted moved", "the pos_weight model is scored at the moved threshold; only the third arm "
     "(plain BCE) moves it — the pos_weight model decides at logit 0"),
    (2, "plain", "these are the scores of plain BCE at threshold 0.5: for the third loss, run() must score the "
     "model at the moved threshold, balanced_accuracy(model, threshold=log(n_pos / n_neg))"),
    (2, "moved wrong way", "the threshold moved the wrong way: the logit of 1 / (1 + w) is log(1 / w) = "
     "log(n_pos / n_neg), a negative number when positives are rare"),
    (2, "moved probability", "balanced_accuracy compares the logit with the threshold: pass the logit of "
     "1 / (1 + w), log(n_pos / n_neg), not the probability itself"),
    (2, "weighted moved", "the third arm trains with plain BCE (it only moves the threshold); your "
     "bce_threshold_moved seems to use pos_weight"),
)


def _scores_hint(got: np.ndarray, which: int) -> str:
    """Week 06: why one arm's scores differ from the reference runs (``which``: 0 BCE, 1 pos_weight, 2 moved)."""
    if np.allclose(got, got[0]):
        return ("every seed gave the same score: draw each run's own rare sample with rare_malignant(seed) — the "
                "seed must choose the sample")
    for arm, kind, hint in _MISTAKES:
        if arm == which and np.allclose(got, _screen_scores(kind)):
            return hint
    return _RECIPE


def gap_interval(comparison, *, quantile: float | None = None, ddof: int = 1, root: bool = True,
                 flip: bool = False) -> tuple[float, float]:
    """Week 06: 95 % CI (low, high) of the mean paired difference pos_weight − moved threshold over the seeds,
    mean(d) ± t₀.₉₇₅,S−1 · sd(d) / √S; the keywords give the usual mistakes (1.96, ddof=0, no √S, the sign)."""
    from scipy import stats

    d = np.asarray(comparison.scores[SCREEN_NAMES[1]], dtype=float) - np.asarray(comparison.scores[SCREEN_NAMES[2]],
                                                                               dtype=float)
    d = -d if flip else d
    q = stats.t.ppf(0.975, len(d) - 1) if quantile is None else quantile
    half = q * d.std(ddof=ddof) / (math.sqrt(len(d)) if root else 1.0)
    return float(d.mean() - half), float(d.mean() + half)


def verdict_of(ci: tuple[float, float]) -> str:
    """Week 06: "better" / "worse" when the whole interval lies above / below 0, else "no detectable difference"."""
    low, high = ci
    return "better" if low > 0 else "worse" if high < 0 else "no detectable difference"


_NORMAL_QUANTILE_HINT = ("with 10 seeds the 95 % quantile is t₀.₉₇₅ with S − 1 = 9 degrees of freedom, "
                         "stats.t.ppf(0.975, S - 1) ≈ 2.26, not the normal 1.96")
_CI_MISTAKES = (
    ({"flip": True}, "the sign is flipped: d is pos_weight minus the moved threshold, "
     "comparison.scores['BCE + pos_weight'] - comparison.scores['moved threshold']"),
    ({"quantile": 1.959963984540054}, _NORMAL_QUANTILE_HINT),
    ({"quantile": 1.96}, _NORMAL_QUANTILE_HINT),  # the rounded normal quantile, as written from memory
    ({"ddof": 0}, "sd(d) is the sample standard deviation: d.std(ddof=1)"),
    ({"root": False}, "the interval is for the mean: divide sd(d) by √S"),
)


def _ci_pair(ci) -> tuple[float, float] | None:
    """The two ends of a student's interval as floats, or None when it is not a pair of real numbers."""
    if isinstance(ci, (str, bytes, dict)) or not hasattr(ci, "__len__"):
        return None
    if isinstance(ci, torch.Tensor) or len(ci) != 2:
        return None
    ends = list(ci)
    if any(isinstance(e, bool) or not isinstance(e, (int, float, np.integer, np.floating)) for e in ends):
        return None
    low, high = float(ends[0]), float(ends[1])
    return (low, high) if math.isfinite(low) and math.isfinite(high) else None


def _check_gap(comparison, ci, verdict) -> tuple[tuple[float, float], str]:
    """Week 06: the student's CI of pos_weight − moved threshold and the verdict it supports."""
    pair = _ci_pair(ci)
    if pair is None:
        raise CheckFailed(f"ci must be a pair of numbers (low, high), got {ci!r:.80}\n  Hint: e.g. ci = (low, high) "
                          "with low = mean(d) − t₀.₉₇₅,S−1 · sd(d) / √S and high = mean(d) + t₀.₉₇₅,S−1 · sd(d) / √S")
    want = gap_interval(comparison)
    if not all(close(g, w, atol=1e-9, rtol=1e-6) for g, w in zip(pair, want, strict=True)):
        hint = ("the ends are swapped: low first, then high" if all(close(g, w, atol=1e-9, rtol=1e-6) for g, w
                in zip(pair, want[::-1], strict=True)) else None)
        for kwargs, text in _CI_MISTAKES:
            if hint is None and all(close(g, w, atol=1e-9, rtol=1e-6) for g, w
                                    in zip(pair, gap_interval(comparison, **kwargs), strict=True)):
                hint = text
        hint = hint or ("d = one difference per seed; mean(d) ± stats.t.ppf(0.975, S - 1) * d.std(ddof=1) / √S, "
                        "with S = 10 seeds")
        raise CheckFailed(f"ci = ({pair[0]:+.4f}, {pair[1]:+.4f}) is not the 95 % confidence interval of the mean paired "
                          f"difference pos_weight − moved threshold\n  Hint: {hint}")
    right = verdict_of(want)
    if not isinstance(verdict, str) or verdict not in VERDICTS:
        raise CheckFailed(f"verdict = {verdict!r:.80} is not one of the three answers\n  Hint: verdict is one of the "
                          "strings " + ", ".join(repr(v) for v in VERDICTS) + ", spelled the same")
    if verdict != right:
        hint = ("the interval contains 0: a mean below or above 0 alone is no evidence of a difference"
                if right == VERDICTS[2] else
                f"the whole interval lies {'above' if right == 'better' else 'below'} 0")
        raise CheckFailed(f"verdict = {verdict!r} does not follow from the interval ({want[0]:+.4f}, {want[1]:+.4f})"
                          f"\n  Hint: {hint}")
    return want, right


def check_comparison_report(comparison, ci, verdict, t_value, p_value) -> None:
    """Week 06: BCE vs BCE + pos_weight vs the moved threshold over seeds 0-9 — the ``Comparison``; the 95 % CI of the
    mean paired difference pos_weight − moved threshold and the verdict; t and p of pos_weight against plain BCE."""
    from course_utils.experiments import Comparison

    if not isinstance(comparison, Comparison):
        raise CheckFailed(f"comparison must be the result of compare_losses(...), got {type(comparison).__name__}")
    names = list(comparison.scores)
    if len(names) != len(SCREEN_NAMES) or comparison.seeds != SCREEN_SEEDS:
        raise CheckFailed(f"compare {len(SCREEN_NAMES)} arms over the seeds 0, 1, ..., 9 (range(10)); got "
                          f"{len(names)} losses and seeds {comparison.seeds}\n  Hint: the dict holds "
                          + ", ".join(repr(n) for n in SCREEN_NAMES) + ", in this order")
    if tuple(names) != SCREEN_NAMES:
        hint = ("put plain BCE first (the first loss of the dict is the baseline), then pos_weight, then the moved "
                "threshold" if set(names) == set(SCREEN_NAMES)
                else "name the three arms exactly " + ", ".join(repr(n) for n in SCREEN_NAMES))
        raise CheckFailed(f"the losses are named {names}\n  Hint: {hint}")
    for which, (name, kind) in enumerate(zip(names, ("plain", "weighted", "moved"), strict=True)):
        got, want = np.asarray(comparison.scores[name], dtype=float), np.array(_screen_scores(kind))
        if not np.allclose(got, want, atol=1e-9):
            k = int(np.argmax(np.abs(got - want)))
            raise CheckFailed(f"the scores of {name!r} differ from the reference runs (seed {SCREEN_SEEDS[k]}: "
                              f"{got[k]:.4f}, expected {want[k]:.4f})\n  Hint: {_scores_hint(got, which)}")
    (low, high), right = _check_gap(comparison, ci, verdict)
    row = comparison.summary()[1]
    for label, got, want, key in (("t_value", t_value, row["statistic"], "statistic"), ("p_value", p_value, row["p"], "p")):
        if isinstance(got, bool) or not isinstance(got, (int, float, np.floating)):
            raise CheckFailed(f"{label} must be a number, got {type(got).__name__}")
        if not close(float(got), want, atol=1e-9, rtol=1e-6):
            hint = ("the sign is flipped: the table tests the second loss against the first (the baseline)"
                    if key == "statistic" and close(float(got), -want) else
                    f"read it from the second row of comparison.summary() (key {key!r}): pos_weight against plain BCE")
            raise CheckFailed(f"{label} = {float(got):.4g} does not match the comparison\n  Hint: {hint}")
    passed(f"comparison: pos_weight − moved threshold, 95 % CI [{low:+.3f}, {high:+.3f}]: {right}; pos_weight against "
           f"plain BCE: paired t = {row['statistic']:.2f}, p = {row['p']:.2g}")


def _require(ok: bool, problem: str, hint: str) -> None:
    if not ok:
        raise CheckFailed(f"{problem}\n  Hint: {hint}")


def comparison_hidden_tests(comparison, ci, verdict, t_value, p_value, run, bce_pos_weight, bce_threshold_moved) -> None:
    """Week 06 exercise 7, the hidden tests: the visible rule, then each piece on its own — every failure explained."""
    from scipy import stats

    silently(check_comparison_report, comparison, ci, verdict, t_value, p_value)
    z, y = torch.tensor([0.5, -1.0, 2.0, 0.1]), torch.tensor([1.0, 0.0, 0.0, 0.0])
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    got = silently(bce_pos_weight, z, y)
    _require(isinstance(got, torch.Tensor) and close(got, bce(z, y, pos_weight=torch.tensor(3.0))),
             "bce_pos_weight is not right on 1 positive among 4 labels (pos_weight = 3)",
             "pos_weight is (number of negatives) / (number of positives) of the y it is given, not a fixed number")
    got = silently(bce_threshold_moved, z, y)
    _require(isinstance(got, torch.Tensor) and close(got, bce(z, y)),
             "bce_threshold_moved is not plain BCE on a small batch",
             "the third arm trains exactly like the first (plain BCE); only run() treats it differently")
    for name, fn in (("BCE + pos_weight", bce_pos_weight), ("moved threshold", bce_threshold_moved)):
        again = silently(run, fn, 3)
        _require(isinstance(again, (int, float, np.floating)) and math.isclose(float(again), comparison.scores[name][3],
                                                                              rel_tol=0, abs_tol=1e-9),
                 f"run(..., 3) for {name!r} gave {again!r}, not the score of seed 3 in the comparison",
                 "run() must depend only on the loss and the seed: draw the sample, set_seed(seed), build and fit "
                 "a fresh model inside run()")
    ref = stats.ttest_rel(comparison.scores["BCE + pos_weight"], comparison.scores["BCE"])
    _require(math.isclose(float(t_value), float(ref.statistic), rel_tol=1e-6, abs_tol=1e-9)
             and math.isclose(float(p_value), float(ref.pvalue), rel_tol=1e-6, abs_tol=1e-9),
             f"t_value = {t_value!r}, p_value = {p_value!r} differ from the paired t-test of pos_weight against BCE",
             "read both from the second row of comparison.summary()")
    gap = stats.ttest_rel(comparison.scores[SCREEN_NAMES[1]], comparison.scores[SCREEN_NAMES[2]]).confidence_interval(0.95)
    _require(all(math.isclose(float(g), float(w), rel_tol=1e-6, abs_tol=1e-9) for g, w in zip(ci, gap, strict=True))
             and verdict == verdict_of((float(gap.low), float(gap.high))),
             f"ci = {ci!r} or verdict = {verdict!r} differ from scipy's paired interval of pos_weight − moved threshold",
             "ci = mean(d) ± t₀.₉₇₅,S−1 · sd(d) / √S of d = pos_weight − moved threshold per seed; the verdict follows "
             "from where 0 lies")
