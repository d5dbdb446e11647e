"""Week 06 checks: choosing losses, hinge, weighted CE, Poisson NLL, a multi-task loss, paired comparisons."""

from __future__ import annotations

import math

import numpy as np
import torch

from course_utils.experiments import paired_test
from course_utils.losses import hinge, multitask_loss

from ._core import (
    Case,
    as_tensor,
    call_student,
    check_choices,
    check_function,
    check_parts,
    close,
    passed,
    require_callable,
    require_no_loop,
)
from ._rules import define_rule

#: The acceptance rules of the week's exercises, shared with the hidden tests (``rule(name)``).
# gradients with respect to what the model outputs (scores, logits, log-rates, count predictions) only
HINGE = define_rule("hinge", grad=True, wrt=(0,))
WEIGHTED_CE = define_rule("weighted_cross_entropy", grad=True, atol=1e-5, wrt=(0,))
FLOWER_LOSS = define_rule("flower_loss", grad=True, atol=1e-5, wrt=(0, 2))
POISSON_NLL = define_rule("poisson_nll", grad=True, atol=1e-5, wrt=(0,))
PAIRED_T = define_rule("paired_t", returns="float")

_LOSS_TASKS = {
    "leaf_diseased": "BCEWithLogitsLoss",
    "flower_species": "CrossEntropyLoss",
    "dose_response_outliers": "HuberLoss",
    "cell_type_proportions": "KLDivLoss",
    "margin_pm1": "hinge",
    "flowers_per_plot": "PoissonNLLLoss",
}
LOSS_CHOICES = ("BCEWithLogitsLoss", "CrossEntropyLoss", "MSELoss", "HuberLoss", "KLDivLoss", "hinge", "PoissonNLLLoss")
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
    ("flowers_per_plot", "MSELoss"): "a count is a whole number >= 0 whose spread grows with its mean; a squared "
    "error on a linear output can predict negative flowers. Read the output as the log of the rate and use the "
    "likelihood of counts",
    ("flowers_per_plot", "CrossEntropyLoss"): "a count is a number on a scale (5 flowers is closer to 6 than to 20), "
    "not one of C unordered classes; read the output as the log of the rate",
    ("flowers_per_plot", "HuberLoss"): "robust to outliers, but still a loss for real values that can go negative; "
    "counts of independent events have their own likelihood",
    ("dose_response_outliers", "PoissonNLLLoss"): "the response is a real value, not a count of events",
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
        Case("margin = 0: only wrong signs cost", (torch.tensor([0.5, -1.5, 2.0]), torch.tensor([1.0, 1.0, -1.0])),
             {"margin": 0.0}),
        Case("float64 scores and targets (the result keeps their dtype)",
             (torch.tensor([0.3, -2.0, 1.5], dtype=torch.float64), torch.tensor([-1.0, -1.0, 1.0], dtype=torch.float64))),
    ]
    require_callable(fn, "hinge")
    check_parts("hinge", [
        ("the values", lambda: check_function(fn, hinge, cases, diagnose=diagnose_hinge, error_hints=HINGE_ERROR_HINTS,
                                              rule=HINGE, quiet=True)),
        ("no Python loops", lambda: hinge_without_loops(fn)),
    ])
    passed(f"hinge: all {len(cases)} cases match the reference, with whole-tensor operations")


#: Python's max, torch.maximum and torch.max with the number 0 on a tensor of scores: the raw errors, and the fix.
HINGE_ERROR_HINTS = {
    "Boolean value of Tensor with more than one value is ambiguous": (
        "Python's max(0, x) asks for one True/False about the whole tensor; for max(0, ·) entry by entry write "
        "torch.clamp(..., min=0)"),
    "must be Tensor, not": ("torch.maximum needs two tensors, not a number and a tensor; for max(0, ·) entry by "
                            "entry write torch.clamp(..., min=0)"),
    "torch.return_types.max": ("torch.max(x, 0) is the maximum along dimension 0 and returns (values, indices); "
                               "for max(0, ·) entry by entry write torch.clamp(..., min=0)"),
}


def _hinge_batch(n: int) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(n)
    return torch.randn(n, generator=g), torch.randint(0, 2, (n,), generator=g).float() * 2 - 1


