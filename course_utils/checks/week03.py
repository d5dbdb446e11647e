"""Week 03 checks: NLL, cross-entropy, the double-softmax fix, BCE with logits, the CE gradient,
multi-label outputs with per-label thresholds, and a masked cross-entropy over (N, C, L) with ignore_index."""

from __future__ import annotations

import functools
import math
from collections.abc import Callable

import torch

from course_utils.losses import reduce

from ._core import SHAPE_MARKER, Case, as_tensor, check_choice, check_function, close, expect_value_error, passed
from ._parts import check_parts
from ._rules import define_rule
from .week03_labels import (  # noqa: F401  (re-exported: the exercise notebooks import them from here)
    STABLE_LOG_HINT,
    SUM_HINT,
    check_masked_cross_entropy,
    check_multilabel,
    multi_hot_ref,
    per_label_bce_ref,
    predict_labels_ref,
)

#: The acceptance rules of the week's exercises, shared with the hidden tests (``rule(name)``).
NLL = define_rule("nll", grad=True)
CROSS_ENTROPY_BATCH = define_rule("cross_entropy_batch", grad=True, atol=1e-5)
FIXED_LOSS = define_rule("fixed_loss", grad=True, atol=1e-5)
DOUBLE_SOFTMAX_FLOOR = define_rule("double_softmax_floor", returns="float")
BCE_WITH_LOGITS = define_rule("bce_with_logits", grad=True, atol=1e-5, wrt=(0,))  # d/d logits
CE_GRADIENT = define_rule("ce_gradient")

_F = torch.nn.functional

def _double(got) -> torch.Tensor | None:
    g = as_tensor(got)
    return None if g is None else g.double()


def _ce_cases() -> list[Case]:
    """Week 03: (logits (N, C), target (N,)) cases: typical, batch of one, the lecture's example, extreme logits."""
    return [
        Case("3 samples, 4 classes", (torch.tensor([[1.0, 2.0, 0.5, -1.0], [0.0, -2.0, 3.0, 1.0],
                                                    [2.5, 0.1, -0.3, 0.0]]), torch.tensor([1, 2, 3]))),
        Case("the lecture's example as a batch of one, target 3",
             (torch.tensor([[-1.0, 0.1, 0.032, 0.25, 9.0]]), torch.tensor([3]))),
        Case("2 classes, 4 samples", (torch.tensor([[0.3, -0.3], [2.0, 1.0], [-1.0, 1.0], [0.0, 0.0]]),
                                      torch.tensor([0, 1, 1, 0]))),
        Case("extreme logits (±100): the target's probability underflows to 0 in float32",
             (torch.tensor([[100.0, -100.0, 0.0], [-50.0, 80.0, 10.0]]), torch.tensor([1, 0]))),
        Case("float64 logits (the result keeps their dtype)",
             (torch.tensor([[0.5, -1.0, 2.0], [1.5, 0.0, -0.5]], dtype=torch.float64), torch.tensor([2, 0]))),
    ]


