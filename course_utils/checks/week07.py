"""Week 07 checks: confidences, Brier score, a cost threshold, ECE, fitting a temperature, a calibration report."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from course_utils import calibration as cal

from ._core import (
    SHAPE_MARKER,
    Case,
    as_number,
    as_tensor,
    blaming_earlier_answers,
    check_function,
    clone,
    close,
    fail,
    passed,
    require_callable,
)
from ._rules import define_rule

#: The acceptance rules of the week's exercises (shared with the hidden tests). Tensors come back in the
#: dtype of the probabilities they were given; numbers as Python floats.
CONFIDENCE = define_rule("confidence_and_correct", returns=("tensor", "tensor"), parts=("confidence", "correct"))
BRIER = define_rule("brier_score")  # a 0-dim tensor
COST_THRESHOLD = define_rule("cost_threshold", returns="float")
BIOPSY = define_rule("biopsy", dtype=torch.bool)
ECE = define_rule("expected_calibration_error", returns="float")
FIT_TEMPERATURE = define_rule("fit_temperature", returns="float", atol=1e-6, rtol=1e-2)  # within 1 %, small T too
REPORT = define_rule("calibration_report", returns=("float", "tensor", "float", "float"),
                     parts=("T", "probs", "ece_before", "ece_after"))

_TRUE_CLASS = ("that is the probability of the true class; the confidence is the probability of the class the "
               "model *predicts*, the largest one: probs.max(dim=1)")


def _probs(rows) -> torch.Tensor:
    return torch.tensor(rows, dtype=torch.float64)


def _true_class_prob(probs, targets) -> torch.Tensor:
    return probs.gather(1, targets.view(-1, 1)).squeeze(1)


# --------------------------------------------------------------------------- exercise 1: confidence and correctness
_CONF_CASES = [
    Case("two samples, three classes", (_probs([[0.7, 0.2, 0.1], [0.1, 0.3, 0.6]]), torch.tensor([0, 2]))),
    Case("a wrong prediction made with confidence 0.9",
         (_probs([[0.05, 0.9, 0.05], [0.2, 0.2, 0.6], [0.5, 0.25, 0.25]]), torch.tensor([0, 2, 0]))),
    Case("four samples, two classes", (_probs([[0.8, 0.2], [0.4, 0.6], [0.55, 0.45], [0.1, 0.9]]),
                                       torch.tensor([1, 1, 0, 0]))),
    Case("float32 probabilities (both results float32 too)",
         (_probs([[0.6, 0.3, 0.1], [0.25, 0.25, 0.5]]).float(), torch.tensor([1, 2]))),
]


def _conf_ref(probs, targets):
    conf, pred = probs.max(dim=1)
    return conf, (pred == targets).to(probs.dtype)


def diagnose_confidence(got, case: Case, expected) -> str | None:
    """Week 07: name the usual mistakes in (confidence, correct): the true-class probability, the index, dim=0,
    a boolean or inverted correct, the targets themselves."""
    probs, targets = case.args
    conf, correct = (as_tensor(g) for g in got)
    if conf is not None and not close(conf, expected[0]):
        if conf.shape == targets.shape and close(conf, _true_class_prob(probs, targets)):
            return _TRUE_CLASS
        if conf.shape == targets.shape and close(conf, probs.argmax(dim=1)):
            return "you returned the predicted class (the index); the confidence is the value: probs.max(dim=1).values"
        if conf.shape == (probs.shape[1],) and close(conf, probs.max(dim=0).values):
            return "the maximum is over the classes of each sample (dim=1), not over the samples (dim=0)"
        return None
    if correct is None:
        return None
    if correct.shape != targets.shape:
        return "correct needs one entry per sample: (predicted class == target), shape (N,)"
    if not correct.is_floating_point():
        return ("correct must hold 1.0 and 0.0 in the probabilities' dtype: a comparison gives True/False, so "
                "convert it with (predicted == targets).to(probs.dtype)")
    if close(correct, 1 - expected[1]):
        return "correct is the wrong way round: 1 where the predicted class equals the target"
    if close(correct, targets):
        return "compare the predicted class (argmax over dim=1) with the target, don't return the target"
    return None


def check_confidence_and_correct(fn) -> None:
    """Week 07: ``confidence_and_correct(probs, targets)``: (N, C), (N,) → (confidence (N,), correct (N,) of 1.0/0.0),
    both in the dtype of ``probs``."""
    check_function(fn, _conf_ref, _CONF_CASES, diagnose=diagnose_confidence, rule=CONFIDENCE)


# --------------------------------------------------------------------------- exercise 2: Brier score
def diagnose_brier(got, case: Case, expected) -> str | None:
    """Week 07: name the usual multi-class Brier mistakes."""
    probs, targets = case.args
    n, c = probs.shape
    g_t = as_tensor(got)
    if g_t is not None and g_t.dim() > 0:
        return "return one number, the mean over the samples, not one value per sample"
    g = as_number(got)
    if g is None:
        return "return one number: the mean over the samples, a 0-dim tensor"
    if close(g, expected):  # right to a few digits: the rule's dtype hint says more than any formula
        return None
    short = F.one_hot(targets).double()
    if short.shape[1] < c and short.shape[1] == 1 and close(g, float(((probs - short) ** 2).sum(dim=1).mean())):
        return _ONE_HOT_HINT
    onehot = F.one_hot(targets, c).double()
    sq = (probs - onehot) ** 2
    if close(g, float(sq.mean())):
        return ("you also averaged over the classes (that is F.mse_loss): sum the squared differences over the "
                "classes, then average over the samples")
    if close(g, float(((1 - _true_class_prob(probs, targets)) ** 2).mean())):
        return ("only the true class counted: every other class's probability is an error too, (p_c − 0)²; "
                "compare the whole vector with the one-hot target")
    if close(g, float(sq.sum())):
        return "you summed over the samples; average over them (mean over dim 0)"
    if close(g, math.sqrt(expected)) or close(g, float(sq.sum(dim=1).sqrt().mean())):
        return "no square root: the Brier score is a mean of squared differences"
    hard = F.one_hot(probs.argmax(dim=1), c).double()
    if close(g, float(((hard - onehot) ** 2).sum(dim=1).mean())):
        return "use the probabilities themselves, not a one-hot vector of the predicted class"
    if close(g, float(((1 - probs.max(dim=1).values) ** 2).mean())):
        return "compare with the one-hot *target*, not with the predicted class's probability"
    return None


_ONE_HOT_HINT = ("F.one_hot(targets) makes only max(targets) + 1 columns; pass the number of classes: "
                 "F.one_hot(targets, probs.shape[1])")


def _brier_ref(probs, targets):
    onehot = F.one_hot(targets, probs.shape[1]).to(probs.dtype)
    return ((probs - onehot) ** 2).sum(dim=1).mean()


def check_brier(fn) -> None:
    """Week 07: ``brier_score(probs, targets)``: (N, C), (N,) long → 0-dim tensor in the dtype of ``probs``,
    the mean over samples of sum_c (p_c − onehot_c)²."""
    cases = [
        Case("one sample, three classes", (_probs([[0.7, 0.2, 0.1]]), torch.tensor([0]))),
        Case("three samples, one of them wrong", (_probs([[0.6, 0.3, 0.1], [0.2, 0.5, 0.3], [0.1, 0.1, 0.8]]),
                                                  torch.tensor([0, 1, 0]))),
        Case("a sure and right, a sure and wrong sample", (_probs([[1.0, 0.0], [0.0, 1.0]]), torch.tensor([0, 0]))),
        Case("five classes, four samples", (_probs([[0.2] * 5, [0.6, 0.1, 0.1, 0.1, 0.1], [0.0, 0.0, 0.5, 0.5, 0.0],
                                                    [0.05, 0.05, 0.05, 0.05, 0.8]]), torch.tensor([3, 0, 2, 4]))),
        Case("float32 probabilities (the score float32 too)", (_probs([[0.5, 0.3, 0.2], [0.1, 0.1, 0.8]]).float(),
                                                               torch.tensor([1, 2]))),
    ]
    check_function(fn, _brier_ref, cases, diagnose=diagnose_brier, error_hints={SHAPE_MARKER: _ONE_HOT_HINT},
                   rule=BRIER)


# --------------------------------------------------------------------------- exercise 3: a cost-based threshold
def diagnose_threshold(got, case: Case, expected) -> str | None:
    """Week 07: name the usual cost-threshold mistakes."""
    cost_fn, cost_fp = case.args
    g = as_number(got)
    if g is None:
        return "return one number between 0 and 1"
    if close(g, cost_fn / (cost_fn + cost_fp)):
        return ("the costs are swapped: the dearer the miss, the *lower* the threshold. Act when "
                "p · cost_fn >= (1 − p) · cost_fp")
    if cost_fn and close(g, cost_fp / cost_fn):
        return ("that is the threshold on the odds p / (1 − p); the threshold on p is "
                "cost_fp / (cost_fp + cost_fn)")
    if close(g, 0.5):
        return "0.5 is right only when both mistakes cost the same"
    return None


def diagnose_decisions(got, case: Case, expected) -> str | None:
    """Week 07: name the usual mistakes in acting on a threshold."""
    p, cost_fn, cost_fp = case.args
    t = cal.cost_threshold(cost_fn, cost_fp)
    g = as_tensor(got)
    if g is None or g.shape != p.shape:
        return "return one True/False per tumour, shape (N,)"
    g = g.bool()
    if torch.equal(g, p < t):
        return "the wrong way round: biopsy (True) when the probability of malignancy is high, p >= threshold"
    if torch.equal(g, p >= 0.5):
        return "use the cost-based threshold, not 0.5 (call your cost_threshold)"
    if torch.equal(g, p > t):
        return "at p exactly equal to the threshold both choices cost the same; act there too: p >= threshold"
    return None


def biopsy_ref(p, cost_fn, cost_fp) -> torch.Tensor:
    """Week 07: the reference decisions, True where p >= cost_fp / (cost_fp + cost_fn)."""
    return p >= cal.cost_threshold(cost_fn, cost_fp)


def check_cost_threshold(threshold_fn, decide_fn) -> None:
    """Week 07: ``cost_threshold(cost_fn, cost_fp)`` → float, and ``biopsy(p, cost_fn, cost_fp)`` → bool (N,)."""
    require_callable(threshold_fn, "cost_threshold")
    require_callable(decide_fn, "biopsy")
    cases = [
        Case("a miss costs 10 false alarms", (10.0, 1.0)),
        Case("equal costs", (1.0, 1.0)),
        Case("a false alarm is the dearer mistake", (2.0, 6.0)),
        Case("costs in euros", (5000.0, 250.0)),
    ]
    check_function(threshold_fn, cal.cost_threshold, cases, diagnose=diagnose_threshold, quiet=True,
                   rule=COST_THRESHOLD)
    p = torch.tensor([0.01, 0.05, 0.2, 0.5, 0.8, 0.99])
    decide_cases = [
        Case("costs 10 : 1", (p, 10.0, 1.0)),
        Case("costs 1 : 1", (p, 1.0, 1.0)),
        Case("a probability exactly at the threshold 0.25 (costs 3 : 1)", (torch.tensor([0.1, 0.25, 0.3]), 3.0, 1.0)),
    ]
    for case in decide_cases:
        got = BIOPSY.call(decide_fn, clone(case.args), case=case)
        if isinstance(got, torch.Tensor) and got.dtype != torch.bool:  # the rule refuses it; say how to fix it
            raise fail("biopsy", f"the result has dtype {got.dtype}, expected torch.bool", case=case,
                       hint="return the comparison itself, p_malignant >= threshold: it is already a boolean tensor "
                            "(no .long(), .float() or torch.where(..., 1, 0))")
        BIOPSY.accept(got, biopsy_ref(*case.args), case=case, diagnose=diagnose_decisions)
    passed("cost_threshold and biopsy: all cases match the reference")


# --------------------------------------------------------------------------- exercise 4: ECE
def _ece_variant(probs, targets, n_bins, *, true_class=False, unweighted=False, left_closed=False,
                 drop_one=False, signed=False, worst=False, float32_edges=False) -> float:
    """ECE computed with one of the usual mistakes switched on (for the hints); all off = the right answer."""
    conf = (_true_class_prob(probs, targets) if true_class else probs.max(dim=1).values).double()
    correct = (probs.argmax(dim=1) == targets).double()
    if left_closed:  # [lo, hi) bins, as floor(conf * M)
        index = torch.floor(conf * n_bins).long()
    elif float32_edges:  # float32 edges store 0.9 as 0.8999999762; float64 linspace gives 0.5499999999999999
        edges = (torch.linspace(0, 1, n_bins + 1) if float32_edges == "float32"
                 else torch.linspace(0, 1, n_bins + 1, dtype=torch.float64))
        index = torch.bucketize(conf, edges[1:-1].double(), right=False)
    else:
        index = torch.bucketize(conf, (torch.arange(n_bins + 1, dtype=torch.float64) / n_bins)[1:-1], right=False)
    keep = index < n_bins
    if not drop_one:
        index = index.clamp(max=n_bins - 1)
        keep = torch.ones_like(keep)
    gaps, weights = [], []
    for k in range(n_bins):
        m = (index == k) & keep
        if m.any():
            g = conf[m].mean() - correct[m].mean()
            gaps.append(float(g) if signed else abs(float(g)))
            weights.append(float(m.sum()) / len(conf))
    if not gaps:
        return 0.0
    if worst:
        return max(gaps)
    if unweighted:
        return sum(gaps) / len(gaps)
    return sum(w * g for w, g in zip(weights, gaps, strict=True))


_EDGE_HINT = ("a confidence exactly on an edge landed in the bin above it: your edges are a hair below k / M. "
              "Float32 edges (torch.linspace(0, 1, n_bins + 1), or torch.arange(n_bins + 1) / n_bins without "
              "a dtype) store 0.9 as 0.8999999762, and torch.linspace even in float64 gives 0.5499999999999999 "
              "for 0.55. Build them as torch.arange(n_bins + 1, dtype=torch.float64) / n_bins")


def diagnose_ece(got, case: Case, expected) -> str | None:
    """Week 07: name the usual ECE mistakes: true-class probability, no weights, edges, confidence 1.0, NaN, sign."""
    probs, targets = case.args[:2]
    n_bins = case.args[2] if len(case.args) > 2 else case.kwargs.get("n_bins", 15)
    g = as_number(got)
    if g is None:
        return "return one number (a float)"
    if math.isnan(g):
        return ("your result is NaN: an empty bin's mean is 0/0. Skip bins that hold no samples (they add 0 to "
                "the weighted sum)")
    variants = [
        ({"true_class": True}, _TRUE_CLASS),
        ({"unweighted": True}, "you averaged the bins' gaps equally; weight each bin by its share of the samples, "
                               "count / N (a bin with 2 samples must count less than one with 200)"),
        *[({"float32_edges": kind}, _EDGE_HINT) for kind in ("float32", "float64")],
        ({"left_closed": True}, "a confidence exactly on a bin edge, e.g. 0.5 with 4 bins, belongs to the bin "
                                "below it: the bins are (lo, hi], so 0.5 is in (0.25, 0.5]"),
        ({"left_closed": True, "drop_one": True}, "a confidence of exactly 1.0 fell out of your bins: it belongs "
                                                  "in the last bin. (And a confidence exactly on an edge belongs to "
                                                  "the bin below it: (lo, hi] bins)"),
        ({"signed": True}, "take the absolute gap |accuracy − confidence| in each bin; otherwise over- and "
                           "under-confident bins cancel"),
        ({"worst": True}, "that is the largest gap (the MCE); the ECE is the count-weighted mean of the gaps"),
    ]
    for mistake, hint in variants:
        if close(g, _ece_variant(probs, targets, n_bins, **mistake)):
            return hint
    return None


def _ece_ref(probs, targets, n_bins=15):
    return cal.expected_calibration_error(probs, targets, n_bins)


def check_ece(fn) -> None:
    """Week 07: ``expected_calibration_error(probs, targets, n_bins=15)``: (N, C), (N,) → float."""
    g = torch.Generator().manual_seed(7)
    rand = torch.softmax(3 * torch.randn(60, 4, generator=g, dtype=torch.float64), dim=1)
    rand_y = torch.randint(0, 4, (60,), generator=g)
    cases = [
        Case("all samples in one bin (n_bins=2)", (_probs([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7]]), torch.tensor([0, 1, 1]),
                                                   2)),
        Case("the true class is not the predicted one (n_bins=5)",
             (_probs([[0.7, 0.2, 0.1], [0.1, 0.65, 0.25], [0.5, 0.45, 0.05], [0.2, 0.15, 0.65]]),
              torch.tensor([1, 1, 0, 1]), 5)),
        Case("bins of very different sizes (n_bins=4)",
             (_probs([[0.9, 0.1]] * 6 + [[0.6, 0.4]] * 2), torch.tensor([0, 0, 0, 0, 0, 1, 1, 1]), 4)),
        Case("confidences of exactly 1.0 (n_bins=4)",
             (_probs([[1.0, 0.0], [0.0, 1.0], [0.9, 0.1], [1.0, 0.0], [0.6, 0.4]]), torch.tensor([0, 0, 1, 0, 0]), 4)),
        Case("a confidence exactly on a bin edge, 0.5 and 0.75 (n_bins=4)",
             (_probs([[0.5, 0.5], [0.75, 0.25], [0.25, 0.75], [0.6, 0.4], [0.3, 0.7]]), torch.tensor([0, 1, 1, 0, 0]), 4)),
        Case("empty bins (n_bins=10)", (_probs([[0.95, 0.05], [0.55, 0.45], [0.05, 0.95]]), torch.tensor([0, 1, 1]), 10)),
        Case("confidences of exactly 0.9 and 0.7, on edges of 10 bins (n_bins=10)",
             (_probs([[0.9, 0.1], [0.9, 0.1], [0.85, 0.15], [0.7, 0.3], [0.75, 0.25]]), torch.tensor([0, 0, 1, 0, 1]),
              10)),
        Case("confidences of exactly 0.95 and 0.55, on edges of 20 bins (n_bins=20)",
             (_probs([[0.95, 0.05], [0.95, 0.05], [0.92, 0.08], [0.55, 0.45], [0.53, 0.47]]),
              torch.tensor([0, 1, 0, 0, 1]), 20)),
        Case("default n_bins=15, 60 random samples", (rand, rand_y)),
    ]
    with blaming_earlier_answers(fn, ECE.name, [("confidence_and_correct", check_confidence_and_correct,
                                                 "exercise 1")]):
        check_function(fn, _ece_ref, cases, diagnose=diagnose_ece, rule=ECE,
                       error_hints={"out of bounds": "a confidence of exactly 1.0 gives bin index n_bins, one past "
                                                     "the last bin; clamp the index to n_bins − 1"})


# --------------------------------------------------------------------------- exercise 5: fitting a temperature
def _overconfident(k: float, n: int = 600, c: int = 5, seed: int = 0):
    p, y = cal.simulate_calibrated(n, c, scale=2.5, seed=seed)
    return k * torch.log(p), y


def diagnose_temperature(got, case: Case, expected) -> str | None:
    """Week 07: name the usual temperature-fitting mistakes (direction, sign, range, returning the loss)."""
    logits, targets = case.args
    g = as_number(got)
    if g is None:
        return "return T as one number (a float)"
    if not math.isfinite(g):
        return "T came out infinite or NaN; search over a range of positive values such as 0.05 to 20"
    if g <= 0:
        return ("T must be positive: a negative T reverses the order of the logits and changes every prediction "
                "(the argmax); search over T > 0 only")
    if close(g, 1 / expected, rtol=1e-2, atol=1e-3):
        return "you found 1/T: the logits are *divided* by T, softmax(logits / T), not multiplied"
    if close(g, cal.nll_at_temperature(logits, targets, expected), rtol=1e-2, atol=1e-3):
        return "that looks like the smallest NLL; return the T at which it is reached"
    if close(g, 1.0, rtol=1e-6, atol=1e-6):
        return "T = 1 changes nothing; minimise the NLL of logits / T over T"
    if expected < 0.5 and abs(g - expected) < 0.15 * expected:  # small T*, where a grid even in T is coarse
        return ("close, but not within 1 %: a grid spread evenly in T is coarse where T is small (0.05, 0.07, ...); "
                "spread it evenly in log T instead, e.g. torch.logspace(math.log10(0.05), math.log10(20), 1000)")
    return ("the NLL of logits / T is smaller at another T; if you search a grid, make it cover 0.05 to 20 finely "
            "(or use an optimiser on log T), and make sure you minimise the cross-entropy, not maximise it")


def check_fit_temperature(fn) -> None:
    """Week 07: ``fit_temperature(logits, targets)``: (N, C), (N,) → T > 0 minimising F.cross_entropy(logits / T)."""
    cases = [
        Case("logits 3 times too large (over-confident)", _overconfident(3.0, seed=1)),
        Case("logits half as large as they should be (under-confident)", _overconfident(0.5, seed=2)),
        Case("already calibrated logits", _overconfident(1.0, seed=3)),
        Case("ten classes, 1000 samples, logits 1.7 times too large", _overconfident(1.7, n=1000, c=10, seed=4)),
        Case("logits 16 times too small (the best T is about 0.06: a grid must be fine there too)",
             _overconfident(0.06, seed=11)),
        Case("float32 logits, 2 times too large", tuple(a.float() if a.is_floating_point() else a
                                                        for a in _overconfident(2.0, seed=8))),
    ]
    check_function(fn, cal.fit_temperature, cases, diagnose=diagnose_temperature, rule=FIT_TEMPERATURE)
