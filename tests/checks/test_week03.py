"""Do the week-03 checks pass right answers with one line, and turn the usual wrong answers into the right hint?"""

import math

import pytest
import torch
import torch.nn.functional as F

from course_utils.checks._core import CheckFailed
from course_utils.checks.week03 import (
    check_bce_with_logits,
    check_ce_gradient,
    check_cross_entropy,
    check_double_softmax_fix,
    check_masked_cross_entropy,
    check_multilabel,
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
    assert capsys.readouterr().out.startswith("✔ nll: all 6 cases")


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
    assert capsys.readouterr().out.startswith("✔ bce_with_logits: all 5 cases")


def bce_python_max(x, y):
    return (max(x, 0) - x * y + torch.log1p(torch.exp(-x.abs()))).mean()


def bce_torch_maximum(x, y):
    return (torch.maximum(x, 0) - x * y + torch.log1p(torch.exp(-x.abs()))).mean()


@pytest.mark.parametrize("fn,hint", [
    (bce_naive, r"logits.clamp\(min=0\) - logits \* target \+ torch.log1p"),
    (bce_python_max, r"Python's max\(x, 0\), min or an `if` on a tensor .* logits.clamp\(min=0\)"),
    (bce_torch_maximum, r"torch.maximum needs two tensors.*logits.clamp\(min=0\)"),
    (lambda x, y: (torch.maximum(x, 0.0) - x * y + torch.log1p(torch.exp(-x.abs()))).mean(), "torch.maximum needs"),
    (lambda x, y: (torch.max(x, 0) - x * y + torch.log1p(torch.exp(-x.abs()))).mean(), "maximum along dimension 0"),
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
    assert capsys.readouterr().out.startswith("✔ ce_gradient: all 5 cases")


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


def grad_by_autograd(logits, target):
    x = logits.detach().clone().requires_grad_(True)
    F.cross_entropy(x, target).backward()
    return x.grad


def test_check_ce_gradient_refuses_an_autograd_route_and_restores_grad_mode():
    """The exercise forbids autograd: the check runs the answer under no_grad, so .backward() fails with a hint."""
    assert torch.allclose(grad_by_autograd(torch.tensor([[1.0, 2.0]]), torch.tensor([0])),
                          grad_right(torch.tensor([[1.0, 2.0]]), torch.tensor([0])))  # it is right, otherwise
    with pytest.raises(CheckFailed, match=r"RuntimeError[\s\S]*Hint: the exercise asks for the closed form"):
        check_ce_gradient(grad_by_autograd)
    assert torch.is_grad_enabled()


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
    with pytest.raises(CheckFailed, match="raised KeyError for reduction='average'; raise a ValueError instead"):
        check_nll(nll_keyerror_on_bad_reduction)


# --------------------------------------------------------------------------- hints added with the stricter checks
def ce_raw_target_logit(logits, target):
    return -logits[torch.arange(len(target)), target].mean()


def ce_softmax_over_samples(logits, target):
    return -torch.log_softmax(logits, dim=0)[torch.arange(len(target)), target].mean()


def ce_logsumexp_over_samples(logits, target):
    return (torch.logsumexp(logits, dim=0) - logits[torch.arange(len(target)), target]).mean()


@pytest.mark.parametrize("fn,hint", [
    (ce_raw_target_logit, "a logit is not a log-probability"),
    (lambda logits, target: F.nll_loss(logits, target), "a logit is not a log-probability"),
    (ce_softmax_over_samples, "softmax over dim=0 normalises across samples"),
    (ce_logsumexp_over_samples, r"RuntimeError[\s\S]*Hint: the shapes do not line up: logsumexp over the classes"),
])
def test_check_cross_entropy_new_hints(fn, hint):
    """Does each cross-entropy mistake added to the diagnosis get its own hint?"""
    with pytest.raises(CheckFailed, match=hint):
        check_cross_entropy(fn)


def ce_via_one_hot(logits, target):
    logp = torch.log_softmax(logits, dim=1)
    return -(F.one_hot(target, logits.shape[1]) * logp).sum(dim=1).mean()


def test_check_cross_entropy_passes_a_one_hot_formulation(capsys):
    """Does a right answer written with one_hot(num_classes=C) pass too?"""
    check_cross_entropy(ce_via_one_hot)
    assert capsys.readouterr().out.startswith("✔ cross_entropy_batch: all 5 cases")


def nll_none_sums(log_probs, target, reduction="mean"):
    per = -log_probs[torch.arange(len(target)), target]
    return per.mean() if reduction == "mean" else per.sum()


def nll_always_per_sample(log_probs, target, reduction="mean"):
    return -log_probs[torch.arange(len(target)), target]


def nll_no_minus(log_probs, target, reduction="mean"):
    return -nll_right(log_probs, target, reduction)


def nll_bad_index(log_probs, target, reduction="mean"):
    per = -log_probs[:, target]
    return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction]


def nll_falls_back_to_mean(log_probs, target, reduction="mean"):
    per = -log_probs[torch.arange(len(target)), target]
    if reduction == "none":
        return per
    return per.sum() if reduction == "sum" else per.mean()


@pytest.mark.parametrize("fn,hint", [
    (nll_none_sums, r"with reduction='none' return one loss per sample, shape \(N,\)"),
    (nll_always_per_sample, "with reduction='mean' return one number, not one per sample"),
    (nll_no_minus, "sign is flipped: the negative log-likelihood is MINUS"),
    (nll_bad_index, r"log_probs\[:, target\] picks every target for every sample"),
    (nll_falls_back_to_mean, r"accepted reduction='average' without complaint"),
])
def test_check_nll_new_hints(fn, hint):
    """Does each NLL mistake added to the diagnosis get its own hint?"""
    with pytest.raises(CheckFailed, match=hint):
        check_nll(fn)


def test_nll_keyerror_message_asks_for_valueerror():
    """Does the KeyError message name the error raised and the ValueError wanted?"""
    with pytest.raises(CheckFailed, match=r"raised KeyError for reduction='average'; raise a ValueError instead"):
        check_nll(nll_keyerror_on_bad_reduction)


def bce_per_sample(logits, target):
    return F.binary_cross_entropy_with_logits(logits, target, reduction="none")


def bce_sign(logits, target):
    return -bce_right(logits, target)


def bce_no_abs(logits, target):
    return (logits.clamp(min=0) - logits * target + torch.log1p(torch.exp(-logits))).mean()


def bce_no_max_term(logits, target):
    return (-logits * target + torch.log1p(torch.exp(-logits.abs()))).mean()


@pytest.mark.parametrize("fn,hint", [
    (bce_per_sample, "one loss per sample"),
    (bce_sign, r"sign is flipped: BCE is -\[y log p"),
    (bce_no_abs, r"needs the absolute value: log1p\(exp\(-\|x\|\)\)"),
    (bce_no_max_term, r"left out the first term, max\(x, 0\)"),
])
def test_check_bce_new_hints(fn, hint):
    """Does each BCE mistake added to the diagnosis get its own hint?"""
    with pytest.raises(CheckFailed, match=hint):
        check_bce_with_logits(fn)


def test_check_bce_passes_a_softplus_formulation(capsys):
    """Does a right answer written as softplus(x) - x*y (PyTorch's stable softplus) pass too?"""
    check_bce_with_logits(lambda x, y: (F.softplus(x) - x * y).mean())
    assert capsys.readouterr().out.startswith("✔")


def grad_per_sample(logits, target):
    return (torch.softmax(logits, 1)[torch.arange(len(target)), target] - 1) / logits.shape[0]


def grad_softmax_over_samples(logits, target):
    return (torch.softmax(logits, 0) - F.one_hot(target, logits.shape[1])) / logits.shape[0]


def grad_divided_by_classes(logits, target):
    return (torch.softmax(logits, 1) - F.one_hot(target, logits.shape[1])) / logits.shape[1]


def grad_one_hot_without_num_classes(logits, target):
    return (torch.softmax(logits, 1) - F.one_hot(target)) / logits.shape[0]


@pytest.mark.parametrize("fn,hint", [
    (grad_per_sample, r"one entry per logit: shape \(N, C\)"),
    (grad_softmax_over_samples, "softmax over dim=0 normalises across samples"),
    (grad_divided_by_classes, "divide by N, the number of samples"),
    (grad_one_hot_without_num_classes, r"RuntimeError[\s\S]*Hint: F.one_hot\(target\) makes only max\(target\) \+ 1"),
])
def test_check_ce_gradient_new_hints(fn, hint):
    """Does each gradient mistake added to the diagnosis get its own hint?"""
    with pytest.raises(CheckFailed, match=hint):
        check_ce_gradient(fn)


@pytest.mark.parametrize("args,hint", [
    ((lambda x, t: F.nll_loss(x, t), floor_right, "A"), "you gave it the raw logits"),
    ((F.cross_entropy, lambda c: math.log(math.e + c - 1), "A"), "that is the largest value"),
    ((F.cross_entropy, floor_right, "B"), "never contains NaN"),
    ((F.cross_entropy, floor_right, "D"), "expects raw logits"),
])
def test_check_double_softmax_fix_new_hints(args, hint):
    """Does nll on logits, the ceiling instead of the floor, and each wrong explanation get its hint?"""
    with pytest.raises(CheckFailed, match=hint):
        check_double_softmax_fix(*args)


def test_check_double_softmax_fix_falls_back_to_the_cross_entropy_hints():
    """Does a fixed loss that sums over the batch still get the general cross-entropy hint?"""
    with pytest.raises(CheckFailed, match="sum over the batch"):
        check_double_softmax_fix(ce_sum, floor_right, "A")


def nll_value_error_without_allowed_values(log_probs, target, reduction="mean"):
    if reduction not in ("mean", "sum", "none"):
        raise ValueError("bad reduction")
    return nll_right(log_probs, target, reduction)


def test_nll_check_asks_for_the_allowed_values_in_the_message_as_the_hidden_test_does():
    """A ValueError that does not name 'mean' fails the hidden test; does the visible check say so too?"""
    with pytest.raises(CheckFailed, match=r"its message 'bad reduction' does not say[\s\S]*mention 'mean'"):
        check_nll(nll_value_error_without_allowed_values)


# --------------------------------------------------------------------------- multi-label: targets, loss per label, decisions
def multi_hot_right(label_sets, n_labels):
    out = torch.zeros(len(label_sets), n_labels)
    for n, labels in enumerate(label_sets):
        for c in labels:
            out[n, c] = 1.0
    return out


def per_label_right(logits, targets):
    return F.binary_cross_entropy_with_logits(logits, targets, reduction="none").mean(dim=0)


def per_label_from_scratch(logits, targets):
    return (logits.clamp(min=0) - logits * targets + torch.log1p(torch.exp(-logits.abs()))).mean(dim=0)


def predict_right(logits, thresholds):
    return torch.sigmoid(logits) >= thresholds


def test_check_multilabel_passes_right_answers_with_one_line(capsys):
    check_multilabel(multi_hot_right, per_label_right, predict_right)
    check_multilabel(multi_hot_right, per_label_from_scratch, lambda z, t: z >= torch.log(t / (1 - t)))
    out = capsys.readouterr()
    assert out.out.count("\n") == 2 and out.out.startswith("✔ multi-label") and out.err == ""


@pytest.mark.parametrize("multi_hot,hint", [
    (lambda s, c: multi_hot_right(s, c).long(), "integer targets: BCEWithLogitsLoss needs float targets"),
    (lambda s, c: multi_hot_right(s, c).bool(), "integer targets"),
    (lambda s, c: multi_hot_right(s, c).double(), r"dtype torch.float64, expected torch.float32"),
    (lambda s, c: torch.tensor([min(x) if x else 0 for x in s]), r"one class index per sample \(single-label\)"),
    (lambda s, c: multi_hot_right([sorted(x)[:1] for x in s], c), "every label in the set gets a 1.0, not only the first"),
    (lambda s, c: multi_hot_right(s, c).numpy(), "expected a torch tensor"),
    (_stub, "not implemented yet"),
])
def test_check_multilabel_hints_for_the_targets(multi_hot, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_multilabel(multi_hot, per_label_right, predict_right)


def per_label_softmax_bce(logits, targets):
    return F.binary_cross_entropy(torch.softmax(logits, dim=1), targets, reduction="none").mean(dim=0)


def per_label_naive(logits, targets):
    p = torch.sigmoid(logits)
    return (-(targets * torch.log(p) + (1 - targets) * torch.log(1 - p))).mean(dim=0)


@pytest.mark.parametrize("per_label,hint", [
    (lambda x, y: F.cross_entropy(x, y), "softmax makes the labels compete"),
    (lambda x, y: -(y * torch.log_softmax(x, 1)).mean(0), "softmax makes the labels compete"),
    (per_label_softmax_bce, "give every label its own sigmoid"),
    (lambda x, y: F.binary_cross_entropy_with_logits(x, y), r"keep the C columns apart: .*mean\(dim=0\)"),
    (lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none").mean(1),
     r"averaged over the labels \(dim=1\)"),
    (lambda x, y: F.binary_cross_entropy_with_logits(x, y, reduction="none").sum(0), "summed over the samples"),
    (per_label_naive, "use the stable BCE with logits"),
    (lambda x, y: per_label_right(x, 1 - y), "swapped y and 1 - y"),
    (lambda x, y: per_label_right(x.detach(), y), "cut the result off from the gradient"),
    (_stub, "not implemented yet"),
])
def test_check_multilabel_hints_for_the_loss(per_label, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_multilabel(multi_hot_right, per_label, predict_right)


@pytest.mark.parametrize("predict,hint", [
    (lambda x, t: torch.softmax(x, 1) >= t, "softmax makes the labels compete"),
    (lambda x, t: F.one_hot(x.argmax(1), x.shape[1]).bool(), "argmax gives every sample exactly one label"),
    (lambda x, t: torch.sigmoid(x) > t, "use >= rather than >"),
    (lambda x, t: x >= t, "compared the logits with the thresholds"),
    (lambda x, t: torch.sigmoid(x) >= 0.5, "each label has its own threshold"),
    (lambda x, t: (torch.sigmoid(x) >= t).float(), r"dtype torch.float32, expected torch.bool"),
    (lambda x, t: torch.sigmoid(x) >= t[:, None], r"no \[:, None\]"),
    (_stub, "not implemented yet"),
])
def test_check_multilabel_hints_for_the_decisions(predict, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_multilabel(multi_hot_right, per_label_right, predict)


# --------------------------------------------------------------------------- (N, C, L) with ignore_index
def masked_right(logits, target, ignore_index=-100):
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target))
    lse = torch.logsumexp(logits, dim=1)  # (N, L)
    picked = logits.gather(1, safe.unsqueeze(1)).squeeze(1)  # (N, L)
    per = torch.where(keep, lse - picked, torch.zeros_like(lse))
    return per.sum() / keep.sum()


def _masked_parts(logits, target, ignore_index=-100):
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target))
    per = torch.logsumexp(logits, dim=1) - logits.gather(1, safe.unsqueeze(1)).squeeze(1)
    return keep, per


def masked_no_mask(logits, target, ignore_index=-100):
    return (torch.logsumexp(logits, dim=1) - logits.gather(1, target.unsqueeze(1)).squeeze(1)).mean()


def masked_all_positions(logits, target, ignore_index=-100):
    keep, per = _masked_parts(logits, target, ignore_index)
    return (per * keep).sum() / target.numel()


def masked_kept_padding(logits, target, ignore_index=-100):
    return _masked_parts(logits, target, ignore_index)[1].mean()


def masked_mean_of_means(logits, target, ignore_index=-100):
    keep, per = _masked_parts(logits, target, ignore_index)
    return ((per * keep).sum(1) / keep.sum(1)).mean()


def masked_sum(logits, target, ignore_index=-100):
    keep, per = _masked_parts(logits, target, ignore_index)
    return (per * keep).sum()


def masked_fixed_minus_100(logits, target, ignore_index=-100):
    keep = target != -100
    idx = target % logits.shape[1]  # a hard-coded -100 misses the -1 padding, which wraps round to the last class
    per = torch.logsumexp(logits, dim=1) - logits.gather(1, idx.unsqueeze(1)).squeeze(1)
    return (per * keep).sum() / keep.sum()


def masked_classes_last(logits, target, ignore_index=-100):
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target))
    lse = torch.logsumexp(logits, dim=-1)  # over the positions: the mistake
    per = lse - logits.gather(1, safe.unsqueeze(1)).squeeze(1)
    return (per * keep).sum() / keep.sum()