def diagnose_cross_entropy(got, case: Case, expected) -> str | None:
    """Week 03: name the usual mistakes in a batch cross-entropy from logits (N, C) and targets (N,)."""
    logits, target = case.args[0].double(), case.args[1]
    n = logits.shape[0]
    g = _double(got)
    if g is None:
        return None
    logp = torch.log_softmax(logits, dim=1)
    picked = -logp[torch.arange(n), target]
    if g.shape == (n,) and n > 1:
        return "you returned one loss per sample; average them into one number (.mean())"
    if g.shape == (n, n) or close(g, -logp[:, target].mean()):
        return "logp[:, target] picks every target for every sample; use logp[torch.arange(N), target]"
    if not torch.isfinite(g).all():
        return STABLE_LOG_HINT
    if n > 1 and close(g, picked.sum()):
        return SUM_HINT
    if close(g, -picked.mean()):
        return "the sign is flipped: cross-entropy is MINUS the log-probability of the target"
    if close(g, _F.cross_entropy(torch.softmax(logits, dim=1), target)):
        return "you passed softmax output to cross_entropy — it expects logits (it applies log_softmax itself)"
    if close(g, picked.mean() / logits.shape[1]):
        return "you averaged over the classes too: sum over classes (only the target's term counts), mean over samples"
    if close(g, -logp.max(dim=1).values.mean()):
        return "you used the predicted class (argmax) instead of the target class"
    if close(g, -torch.log_softmax(logits, dim=0)[torch.arange(n), target].mean()):
        return "softmax over dim=0 normalises across samples; the classes are along dim=1"
    if close(g, -logits[torch.arange(n), target].mean()):
        return ("you used minus the target's raw logit: a logit is not a log-probability — subtract it from "
                "logsumexp over the classes, logsumexp(z_n) - z_(n, y_n)")
    return None


def check_cross_entropy(fn: Callable) -> None:
    """Week 03: check ``fn(logits, target)``: logits (N, C), target (N,) class indices → mean cross-entropy."""
    shape_hint = ("the shapes do not line up: logsumexp over the classes is along dim=1 and gives one value per "
                  "sample, shape (N,), like logits[torch.arange(N), target]")
    check_function(fn, _F.cross_entropy, _ce_cases(), diagnose=diagnose_cross_entropy,
                   error_hints={SHAPE_MARKER: shape_hint}, rule=CROSS_ENTROPY_BATCH)


def _nll_cases() -> list[Case]:
    logp = torch.log_softmax(torch.tensor([[1.0, 2.0, 0.5], [0.0, -2.0, 3.0], [2.5, 0.1, -0.3], [0.2, 0.2, 0.1]]), 1)
    target = torch.tensor([1, 2, 0, 2])
    extreme = torch.log_softmax(torch.tensor([[200.0, -200.0], [0.0, 300.0]]), 1)
    return [
        Case("4 samples, reduction='mean'", (logp, target), {"reduction": "mean"}),
        Case("the same with reduction='sum'", (logp, target), {"reduction": "sum"}),
        Case("the same with reduction='none'", (logp, target), {"reduction": "none"}),
        Case("a batch of one, reduction='none'", (logp[:1], target[:1]), {"reduction": "none"}),
        Case("very negative log-probabilities (-400), reduction='mean'", (extreme, torch.tensor([1, 0])),
             {"reduction": "mean"}),
        Case("float64 log-probabilities, reduction='sum' (the result keeps their dtype)",
             (logp.double(), target), {"reduction": "sum"}),
    ]


def diagnose_nll(got, case: Case, expected) -> str | None:
    """Week 03: name the usual NLL mistakes (reduction ignored or swapped, sign, log taken twice)."""
    logp, target = case.args[0].double(), case.args[1]
    red = case.kwargs.get("reduction", "mean")
    n = logp.shape[0]
    g = _double(got)
    if g is None:
        return None
    per = -logp[torch.arange(n), target]
    if torch.isnan(g).any():
        return "log_probs are already logarithms: taking log of them again gives NaN (log of a negative number)"
    if red == "none" and g.dim() == 0:
        return "with reduction='none' return one loss per sample, shape (N,), without summing or averaging"
    if red != "none" and g.shape == (n,) and n > 1:
        return f"with reduction={red!r} return one number, not one per sample"
    if red == "mean" and n > 1 and close(g, per.sum()):
        return SUM_HINT
    if red == "sum" and n > 1 and close(g, per.mean()):
        return "with reduction='sum' add the per-sample losses; you averaged them"
    if close(g, -expected.double()):
        return "the sign is flipped: the negative log-likelihood is MINUS the log-probability of the target"
    if close(g, reduce(-torch.exp(logp)[torch.arange(n), target], red)):
        return "you used probabilities (exp of log_probs); the loss uses the log-probabilities themselves"
    if g.shape == (n, n) or close(g, reduce(-logp[:, target], red)):
        return "log_probs[:, target] picks every target for every sample; use log_probs[torch.arange(N), target]"
    return None


