"""Week 06 checks: choosing losses, hinge, weighted CE, a multi-task loss, paired comparisons."""

from __future__ import annotations

import math

import numpy as np
import torch

from course_utils.experiments import paired_test
from course_utils.losses import hinge, multitask_loss

from ._core import (
    Case,
    CheckFailed,
    as_tensor,
    call_student,
    check_choices,
    check_function,
    close,
    passed,
    require_callable,
)

_LOSS_TASKS = {
    "leaf_diseased": "BCEWithLogitsLoss",
    "flower_species": "CrossEntropyLoss",
    "dose_response_outliers": "HuberLoss",
    "cell_type_proportions": "KLDivLoss",
    "margin_pm1": "hinge",
}
LOSS_CHOICES = ("BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "HuberLoss", "KLDivLoss", "hinge")
_LOSS_HINTS = {
    ("leaf_diseased", "CrossEntropyLoss"): "the model has ONE logit; CrossEntropyLoss wants one logit per class. "
    "A single logit goes with BCEWithLogitsLoss",
    ("leaf_diseased", "MSELoss"): "sigmoid + MSE saturates: when the model is confidently wrong the gradient vanishes",
    ("flower_species", "BCEWithLogitsLoss"): "five species are one choice among C classes: one logit per class and "
    "softmax cross-entropy, not independent yes/no outputs",
    ("dose_response_outliers", "MSELoss"): "squared errors let a few outliers dominate the fit; a loss that grows "
    "only linearly for large errors is more robust",
    ("cell_type_proportions", "CrossEntropyLoss"): "close, and it has the same gradient — but the task asks for a "
    "loss that is 0 when the two distributions agree: CE − H(target)",
    ("margin_pm1", "BCEWithLogitsLoss"): "labels coded −1/+1 and a loss that is exactly 0 beyond a margin: that is "
    "not the (never exactly 0) logistic loss",
}


def check_pick_losses(fn) -> None:
    """Week 06: ``fn()`` returns a dict task name → one of ``LOSS_CHOICES``."""
    require_callable(fn, "pick_losses")
    answers = call_student(fn, name="pick_losses")
    check_choices(answers, _LOSS_TASKS, LOSS_CHOICES, _LOSS_HINTS, what="pick_losses()",
                  default_hint="re-read the task: what does the output layer produce, and what is the target?")
    passed(f"losses: all {len(_LOSS_TASKS)} tasks answered correctly")


def diagnose_hinge(got, case: Case, expected) -> str | None:
    """Week 06: name the usual hinge mistakes from a wrong scalar ``got``."""
    s, y = case.args[0].double(), case.args[1].double()
    m = case.kwargs.get("margin", 1.0)
    g = as_tensor(got)
    if g is None or g.dim() != 0:
        return "return one number, the mean over the batch (a 0-dim tensor): finish with .mean()"
    g = float(g)
    if close(g, float((m - y * s).mean())):
        return "some per-sample losses are negative: clamp max(0, margin − y·s) at 0 before averaging"
    if close(g, float(torch.clamp(m - y * s, min=0).sum())):
        return "you summed over the batch; the course's hinge averages (mean)"
    if close(g, float(torch.clamp(1 - y * s, min=0).mean())):
        return "you used a margin of 1 whatever the `margin` argument says"
    if close(g, float(torch.clamp(m - s * (y + 1) / 2, min=0).mean())) or close(g, float(torch.clamp(m + y * s, min=0).mean())):
        return "check the sign: the loss is max(0, margin − y·s) with y in {−1, +1}"
    if close(g, float((torch.clamp(m - y * s, min=0) ** 2).mean())):
        return "you squared the hinge (that is squared_hinge)"
    return None


def check_hinge(fn) -> None:
    """Week 06: ``hinge(scores, targets, margin=1.0)``: scores (N,), targets (N,) of ±1 → mean loss (scalar)."""
    cases = [
        Case("all beyond the margin: scores [2, -3], y [1, -1]", (torch.tensor([2.0, -3.0]), torch.tensor([1.0, -1.0]))),
        Case("inside the margin and wrong: scores [0.5, 1.0, 0.0], y [1, -1, 1]",
             (torch.tensor([0.5, 1.0, 0.0]), torch.tensor([1.0, -1.0, 1.0]))),
        Case("margin = 2", (torch.tensor([1.5, -0.5, 3.0]), torch.tensor([1.0, -1.0, 1.0])), {"margin": 2.0}),
        Case("a batch of 6", (torch.tensor([-2.0, -1.0, -0.2, 0.2, 1.0, 2.0]), torch.tensor([1.0, 1.0, -1.0, 1.0, -1.0, -1.0]))),
    ]
    check_function(fn, hinge, cases, name="hinge", diagnose=diagnose_hinge)


def _wce_ref(logits, targets, weight):
    return torch.nn.functional.cross_entropy(logits, targets, weight=weight)


def diagnose_weighted_ce(got, case: Case, expected) -> str | None:
    """Week 06: name the usual weighted cross-entropy mistakes."""
    logits, y, w = case.args
    g = as_tensor(got)
    if g is None or g.dim() != 0:
        return "return one number: the weighted average over the batch"
    g = float(g)
    per = torch.nn.functional.cross_entropy(logits, y, reduction="none")
    if close(g, float((w[y] * per).mean())):
        return "divide by the sum of the weights of the samples, w[y].sum(), not by N (that is what torch does)"
    if close(g, float(per.mean())):
        return "the weights have no effect: multiply each sample's loss by the weight of its true class, w[y]"
    if close(g, float((w[y] * per).sum() / w.sum())):
        return "divide by the weights of the samples in the batch, w[y].sum(), not by the sum of the class weights"
    softmax_ce = -torch.log(torch.softmax(logits, dim=1).gather(1, y.view(-1, 1)).squeeze(1))
    if close(g, float((w[y] * softmax_ce).sum() / w[y].sum()), atol=1e-3, rtol=1e-3) and not torch.isfinite(softmax_ce).all():
        return "log(softmax(...)) underflows to log(0) for large logits; use log_softmax"
    return None


def check_weighted_ce(fn) -> None:
    """Week 06: ``weighted_cross_entropy(logits, targets, weight)``: (N, C), (N,) long, (C,) → scalar."""
    cases = [
        Case("equal weights", (torch.tensor([[2.0, 0.5], [0.1, 1.0], [1.0, 1.0]]), torch.tensor([0, 1, 1]),
                               torch.tensor([1.0, 1.0]))),
        Case("rare class weighted 5x", (torch.tensor([[2.0, 0.5], [0.1, 1.0], [1.0, 1.0]]), torch.tensor([0, 1, 0]),
                                        torch.tensor([1.0, 5.0]))),
        Case("3 classes, 4 samples", (torch.tensor([[1.0, 2.0, 0.0], [0.0, 0.0, 3.0], [2.0, -1.0, 0.5], [0.3, 0.2, 0.1]]),
                                      torch.tensor([1, 2, 0, 2]), torch.tensor([0.2, 1.0, 3.0]))),
        Case("large logits", (torch.tensor([[200.0, 0.0], [0.0, 150.0]]), torch.tensor([1, 1]), torch.tensor([2.0, 1.0]))),
    ]
    check_function(fn, _wce_ref, cases, name="weighted_cross_entropy", diagnose=diagnose_weighted_ce)


def _multitask_ref(species_logits, species, count_pred, count, lam):
    return multitask_loss(species_logits, species, count_pred.reshape(-1), count, lam)


def diagnose_multitask(got, case: Case, expected) -> str | None:
    """Week 06: name the usual multi-task loss mistakes (λ on the wrong term, broadcasting, forgetting a term)."""
    logits, species, pred, count, lam = case.args
    F = torch.nn.functional
    g = as_tensor(got)
    if g is None or g.dim() != 0:
        return "return one number: CE + lam · MSE"
    g = float(g)
    ce, mse = float(F.cross_entropy(logits, species)), float(F.mse_loss(pred.reshape(-1), count))
    if close(g, lam * ce + mse):
        return "λ multiplies the wrong term: the loss is CE(species) + lam · MSE(count)"
    if close(g, ce):
        return "the count head is missing: add lam · MSE(count_pred, count)"
    if close(g, ce + mse):
        return "you ignored lam"
    if pred.dim() == 2 and close(g, ce + lam * float(((pred - count) ** 2).mean())):
        return "count_pred has shape (N, 1) and count (N,): (N, 1) − (N,) broadcasts to (N, N); flatten count_pred"
    return None


def check_multitask_loss(fn) -> None:
    """Week 06: ``flower_loss(species_logits, species, count_pred, count, lam)``: (N, C), (N,), (N, 1), (N,) → scalar."""
    logits = torch.tensor([[2.0, 0.1, -1.0], [0.2, 0.3, 0.1], [-1.0, 0.0, 3.0]])
    species = torch.tensor([0, 2, 2])
    pred, count = torch.tensor([[3.0], [5.5], [1.0]]), torch.tensor([4.0, 5.0, 0.0])
    cases = [
        Case("lam = 1", (logits, species, pred, count, 1.0)),
        Case("lam = 0.1", (logits, species, pred, count, 0.1)),
        Case("lam = 0: only the species head counts", (logits, species, pred, count, 0.0)),
        Case("a batch of one", (logits[:1], species[:1], pred[:1], count[:1], 2.0)),
    ]
    check_function(fn, _multitask_ref, cases, name="flower_loss", diagnose=diagnose_multitask)


def _paired_t_ref(a, b):
    return paired_test(a, b, "t")[0]


def diagnose_paired_t(got, case: Case, expected) -> str | None:
    """Week 06: name the usual paired-t mistakes (population sd, unpaired test, sign, no √n)."""
    a, b = (np.asarray(x, dtype=float) for x in case.args)
    d = a - b
    if not isinstance(got, (float, int, np.floating)) and as_tensor(got) is None:
        return "return a plain number (a float)"
    g = float(got)
    d32 = np.asarray(case.args[0], dtype=np.float32) - np.asarray(case.args[1], dtype=np.float32)
    if close(g, float(d32.mean() / (d32.std(ddof=1) / np.sqrt(np.float32(len(d32))))), rtol=1e-4):
        return ("your t is right for numbers stored in float32 (single precision, torch.tensor's default), which keeps "
                "only about 7 significant digits: scores near 1000 that differ by 0.1 lose most of that difference. "
                "Compute in float64: np.asarray(a, dtype=float), or torch.tensor(a, dtype=torch.float64)")
    if close(g, float(d.mean() / (d.std(ddof=0) / math.sqrt(len(d))))):
        return "use the sample standard deviation of the differences (ddof=1), not the population one"
    if close(g, -expected):
        return "the sign is flipped: use the differences a − b"
    if close(g, float(d.mean() / d.std(ddof=1))):
        return "divide the standard deviation by √n: the standard error of the mean difference is sd / √n"
    from scipy import stats

    if close(g, float(stats.ttest_ind(a, b).statistic)):
        return "that is the unpaired (independent) t-test; pair the runs: work on the differences a − b per seed"
    return None


def check_paired_t(fn) -> None:
    """Week 06: ``paired_t(a, b)``: two score arrays (S,) from the same seeds → the paired t statistic."""
    cases = [
        Case("five seeds", ([0.91, 0.93, 0.90, 0.95, 0.92], [0.89, 0.92, 0.90, 0.91, 0.90])),
        Case("b better than a", ([0.5, 0.6, 0.55], [0.6, 0.62, 0.7])),
        Case("a big seed effect shared by both", ([1.0, 10.0, 100.0, 1000.0], [0.9, 9.8, 99.95, 999.7])),
    ]
    check_function(fn, _paired_t_ref, cases, name="paired_t", diagnose=diagnose_paired_t)


def check_comparison_report(comparison, t_value, significant) -> None:
    """Week 06: the exercise's seeded comparison: a ``Comparison`` over 5 seeds, its t, and p < 0.05 as a bool."""
    from course_utils.experiments import Comparison

    if not isinstance(comparison, Comparison):
        raise CheckFailed(f"comparison must be the result of compare_losses(...), got {type(comparison).__name__}")
    if len(comparison.seeds) != 5 or len(comparison.scores) != 2:
        raise CheckFailed(f"run 2 losses over the 5 seeds given, got {len(comparison.scores)} losses and "
                          f"{len(comparison.seeds)} seeds")
    row = comparison.summary()[1]
    if not isinstance(t_value, (float, int, np.floating)):
        raise CheckFailed(f"t_value must be a number, got {type(t_value).__name__}")
    if not close(float(t_value), row["statistic"]):
        hint = ("the sign is flipped: the table tests the second loss against the first (baseline)"
                if close(float(t_value), -row["statistic"]) else
                "read the t statistic of the second row of comparison.summary() (key 'statistic')")
        raise CheckFailed(f"t_value = {float(t_value):.4g} does not match the comparison.\n  Hint: {hint}")
    if not isinstance(significant, (bool, np.bool_)):
        raise CheckFailed(f"significant must be True or False, got {type(significant).__name__}")
    if bool(significant) != (row["p"] < 0.05):
        raise CheckFailed("significant is not right yet.\n  Hint: significant means p < 0.05; the p-value is "
                          "in the same row (key 'p'), not the t statistic")
    passed("comparison: t statistic and significance read correctly")
