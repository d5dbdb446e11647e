"""Student-facing checks for the exercises' visible test cells.

A check runs the student's function on several cases (typical, batch of one,
large values, other ``dim``), compares each result with the course's reference
and, on a mismatch, raises :class:`CheckFailed` (an ``AssertionError``) whose
message says *how* the answer differs and gives a hint naming the likely
mistake. A passing check prints one short confirmation line to stdout and never
writes to stderr (nbgrader scores a cell that writes to stderr as failed).

Week-specific checks live in the sections at the bottom of this file; they are
built from :func:`check_function` and small ``diagnose`` functions that turn a
wrong answer into a hint.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch


class CheckFailed(AssertionError):
    """Raised by a check: the message is meant for the student."""


@dataclass
class Case:
    """One call of the student's function: ``fn(*args, **kwargs)``; ``label`` names it in messages."""

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)


def _clone(value):
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(_clone(v) for v in value)
    if isinstance(value, dict):
        return {k: _clone(v) for k, v in value.items()}
    return value


def _as_tensor(value):
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value)
    if isinstance(value, (int, float, bool, np.number)):
        return torch.tensor(value)
    return None


def describe_difference(got: Any, expected: Any, *, atol: float = 1e-6, rtol: float = 1e-5) -> str | None:
    """None when ``got`` matches ``expected``; otherwise one sentence saying how it differs."""
    exp_t = _as_tensor(expected)
    if exp_t is None:  # plain Python objects: strings, tuples of names ...
        return None if got == expected else f"expected {expected!r}, got {got!r}"
    if got is None:
        return "your function returned None — did you forget the `return` statement?"
    got_t = _as_tensor(got)
    if got_t is None:
        return f"expected a tensor, got a {type(got).__name__}"
    if tuple(got_t.shape) != tuple(exp_t.shape):
        return f"expected shape {tuple(exp_t.shape)}, got shape {tuple(got_t.shape)}"
    if exp_t.is_floating_point() and not got_t.is_floating_point():
        return f"expected floating-point values, got dtype {got_t.dtype}"
    if not exp_t.is_floating_point() and got_t.is_floating_point() and exp_t.dtype != torch.bool:
        return f"expected integer values (dtype {exp_t.dtype}), got dtype {got_t.dtype}"
    g, e = got_t.double(), exp_t.double()
    if torch.isnan(g).any() and not torch.isnan(e).any():
        return "your result contains NaN where the expected values are finite (overflow? log of 0?)"
    if torch.isinf(g).any() and not torch.isinf(e).any():
        return "your result contains inf where the expected values are finite (overflow in exp?)"
    if torch.allclose(g, e, atol=atol, rtol=rtol, equal_nan=True):
        return None
    diff = (g - e).abs()
    diff = torch.where(torch.isnan(diff), torch.zeros_like(diff), diff)
    idx = np.unravel_index(int(diff.argmax()), tuple(diff.shape)) if diff.dim() else ()
    where = f" at index {tuple(int(i) for i in idx)}" if idx else ""
    return (f"values differ: largest difference {diff.max().item():.3g}{where} "
            f"(expected {e[idx].item():.6g}, got {g[idx].item():.6g})")


def passed(message: str) -> None:
    """Print the one-line confirmation of a passing check."""
    print(f"✔ {message}")