def check_nll(fn: Callable) -> None:
    """Week 03: check ``fn(log_probs, target, reduction)``: (N, C), (N,) → scalar or (N,) like ``F.nll_loss``."""
    name = NLL.name
    cases = _nll_cases()
    check_function(fn, _F.nll_loss, cases, diagnose=diagnose_nll, quiet=True, rule=NLL)
    logp, target = cases[0].args
    expect_value_error(fn, name, (logp.clone(), target.clone(), "average"), "reduction='average'", "mean")
    passed(f"{name}: all {len(cases)} cases match the reference, and reduction='average' is refused")


def _bce_cases() -> list[Case]:
    return [
        # no logit of exactly 0: there |x| and max(x, 0) have a kink, and autograd may pick another slope than torch
        Case("moderate logits", (torch.tensor([-2.0, -0.5, 0.2, 1.5, 3.0]), torch.tensor([0.0, 1.0, 1.0, 1.0, 0.0]))),
        Case("a batch of one", (torch.tensor([0.7]), torch.tensor([1.0]))),
        Case("logits ±30 (sigmoid rounds to exactly 1 in float32)",
             (torch.tensor([30.0, -30.0, 30.0]), torch.tensor([0.0, 1.0, 1.0]))),
        Case("logits ±1000 (exp overflows)", (torch.tensor([1000.0, -1000.0, -1000.0]), torch.tensor([0.0, 0.0, 1.0]))),
        Case("float64 logits and targets (the result keeps their dtype)",
             (torch.tensor([-1.0, 0.5, 2.0], dtype=torch.float64), torch.tensor([0.0, 1.0, 1.0], dtype=torch.float64))),
    ]


def diagnose_bce_with_logits(got, case: Case, expected) -> str | None:
    """Week 03: name the usual BCE-with-logits mistakes (unstable route, sum, sign, swapped labels, sigmoid twice)."""
    x, y = case.args[0].double(), case.args[1].double()
    g = _double(got)
    if g is None:
        return None
    if g.shape == x.shape and x.numel() > 1:
        return "you returned one loss per sample; average them into one number (.mean())"
    if not torch.isfinite(g).all():
        return ("sigmoid(x) rounds to exactly 0 or 1 for large |x|, and log(0) = -inf (or exp(1000) = inf): "
                "use the stable form logits.clamp(min=0) - logits * target + torch.log1p(torch.exp(-logits.abs()))")
    per = torch.clamp(x, min=0) - x * y + torch.log1p(torch.exp(-x.abs()))
    capped = _F.binary_cross_entropy(torch.sigmoid(case.args[0]), case.args[1]).double()
    if x.numel() > 1 and close(g, per.sum()):
        return SUM_HINT
    if close(g, -per.mean()):
        return "the sign is flipped: BCE is -[y log p + (1 - y) log(1 - p)]"
    if close(g, (torch.clamp(x, min=0) + x * y + torch.log1p(torch.exp(-x.abs()))).mean()):
        return ("the middle term has the wrong sign: the loss is max(x, 0) - x·y + log(1 + e^(-|x|)), so "
                "logits * target is subtracted, not added")
    if close(g, (torch.clamp(x, min=0) - x * (1 - y) + torch.log1p(torch.exp(-x.abs()))).mean()):
        return "you swapped y and 1 - y: the log p term belongs to the positive labels (y = 1)"
    if close(g, (torch.clamp(x, min=0) - x * y + torch.log1p(torch.exp(-x))).mean()):
        return "the last term needs the absolute value: log1p(exp(-|x|)), i.e. torch.log1p(torch.exp(-x.abs()))"
    if close(g, (-x * y + torch.log1p(torch.exp(-x.abs()))).mean()):
        return "you left out the first term, max(x, 0), i.e. logits.clamp(min=0)"
    if close(g, _F.binary_cross_entropy_with_logits(torch.sigmoid(x), y)):
        return "you applied sigmoid to the logits before a loss that applies sigmoid itself (a double sigmoid)"
    if close(g, capped) and not close(capped, expected):
        return ("your loss is capped (log clamped at -100, or sigmoid rounded): that is BCE on probabilities; "
                "work with the logits: logits.clamp(min=0) - logits * target + torch.log1p(torch.exp(-logits.abs()))")
    return None