def hinge_without_loops(fn) -> None:
    """Week 06 exercise 2 (the visible check and the hidden tests): the text says "no Python loops", so the hinge
    must make as many torch calls for 512 samples as for 8 (a loop over the samples makes hundreds more)."""
    require_no_loop(fn, "hinge", _hinge_batch, error_hints=HINGE_ERROR_HINTS,
                    hint="compute margin − targets·scores for the whole batch at once, clamp it at 0 with "
                         "torch.clamp(..., min=0), and take the .mean()")


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
        Case("3 classes, the last one absent from the batch",
             (torch.tensor([[1.0, 0.0, 2.0], [0.5, 1.5, -1.0]]), torch.tensor([0, 1]), torch.tensor([1.0, 2.0, 4.0]))),
        Case("float64 logits and weights (the result keeps their dtype)",
             (torch.tensor([[0.2, 1.0], [2.0, -1.0]], dtype=torch.float64), torch.tensor([1, 0]),
              torch.tensor([3.0, 1.0], dtype=torch.float64))),
    ]
    check_function(fn, _wce_ref, cases, diagnose=diagnose_weighted_ce, rule=WEIGHTED_CE)


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
        Case("float64 heads and counts, lam = 0.5 (the result keeps their dtype)",
             (logits.double(), species, pred.double(), count.double(), 0.5)),
    ]
    check_function(fn, _multitask_ref, cases, diagnose=diagnose_multitask, rule=FLOWER_LOSS)


def _poisson_ref(log_rate, counts):
    return torch.nn.functional.poisson_nll_loss(log_rate, counts)


POISSON_LEN_HINT = ("you divided by len(log_rate), the number of rows; a (N, K) tensor has N·K elements — divide "
                    "by log_rate.numel() (or use .mean())")


def diagnose_poisson_nll(got, case: Case, expected) -> str | None:
    """Week 06: name the usual mistakes in the Poisson negative log-likelihood of counts given log-rates."""
    z, k = (a.detach().double() for a in case.args)
    g = as_tensor(got)
    if g is None or g.dim() != 0:
        return "return one number, the mean over every element (a 0-dim tensor): finish with .mean()"
    if torch.isnan(g) and (z < 0).any():
        return ("log_rate is already the logarithm of the rate: the rate is torch.exp(log_rate); do not take "
                "torch.log of log_rate (it is negative for rates below 1)")
    tries = [
        ((k * z - z.exp()).mean(), "you returned the log-likelihood; the loss is its negative: exp(log_rate) − "
                                   "counts · log_rate"),
        ((z - k * z).mean(), "the rate is exp(log_rate): the first term is torch.exp(log_rate), not log_rate"),
        ((z.exp() - k * z + torch.lgamma(k + 1)).mean(), "PoissonNLLLoss leaves out log(k!): it does not depend "
                                                         "on the model, so drop the torch.lgamma(counts + 1) term"),
        ((z.exp() - k * z).sum(), "you summed; PoissonNLLLoss averages over every element (.mean())"),
        ((z.exp() - k * z.exp().log1p()).mean(), "the second term is counts · log(rate) = counts · log_rate"),
        ((z.exp() - z * k.exp()).mean(), "counts and log_rate are swapped in the second term: counts · log_rate"),
    ]
    if z.dim() > 1:  # len() counts the rows only
        tries.append(((z.exp() - k * z).sum() / len(z), POISSON_LEN_HINT))
    for value, hint in tries:
        if close(g, value, atol=1e-5, rtol=1e-4):
            return hint
    return None


def check_poisson_nll(fn) -> None:
    """Week 06: ``poisson_nll(log_rate, counts)``: same-shape tensors → mean of exp(log_rate) − counts·log_rate."""
    g = torch.Generator().manual_seed(6)
    z6 = torch.randn(6, generator=g)
    cases = [
        Case("log-rates [0, 1, -1], counts [1, 3, 0]", (torch.tensor([0.0, 1.0, -1.0]), torch.tensor([1.0, 3.0, 0.0]))),
        Case("a batch of 6 plots with small counts", (z6, torch.poisson(z6.exp(), generator=g))),
        Case("shape (3, 4): four counts per sample", (torch.randn(3, 4, generator=g), torch.tensor(
            [[0.0, 1.0, 2.0, 0.0], [3.0, 0.0, 1.0, 1.0], [5.0, 2.0, 0.0, 4.0]]))),
        Case("large counts (rates near 150)", (torch.tensor([5.0, 4.8, 5.2]), torch.tensor([160.0, 120.0, 175.0]))),
        Case("float64 log-rates and counts (the result keeps their dtype)",
             (torch.tensor([0.5, -0.5, 2.0], dtype=torch.float64), torch.tensor([2.0, 0.0, 6.0], dtype=torch.float64))),
    ]
    check_function(fn, _poisson_ref, cases, diagnose=diagnose_poisson_nll, rule=POISSON_NLL)


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
    check_function(fn, _paired_t_ref, cases, diagnose=diagnose_paired_t, rule=PAIRED_T)


# The reported comparison of exercise 7 (the rare-class screen) lives in its own module; its names stay importable here.
from .week06_screen import (  # noqa: E402, F401
    SCREEN_NAMES,
    SCREEN_SEEDS,
    VERDICTS,
    _bce,
    _bce_pos_weight,
    _screen_scores,
    check_comparison_report,
    comparison_hidden_tests,
    gap_interval,
    screen_run,
    verdict_of,
)