def check_function(
    fn: Callable,
    reference: Callable,
    cases: Sequence[Case],
    *,
    name: str | None = None,
    diagnose: Callable[[Any, Case, Any], str | None] | None = None,
    atol: float = 1e-6,
    rtol: float = 1e-5,
) -> None:
    """Run ``fn`` and ``reference`` on every case; raise :class:`CheckFailed` with a hint on the first mismatch.

    ``diagnose(got, case, expected)`` may return a hint naming the likely mistake.
    """
    if not callable(fn):
        raise CheckFailed(f"expected a function, got {type(fn).__name__} — pass the function itself, without calling it")
    name = name or getattr(fn, "__name__", "your function")
    for case in cases:
        expected = reference(*_clone(case.args), **_clone(case.kwargs))
        try:
            got = fn(*_clone(case.args), **_clone(case.kwargs))
        except NotImplementedError:
            raise CheckFailed(f"{name} is not implemented yet: replace `raise NotImplementedError` with your code") from None
        except Exception as exc:  # the student's error is the message
            raise CheckFailed(f"{name} raised {type(exc).__name__}: {exc}\n  on case: {case.label}") from None
        problem = describe_difference(got, expected, atol=atol, rtol=rtol)
        if problem is not None:
            hint = diagnose(got, case, expected) if diagnose else None
            msg = f"{name} is not right yet on case: {case.label}\n  {problem}"
            if hint:
                msg += f"\n  Hint: {hint}"
            raise CheckFailed(msg)
    passed(f"{name}: all {len(cases)} cases match the reference")


def check_answer(got: Any, expected: Any, *, name: str, hints: dict | None = None) -> None:
    """Compare a value (not a function); ``hints`` maps known wrong answers to hints."""
    if _as_tensor(expected) is None:  # a choice: never reveal the expected answer in the message
        problem = None if got == expected else f"{got!r} is not the expected answer"
    else:
        problem = describe_difference(got, expected)
    if problem is None:
        passed(f"{name} is correct")
        return
    try:
        hint = (hints or {}).get(got)
    except TypeError:  # unhashable answer (a list, a dict): no known hint
        hint = None
    raise CheckFailed(f"{name} is not right yet: {problem}" + (f"\n  Hint: {hint}" if hint else ""))


def _isclose(a: float, b: float, tol: float = 1e-4) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


# --------------------------------------------------------------------------- week 01
_OUTPUT_TASKS = {
    "leaf_diseased": "1 logit + sigmoid",
    "iris_species": "C logits",
    "dose_response": "1 linear output",
}
_OUTPUT_HINTS = {
    ("leaf_diseased", "C logits"): "two classes work with C=2 logits, but the course's answer for a yes/no question "
    "is a single logit: sigmoid turns it into P(diseased), and 1 - P is the other class",
    ("leaf_diseased", "1 linear output"): "a yes/no answer needs a probability in [0, 1]; a bare linear output is "
    "unbounded — squash it with sigmoid",
    ("iris_species", "1 logit + sigmoid"): "one sigmoid output can only separate two classes; three species need one "
    "logit per class (softmax turns them into probabilities)",
    ("iris_species", "1 linear output"): "a single number cannot say which of three species; use one logit per class",
    ("dose_response", "1 logit + sigmoid"): "the response is a measured quantity, not a probability: a sigmoid would "
    "squash every prediction into (0, 1)",
    ("dose_response", "C logits"): "there are no classes here: a regression predicts one real number per sample",
}


def check_output_choices(answers) -> None:
    """Week 01: ``answers`` maps each task name to one of "C logits", "1 logit + sigmoid", "1 linear output"."""
    if not isinstance(answers, dict):
        raise CheckFailed(f"answers must be a dict mapping task names to choices, got {type(answers).__name__}")
    missing = sorted(set(_OUTPUT_TASKS) - set(answers))
    if missing:
        raise CheckFailed(f"answers has no entry for {', '.join(missing)}")
    choices = sorted(set(_OUTPUT_TASKS.values()))
    for task, expected in _OUTPUT_TASKS.items():
        got = answers[task]
        if got not in choices:
            raise CheckFailed(f"answers[{task!r}] = {got!r} is not one of the choices {choices}")
        if got != expected:
            hint = _OUTPUT_HINTS.get((task, got), "")
            raise CheckFailed(f"answers[{task!r}] is not right yet.\n  Hint: {hint}")
    passed(f"output layers: all {len(_OUTPUT_TASKS)} tasks answered correctly")


