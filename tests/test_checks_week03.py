"""Do the week-03 checks pass right answers with one line, and turn the usual wrong answers into the right hint?"""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils.checks import (
    CheckFailed,
    check_bce_with_logits,
    check_ce_gradient,
    check_cross_entropy,
    check_double_softmax_fix,
    check_nll,
    double_softmax_floor_ref,
)


def _stub(*args, **kwargs):
    raise NotImplementedError()


# --------------------------------------------------------------------------- cross-entropy from logits
def ce_right(logits, target):
    logp = logits - torch.logsumexp(logits, dim=1, keepdim=True)
    return -logp[torch.arange(len(target)), target].mean()


def ce_naive_log(logits, target):
    return -torch.log(torch.softmax(logits, dim=1))[torch.arange(len(target)), target].mean()


def ce_sum(logits, target):
    return F.cross_entropy(logits, target, reduction="sum")


def ce_double_softmax(logits, target):
    return F.cross_entropy(F.softmax(logits, dim=1), target)


def ce_per_sample(logits, target):
    return F.cross_entropy(logits, target, reduction="none")


def ce_bad_index(logits, target):
    return -torch.log_softmax(logits, 1)[:, target].mean()


def ce_sign(logits, target):
    return -F.cross_entropy(logits, target)


def ce_argmax(logits, target):
    return F.cross_entropy(logits, logits.argmax(1))


def ce_mean_over_classes(logits, target):
    return -(F.one_hot(target, logits.shape[1]) * torch.log_softmax(logits, 1)).mean()


def test_check_cross_entropy_passes_a_right_answer_with_one_line(capsys):
    check_cross_entropy(ce_right)
    out = capsys.readouterr()
    assert out.out.count("\n") == 1 and out.out.startswith("✔") and out.err == ""


@pytest.mark.parametrize("fn,hint", [
    (ce_naive_log, "use log_softmax"),
    (ce_sum, "your loss is the sum over the batch, not the mean"),
    (ce_double_softmax, "you passed softmax output to cross_entropy — it expects logits"),
    (ce_per_sample, "one loss per sample"),
    (ce_bad_index, r"torch.arange\(N\)"),
    (ce_sign, "sign is flipped"),
    (ce_argmax, "argmax"),
    (ce_mean_over_classes, "averaged over the classes too"),
    (_stub, "not implemented yet"),
])
def test_check_cross_entropy_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_cross_entropy(fn)


# --------------------------------------------------------------------------- NLL with reductions
def nll_right(log_probs, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError(f"reduction must be 'mean', 'sum' or 'none', got {reduction!r}")
    per = -log_probs[torch.arange(len(target)), target]
    return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]


def nll_ignores_reduction(log_probs, target, reduction="mean"):
    return -log_probs[torch.arange(len(target)), target].mean()


def nll_always_sum(log_probs, target, reduction="mean"):
    per = -log_probs[torch.arange(len(target)), target]
    return per if reduction == "none" else per.sum()


def nll_log_again(log_probs, target, reduction="mean"):
    return nll_right(torch.log(log_probs), target, reduction)


def nll_probs(log_probs, target, reduction="mean"):
    return nll_right(torch.exp(log_probs), target, reduction)


def test_check_nll_passes_a_right_answer(capsys):
    check_nll(nll_right)
    assert capsys.readouterr().out.startswith("✔ nll_right: all 5 cases")


@pytest.mark.parametrize("fn,hint", [
    (nll_ignores_reduction, "with reduction='sum' add the per-sample losses; you averaged them"),
    (nll_always_sum, "your loss is the sum over the batch, not the mean"),
    (nll_log_again, "already logarithms"),
    (nll_probs, "you used probabilities"),
    (_stub, "not implemented yet"),
])
def test_check_nll_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_nll(fn)


# --------------------------------------------------------------------------- BCE with logits
def bce_right(logits, target):
    return (logits.clamp(min=0) - logits * target + torch.log1p(torch.exp(-logits.abs()))).mean()


def bce_naive(logits, target):
    p = torch.sigmoid(logits)
    return -(target * torch.log(p) + (1 - target) * torch.log(1 - p)).mean()


def bce_probability_route(logits, target):
    return F.binary_cross_entropy(torch.sigmoid(logits), target)


