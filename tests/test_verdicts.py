"""Does a ✔ from each exercise's visible check predict its hidden tests' verdict, for odd answers too?

For every week of solutions/ that has a table below, the solution notebook's code cells run once, in
this process, in one namespace (as a kernel would run them). Then, for each graded exercise and each
odd version of its answer — a float where a tensor is asked, NumPy, a list, a tuple, None, the wrong
dtype, a detached result, an answer that overwrites its input, the right answer by another route —
the graded cell's visible part and its hidden tests run on a copy of the namespace taken just before
that cell, with the answer replaced. Their verdicts (passed / failed) must agree, and the visible
part may only fail with a CheckFailed (a hint), never with an internal traceback.

Adding a week is one entry in WEEKS: for each graded cell, the name of the answer it checks and how
to build each odd version of it from the solution (``make(solution, cell) -> odd answer``; ``cell``
is the executed graded cell, whose ``after`` namespace holds what the solution computed there). A cell
that checks several answers has a list of such (name, odd versions) pairs; each odd version replaces
one answer and leaves the others right.
"""

from __future__ import annotations

import contextlib
import copy
import functools
import io
import math
import re
import warnings
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import nbformat
import numpy as np
import pytest
import torch
from torch import nn

from course_utils import calibration as cal
from course_utils.checks import CheckFailed

ROOT = Path(__file__).resolve().parents[1]
HIDDEN = re.compile(r"### BEGIN HIDDEN TESTS\n(.*?)### END HIDDEN TESTS\n?", re.S)


# --------------------------------------------------------------------------- odd versions of an answer
def returns(transform):
    """The solution with ``transform`` applied to what it returns."""
    def make(sol, cell):
        @functools.wraps(sol)  # keeps the student's parameter names for the checks' messages
        def odd(*args, **kwargs):
            return transform(sol(*args, **kwargs))
        return odd
    return make


def overwrites_input(sol, cell):
    """A right result, and the caller's first argument changed afterwards (``x -= ...`` in the answer)."""
    @functools.wraps(sol)
    def odd(x, *args, **kwargs):
        out = sol(x, *args, **kwargs)
        with torch.no_grad():
            x.add_(1)
        return out
    return odd


def another(fn):
    """An answer written from scratch (``fn`` itself), whatever the solution."""
    return lambda sol, cell: fn


def first(t):
    return t.detach().reshape(-1)[0]


TENSOR_ODD = {
    "None": returns(lambda r: None),
    "a Python float": returns(lambda r: float(first(r))),
    "a NumPy array": returns(lambda r: r.detach().cpu().numpy()),
    "a NumPy float32": returns(lambda r: np.float32(first(r))),
    "a list": returns(lambda r: r.tolist()),
    "a tuple": returns(lambda r: (r,)),
    "float64 / float32 swapped": returns(lambda r: r.double() if r.dtype != torch.float64 else r.float()),
    "float16": returns(lambda r: r.half()),
    "always float32": returns(lambda r: r.float()),
    "detached": returns(lambda r: r.detach()),
    "overwrites its input": overwrites_input,
    "moved to the CPU": returns(lambda r: r.cpu()),
}
CLASSES_ODD = {
    **{k: v for k, v in TENSOR_ODD.items() if k not in ("detached", "float64 / float32 swapped", "always float32")},
    "int32": returns(lambda r: r.int()),
    "bool": returns(lambda r: r.bool()),
    "float": returns(lambda r: r.float()),
    "shape (N, 1)": returns(lambda r: r[:, None]),
}
NUMBER_ODD = {
    "None": returns(lambda r: None),
    "a 0-dim tensor": returns(torch.tensor),
    "a (1,) tensor": returns(lambda r: torch.tensor([r])),
    "a NumPy float32": returns(np.float32),
    "a NumPy float64": returns(np.float64),
    "the string": returns(str),
    "a list": returns(lambda r: [r]),
    "a tuple": returns(lambda r: (r,)),
    "a dict": returns(lambda r: {"value": r}),
}
PAIR_ODD = {
    "None": returns(lambda r: None),
    "a list": returns(list),
    "(first, None)": returns(lambda r: (r[0], None)),
    "(None, second)": returns(lambda r: (None, r[1])),
    "swapped": returns(lambda r: (r[1], r[0])),
    "three values": returns(lambda r: (*r, 0.0)),
    "a dict": returns(lambda r: {"first": r[0], "second": r[1]}),
    "second as a tensor": returns(lambda r: (r[0], torch.tensor(r[1]))),
    "second as np.float32": returns(lambda r: (r[0], np.float32(r[1]))),
}


def choice_odd(right):
    """Odd versions of a multiple-choice answer (a string)."""
    return {
        "a list": another([right]), "a set": another({right}), "a dict": another({right: True}),
        "lower case": another(right.lower()), "a trailing space": another(right + " "), "None": another(None),
        "a NumPy array": another(np.array([right])), "np.str_": another(np.str_(right)), "the letter wrong": another("A"),
    }


def table_odd():
    """Odd versions of a {task: choice} table."""
    return {
        "a list of pairs": lambda sol, cell: list(sol.items()),
        "an extra task": lambda sol, cell: {**sol, "extra": next(iter(sol.values()))},
        "a task missing": lambda sol, cell: dict(list(sol.items())[1:]),
        "values in lower case": lambda sol, cell: {k: v.lower() for k, v in sol.items()},
        "a trailing space": lambda sol, cell: {k: v + " " for k, v in sol.items()},
        "NumPy arrays as values": lambda sol, cell: {k: np.array([v]) for k, v in sol.items()},
        "np.str_ values": lambda sol, cell: {k: np.str_(v) for k, v in sol.items()},
        "an OrderedDict": lambda sol, cell: OrderedDict(sol),
        "None": another(None),
    }


# --------------------------------------------------------------------------- week 01
def sequential_heads(bias=True, trunk=nn.ReLU):
    class Net(nn.Module):
        def __init__(self, n_features, n_hidden, n_species):
            super().__init__()
            self.trunk = nn.Sequential(nn.Linear(n_features, n_hidden), trunk())
            self.species_head = nn.Sequential(nn.Linear(n_hidden, n_species, bias=bias))
            self.height_head = nn.Sequential(nn.Linear(n_hidden, 1, bias=bias))

        def forward(self, x):
            h = self.trunk(x)
            return self.species_head(h), self.height_head(h).squeeze(-1)

    return another(Net)