def diagnose_sigmoid(got, case: Case, expected) -> str | None:
    """Week 01: name the usual sigmoid mistakes from the wrong output ``got`` for input ``case.args[0]``."""
    z = case.args[0].double()
    g = _as_tensor(got)
    if g is None or g.shape != z.shape:
        return None
    g = g.double()
    if torch.allclose(g, 1 / (1 + torch.exp(z)), atol=1e-6, equal_nan=True):
        return "you computed 1 / (1 + exp(z)); the sigmoid has exp(-z) in the denominator"
    if torch.isnan(g).any():
        return "exp(z) / (1 + exp(z)) overflows to inf / inf = nan for large z; use 1 / (1 + exp(-z))"
    if torch.allclose(g, torch.exp(z) / torch.exp(z).sum(), atol=1e-6):
        return "you normalised over the batch (that is softmax); the sigmoid acts on each number separately"
    return None


def check_sigmoid(fn) -> None:
    """Week 01: check a from-scratch ``sigmoid(z)`` (any shape → same shape, values in [0, 1])."""
    cases = [
        Case("z = tensor([0.0])", (torch.tensor([0.0]),)),
        Case("z = tensor([-2.0, 0.5, 3.0])", (torch.tensor([-2.0, 0.5, 3.0]),)),
        Case("a batch of shape (2, 3)", (torch.tensor([[-1.0, 0.0, 1.0], [2.0, -3.0, 4.0]]),)),
        Case("large values z = tensor([-100.0, 100.0])", (torch.tensor([-100.0, 100.0]),)),
    ]
    check_function(fn, torch.sigmoid, cases, name="sigmoid", diagnose=diagnose_sigmoid)


def _predict_binary_ref(logits, threshold=0.5):
    return (torch.sigmoid(logits) >= threshold).long()


def diagnose_predict_binary(got, case: Case, expected) -> str | None:
    """Week 01: name the usual thresholding mistakes (logits vs probabilities, > vs >=, probabilities returned)."""
    logits = case.args[0]
    threshold = case.kwargs.get("threshold", 0.5)
    g = _as_tensor(got)
    if g is None or g.shape != logits.shape:
        return None
    if g.is_floating_point() and ((g > 0) & (g < 1)).any():
        return "you returned probabilities; compare them with the threshold to get 0/1 predictions"
    if torch.equal(g.long(), (logits >= threshold).long()):
        return "you compared the logits with the threshold; apply sigmoid first (the threshold is a probability)"
    if torch.equal(g.long(), (torch.sigmoid(logits) > threshold).long()):
        return "a probability exactly equal to the threshold should count as class 1: use >= rather than >"
    if torch.equal(g.long(), (torch.sigmoid(logits) >= 0.5).long()):
        return "you ignored the `threshold` argument and used 0.5"
    return None


def check_predict_binary(fn) -> None:
    """Week 01: check ``predict_binary(logits, threshold=0.5)``: logits (N,) → 0/1 integer tensor (N,)."""
    cases = [
        Case("logits = tensor([-2.0, 0.3, 4.0])", (torch.tensor([-2.0, 0.3, 4.0]),)),
        Case("logits between 0 and 0.5, e.g. tensor([0.1, 0.4, -0.1])", (torch.tensor([0.1, 0.4, -0.1]),)),
        Case("a logit of exactly 0 (probability 0.5)", (torch.tensor([0.0, -1.0]),)),
        Case("threshold=0.9 with logits tensor([1.0, 2.5, 3.0])", (torch.tensor([1.0, 2.5, 3.0]),), {"threshold": 0.9}),
        Case("a batch of one", (torch.tensor([1.5]),)),
    ]
    check_function(fn, _predict_binary_ref, cases, name="predict_binary", diagnose=diagnose_predict_binary)