def masked_naive_log(logits, target, ignore_index=-100):
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target))
    logp = torch.log(torch.softmax(logits, dim=1))
    per = -logp.gather(1, safe.unsqueeze(1)).squeeze(1)
    return (per * keep).sum() / keep.sum()


def test_check_masked_cross_entropy_passes_right_answers_with_one_line(capsys):
    check_masked_cross_entropy(masked_right)
    check_masked_cross_entropy(lambda z, y, ignore_index=-100: F.cross_entropy(
        z.permute(0, 2, 1).reshape(-1, z.shape[1]), y.reshape(-1), ignore_index=ignore_index))
    out = capsys.readouterr()
    assert out.out.count("\n") == 2 and out.out.startswith("✔ masked_cross_entropy: all 6 cases") and out.err == ""


@pytest.mark.parametrize("fn,hint", [
    (masked_no_mask, r"ignore_index at padded positions, which is not a class"),
    (masked_all_positions, r"divided by all N·L positions"),
    (masked_kept_padding, "the padded positions still count"),
    (masked_mean_of_means, "averaged each sequence first"),
    (masked_sum, "sum over the batch, not the mean: divide by the number of kept positions"),
    (masked_fixed_minus_100, "use the ignore_index argument, not a fixed -100"),
    (masked_classes_last, r"the classes are dim 1 of \(N, C, L\)"),
    (masked_naive_log, "use log_softmax"),
    (lambda z, y, ignore_index=-100: F.cross_entropy(z, y, ignore_index=ignore_index, reduction="none"),
     "one loss per position"),
    (lambda z, y, ignore_index=-100: -masked_right(z, y, ignore_index), "sign is flipped"),
    (_stub, "not implemented yet"),
])
def test_check_masked_cross_entropy_hints(fn, hint):
    with pytest.raises(CheckFailed, match=hint):
        check_masked_cross_entropy(fn)