def forward_returns(transform):
    """The solution's class with ``transform`` applied to what forward returns."""
    def make(sol, cell):
        class Odd(sol):
            def forward(self, x):
                return transform(super().forward(x))
        return Odd
    return make


def double_model(sol, cell):
    class Odd(sol):
        def __init__(self, *args):
            super().__init__(*args)
            self.double()
    return Odd


TWO_HEAD_ODD = {
    "an instance": lambda sol, cell: sol(4, 8, 3),
    "nn.Sequential(nn.Linear) heads": sequential_heads(),
    "heads without bias": sequential_heads(bias=False),
    "a Tanh trunk": sequential_heads(trunk=nn.Tanh),
    "forward returns a list": forward_returns(list),
    "forward returns a dict": forward_returns(lambda r: {"species": r[0], "height": r[1]}),
    "forward returns None": forward_returns(lambda r: None),
    "height of shape (N, 1)": forward_returns(lambda r: (r[0], r[1][:, None])),
    "softmax after the species head": forward_returns(lambda r: (r[0].softmax(1), r[1])),
    "sigmoid after the height head": forward_returns(lambda r: (r[0], torch.sigmoid(r[1]))),
    "float64 outputs": forward_returns(lambda r: (r[0].double(), r[1].double())),
    "detached outputs": forward_returns(lambda r: (r[0].detach(), r[1].detach())),
    "a float64 model": double_model,
}

WEEK01 = {
    "ex1_output_choices_test": ("answers", table_odd() | {
        # right too (softmax of two logits is the sigmoid of their difference): both parts pass, with a note
        "two logits for the yes/no leaf": lambda sol, cell: {**sol, "leaf_diseased": "C logits"},
        "a sigmoid for the three species": lambda sol, cell: {**sol, "iris_species": "1 logit + sigmoid"},
    }),
    "ex2_sigmoid_test": ("sigmoid", {
        **TENSOR_ODD,
        "tanh": another(lambda z: 0.5 * (1 + torch.tanh(z / 2))),
        "torch.sigmoid": another(torch.sigmoid),
        "piecewise stable": another(lambda z: torch.where(z >= 0, 1 / (1 + torch.exp(-z)),
                                                          torch.exp(z) / (1 + torch.exp(z)))),
    }),
    "ex3_predict_binary_test": ("predict_binary", {
        **CLASSES_ODD,
        "where(p >= t, 1, 0)": another(lambda logits, threshold=0.5: torch.where(torch.sigmoid(logits) >= threshold,
                                                                                 1, 0)),
        "logits compared with the threshold": another(lambda logits, threshold=0.5: (logits >= threshold).long()),
    }),
    "ex4_logits_to_classes_test": ("logits_to_classes", {
        **CLASSES_ODD,
        "max(dim=1).indices": another(lambda logits: logits.max(dim=1).indices),
        "max(dim=1)": another(lambda logits: logits.max(dim=1)),
        "argmax of softmax": another(lambda logits: torch.softmax(logits, dim=1).argmax(dim=1)),
    }),
    "ex5_two_head_test": ("TwoHeadNet", TWO_HEAD_ODD),
}


# --------------------------------------------------------------------------- week 02
def brentq_temperature(logits, target):
    from scipy.optimize import brentq

    z = logits.double()
    return brentq(lambda log_t: torch.softmax(z / math.exp(log_t), 0).max().item() - target, -10.0, 10.0,
                  xtol=1e-12)


def bisection_temperature(halvings, *, geometric=True, answer="mid"):
    """A bisection for exercise 5 that stops after ``halvings`` (too few: close to T, but maybe not within 1e-4)."""
    def temperature_for(logits, target):
        z = logits.double()
        lo, hi = 1e-3, 1e3
        for _ in range(halvings):
            mid = math.sqrt(lo * hi) if geometric else (lo + hi) / 2
            if torch.softmax(z / mid, 0).max().item() > target:
                lo = mid
            else:
                hi = mid
        return {"mid": math.sqrt(lo * hi) if geometric else (lo + hi) / 2, "lo": lo, "hi": hi}[answer]
    return another(temperature_for)


WEEK02 = {
    "ex1_softmax_vector_test": ("softmax_vector", {
        **TENSOR_ODD,
        "torch.softmax": another(lambda x: torch.softmax(x, dim=0)),
        "exp(x - logsumexp(x)), less precise": another(lambda x: torch.exp(x - torch.logsumexp(x, 0))),
        "the max taken with .item()": another(lambda x: torch.exp(x - x.max().item()) / torch.exp(
            x - x.max().item()).sum()),
        "the result rebuilt from .item()": returns(lambda r: torch.stack([torch.tensor(v.item(), dtype=r.dtype)
                                                                         for v in r])),
    }),
    "ex2_softmax_batch_test": ("softmax_batch", {
        **TENSOR_ODD,
        "F.softmax": another(lambda x, dim: nn.functional.softmax(x, dim)),
        "exp of x - logsumexp": another(lambda x, dim: torch.exp(x - torch.logsumexp(x, dim, keepdim=True))),
    }),
    "ex3_logsumexp_test": ("logsumexp", {
        **TENSOR_ODD,
        "keepdim=True": returns(lambda r: r.unsqueeze(-1)),
        ".squeeze() of every size-1 dimension": returns(lambda r: r.squeeze()),
        "torch.logsumexp": another(torch.logsumexp),
        "max without keepdim": another(lambda x, dim: x.amax(dim) + torch.log(torch.exp(x - x.amax(dim, keepdim=True))
                                                                               .sum(dim))),
    }),
    "ex4_log_softmax_test": ("log_softmax", {
        **TENSOR_ODD,
        "torch.log_softmax": another(torch.log_softmax),
        "x - torch.logsumexp": another(lambda x, dim: x - torch.logsumexp(x, dim, keepdim=True)),
    }),
    "ex5_temperature_for_test": ("temperature_for", {
        **NUMBER_ODD,
        "brentq on log T": another(brentq_temperature),
        "1 / T": returns(lambda r: 1 / r),
        **{f"{n} geometric halvings": bisection_temperature(n) for n in (10, 12, 13, 14, 15, 16)},
        **{f"{n} arithmetic halvings": bisection_temperature(n, geometric=False) for n in (18, 20, 22)},
        **{f"{n} geometric halvings, returning {end}": bisection_temperature(n, answer=end)
           for n in (13, 14, 15) for end in ("lo", "hi")},
        "20 arithmetic halvings, returning lo": bisection_temperature(20, geometric=False, answer="lo"),
    }),
}