def diagnose_logits_to_classes(got, case: Case, expected) -> str | None:
    """Week 01: name the usual argmax mistakes (wrong dim, no dim, squeezed batch of one, softmax first)."""
    logits = case.args[0]
    g = _as_tensor(got)
    if g is None:
        return None
    if g.dim() == 0:
        return "you took argmax over the whole batch (no dim, or a squeeze of a batch of one); use dim=1"
    if g.shape == (logits.shape[1],) and logits.shape[0] != logits.shape[1]:
        return "your result has one entry per class, not per sample: argmax over dim=1 (the classes), not dim=0"
    if g.shape == expected.shape and torch.equal(g.long(), logits.argmin(dim=1)):
        return "you took argmin; the predicted class has the largest logit"
    if g.shape == expected.shape and torch.equal(g.long(), logits.argmax(dim=0)):
        return "argmax over dim=0 picks a sample per class; the classes are along dim=1"
    return None


def check_logits_to_classes(fn) -> None:
    """Week 01: check ``logits_to_classes(logits)``: logits (N, C) → predicted class indices (N,), long."""
    cases = [
        Case("3 samples, 4 classes", (torch.tensor([[0.1, 2.0, -1.0, 0.3], [3.0, 0.0, 0.5, 1.0],
                                                    [-2.0, -1.0, -3.0, -0.5]]),)),
        Case("a square batch (3 samples, 3 classes)", (torch.tensor([[1.0, 5.0, 0.0], [4.0, 0.0, 2.0],
                                                                     [0.0, 3.0, 9.0]]),)),
        Case("a batch of one, shape (1, 5)", (torch.tensor([[0.0, 0.2, 7.0, -1.0, 0.1]]),)),
        Case("large logits", (torch.tensor([[1000.0, 1001.0], [-1000.0, -1002.0]]),)),
    ]
    check_function(fn, lambda x: x.argmax(dim=1), cases, name="logits_to_classes", diagnose=diagnose_logits_to_classes)


def _set_head(head, bias) -> None:
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(torch.as_tensor(bias, dtype=head.bias.dtype))


def _two_head_outputs(model, x):
    out = model(x)
    if not isinstance(out, (tuple, list)) or len(out) != 2:
        raise CheckFailed(f"forward must return a tuple (species_logits, height), got {type(out).__name__}")
    return out


def check_two_head_model(cls) -> None:
    """Week 01: check ``TwoHeadNet(n_features, n_hidden, n_species)``: x (N, F) → (logits (N, C), height (N,))."""
    try:
        model = cls(4, 8, 3)
    except NotImplementedError:
        raise CheckFailed("TwoHeadNet is not implemented yet: replace `raise NotImplementedError` with your code") from None
    for attr in ("trunk", "species_head", "height_head"):
        if not hasattr(model, attr):
            raise CheckFailed(f"your model has no attribute `{attr}`: keep the names given in the exercise")
    for n in (5, 1):
        logits, height = _two_head_outputs(model, torch.randn(n, 4))
        if tuple(logits.shape) != (n, 3):
            raise CheckFailed(f"species logits for a batch of {n} should have shape ({n}, 3), got {tuple(logits.shape)}")
        if tuple(height.shape) != (n,):
            hint = "use .squeeze(-1): a plain .squeeze() also drops the batch dimension of a batch of one" if n == 1 \
                else "the height head gives shape (N, 1); squeeze the last dimension"
            raise CheckFailed(f"height for a batch of {n} should have shape ({n},), got {tuple(height.shape)}\n  Hint: {hint}")
    _set_head(model.species_head, [-1.0, 0.0, 2.0])
    _set_head(model.height_head, [-3.5])
    logits, height = _two_head_outputs(model, torch.randn(2, 4))
    if not torch.allclose(logits.detach(), torch.tensor([[-1.0, 0.0, 2.0]] * 2), atol=1e-5):
        raise CheckFailed("with zero weights and bias [-1, 0, 2] the species head should output exactly these logits\n"
                          "  Hint: return raw logits — no softmax or other activation after species_head")
    if not torch.allclose(height.detach(), torch.tensor([-3.5, -3.5]), atol=1e-5):
        raise CheckFailed("with zero weights and bias -3.5 the height head should output -3.5\n"
                          "  Hint: a regression head is a plain Linear layer — no sigmoid or ReLU after it")
    passed("TwoHeadNet: shapes for batches of 5 and 1 and raw outputs of both heads are right")