def bce_swapped(logits, target):
    return bce_right(logits, 1 - target)


def bce_double_sigmoid(logits, target):
    return F.binary_cross_entropy_with_logits(torch.sigmoid(logits), target)


def bce_sum(logits, target):
    return F.binary_cross_entropy_with_logits(logits, target, reduction="sum")


def test_check_bce_with_logits_passes_a_right_answer(capsys):
    check_bce_with_logits(bce_right)
    assert capsys.readouterr().out.startswith("✔ bce_right: all 4 cases")


@pytest.mark.parametrize("fn,hint", [
    (bce_naive, r"max\(x, 0\) - x\*y \+ log1p"),
    (bce_probability_route, "capped"),
    (bce_swapped, "swapped y and 1 - y"),
    (bce_double_sigmoid, "double sigmoid"),
    (bce_sum, "sum over the batch"),
    (_stub, "not implemented yet"),
])
def test_check_bce_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_bce_with_logits(fn)


# --------------------------------------------------------------------------- gradient in closed form
def grad_right(logits, target):
    return (torch.softmax(logits, 1) - F.one_hot(target, logits.shape[1])) / logits.shape[0]


def grad_of_sum(logits, target):
    return torch.softmax(logits, 1) - F.one_hot(target, logits.shape[1])


def grad_sign(logits, target):
    return -grad_right(logits, target)


def grad_no_onehot(logits, target):
    return torch.softmax(logits, 1) / logits.shape[0]


def grad_naive_softmax(logits, target):
    e = torch.exp(logits)
    return (e / e.sum(1, keepdim=True) - F.one_hot(target, logits.shape[1])) / logits.shape[0]


def test_check_ce_gradient_passes_the_closed_form(capsys):
    check_ce_gradient(grad_right)
    assert capsys.readouterr().out.startswith("✔ grad_right: all 4 cases")


@pytest.mark.parametrize("fn,hint", [
    (grad_of_sum, "the mean divides by N"),
    (grad_sign, "sign is flipped"),
    (grad_no_onehot, "forgot to subtract the one-hot"),
    (grad_naive_softmax, "max subtracted"),
    (_stub, "not implemented yet"),
])
def test_check_ce_gradient_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_ce_gradient(fn)


# --------------------------------------------------------------------------- find the bug: double softmax
def floor_right(n_classes):
    return math.log(1 + (n_classes - 1) / math.e)


def test_double_softmax_floor_is_what_torch_reaches():
    """The floor is the loss of F.cross_entropy(softmax(x)) when softmax(x) is exactly one-hot."""
    for c in (2, 3, 10):
        best = F.cross_entropy(F.one_hot(torch.tensor(0), c).double(), torch.tensor(0)).item()
        assert double_softmax_floor_ref(c) == pytest.approx(best, abs=1e-12)


def test_check_double_softmax_fix_passes_with_one_line(capsys):
    check_double_softmax_fix(F.cross_entropy, floor_right, "A")
    out = capsys.readouterr()
    assert out.out.count("\n") == 1 and out.out.startswith("✔ double softmax") and out.err == ""


@pytest.mark.parametrize("args,hint", [
    ((ce_double_softmax, floor_right, "A"), "still the double softmax"),
    ((lambda x, t: F.nll_loss(torch.softmax(x, 1), t), floor_right, "A"), "nll_loss expects log-probabilities"),
    ((F.cross_entropy, lambda c: math.log(c), "A"), "uniform probabilities"),
    ((F.cross_entropy, lambda c: math.log(1 + c / math.e), "A"), "C - 1 others"),
    ((F.cross_entropy, floor_right, "C"), "idempotent"),
    ((F.cross_entropy, floor_right, "E"), "answer must be one of"),
    ((_stub, floor_right, "A"), "not implemented yet"),
])
def test_check_double_softmax_fix_hints(args, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_double_softmax_fix(*args)


def nll_keyerror_on_bad_reduction(log_probs, target, reduction="mean"):
    per = -log_probs[torch.arange(len(target)), target]
    return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]


def test_nll_check_requires_valueerror_for_unknown_reduction():
    """Does a KeyError for reduction='average' fail the visible check, as it fails the graded test?"""
    with pytest.raises(CheckFailed, match="not ValueError"):
        check_nll(nll_keyerror_on_bad_reduction)