# --------------------------------------------------------------------------- week 04 helpers
def safe_mse_saying(message):
    """A safe_mse (week 04) whose ValueError for mismatched shapes has the message ``message(output, target)``."""
    def safe_mse(output, target):
        if output.dim() == target.dim() + 1 and output.shape[-1] == 1:
            output = output.squeeze(-1)
        if output.shape != target.shape:
            raise ValueError(message(output, target))
        return ((output - target) ** 2).mean()
    return another(safe_mse)


# --------------------------------------------------------------------------- week 03
def value(transform):
    """A value answer (not a function) with ``transform`` applied."""
    return lambda sol, cell: transform(sol)


F = nn.functional
NO_DETACH = {k: v for k, v in TENSOR_ODD.items() if k != "detached"}


def nll_by_gather(log_probs, target, reduction="mean"):
    per = -log_probs.gather(1, target[:, None]).squeeze(1)
    return {"mean": per.mean(), "sum": per.sum(), "none": per}[reduction] if reduction in ("mean", "sum", "none") \
        else F.nll_loss(log_probs, target, reduction=reduction)


def ce_gradient_by_autograd(logits, target):
    z = logits.detach().clone().requires_grad_(True)
    F.cross_entropy(z, target).backward()
    return z.grad


def masked_ce_by_loop(logits, target, ignore_index=-100):
    total, n = logits.new_zeros(()), 0
    for i in range(target.shape[0]):
        for j in range(target.shape[1]):
            if target[i, j] != ignore_index:
                total = total - torch.log_softmax(logits[i, :, j], dim=0)[target[i, j]]
                n += 1
    return total / n


WEEK03 = {
    "ex1_nll_test": ("nll", {
        **TENSOR_ODD,
        "F.nll_loss": another(lambda log_probs, target, reduction="mean": F.nll_loss(log_probs, target,
                                                                                     reduction=reduction)),
        "gather": another(nll_by_gather),
        "the mean whatever the reduction": another(lambda log_probs, target, reduction="mean": F.nll_loss(
            log_probs, target)),
    }),
    "ex2_cross_entropy_batch_test": ("cross_entropy_batch", {
        **TENSOR_ODD,
        "F.cross_entropy": another(F.cross_entropy),
        "log_softmax and gather": another(lambda logits, target: -torch.log_softmax(logits, 1).gather(
            1, target[:, None]).mean()),
        "log of softmax": another(lambda logits, target: -torch.log(torch.softmax(logits, 1))[
            torch.arange(len(target)), target].mean()),
    }),
    "ex3_double_softmax_test": [
        ("fixed_loss", {**TENSOR_ODD, "log_softmax + NLL": another(lambda logits, target: F.nll_loss(
            torch.log_softmax(logits, 1), target)),
            "the double softmax left in": another(lambda logits, target: F.cross_entropy(logits.softmax(1), target))}),
        ("double_softmax_floor", {**NUMBER_ODD, "log C": another(lambda n_classes: math.log(n_classes)),
                                  "by torch": another(lambda n_classes: F.cross_entropy(
                                      torch.eye(n_classes)[:1], torch.tensor([0])).item())}),
        ("answer", choice_odd("A")),
    ],
    "ex4_bce_with_logits_test": ("bce_with_logits", {
        **TENSOR_ODD,
        "F.binary_cross_entropy_with_logits": another(F.binary_cross_entropy_with_logits),
        "softplus": another(lambda logits, target: (F.softplus(logits) - logits * target).mean()),
        "log of sigmoid (unstable)": another(lambda logits, target: -(target * torch.log(torch.sigmoid(logits)) + (
            1 - target) * torch.log(1 - torch.sigmoid(logits))).mean()),
        "Python's max(x, 0)": another(lambda logits, target: (max(logits, 0) - logits * target
                                                              + torch.log1p(torch.exp(-logits.abs()))).mean()),
        "torch.maximum(x, 0)": another(lambda logits, target: (torch.maximum(logits, 0) - logits * target
                                                               + torch.log1p(torch.exp(-logits.abs()))).mean()),
        "logits.clamp(min=0)": another(lambda logits, target: (logits.clamp(min=0) - logits * target
                                                               + torch.log1p(torch.exp(-logits.abs()))).mean()),
    }),
    "ex5_ce_gradient_test": ("ce_gradient", {
        **NO_DETACH,
        "autograd": another(ce_gradient_by_autograd),
        "exp / sum": another(lambda logits, target: (torch.exp(logits - logits.amax(1, keepdim=True)) / torch.exp(
            logits - logits.amax(1, keepdim=True)).sum(1, keepdim=True) - F.one_hot(target, logits.shape[1]).to(
            logits.dtype)) / len(target)),
    }),
    "ex6_multilabel_test": [
        ("multi_hot", {
            **{k: TENSOR_ODD[k] for k in ("None", "a NumPy array", "a list", "a tuple", "float16")},
            "float64": returns(lambda r: r.double()), "long": returns(lambda r: r.long()),
            "bool": returns(lambda r: r.bool()),
            "scatter": another(lambda label_sets, n_labels: torch.stack([torch.zeros(n_labels).index_fill(
                0, torch.tensor(sorted(s), dtype=torch.long), 1.0) for s in label_sets]) if label_sets
                else torch.zeros(0, n_labels)),
        }),
        ("per_label_bce", {**TENSOR_ODD, "the mean over everything": another(
            lambda logits, targets: F.binary_cross_entropy_with_logits(logits, targets))}),
        ("predict_labels", {
            **{k: v for k, v in CLASSES_ODD.items() if k not in ("bool", "shape (N, 1)")},
            "long": returns(lambda r: r.long()),
            "logits compared with the thresholds": another(lambda logits, thresholds: logits >= thresholds),
            "logits compared with their logit": another(lambda logits, thresholds: logits >= torch.logit(thresholds)),
        }),
    ],
    "ex7_masked_cross_entropy_test": ("masked_cross_entropy", {
        **TENSOR_ODD,
        "F.cross_entropy": another(lambda logits, target, ignore_index=-100: F.cross_entropy(
            logits, target, ignore_index=ignore_index)),
        "a loop over the positions": another(masked_ce_by_loop),
        "padding counted in the mean": another(lambda logits, target, ignore_index=-100: F.cross_entropy(
            logits, target, ignore_index=ignore_index, reduction="sum") / target.numel()),
    }),
}