#: max(x, 0) typed as Python's max or as torch.maximum: the raw errors, and what to write instead.
MAX_HINTS = {
    "Boolean value of Tensor with more than one value is ambiguous": (
        "Python's max(x, 0), min or an `if` on a tensor of several values asks for one True/False for the whole "
        "tensor; take the maximum entry by entry with logits.clamp(min=0)"),
    "must be Tensor, not": ("torch.maximum needs two tensors, not a tensor and a number; for max(x, 0) entry by "
                            "entry write logits.clamp(min=0)"),
    "torch.return_types.max": ("torch.max(x, 0) is the maximum along dimension 0 and returns (values, indices); "
                               "for max(x, 0) entry by entry write logits.clamp(min=0)"),
}


def check_bce_with_logits(fn: Callable) -> None:
    """Week 03: check ``fn(logits, target)``: logits (N,), 0/1 targets (N,) → mean BCE, finite for any logit."""
    check_function(fn, _F.binary_cross_entropy_with_logits, _bce_cases(), diagnose=diagnose_bce_with_logits,
                   rule=BCE_WITH_LOGITS, error_hints=MAX_HINTS)


def _ce_grad_ref(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    x = logits.detach().clone().requires_grad_(True)
    _F.cross_entropy(x, target).backward()
    return x.grad


def diagnose_ce_gradient(got, case: Case, expected) -> str | None:
    """Week 03: name the usual mistakes in d(mean CE)/d logits = (softmax - one_hot) / N."""
    logits, target = case.args[0].double(), case.args[1]
    n, c = logits.shape
    g = _double(got)
    if g is None or g.shape != (n, c):
        return "the gradient has one entry per logit: shape (N, C), like the logits" if g is not None else None
    if not torch.isfinite(g).all():
        return "exp overflowed: compute softmax with the max subtracted (or use torch.softmax)"
    p, onehot = torch.softmax(logits, 1), _F.one_hot(target, c).double()
    exp = expected.double()
    if n > 1 and close(g, exp * n):
        return "this is the gradient of the summed loss; the mean divides by N: (softmax - one_hot) / N"
    if close(g, -exp):
        return "the sign is flipped: the gradient is softmax - one_hot (the target's entry is negative)"
    if close(g, p / n) or close(g, p):
        return "you forgot to subtract the one-hot target: gradient = (softmax - one_hot) / N"
    if close(g, (torch.softmax(logits, 0) - onehot) / n):
        return "softmax over dim=0 normalises across samples; the classes are along dim=1"
    if close(g, (p - onehot) / c):
        return "divide by N, the number of samples (logits.shape[0]), not by the number of classes C"
    return None


#: The error autograd raises when ``.backward()`` runs under ``torch.no_grad()``.
NO_GRAD_MARKER = "does not require grad"
AUTOGRAD_HINT = ("the exercise asks for the closed form, without autograd: no .backward(), no torch.autograd; "
                 "compute (softmax(logits) - one_hot(target)) / N directly")


def without_autograd(fn: Callable) -> Callable:
    """``fn`` called under ``torch.no_grad()``, so that an answer that calls ``.backward()`` fails."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        with torch.no_grad():
            return fn(*args, **kwargs)
    return run


def check_ce_gradient(fn: Callable) -> None:
    """Week 03: check ``fn(logits, target)`` = d mean-CE / d logits, shape (N, C), against autograd.
    ``fn`` runs under ``torch.no_grad()``: the closed form needs no autograd, and an autograd route fails."""
    cases = _ce_cases()
    one_hot_hint = ("F.one_hot(target) makes only max(target) + 1 columns: pass num_classes=C "
                    "(C = logits.shape[1]) so that it matches the logits")
    student = without_autograd(fn) if callable(fn) else fn
    check_function(student, _ce_grad_ref, cases, error_hints={NO_GRAD_MARKER: AUTOGRAD_HINT,
                                                              SHAPE_MARKER: one_hot_hint},
                   diagnose=diagnose_ce_gradient, rule=CE_GRADIENT)


DOUBLE_SOFTMAX_ANSWERS = {
    "A": None,
    "B": "softmax output never contains NaN; the loss is finite — it is just wrong",
    "C": "log_softmax is idempotent, softmax is not: softmax(softmax(x)) is much flatter than softmax(x)",
    "D": "cross_entropy expects raw logits, so the softmax in front of it *is* the bug",
}


def double_softmax_floor_ref(n_classes: int) -> float:
    """Week 03: the smallest loss cross_entropy(softmax(x)) can reach with C classes: log(1 + (C - 1)/e)."""
    return math.log(1 + (n_classes - 1) / math.e)


def diagnose_floor(got, case: Case, expected) -> str | None:
    c = case.args[0]
    g = _double(got)
    if g is None or g.dim() != 0:
        return None
    if close(g, math.log(c)):
        return ("log C is the loss of uniform probabilities; the double softmax does better: its 'logits' lie in "
                "[0, 1], at best 1 for the target and 0 for the others")
    if close(g, math.log(1 + c / math.e)):
        return "the target is one of the C classes: there are C - 1 others, each contributing e^0 = 1"
    if close(g, math.log(math.e + c - 1)):
        return ("that is the largest value (target 0, another class 1); the smallest has 1 for the target "
                "and 0 for the others")
    return None


def check_double_softmax_fix(fixed_loss: Callable, floor: Callable, answer) -> None:
    """Week 03: the corrected loss (logits, target) → mean CE, the floor of the buggy loss, and the explanation;
    every part that is not right yet is reported in one run."""
    check_parts("double softmax", [
        ("fixed_loss", lambda: check_function(fixed_loss, _F.cross_entropy, _ce_cases()[:3],
                                              diagnose=_diagnose_fixed_loss, quiet=True, rule=FIXED_LOSS)),
        ("double_softmax_floor", lambda: check_function(
            floor, double_softmax_floor_ref, [Case(f"C = {c} classes", (c,)) for c in (2, 3, 10)],
            diagnose=diagnose_floor, quiet=True, rule=DOUBLE_SOFTMAX_FLOOR)),
        ("answer", lambda: check_choice(answer, DOUBLE_SOFTMAX_ANSWERS)),
    ], separate=True)
    passed("double softmax: the fixed loss, the floor of the buggy loss and the explanation are right")


def _diagnose_fixed_loss(got, case: Case, expected) -> str | None:
    logits, target = case.args[0], case.args[1]
    if close(got, _F.cross_entropy(torch.softmax(logits, 1), target)):
        return "still the double softmax: pass the raw logits to cross_entropy — it applies log_softmax itself"
    if close(got, _F.nll_loss(torch.softmax(logits, 1), target)):
        return "nll_loss expects log-probabilities; you gave it probabilities (use log_softmax, or cross_entropy)"
    if close(got, _F.nll_loss(logits, target)):
        return "nll_loss expects log-probabilities; you gave it the raw logits (use log_softmax, or cross_entropy)"
    return diagnose_cross_entropy(got, case, expected)




# --------------------------------------------------------------------------- multi-label: several yes/no answers