def masked_where_minus_100(logits, target, ignore_index=-100):
    keep = target != -100  # the mistake: a fixed -100, so the -1 padding reaches gather
    safe = torch.where(keep, target, torch.zeros_like(target))
    per = torch.logsumexp(logits, dim=1) - logits.gather(1, safe.unsqueeze(1)).squeeze(1)
    return (per * keep).sum() / keep.sum()


def test_check_masked_cross_entropy_names_a_fixed_minus_100_in_the_mask():
    """The padding -1 reaches gather as an index: the error's hint says to use the ignore_index argument."""
    with pytest.raises(CheckFailed, match=r"ignore_index=-1[\s\S]*Hint: [\s\S]*from the ignore_index argument, "
                                          r"not a fixed -100"):
        check_masked_cross_entropy(masked_where_minus_100)
    with pytest.raises(CheckFailed) as info:
        check_masked_cross_entropy(masked_no_mask)
    assert "not a fixed -100" not in str(info.value)  # a -100 case: the plain hint


def bce_plus_xy(logits, target):
    return (logits.clamp(min=0) + logits * target + torch.log1p(torch.exp(-logits.abs()))).mean()


def test_check_bce_names_a_sign_error_in_the_middle_term():
    """Does + x·y instead of - x·y get its own diagnosis, not only "values differ"?"""
    with pytest.raises(CheckFailed, match=r"the middle term has the wrong sign[\s\S]*subtracted, not added"):
        check_bce_with_logits(bce_plus_xy)


def test_check_double_softmax_fix_reports_every_failing_part():
    """Are a wrong fix, a wrong floor and a wrong letter all reported in one run, each with its own hint?"""
    with pytest.raises(CheckFailed) as info:
        check_double_softmax_fix(ce_double_softmax, lambda c: math.log(c), "C")
    text = str(info.value)
    assert text.startswith("double softmax: 3 of 3 parts are not right yet"), text
    for fragment in ("(1) fixed_loss", "still the double softmax", "(2) double_softmax_floor", "uniform probabilities",
                     "(3) answer", "idempotent"):
        assert fragment in text, (fragment, text)