# --------------------------------------------------------------------------- week 02
_EXAMPLE_02 = [-1.0, 0.1, 0.032, 0.25, 9.0]


def _close(a, b, atol: float = 1e-5) -> bool:
    """True when tensors ``a`` and ``b`` have one shape and agree (NaN never agrees)."""
    a, b = _as_tensor(a), _as_tensor(b)
    if a is None or b is None or a.shape != b.shape:
        return False
    return bool(torch.allclose(a.double(), b.double(), atol=atol, rtol=1e-4))


def _finite(t) -> bool:
    t = _as_tensor(t)
    return t is not None and bool(torch.isfinite(t.double()).all())


def _other_dims(x: torch.Tensor, dim: int) -> list[int]:
    return [d for d in range(x.dim()) if d != dim % x.dim()]


def _same_nan(got, ref: torch.Tensor) -> bool:
    """True when ``got`` has NaN/inf exactly where ``ref`` does (and somewhere)."""
    g = _as_tensor(got)
    if g is None or g.shape != ref.shape:
        return False
    bad_g, bad_r = ~torch.isfinite(g.double()), ~torch.isfinite(ref.double())
    return bool(bad_r.any()) and bool((bad_g == bad_r).all())


GLOBAL_MAX_HINT = ("you subtracted the max of the whole tensor: a row far below it underflows to exp(...) = 0 — "
                   "take the max along dim with keepdim=True")


def diagnose_softmax(got, case: Case, expected) -> str | None:
    """Week 02: turn a wrong softmax (vector or batch) into a hint naming the likely mistake."""
    x = case.args[0].double()
    dim = case.args[1] if len(case.args) > 1 else case.kwargs.get("dim", 0)
    xf = case.args[0].float()
    e_global = torch.exp(xf - xf.max())
    if x.dim() > 1 and _same_nan(got, e_global / e_global.sum(dim, keepdim=True)):
        return GLOBAL_MAX_HINT
    if not _finite(got) and bool(torch.isfinite(torch.softmax(x, dim)).all()):
        if bool((torch.exp(x.float()) == float("inf")).any()):
            return ("your softmax overflows for large logits: exp(1000) is inf and inf/inf is NaN — "
                    "subtract the max first: softmax(x) = softmax(x - max(x))")
    if _close(got, torch.exp(x)) or _close(got, torch.exp(x - x.amax(dim, keepdim=True))):
        return "you returned exp(x) without dividing by the sum of the exponentials"
    if _close(got, x / x.sum(dim, keepdim=True)):
        return "you divided the logits themselves by their sum — exponentiate first, then divide"
    if _close(got, torch.softmax(-x, dim)):
        return "you used exp(-x): the largest logit should get the largest probability"
    if x.dim() > 1:
        for d in _other_dims(x, dim):
            if _close(got, torch.softmax(x, d)):
                return (f"your softmax sums to 1 along dim {d} instead of dim {dim % x.dim()} — "
                        f"use the dim argument in both the max and the sum")
        g = _as_tensor(got)
        if g is not None and g.shape == x.shape and _isclose(float(g.double().sum()), 1.0):
            return ("you divided by the sum over the whole tensor: sum along dim only, "
                    "with keepdim=True so the shapes broadcast")
    return None


def softmax_vector_cases() -> list[Case]:
    """Week 02: vectors (C,) for a from-scratch softmax, from the worked example to large logits."""
    return [
        Case("the worked example [-1, 0.1, 0.032, 0.25, 9]", (torch.tensor(_EXAMPLE_02),)),
        Case("three equal logits", (torch.zeros(3),)),
        Case("negative logits [-3, -1, -2]", (torch.tensor([-3.0, -1.0, -2.0]),)),
        Case("a single class", (torch.tensor([4.2]),)),
        Case("large logits [1000, 999, 990]", (torch.tensor([1000.0, 999.0, 990.0]),)),
    ]