# --------------------------------------------------------------------------- week 04
def gd_line_closed_form(x, y, loss_fn, lr=0.2, steps=1000):
    """The right line for each loss without gradient descent (as if the exercise's algorithm were not asked)."""
    from course_utils.fitting import best_line

    name = {F.mse_loss: "mse", F.l1_loss: "mae"}.get(loss_fn, "huber")
    best = best_line(x, y, name)
    return best.w, best.b


def gd_line_float64(x, y, loss_fn, lr=0.2, steps=1000):
    from course_utils.fitting import fit_line

    fit = fit_line(x.double(), y.double(), loss_fn, lr=lr, steps=steps)
    return fit.w, fit.b


WEEK04 = {
    "ex1_mae_test": ("mae", {
        **TENSOR_ODD,
        "F.l1_loss": another(F.l1_loss),
        "sqrt of the squares": another(lambda pred, target: torch.sqrt((pred - target) ** 2).mean()),
        "the sum": another(lambda pred, target: (pred - target).abs().sum()),
    }),
    "ex2_mse_rmse_test": [
        ("mse", {**TENSOR_ODD, "F.mse_loss": another(F.mse_loss)}),
        ("rmse", {**TENSOR_ODD, "math.sqrt": another(lambda pred, target: math.sqrt(F.mse_loss(pred, target))),
                  "a norm": another(lambda pred, target: torch.linalg.vector_norm(pred - target) / math.sqrt(
                      pred.numel()))}),
    ],
    "ex3_broadcast_test": [
        ("bug_shape", {"a list": value(list), "torch.Size": value(torch.Size), "a NumPy array": value(np.array),
                       "the string": value(str), "(64,)": another((64,)), "None": another(None),
                       "(64, 1)": another((64, 1))}),
        ("safe_mse", {
            **TENSOR_ODD,
            "reshape to the target's shape": another(lambda output, target: F.mse_loss(output.reshape(target.shape),
                                                                                        target)),
            "squeeze() of every size-1 dimension": another(lambda output, target: F.mse_loss(output.squeeze(), target)),
            "no shape check": another(lambda output, target: ((output - target) ** 2).mean()),
            "a message naming neither shape": safe_mse_saying(lambda o, t: "the shapes do not match"),
            "a message naming only the output's shape": safe_mse_saying(lambda o, t: f"bad shape {tuple(o.shape)}"),
            "a message naming only the targets' shape": safe_mse_saying(lambda o, t: f"shape: want {tuple(t.shape)}"),
            "the shapes as torch.Size": safe_mse_saying(lambda o, t: f"shape {o.shape} vs {t.shape}"),
        }),
    ],
    "ex4_huber_test": ("huber", {
        **TENSOR_ODD,
        "F.huber_loss, no check of delta": another(lambda pred, target, delta=1.0: F.huber_loss(pred, target,
                                                                                                delta=delta)),
        "delta times SmoothL1": another(lambda pred, target, delta=1.0: delta * F.smooth_l1_loss(
            pred, target, beta=delta) if delta > 0 else float("nan")),
    }),
    "ex5_grads_test": [
        ("mse_grad", {**NO_DETACH, "autograd": another(lambda pred, target: torch.autograd.grad(
            F.mse_loss(pred.detach().requires_grad_(True), target), pred)[0] if pred.requires_grad else
            torch.autograd.functional.jacobian(lambda p: F.mse_loss(p, target), pred))}),
        ("mae_grad", {**NO_DETACH, "r / |r|": another(lambda pred, target: (pred - target) / (pred - target).abs()
                                                      / pred.numel())}),
        ("huber_grad", {**NO_DETACH, "autograd": another(lambda pred, target, delta: torch.autograd.functional.jacobian(
            lambda p: F.huber_loss(p, target, delta=delta), pred))}),
    ],
    "ex6_gd_line_test": ("gd_line", {
        **{k: v for k, v in PAIR_ODD.items() if k != "swapped"},
        "tensors": returns(lambda r: (torch.tensor(r[0]), torch.tensor(r[1]))),
        "the best line, without gradient descent": another(gd_line_closed_form),
        "in float64": another(gd_line_float64),
    }),
    "ex6_choice_test": [
        ("val_errors", {
            "0-dim tensors": value(lambda r: {k: torch.tensor(v) for k, v in r.items()}),
            "np.float32": value(lambda r: {k: np.float32(v) for k, v in r.items()}),
            "negative errors": lambda sol, cell: {k: -v for k, v in sol.items()},
            "ten too large": lambda sol, cell: {k: v + 10.0 for k, v in sol.items()},
            "a loss missing": value(lambda r: {k: v for k, v in r.items() if k != "huber"}),
            "upper-case keys": value(lambda r: {k.upper(): v for k, v in r.items()}),
            "None values": value(lambda r: dict.fromkeys(r)),
            "a list": value(lambda r: list(r.values())),
        }),
        ("chosen_loss", {
            "the other robust loss": lambda sol, cell: "huber" if sol == "mae" else "mae",
            "mse": another("mse"), "upper case": value(str.upper), "None": another(None),
            "a list": value(lambda r: [r]), "np.str_": value(np.str_),
        }),
    ],
}


# --------------------------------------------------------------------------- week 06
def hinge_by_loop(scores, targets, margin=1.0):
    total = torch.zeros((), dtype=scores.dtype)
    for i in range(len(scores)):
        total = total + torch.clamp(margin - targets[i] * scores[i], min=0)
    return total / len(scores)


def weighted_ce_by_nll(logits, targets, weight):
    return F.nll_loss(torch.log_softmax(logits, dim=1), targets, weight=weight)


def paired_t_float32(a, b):
    d = torch.tensor(a) - torch.tensor(b)
    return float(d.mean() / (d.std() / math.sqrt(len(d))))