def check_softmax_vector(fn: Callable) -> None:
    """Week 02 exercise 1: ``fn(x)`` with x (C,) must equal torch.softmax(x, dim=0)."""
    check_function(fn, lambda x: torch.softmax(x, dim=0), softmax_vector_cases(), name="softmax_vector",
                   diagnose=diagnose_softmax)


def batch_cases() -> list[Case]:
    """Week 02: batched logits (N, C) and (N, C, L) with several dims, including large values."""
    g = torch.Generator().manual_seed(2)
    x = torch.randn(4, 3, generator=g) * 2
    return [
        Case("a batch of 4 samples × 3 classes, dim=1", (x, 1)),
        Case("the same batch, dim=-1", (x, -1)),
        Case("a batch of 1 sample, dim=1", (x[:1], 1)),
        Case("shape (2, 5, 3), classes along dim=1", (torch.randn(2, 5, 3, generator=g), 1)),
        Case("the batch normalised along dim=0", (x, 0)),
        # float64 so that a correct x - logsumexp(x) is not failed by float32 rounding at |x| = 5000
        Case("large logits (values up to 1e4, float64), dim=1",
             (torch.tensor([[1e4, 0.0, -1e4], [5000.0, 5001.0, 4999.0]], dtype=torch.float64), 1)),
    ]


def check_softmax_batch(fn: Callable) -> None:
    """Week 02 exercise 2: ``fn(x, dim)`` must equal torch.softmax(x, dim) for any shape."""
    check_function(fn, lambda x, dim: torch.softmax(x, dim), batch_cases(), name="softmax_batch",
                   diagnose=diagnose_softmax)


def diagnose_logsumexp(got, case: Case, expected) -> str | None:
    """Week 02: hints for a wrong logsumexp(x, dim)."""
    x, dim = case.args[0].double(), case.args[1]
    m = x.amax(dim, keepdim=True)
    xf = case.args[0].float()
    if x.dim() > 1 and _same_nan(got, xf.max() + torch.log(torch.exp(xf - xf.max()).sum(dim))):
        return GLOBAL_MAX_HINT
    if not _finite(got) and _finite(expected):
        return "exp overflows (or log(0) underflows): factor out the max, m + log(sum(exp(x - m)))"
    if _close(got, torch.log(torch.exp(x - m).sum(dim))):
        return "you subtracted the max inside the exp but forgot to add it back: m + log(sum(exp(x - m)))"
    if _close(got, torch.log(torch.exp(x - m).sum(dim, keepdim=True))) or _close(got, torch.logsumexp(x, dim, True)):
        return "your result keeps the summed dimension (size 1): squeeze it, or sum without keepdim at the end"
    if x.dim() > 1:
        for d in _other_dims(x, dim):
            if _close(got, torch.logsumexp(x, d)):
                return f"you summed along dim {d} instead of dim {dim % x.dim()}"
    return None


def check_logsumexp(fn: Callable) -> None:
    """Week 02 exercise 3: ``fn(x, dim)`` must equal torch.logsumexp(x, dim), stable for huge logits."""
    cases = batch_cases() + [Case("very negative logits [-1000, -1001], dim=0", (torch.tensor([-1000.0, -1001.0]), 0))]
    check_function(fn, lambda x, dim: torch.logsumexp(x, dim), cases, name="logsumexp",
                   diagnose=diagnose_logsumexp, rtol=1e-6)


def diagnose_log_softmax(got, case: Case, expected) -> str | None:
    """Week 02: hints for a wrong log_softmax(x, dim)."""
    x, dim = case.args[0].double(), case.args[1]
    naive = torch.log(torch.softmax(x.float(), dim)).double()
    if not _finite(got) and _finite(expected):
        if bool(torch.isinf(naive).any()):
            return ("log(softmax(x)) underflows: a probability below ~1e-45 is 0 in float32 and log(0) = -inf — "
                    "compute x - logsumexp(x) instead")
        return "exp overflows for large logits: use logsumexp, which subtracts the max"
    if _close(got, x - x.amax(dim, keepdim=True)):
        return "you subtracted the max but not log(sum(exp(x - max))): subtract logsumexp(x) itself"
    if _close(got, torch.softmax(x, dim)):
        return "you returned probabilities: log_softmax returns their logarithms, x - logsumexp(x)"
    if x.dim() > 1:
        for d in _other_dims(x, dim):
            if _close(got, torch.log_softmax(x, d)):
                return f"you normalised along dim {d} instead of dim {dim % x.dim()}"
    return None