def paired_t_scipy(a, b):
    from scipy import stats

    return stats.ttest_rel(a, b).statistic


WEEK06 = {
    "ex1_pick_losses_test": ("pick_losses", {
        "None": returns(lambda r: None),
        "an OrderedDict": returns(OrderedDict),
        "np.str_ values": returns(lambda r: {k: np.str_(v) for k, v in r.items()}),
        "lower case": returns(lambda r: {k: v.lower() for k, v in r.items()}),
        "an extra task": returns(lambda r: {**r, "extra": "MSELoss"}),
        "a task missing": returns(lambda r: dict(list(r.items())[1:])),
        "a list of pairs": returns(lambda r: list(r.items())),
        "MSE for the counts": returns(lambda r: {**r, "flowers_per_plot": "MSELoss"}),
        "the dict itself, not a function": lambda sol, cell: sol(),
    }),
    "ex2_hinge_test": ("hinge", {
        **TENSOR_ODD,
        "relu": another(lambda scores, targets, margin=1.0: F.relu(margin - targets * scores).mean()),
        "margin 1 always": another(lambda scores, targets, margin=1.0: F.relu(1 - targets * scores).mean()),
        "a Python loop over the samples": another(hinge_by_loop),
        "a loop that stacks per-sample losses": another(lambda scores, targets, margin=1.0: torch.stack(
            [torch.clamp(margin - t * s, min=0) for s, t in zip(scores, targets, strict=True)]).mean()),
        "max(0, tensor)": another(lambda scores, targets, margin=1.0: max(0, margin - targets * scores).mean()),
    }),
    "ex3_weighted_ce_test": ("weighted_cross_entropy", {
        **TENSOR_ODD,
        "F.cross_entropy(weight=)": another(lambda logits, targets, weight: F.cross_entropy(logits, targets,
                                                                                            weight=weight)),
        "log_softmax + NLL with weights": another(weighted_ce_by_nll),
        "divided by N": another(lambda logits, targets, weight: (weight[targets] * F.cross_entropy(
            logits, targets, reduction="none")).mean()),
    }),
    "ex4_poisson_nll_test": ("poisson_nll", {
        **TENSOR_ODD,
        "F.poisson_nll_loss": another(lambda log_rate, counts: F.poisson_nll_loss(log_rate, counts)),
        "with log k!": another(lambda log_rate, counts: (log_rate.exp() - counts * log_rate + torch.lgamma(
            counts + 1)).mean()),
        "divided by len()": another(lambda log_rate, counts: (log_rate.exp() - counts * log_rate).sum() / len(log_rate)),
    }),
    "ex5_flower_loss_test": ("flower_loss", {
        **TENSOR_ODD,
        "squeeze(-1)": another(lambda species_logits, species, count_pred, count, lam: F.cross_entropy(
            species_logits, species) + lam * F.mse_loss(count_pred.squeeze(-1), count)),
        "the (N, N) broadcast": another(lambda species_logits, species, count_pred, count, lam: F.cross_entropy(
            species_logits, species) + lam * ((count_pred - count) ** 2).mean()),
    }),
    "ex6_paired_t_test": ("paired_t", {
        **NUMBER_ODD,
        "scipy": another(paired_t_scipy),
        "torch in float32": another(paired_t_float32),
        "the population sd": another(lambda a, b: float(np.mean(np.subtract(a, b)) / (np.std(np.subtract(a, b))
                                                                                      / math.sqrt(len(a))))),
    }),
    "ex7_comparison_test": [
        ("ci", {"None": another(None), "swapped": value(lambda r: (r[1], r[0])), "a list": value(list),
                "a NumPy array": value(np.array), "three values": value(lambda r: (*r, 0.0)),
                "a dict": value(lambda r: {"low": r[0], "high": r[1]}), "a tensor": value(torch.tensor),
                "the sign flipped": value(lambda r: (-r[1], -r[0])), "the mean only": value(lambda r: sum(r) / 2),
                "a 1.96 interval": value(lambda r: (sum(r) / 2 - (r[1] - r[0]) / 2 * 1.96 / 2.262,
                                                    sum(r) / 2 + (r[1] - r[0]) / 2 * 1.96 / 2.262))}),
        ("verdict", {"lower case": value(str.lower), "upper case": value(str.upper), "worse": another("worse"),
                     "better": another("better"), "None": another(None), "a list": value(lambda r: [r]),
                     "np.str_": value(np.str_), "a trailing space": value(lambda r: r + " ")}),
        ("t_value", {k: v for k, v in NUMBER_ODD.items() if k != "None"} | {"the sign flipped": value(lambda r: -r)}),
        ("p_value", {k: v for k, v in NUMBER_ODD.items() if k != "None"} | {"one-sided": value(lambda r: r / 2)}),
        ("comparison", {"None": another(None), "its table": value(lambda r: r.table()),
                        "its summary": value(lambda r: r.summary())}),
    ],
}


# --------------------------------------------------------------------------- week 05
def train_epoch_with_tensor_total(model, loss_fn, optimizer, loader):
    model.train()
    total, n = torch.zeros(()), 0
    for X, y in loader:
        loss = loss_fn(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        total, n = total + loss.detach() * len(y), n + len(y)
    return (total / n).item()


def evaluate_variant(*, no_grad=True, eval_mode=True, restore=True, at_once=False):
    def evaluate(model, loss_fn, loader):
        if eval_mode:
            model.eval()
        with torch.set_grad_enabled(not no_grad):
            if at_once:  # all the outputs first, one loss at the end: the same numbers
                out = torch.cat([model(X) for X, _ in loader])
                y = torch.cat([t for _, t in loader])
                result = loss_fn(out, y).item(), (out.argmax(1) == y).double().mean().item()
            else:
                total, correct, n = 0.0, 0, 0
                for X, y in loader:
                    out = model(X)
                    total, correct, n = total + loss_fn(out, y).item() * len(y), correct + (out.argmax(1) == y).sum().item(), n + len(y)
                result = total / n, correct / n
        if restore:
            model.train()
        return result
    return another(evaluate)


def fixed_train_log_softmax(model, train_loader, val_loader, epochs, lr):
    loss_fn, opt, losses = nn.NLLLoss(), torch.optim.SGD(model.parameters(), lr=lr), []
    model.train()
    for _ in range(epochs):
        total, n = 0.0, 0
        for X, y in train_loader:
            loss = loss_fn(torch.log_softmax(model(X), dim=1), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total, n = total + loss.item() * len(y), n + len(y)
        losses.append(total / n)
    model.eval()
    with torch.no_grad():
        correct = sum((model(X).argmax(dim=1) == y).sum().item() for X, y in val_loader)
    model.train()
    return losses, correct / sum(len(y) for _, y in val_loader)


def trained(transform):
    """The digits model the solution trained (taken from the namespace, not trained again), transformed."""
    def make(sol, cell):
        return lambda train_loader, val_loader: transform(copy.deepcopy(cell.after["result"]["model"]))
    return make


class TupleForward(nn.Module):
    def __init__(self, inner):
        super().__init__()
        self.inner = inner

    def forward(self, x):
        logits = self.inner(x)
        return logits, logits.softmax(1)


WEEK05 = {
    "ex1_loss_pairing_test": ("answer", choice_odd("B")),
    "ex2_train_one_epoch_test": ("train_one_epoch", {
        **NUMBER_ODD,
        "a tensor total, .item() at the end": another(train_epoch_with_tensor_total),
    }),
    "ex3_evaluate_test": ("evaluate", {
        **PAIR_ODD,
        "without no_grad": evaluate_variant(no_grad=False),
        "without model.eval()": evaluate_variant(eval_mode=False),
        "left in eval mode": evaluate_variant(restore=False),
        "one loss over all outputs": evaluate_variant(at_once=True),
    }),
    "ex4_fixed_train_test": ("fixed_train", {
        **{k: v for k, v in PAIR_ODD.items() if k != "swapped"},
        "losses as a tensor": returns(lambda r: (torch.tensor(r[0]), r[1])),
        "losses as a NumPy array": returns(lambda r: (np.array(r[0]), r[1])),
        "losses as a tuple": returns(lambda r: (tuple(r[0]), r[1])),
        "log_softmax + NLLLoss": another(fixed_train_log_softmax),
    }),
    "ex5_train_digits_model_test": ("train_digits_model", {
        "the trained model": trained(lambda m: m),
        "None": trained(lambda m: None),
        "(model, accuracy)": trained(lambda m: (m, 0.97)),
        "the state_dict": trained(lambda m: m.state_dict()),
        "a float64 model": trained(lambda m: m.double()),
        "forward returns a tuple": trained(TupleForward),
        "forward gives probabilities": trained(lambda m: nn.Sequential(m, nn.Softmax(dim=1))),
        "an untrained model": another(lambda train_loader, val_loader: nn.Linear(64, 10)),
    }),
}

# --------------------------------------------------------------------------- week 07
def confidence_by_sorting(probs, targets):
    values, order = torch.sort(probs, dim=1, descending=True)
    return values[:, 0], (order[:, 0] == targets).to(probs.dtype)


def brier_without_num_classes(probs, targets):
    return ((probs - nn.functional.one_hot(targets).to(probs.dtype)) ** 2).sum(dim=1).mean()


def biopsy_by_expected_costs(p_malignant, cost_fn, cost_fp):
    return p_malignant * cost_fn >= (1 - p_malignant) * cost_fp


def ece_variant(*, float32_correct=False, float32=False, ceil=False, linspace=False, floor=False, reference=False,
                linspace32=False):
    """An ECE written another way: float32 parts (the week's first solution had them), ceil- or floor-based
    bin indices, linspace edges, or the course's own function."""
    def expected_calibration_error(probs, targets, n_bins=15):
        if reference:
            return cal.expected_calibration_error(probs, targets, n_bins)
        p = probs.float() if float32 else probs
        confidence, predicted = p.max(dim=1)
        correct = (predicted == targets).float() if float32_correct or float32 else (predicted == targets).double()
        if ceil:
            bin_of = (torch.ceil(confidence * n_bins).long() - 1).clamp(0, n_bins - 1)
        elif floor:  # [lo, hi) bins: wrong for confidences exactly on an edge
            bin_of = torch.floor(confidence * n_bins).long().clamp(max=n_bins - 1)
        else:
            edges = (torch.linspace(0, 1, n_bins + 1, dtype=confidence.dtype) if linspace
                     else torch.linspace(0, 1, n_bins + 1).double() if linspace32  # 0.9 stored as 0.8999999762
                     else torch.arange(n_bins + 1, dtype=torch.float64) / n_bins)
            bin_of = torch.bucketize(confidence.to(edges.dtype), edges[1:-1])
        ece = 0.0
        for b in range(n_bins):
            m = bin_of == b
            if m.any():  # float32 means when asked for: off by ~1e-8 from the float64 reference
                ece += m.double().mean().item() * abs(correct[m].mean().item() - confidence[m].mean().item())
        return ece
    return another(expected_calibration_error)


def fit_temperature_lbfgs(logits, targets):
    log_t = torch.zeros((), dtype=torch.float64, requires_grad=True)
    opt = torch.optim.LBFGS([log_t], lr=0.5, max_iter=200, tolerance_grad=1e-12, tolerance_change=1e-14,
                            line_search_fn="strong_wolfe")
    z = logits.double()

    def closure():
        opt.zero_grad()
        loss = nn.functional.cross_entropy(z / log_t.exp(), targets)
        loss.backward()
        return loss

    opt.step(closure)
    return math.exp(log_t.item())


def fit_temperature_grid(n=1000, lo=0.05, hi=20.0, float32=False, linear=False):
    def fit_temperature(logits, targets):
        grid = (torch.linspace(lo, hi, n, dtype=torch.float64) if linear  # evenly in T: coarse at small T
                else torch.exp(torch.linspace(math.log(lo), math.log(hi), n, dtype=torch.float64)))
        z = logits.float() if float32 else logits.double()
        nll = torch.stack([nn.functional.cross_entropy(z / t, targets) for t in grid])
        return float(grid[nll.argmin()])
    return another(fit_temperature)


def report_with(**changes):
    """The solution's report with some entries changed: {key: f(report, args)}."""
    def make(sol, cell):
        @functools.wraps(sol)
        def odd(val_logits, val_y, test_logits, test_y):
            r = sol(val_logits, val_y, test_logits, test_y)
            return {**r, **{k: f(r, (val_logits, val_y, test_logits, test_y)) for k, f in changes.items()}}
        return odd
    return make


def report_by_the_library(val_logits, val_y, test_logits, test_y):
    T = cal.fit_temperature(val_logits, val_y)
    probs = cal.temperature_scale(test_logits, T)
    return {"T": T, "probs": probs, "ece_before": cal.expected_calibration_error(test_logits.softmax(dim=1), test_y),
            "ece_after": cal.expected_calibration_error(probs, test_y)}


def report_fitted_on_test(val_logits, val_y, test_logits, test_y):
    return report_by_the_library(test_logits, test_y, test_logits, test_y)


WEEK07 = {
    "ex1_confidence_test": ("confidence_and_correct", {
        **{k: v for k, v in PAIR_ODD.items() if k not in ("second as a tensor", "second as np.float32")},
        "NumPy arrays": returns(lambda r: (r[0].numpy(), r[1].numpy())),
        "lists of numbers": returns(lambda r: (r[0].tolist(), r[1].tolist())),
        "correct as bool": returns(lambda r: (r[0], r[1].bool())),
        "correct as float32": returns(lambda r: (r[0], r[1].float())),
        "correct as long": returns(lambda r: (r[0], r[1].long())),
        "float64 / float32 swapped": returns(lambda r: tuple(t.double() if t.dtype != torch.float64 else t.float()
                                                             for t in r)),
        "detached": returns(lambda r: (r[0].detach(), r[1].detach())),
        "overwrites its input": overwrites_input,
        "torch.max (values, indices)": another(lambda probs, targets: torch.max(probs, dim=1)),
        "amax and torch.where": another(lambda probs, targets: (
            probs.amax(dim=1), torch.where(probs.argmax(dim=1) == targets, 1.0, 0.0).to(probs.dtype))),
        "sorting": another(confidence_by_sorting),
    }),
    "ex2_brier_test": ("brier_score", {
        **TENSOR_ODD,
        "shape (1,)": returns(lambda r: r.reshape(1)),
        "C times F.mse_loss": another(lambda probs, targets: probs.shape[1] * nn.functional.mse_loss(
            probs, nn.functional.one_hot(targets, probs.shape[1]).to(probs.dtype))),
        "a sum over everything / N": another(lambda probs, targets: (
            (probs - nn.functional.one_hot(targets, probs.shape[1])) ** 2).sum() / len(targets)),
        "F.one_hot without num_classes": another(brier_without_num_classes),
    }),
    "ex3_threshold_test": ("biopsy", {
        **{k: v for k, v in TENSOR_ODD.items() if k not in ("float64 / float32 swapped", "float16", "always float32")},
        "0/1 as long": returns(lambda r: r.long()),
        "0/1 as float": returns(lambda r: r.float()),
        "shape (N, 1)": returns(lambda r: r[:, None]),
        "NumPy bools": returns(lambda r: r.numpy()),
        "torch.where(..., 1, 0)": another(lambda p, cost_fn, cost_fp: torch.where(
            p >= cost_fp / (cost_fp + cost_fn), 1, 0)),
        "p > threshold": another(lambda p, cost_fn, cost_fp: p > cost_fp / (cost_fp + cost_fn)),
        "the expected costs compared": another(biopsy_by_expected_costs),
        "not (p < threshold)": another(lambda p, cost_fn, cost_fp: ~(p < cal.cost_threshold(cost_fn, cost_fp))),
    }),
    "ex4_ece_test": ("expected_calibration_error", {
        **NUMBER_ODD,
        "overwrites its input": overwrites_input,
        "float32 correct (a float32 ECE)": ece_variant(float32_correct=True),
        "everything in float32": ece_variant(float32=True),
        "ceil-based bin index": ece_variant(ceil=True),
        "linspace edges": ece_variant(linspace=True),
        "float32 linspace edges, exact confidences in float64": ece_variant(linspace32=True),
        "floor-based bins [lo, hi)": ece_variant(floor=True),
        "cal.expected_calibration_error": ece_variant(reference=True),
    }),
    "ex5_fit_temperature_test": ("fit_temperature", {
        **NUMBER_ODD,
        "overwrites its input": overwrites_input,
        "1 / T": returns(lambda r: 1 / r),
        "L-BFGS on log T": another(fit_temperature_lbfgs),
        "golden section (cal.fit_temperature)": another(lambda logits, targets: cal.fit_temperature(logits, targets)),
        "a grid in float32": fit_temperature_grid(float32=True),
        "a grid that stops at T = 2": fit_temperature_grid(hi=2.0),
        "a grid spread evenly in T, not in log T": fit_temperature_grid(linear=True),
    }),
    "ex6_report_test": ("calibration_report", {
        "None": returns(lambda r: None),
        "a list of the values": returns(lambda r: list(r.values())),
        "a tuple of the values": returns(lambda r: tuple(r.values())),
        "an OrderedDict": returns(OrderedDict),
        "an extra entry": returns(lambda r: {**r, "accuracy": 0.9}),
        "ece_after missing": returns(lambda r: {k: v for k, v in r.items() if k != "ece_after"}),
        "T as a 0-dim tensor": report_with(T=lambda r, a: torch.tensor(r["T"])),
        "T as np.float32": report_with(T=lambda r, a: np.float32(r["T"])),
        "T as np.float64": report_with(T=lambda r, a: np.float64(r["T"])),
        "T as a string": report_with(T=lambda r, a: f"{r['T']:.4f}"),
        "probs as a NumPy array": report_with(probs=lambda r, a: r["probs"].numpy()),
        "probs as a list": report_with(probs=lambda r, a: r["probs"].tolist()),
        "probs in float32": report_with(probs=lambda r, a: r["probs"].float()),
        "probs detached": report_with(probs=lambda r, a: r["probs"].detach()),
        "the ECEs as tensors": report_with(ece_before=lambda r, a: torch.tensor(r["ece_before"]),
                                           ece_after=lambda r, a: torch.tensor(r["ece_after"])),
        "the ECEs as np.float32": report_with(ece_before=lambda r, a: np.float32(r["ece_before"]),
                                              ece_after=lambda r, a: np.float32(r["ece_after"])),
        "the ECEs swapped": report_with(ece_before=lambda r, a: r["ece_after"], ece_after=lambda r, a: r["ece_before"]),
        "overwrites its input": overwrites_input,
        "T fitted on the test set": another(report_fitted_on_test),
        "the course's functions throughout": another(report_by_the_library),
    }),
}

#: week -> {graded cell id: (the name its answer has, {odd version: make(solution, cell)}), or a list of them}
WEEKS = {"week01": WEEK01, "week02": WEEK02, "week03": WEEK03, "week04": WEEK04, "week05": WEEK05,
         "week06": WEEK06, "week07": WEEK07}


# --------------------------------------------------------------------------- running cells in this process
@dataclass
class Graded:
    visible: str
    hidden: str
    namespace: dict  # a copy of the namespace just before the graded cell ran
    after: dict  # ... and just after


class WroteToStderr(Exception):
    """A graded cell that ran but gave a warning: the grader sees it on stderr and scores the cell 0."""


def _run(source: str, ns: dict, where: str, *, warnings_fail: bool = False) -> BaseException | None:
    """Execute a cell's source in ``ns`` (stdout swallowed); the exception it raised, or None. With
    ``warnings_fail`` a warning the cell gives (shown as in a kernel: once per place) counts as a failure."""
    torch.manual_seed(0)
    try:
        with contextlib.redirect_stdout(io.StringIO()), warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("default" if warnings_fail else "ignore")
            exec(compile(source, where, "exec"), ns)
    except Exception as exc:
        return exc
    if caught:
        return WroteToStderr(f"{caught[0].category.__name__}: {caught[0].message}")
    return None


@contextlib.contextmanager
def _torch_settings_kept():
    """One CPU thread meanwhile (tiny models: faster than several competing threads, as week 05 sets itself);
    the notebooks' set_seed (deterministic algorithms) and set_num_threads are undone afterwards."""
    threads = torch.get_num_threads()
    det, warn_only = torch.are_deterministic_algorithms_enabled(), torch.is_deterministic_algorithms_warn_only_enabled()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(threads)
        torch.use_deterministic_algorithms(det, warn_only=warn_only)


@functools.cache
def executed(week: str) -> dict[str, Graded]:
    """Run the solution notebook of ``week`` top to bottom; each graded cell's parts and namespace."""
    nb = nbformat.read(ROOT / "solutions" / week / f"{week}_exercises.ipynb", as_version=4)
    ns: dict = {"__name__": "__main__"}
    graded = {}
    with _torch_settings_kept():
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            meta = cell.metadata.get("nbgrader", {})
            if meta.get("grade"):
                hidden = HIDDEN.search(cell.source)
                graded[meta["grade_id"]] = Graded(HIDDEN.sub("", cell.source), hidden.group(1) if hidden else "",
                                                  dict(ns), ns)
            error = _run(cell.source, ns, f"<{week} {meta.get('grade_id', 'cell')}>")
            assert error is None, f"{week}: the solution notebook fails in this process: {error!r}"
            if meta.get("grade"):
                graded[meta["grade_id"]].after = dict(ns)
    return graded


def verdicts(week: str, gid: str, name: str, make) -> tuple[BaseException | None, BaseException | None]:
    """(visible error, hidden error) of graded cell ``gid`` when its answer ``name`` is replaced by an odd one."""
    cell = executed(week)[gid]
    ns = dict(cell.namespace)
    ns[name] = make(ns[name], cell)
    with _torch_settings_kept():
        visible = _run(cell.visible, ns, f"<{week} {gid} visible>", warnings_fail=True)
        hidden = _run(cell.hidden, ns, f"<{week} {gid} hidden>", warnings_fail=True)
    return visible, hidden


def _weeks_found() -> list[str]:
    return sorted(p.name for p in (ROOT / "solutions").glob("week*") if (p / f"{p.name}_exercises.ipynb").exists())


CASES = [(week, gid) for week in sorted(WEEKS) if week in _weeks_found() for gid in WEEKS[week]]


def answers(week: str, gid: str) -> list[tuple[str, dict]]:
    """The (answer name, odd versions) pairs of one graded cell."""
    row = WEEKS[week][gid]
    return row if isinstance(row, list) else [row]


N_PAIRS = sum(len(variants) for w, g in CASES for _, variants in answers(w, g))


def _say(exc: BaseException | None) -> str:
    return "passed" if exc is None else f"failed ({type(exc).__name__}: {(str(exc).strip().splitlines() or [''])[0][:120]})"


@pytest.mark.parametrize("week, gid", CASES)
def test_visible_and_hidden_verdicts_agree_on_odd_answers(week, gid):
    """For every odd version of this exercise's answer: does the visible check's verdict equal the hidden tests'?
    Does the visible check fail with a hint (CheckFailed) rather than a traceback?"""
    problems, n = [], 0
    for name, variants in answers(week, gid):
        for label, make in variants.items():
            n += 1
            label = f"{name}: {label}" if len(answers(week, gid)) > 1 else label
            visible, hidden = verdicts(week, gid, name, make)
            if (visible is None) != (hidden is None):
                problems.append(f"{label}: visible {_say(visible)}, hidden {_say(hidden)}")
            elif visible is not None and not isinstance(visible, CheckFailed):
                problems.append(f"{label}: the visible check crashed instead of giving a hint: {_say(visible)}")
    assert not problems, f"{week}/{gid}, {len(problems)} of {n} odd answers:\n" + "\n".join(problems)


@pytest.mark.parametrize("week", sorted(WEEKS))
def test_every_graded_exercise_of_a_covered_week_has_odd_answers(week):
    """A new graded cell in a covered week needs its row in the table (else its rule goes untested)."""
    assert week in _weeks_found(), f"solutions/{week} is not there, but the table has rows for it"
    nb = nbformat.read(ROOT / "solutions" / week / f"{week}_exercises.ipynb", as_version=4)
    gids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
    assert sorted(gids) == sorted(WEEKS[week]), f"{week}: graded cells {gids}, table rows {sorted(WEEKS[week])}"


def test_the_matrix_tries_every_kind_of_odd_answer():
    """Is the matrix as large as it claims (a guard against a table that silently shrinks)?"""
    assert N_PAIRS >= 400, N_PAIRS


def test_every_week_of_exercises_is_in_the_matrix():
    """A new week of exercises needs its table: a ✔ must predict the hidden verdict in every week."""
    assert sorted(WEEKS) == _weeks_found()