def check_log_softmax(fn: Callable) -> None:
    """Week 02 exercise 4: ``fn(x, dim)`` must equal torch.log_softmax(x, dim) without underflow."""
    cases = batch_cases() + [
        Case("a 200-logit gap: [0, -200], dim=0", (torch.tensor([0.0, -200.0]), 0)),
        Case("the worked example, dim=0", (torch.tensor(_EXAMPLE_02), 0)),
    ]
    check_function(fn, lambda x, dim: torch.log_softmax(x, dim), cases, name="log_softmax",
                   diagnose=diagnose_log_softmax, rtol=1e-6)


def top_prob_at(logits: torch.Tensor, T: float) -> float:
    """Week 02: the largest probability of softmax(logits / T) for logits (C,), in float64."""
    return float(torch.softmax(logits.double() / T, dim=0).max())


def temperature_cases() -> list[tuple[str, torch.Tensor, float]]:
    """Week 02: (label, logits (C,), target top-class probability) for the temperature exercise."""
    return [
        ("the worked example, target 0.9", torch.tensor(_EXAMPLE_02), 0.9),
        ("three flower species [2.0, 1.0, 0.1], target 0.5", torch.tensor([2.0, 1.0, 0.1]), 0.5),
        ("the same logits, target 0.99 (T below 1)", torch.tensor([2.0, 1.0, 0.1]), 0.99),
        ("two classes [1, 0], target 0.6", torch.tensor([1.0, 0.0]), 0.6),
    ]


def check_temperature_for(fn: Callable, *, tol: float = 1e-4) -> None:
    """Week 02 exercise 5: ``fn(logits, target)`` must return T with max softmax(logits / T) = target."""
    if not callable(fn):
        raise CheckFailed(f"expected a function, got {type(fn).__name__} — pass the function itself")
    for label, z, target in temperature_cases():
        try:
            T = fn(z.clone(), target)
        except NotImplementedError:
            raise CheckFailed("temperature_for is not implemented yet: replace `raise NotImplementedError`") from None
        except Exception as exc:
            raise CheckFailed(f"temperature_for raised {type(exc).__name__}: {exc}\n  on case: {label}") from None
        if isinstance(T, torch.Tensor) and T.numel() == 1:
            T = T.item()
        if not isinstance(T, (int, float)) or isinstance(T, bool):
            raise CheckFailed(f"temperature_for must return a number (float), got {type(T).__name__}\n  on case: {label}")
        if not (math.isfinite(T) and T > 0):
            raise CheckFailed(f"temperature_for returned T = {T}; a temperature must be positive and finite\n"
                              f"  on case: {label}")
        p = top_prob_at(z, T)
        if _isclose(p, target, tol):
            continue
        msg = f"temperature_for is not right yet on case: {label}\n  at T = {T:.4g} the top class gets {p:.4f}, not {target}"
        if _isclose(top_prob_at(z, 1.0 / T), target, tol):
            msg += "\n  Hint: you returned 1/T — softmax(z / T) divides the logits by T (or you multiplied by T)"
        elif p > target:
            msg += "\n  Hint: the distribution is still too peaked — a larger T spreads the probability out"
        else:
            msg += "\n  Hint: the distribution is too flat — a smaller T makes the top class more certain"
        raise CheckFailed(msg)
    passed(f"temperature_for: all {len(temperature_cases())} targets reached to within {tol:g}")

# --------------------------------------------------------------------------- week 03

# --------------------------------------------------------------------------- week 04

# --------------------------------------------------------------------------- week 05

# --------------------------------------------------------------------------- week 06
