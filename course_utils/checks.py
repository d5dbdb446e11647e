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


def check_choices(answers, key: dict, choices, hints: dict, *, what: str, default_hint: str = "") -> None:
    """Multiple-choice tables (weeks 01, 06): ``answers`` maps each task in ``key`` to one of ``choices``.

    ``hints`` maps (task, wrong choice) to a hint; the expected choice is never revealed.
    """
    if not isinstance(answers, dict):
        raise CheckFailed(f"{what} must be a dict mapping each task to one of the choices, got {type(answers).__name__}")
    missing = sorted(t for t in key if t not in answers)
    if missing:
        raise CheckFailed(f"{what} has no entry for {', '.join(missing)}")
    choices = sorted(set(choices))
    for task, expected in key.items():
        got = answers[task]
        if got not in choices:
            raise CheckFailed(f"answers[{task!r}] = {got!r} is not one of the choices {choices} (spelling matters)")
        if got != expected:
            hint = hints.get((task, got), default_hint)
            raise CheckFailed(f"answers[{task!r}] is not right yet." + (f"\n  Hint: {hint}" if hint else ""))


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
    check_choices(answers, _OUTPUT_TASKS, _OUTPUT_TASKS.values(), _OUTPUT_HINTS, what="answers")
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
    # most specific first: on some cases several mistakes give the same wrong answer
    if torch.equal(g.long(), (torch.sigmoid(logits) > threshold).long()):
        return "a probability exactly equal to the threshold should count as class 1: use >= rather than >"
    if threshold != 0.5 and torch.equal(g.long(), (torch.sigmoid(logits) >= 0.5).long()):
        return "you ignored the `threshold` argument and used 0.5"
    if torch.equal(g.long(), (logits >= threshold).long()):
        return "you compared the logits with the threshold; apply sigmoid first (the threshold is a probability)"
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


def with_error_hint(fn: Callable, hint: str, marker: str = "must match the size") -> Callable:
    """Weeks 02-03: wrap a student function so a RuntimeError whose text contains ``marker`` carries ``hint``."""
    def wrapped(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except NotImplementedError:  # a subclass of RuntimeError: the stub message must stay as it is
            raise
        except RuntimeError as exc:
            if marker in str(exc):
                raise RuntimeError(f"{exc}\n  Hint: {hint}") from None
            raise

    wrapped.__name__ = getattr(fn, "__name__", "your function")
    return wrapped


KEEPDIM_HINT_02 = ("the shapes do not line up when you subtract or divide: take the max and the sum along dim "
                   "with keepdim=True, so that dimension stays (size 1) and broadcasts")
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
    e_min = torch.exp(xf - xf.amin(dim, keepdim=True))
    if _same_nan(got, e_min / e_min.sum(dim, keepdim=True)):
        return ("you subtracted the minimum: exp(x - min) still overflows when the logits are far apart — "
                "subtract the max, so that every exponent is <= 0")
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
        Case("logits far apart [50, -50, 0]", (torch.tensor([50.0, -50.0, 0.0]),)),
    ]


def check_softmax_vector(fn: Callable) -> None:
    """Week 02 exercise 1: ``fn(x)`` with x (C,) must equal torch.softmax(x, dim=0) and keep x's dtype."""
    import contextlib
    import io

    cases = softmax_vector_cases()
    with contextlib.redirect_stdout(io.StringIO()):  # one confirmation line, printed below
        check_function(fn, lambda x: torch.softmax(x, dim=0), cases, name="softmax_vector", diagnose=diagnose_softmax)
    got = fn(torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64))
    if got.dtype != torch.float64:
        raise CheckFailed(f"softmax_vector is not right yet on case: float64 logits [0.5, -1, 2]\n"
                          f"  the result has dtype {got.dtype}, expected torch.float64\n"
                          f"  Hint: return the dtype you were given — do not convert with .float() or build new "
                          f"tensors with a fixed dtype")
    passed(f"softmax_vector: all {len(cases) + 1} cases match the reference (float64 stays float64)")


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
    check_function(with_error_hint(fn, KEEPDIM_HINT_02), lambda x, dim: torch.softmax(x, dim), batch_cases(),
                   name="softmax_batch", diagnose=diagnose_softmax)


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
    g = _as_tensor(got)
    if g is not None and g.dim() > x.dim() - 1 and g.shape != x.shape:
        return (f"your result has shape {tuple(g.shape)}: m kept dim {dim % x.dim()} (keepdim=True) but the sum "
                "did not, and the two broadcast against each other — use keepdim=True in both, then squeeze(dim) once")
    if x.dim() > 1:
        for d in _other_dims(x, dim):
            if _close(got, torch.logsumexp(x, d)):
                return f"you summed along dim {d} instead of dim {dim % x.dim()}"
    return None


def check_logsumexp(fn: Callable) -> None:
    """Week 02 exercise 3: ``fn(x, dim)`` must equal torch.logsumexp(x, dim), stable for huge logits."""
    cases = batch_cases() + [Case("very negative logits [-1000, -1001], dim=0", (torch.tensor([-1000.0, -1001.0]), 0))]
    check_function(with_error_hint(fn, KEEPDIM_HINT_02), lambda x, dim: torch.logsumexp(x, dim), cases,
                   name=getattr(fn, "__name__", "logsumexp"), diagnose=diagnose_logsumexp, rtol=1e-6)


def diagnose_log_softmax(got, case: Case, expected) -> str | None:
    """Week 02: hints for a wrong log_softmax(x, dim)."""
    x, dim = case.args[0].double(), case.args[1]
    naive = torch.log(torch.softmax(x.float(), dim)).double()
    if not _finite(got) and _finite(expected):
        if _same_nan(got, naive):
            return ("log(softmax(x)) underflows: a tiny probability rounds to 0 (below ~1e-45 in float32, "
                    "~1e-308 in float64) and log(0) = -inf — compute x - logsumexp(x) instead")
        return ("exp overflows for large logits, so log(sum(exp(x))) is inf: use your logsumexp, "
                "which subtracts the max first")
    if _close(got, x - x.amax(dim, keepdim=True)):
        return "you subtracted the max but not log(sum(exp(x - max))): subtract logsumexp(x) itself"
    if _close(got, torch.softmax(x, dim)):
        return "you returned probabilities: log_softmax returns their logarithms, x - logsumexp(x)"
    if _close(got, x + torch.logsumexp(x, dim, keepdim=True)):
        return "you added logsumexp(x); log_softmax subtracts it: x - logsumexp(x)"
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
    unsqueeze_hint = ("logsumexp(x, dim) has lost the dimension dim: put it back with .unsqueeze(dim) "
                      "before subtracting it from x")
    check_function(with_error_hint(fn, unsqueeze_hint), lambda x, dim: torch.log_softmax(x, dim), cases,
                   name="log_softmax", diagnose=diagnose_log_softmax, rtol=1e-6)


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
_F = torch.nn.functional
SUM_HINT_03 = "your loss is the sum over the batch, not the mean: divide by the number of samples N (or use .mean())"
STABLE_LOG_HINT_03 = ("log(softmax(x)) becomes log(0) = -inf once a probability underflows (large logits); "
                   "use log_softmax, i.e. x - logsumexp(x) with the max subtracted first")


def _t03(got) -> torch.Tensor | None:
    g = _as_tensor(got)
    return None if g is None else g.double()


def _near03(got, value, atol: float = 1e-5) -> bool:
    g, v = _t03(got), _as_tensor(value)
    return g is not None and v is not None and g.shape == v.shape and bool(
        torch.allclose(g, v.double(), atol=atol, rtol=1e-4))


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
    ]


def diagnose_cross_entropy(got, case: Case, expected) -> str | None:
    """Week 03: name the usual mistakes in a batch cross-entropy from logits (N, C) and targets (N,)."""
    logits, target = case.args[0].double(), case.args[1]
    n = logits.shape[0]
    g = _t03(got)
    if g is None:
        return None
    logp = torch.log_softmax(logits, dim=1)
    picked = -logp[torch.arange(n), target]
    if g.shape == (n,) and n > 1:
        return "you returned one loss per sample; average them into one number (.mean())"
    if g.shape == (n, n) or _near03(g, -logp[:, target].mean()):
        return "logp[:, target] picks every target for every sample; use logp[torch.arange(N), target]"
    if not torch.isfinite(g).all():
        return STABLE_LOG_HINT_03
    if n > 1 and _near03(g, picked.sum()):
        return SUM_HINT_03
    if _near03(g, -picked.mean()):
        return "the sign is flipped: cross-entropy is MINUS the log-probability of the target"
    if _near03(g, _F.cross_entropy(torch.softmax(logits, dim=1), target)):
        return "you passed softmax output to cross_entropy — it expects logits (it applies log_softmax itself)"
    if _near03(g, picked.mean() / logits.shape[1]):
        return "you averaged over the classes too: sum over classes (only the target's term counts), mean over samples"
    if _near03(g, -logp.max(dim=1).values.mean()):
        return "you used the predicted class (argmax) instead of the target class"
    if _near03(g, -torch.log_softmax(logits, dim=0)[torch.arange(n), target].mean()):
        return "softmax over dim=0 normalises across samples; the classes are along dim=1"
    if _near03(g, -logits[torch.arange(n), target].mean()):
        return ("you used minus the target's raw logit: a logit is not a log-probability — subtract it from "
                "logsumexp over the classes, logsumexp(z_n) - z_(n, y_n)")
    return None


def check_cross_entropy(fn: Callable) -> None:
    """Week 03: check ``fn(logits, target)``: logits (N, C), target (N,) class indices → mean cross-entropy."""
    shape_hint = ("the shapes do not line up: logsumexp over the classes is along dim=1 and gives one value per "
                  "sample, shape (N,), like logits[torch.arange(N), target]")
    check_function(with_error_hint(fn, shape_hint), _F.cross_entropy, _ce_cases(),
                   name=getattr(fn, "__name__", "cross_entropy"), diagnose=diagnose_cross_entropy, atol=1e-5, rtol=1e-5)


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
    ]


def diagnose_nll(got, case: Case, expected) -> str | None:
    """Week 03: name the usual NLL mistakes (reduction ignored or swapped, sign, log taken twice)."""
    logp, target = case.args[0].double(), case.args[1]
    red = case.kwargs.get("reduction", "mean")
    n = logp.shape[0]
    g = _t03(got)
    if g is None:
        return None
    per = -logp[torch.arange(n), target]
    if torch.isnan(g).any():
        return "log_probs are already logarithms: taking log of them again gives NaN (log of a negative number)"
    if red == "none" and g.dim() == 0:
        return "with reduction='none' return one loss per sample, shape (N,), without summing or averaging"
    if red != "none" and g.shape == (n,) and n > 1:
        return f"with reduction={red!r} return one number, not one per sample"
    if red == "mean" and n > 1 and _near03(g, per.sum()):
        return SUM_HINT_03
    if red == "sum" and n > 1 and _near03(g, per.mean()):
        return "with reduction='sum' add the per-sample losses; you averaged them"
    if _near03(g, -expected.double()):
        return "the sign is flipped: the negative log-likelihood is MINUS the log-probability of the target"
    if _near03(g, _reduce03(-torch.exp(logp)[torch.arange(n), target], red)):
        return "you used probabilities (exp of log_probs); the loss uses the log-probabilities themselves"
    if g.shape == (n, n) or _near03(g, _reduce03(-logp[:, target], red)):
        return "log_probs[:, target] picks every target for every sample; use log_probs[torch.arange(N), target]"
    return None


def _reduce03(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    return {"mean": loss.mean, "sum": loss.sum, "none": lambda: loss}[reduction]()


def check_nll(fn: Callable) -> None:
    """Week 03: check ``fn(log_probs, target, reduction)``: (N, C), (N,) → scalar or (N,) like ``F.nll_loss``."""
    import contextlib
    import io

    name = getattr(fn, "__name__", "nll")
    cases = _nll_cases()
    with contextlib.redirect_stdout(io.StringIO()):  # one confirmation line, printed below
        check_function(fn, _F.nll_loss, cases, name=name, diagnose=diagnose_nll, atol=1e-5, rtol=1e-5)
    logp, target = cases[0].args
    try:
        fn(logp.clone(), target.clone(), reduction="average")
    except ValueError:  # refused, as the graded tests ask
        pass
    except Exception as exc:
        raise CheckFailed(f"{name} refused reduction='average' with {type(exc).__name__}, not ValueError\n"
                          f"  Hint: check the value first and raise ValueError(\"reduction must be 'mean', "
                          f"'sum' or 'none', got ...\")") from None
    else:
        raise CheckFailed(f"{name} is not right yet on case: reduction='average'\n"
                          f"  it returned a result for a reduction that does not exist\n"
                          f"  Hint: raise ValueError(\"reduction must be 'mean', 'sum' or 'none', got ...\") "
                          f"for any other value")
    passed(f"{name}: all {len(cases)} cases match the reference, and reduction='average' is refused")


def _bce_cases() -> list[Case]:
    return [
        Case("moderate logits", (torch.tensor([-2.0, -0.5, 0.0, 1.5, 3.0]), torch.tensor([0.0, 1.0, 1.0, 1.0, 0.0]))),
        Case("a batch of one", (torch.tensor([0.7]), torch.tensor([1.0]))),
        Case("logits ±30 (sigmoid rounds to exactly 1 in float32)",
             (torch.tensor([30.0, -30.0, 30.0]), torch.tensor([0.0, 1.0, 1.0]))),
        Case("logits ±1000 (exp overflows)", (torch.tensor([1000.0, -1000.0, -1000.0]), torch.tensor([0.0, 0.0, 1.0]))),
    ]


def diagnose_bce_with_logits(got, case: Case, expected) -> str | None:
    """Week 03: name the usual BCE-with-logits mistakes (unstable route, sum, sign, swapped labels, sigmoid twice)."""
    x, y = case.args[0].double(), case.args[1].double()
    g = _t03(got)
    if g is None:
        return None
    if g.shape == x.shape and x.numel() > 1:
        return "you returned one loss per sample; average them into one number (.mean())"
    if not torch.isfinite(g).all():
        return ("sigmoid(x) rounds to exactly 0 or 1 for large |x|, and log(0) = -inf (or exp(1000) = inf): "
                "use the stable form max(x, 0) - x*y + log1p(exp(-|x|))")
    per = torch.clamp(x, min=0) - x * y + torch.log1p(torch.exp(-x.abs()))
    capped = _F.binary_cross_entropy(torch.sigmoid(case.args[0]), case.args[1]).double()
    if x.numel() > 1 and _near03(g, per.sum()):
        return SUM_HINT_03
    if _near03(g, -per.mean()):
        return "the sign is flipped: BCE is -[y log p + (1 - y) log(1 - p)]"
    if _near03(g, (torch.clamp(x, min=0) - x * (1 - y) + torch.log1p(torch.exp(-x.abs()))).mean()):
        return "you swapped y and 1 - y: the log p term belongs to the positive labels (y = 1)"
    if _near03(g, (torch.clamp(x, min=0) - x * y + torch.log1p(torch.exp(-x))).mean()):
        return "the last term needs the absolute value: log1p(exp(-|x|)), i.e. torch.log1p(torch.exp(-x.abs()))"
    if _near03(g, (-x * y + torch.log1p(torch.exp(-x.abs()))).mean()):
        return "you left out the first term, max(x, 0) (torch.clamp(x, min=0))"
    if _near03(g, _F.binary_cross_entropy_with_logits(torch.sigmoid(x), y)):
        return "you applied sigmoid to the logits before a loss that applies sigmoid itself (a double sigmoid)"
    if _near03(g, capped) and not _near03(capped, expected):
        return ("your loss is capped (log clamped at -100, or sigmoid rounded): that is BCE on probabilities; "
                "work with the logits: max(x, 0) - x*y + log1p(exp(-|x|))")
    return None


def check_bce_with_logits(fn: Callable) -> None:
    """Week 03: check ``fn(logits, target)``: logits (N,), 0/1 targets (N,) → mean BCE, finite for any logit."""
    check_function(fn, _F.binary_cross_entropy_with_logits, _bce_cases(), name=getattr(fn, "__name__", "bce"),
                   diagnose=diagnose_bce_with_logits, atol=1e-5, rtol=1e-5)


def _ce_grad_ref(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    x = logits.detach().clone().requires_grad_(True)
    _F.cross_entropy(x, target).backward()
    return x.grad


def diagnose_ce_gradient(got, case: Case, expected) -> str | None:
    """Week 03: name the usual mistakes in d(mean CE)/d logits = (softmax - one_hot) / N."""
    logits, target = case.args[0].double(), case.args[1]
    n, c = logits.shape
    g = _t03(got)
    if g is None or g.shape != (n, c):
        return "the gradient has one entry per logit: shape (N, C), like the logits" if g is not None else None
    if not torch.isfinite(g).all():
        return "exp overflowed: compute softmax with the max subtracted (or use torch.softmax)"
    p, onehot = torch.softmax(logits, 1), _F.one_hot(target, c).double()
    exp = expected.double()
    if n > 1 and _near03(g, exp * n):
        return "this is the gradient of the summed loss; the mean divides by N: (softmax - one_hot) / N"
    if _near03(g, -exp):
        return "the sign is flipped: the gradient is softmax - one_hot (the target's entry is negative)"
    if _near03(g, p / n) or _near03(g, p):
        return "you forgot to subtract the one-hot target: gradient = (softmax - one_hot) / N"
    if _near03(g, (torch.softmax(logits, 0) - onehot) / n):
        return "softmax over dim=0 normalises across samples; the classes are along dim=1"
    if _near03(g, (p - onehot) / c):
        return "divide by N, the number of samples (logits.shape[0]), not by the number of classes C"
    return None


def check_ce_gradient(fn: Callable) -> None:
    """Week 03: check ``fn(logits, target)`` = d mean-CE / d logits, shape (N, C), against autograd."""
    cases = _ce_cases()
    one_hot_hint = ("F.one_hot(target) makes only max(target) + 1 columns: pass num_classes=C "
                    "(C = logits.shape[1]) so that it matches the logits")
    check_function(with_error_hint(fn, one_hot_hint), _ce_grad_ref, cases, name=getattr(fn, "__name__", "ce_gradient"),
                   diagnose=diagnose_ce_gradient, atol=1e-6, rtol=1e-5)


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
    g = _t03(got)
    if g is None or g.dim() != 0:
        return None
    if _near03(g, math.log(c)):
        return ("log C is the loss of uniform probabilities; the double softmax does better: its 'logits' lie in "
                "[0, 1], at best 1 for the target and 0 for the others")
    if _near03(g, math.log(1 + c / math.e)):
        return "the target is one of the C classes: there are C - 1 others, each contributing e^0 = 1"
    if _near03(g, math.log(math.e + c - 1)):
        return ("that is the largest value (target 0, another class 1); the smallest has 1 for the target "
                "and 0 for the others")
    return None


def check_double_softmax_fix(fixed_loss: Callable, floor: Callable, answer) -> None:
    """Week 03: the corrected loss (logits, target) → mean CE, the floor of the buggy loss, and the explanation."""
    import contextlib
    import io

    with contextlib.redirect_stdout(io.StringIO()):  # one confirmation line for the three parts
        check_function(fixed_loss, _F.cross_entropy, _ce_cases()[:3], name=getattr(fixed_loss, "__name__", "loss"),
                       diagnose=_diagnose_fixed_loss, atol=1e-5, rtol=1e-5)
        check_function(floor, double_softmax_floor_ref, [Case(f"C = {c} classes", (c,)) for c in (2, 3, 10)],
                       name=getattr(floor, "__name__", "floor"), diagnose=diagnose_floor, atol=1e-6)
    if answer not in DOUBLE_SOFTMAX_ANSWERS:
        raise CheckFailed(f"answer must be one of {sorted(DOUBLE_SOFTMAX_ANSWERS)}, got {answer!r}")
    if DOUBLE_SOFTMAX_ANSWERS[answer] is not None:
        raise CheckFailed(f"answer {answer!r} is not right yet.\n  Hint: {DOUBLE_SOFTMAX_ANSWERS[answer]}")
    passed("double softmax: the fixed loss, the floor of the buggy loss and the explanation are right")


def _diagnose_fixed_loss(got, case: Case, expected) -> str | None:
    logits, target = case.args[0], case.args[1]
    if _near03(got, _F.cross_entropy(torch.softmax(logits, 1), target)):
        return "still the double softmax: pass the raw logits to cross_entropy — it applies log_softmax itself"
    if _near03(got, _F.nll_loss(torch.softmax(logits, 1), target)):
        return "nll_loss expects log-probabilities; you gave it probabilities (use log_softmax, or cross_entropy)"
    if _near03(got, _F.nll_loss(logits, target)):
        return "nll_loss expects log-probabilities; you gave it the raw logits (use log_softmax, or cross_entropy)"
    return diagnose_cross_entropy(got, case, expected)


# --------------------------------------------------------------------------- week 04
BROADCAST_HINT = ("(N,1) vs (N,) broadcast to (N,N): pred - target became a table of every prediction minus every "
                  "target — flatten the model output with .squeeze(-1) or .view(-1) first")
SUM_HINT = "you returned the sum, not the mean — divide by the number of elements (or use .mean())"
LEN_HINT = ("you divided by len(pred), the number of rows; a (N, K) tensor has N·K elements — "
            "divide by pred.numel() (or use .mean())")


def _divided_by_rows(got, case: Case, expected) -> bool:
    """Week 04: True when ``got`` is ``expected`` rescaled from numel to len(pred) (a 2-D case)."""
    pred = case.args[0]
    if pred.dim() < 2:
        return False
    return _matches(got, _as_tensor(expected).double() * pred.numel() / len(pred))


def _matches(got, ref) -> bool:
    """Week 04: True when ``got`` equals the tensor ``ref`` in shape and value (to 1e-5 relative)."""
    return describe_difference(got, ref, atol=1e-6, rtol=1e-4) is None


def _residual04(case: Case) -> torch.Tensor:
    """Week 04: pred - target of a case, in float64, broadcast as the student's code would."""
    return case.args[0].double() - case.args[1].double()


def _require_tensor04(fn: Callable, name: str, args: tuple) -> None:
    """Week 04: fail with a hint when ``fn(*args)`` returns a Python number instead of a tensor."""
    try:
        got = fn(*_clone(args))
    except Exception:  # noqa: BLE001 — check_function reports errors with the case that caused them
        return
    if isinstance(got, (int, float, np.number)) and not isinstance(got, bool):
        raise CheckFailed(f"{name} returned a Python number ({got!r}), not a tensor\n  Hint: return the 0-dim "
                          "tensor itself — .item(), float() or math.sqrt cut the result off from autograd, "
                          "and training needs its gradient (use torch.sqrt for a square root)")


ERROR_HINTS04 = {
    "Boolean value of Tensor": ("`if` on a tensor with several elements cannot decide element by element — "
                                "use torch.where(condition, value_if_true, value_if_false)"),
    "a batch of one": (".squeeze() removes *every* size-1 dimension, so (1, 1) becomes a 0-dim tensor, not (1,) — "
                       "use .squeeze(-1) to remove only the last one"),
}


def _with_error_hints04(check: Callable, *args, **kwargs) -> None:
    """Week 04: run ``check(*args, **kwargs)``; if its message has no hint but matches ERROR_HINTS04, add one."""
    try:
        check(*args, **kwargs)
    except CheckFailed as exc:
        msg = str(exc)
        hint = next((h for key, h in ERROR_HINTS04.items() if key in msg), None)
        if hint is None or "Hint:" in msg:
            raise
        raise CheckFailed(f"{msg}\n  Hint: {hint}") from None


def regression_cases(*, with_zero: bool = False) -> list[Case]:
    """Week 04: (pred, target) pairs: the worked example, a batch, one sample, 2-D, large residuals."""
    g = torch.Generator().manual_seed(4)
    pred, target = torch.randn(6, generator=g), torch.randn(6, generator=g)
    cases = [
        # residuals [-2, 0.5]: of both signs, so mean(r), |mean(r)|, MAE, MSE and RMSE all differ
        Case("residuals of both signs: pred [-1, 0.5], target [1, 0]",
             (torch.tensor([-1.0, 0.5]), torch.tensor([1.0, 0.0]))),
        Case("the worked example: pred [2, 3], target [1, 0]", (torch.tensor([2.0, 3.0]), torch.tensor([1.0, 0.0]))),
        Case("a batch of 6 random predictions", (pred, target)),
        Case("a single sample", (torch.tensor([1.5]), torch.tensor([-0.5]))),
        Case("shape (3, 4): several outputs per sample", (torch.randn(3, 4, generator=g), torch.randn(3, 4, generator=g))),
        Case("large residuals (up to 1000)", (torch.tensor([1000.0, -250.0, 3.0]), torch.tensor([0.0, 250.0, 3.5]))),
    ]
    if with_zero:
        cases.append(Case("some residuals exactly 0", (torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 0.0, 3.0]))))
    return cases


def diagnose_regression(got, case: Case, expected) -> str | None:
    """Week 04: hints for a wrong MAE, MSE or RMSE (which one is read from ``expected``)."""
    r = _residual04(case)
    n = r.numel()
    exp_t = _as_tensor(expected)
    if exp_t is not None and _matches(got, exp_t.double() * n) and n > 1:
        return SUM_HINT
    if exp_t is not None and _divided_by_rows(got, case, exp_t):
        return LEN_HINT
    candidates = [
        (r.abs().mean(), "you computed the MAE, mean(|r|): the squared error squares each residual"),
        ((r**2).mean(), "you computed the MSE, mean(r²): the absolute error takes |r| instead of squaring"),
        ((r**2).mean().sqrt(), "you computed the RMSE, sqrt(mean(r²))"),
        (r.mean().abs(), "you took |mean(r)|: average the absolute values instead, or positive and negative errors cancel"),
        (r.mean() ** 2, "you took mean(r)²: average the squares instead, or positive and negative errors cancel"),
        (r.mean(), "you averaged the raw residuals: without abs or square positive and negative errors cancel"),
    ]
    if _matches(got, r.abs().mean()) and _matches(expected, (r**2).mean().sqrt()):
        return ("RMSE: square root of the mean, not mean of square roots — sqrt(r²) = |r|, so you computed the MAE; "
                "average the squares first, then take one square root")
    if _matches(got, (r**2).mean()) and _matches(expected, (r**2).mean().sqrt()):
        return "you returned the MSE: RMSE is its square root"
    if _matches(got, (r**2).sum().sqrt()) and _matches(expected, (r**2).mean().sqrt()):
        return "you took the square root of the sum of squares — RMSE is the square root of the *mean*"
    for value, hint in candidates:
        if _matches(got, value):
            return hint
    if _as_tensor(got) is not None and _as_tensor(got).dim() > 0:
        return "return one number (a 0-dim tensor): average over every element, e.g. with .mean()"
    return None


def check_mae(fn: Callable) -> None:
    """Week 04 exercise: ``fn(pred, target)`` must equal torch.nn.L1Loss() (mean |pred - target|)."""
    _require_tensor04(fn, "mae", regression_cases()[0].args)
    check_function(fn, lambda p, t: torch.nn.functional.l1_loss(p, t), regression_cases(), name="mae",
                   diagnose=diagnose_regression, rtol=1e-5)


def check_mse(fn: Callable) -> None:
    """Week 04 exercise: ``fn(pred, target)`` must equal torch.nn.MSELoss() (mean (pred - target)²)."""
    _require_tensor04(fn, "mse", regression_cases()[0].args)
    check_function(fn, lambda p, t: torch.nn.functional.mse_loss(p, t), regression_cases(), name="mse",
                   diagnose=diagnose_regression, rtol=1e-5)


def check_rmse(fn: Callable) -> None:
    """Week 04 exercise: ``fn(pred, target)`` must equal sqrt(torch.nn.MSELoss()(pred, target))."""
    _require_tensor04(fn, "rmse", regression_cases()[0].args)
    check_function(fn, lambda p, t: torch.nn.functional.mse_loss(p, t).sqrt(), regression_cases(), name="rmse",
                   diagnose=diagnose_regression, rtol=1e-5)


def diagnose_huber(got, case: Case, expected) -> str | None:
    """Week 04: hints for a wrong Huber loss huber(pred, target, delta)."""
    r = _residual04(case)
    delta = float(case.args[2] if len(case.args) > 2 else case.kwargs.get("delta", 1.0))
    a, inside = r.abs(), r.abs() < delta
    if _matches(got, _as_tensor(expected).double() * r.numel()) and r.numel() > 1:
        return SUM_HINT
    if _matches(got, _as_tensor(expected).double() / delta) and delta != 1:
        return "you divided by δ: that is SmoothL1Loss(beta=δ); HuberLoss is δ times it"
    tries = [
        (torch.where(inside, a**2, delta * (a - 0.5 * delta)).mean(),
         "the quadratic part needs the factor ½: ½ r² for |r| < δ"),
        (torch.where(inside, 0.5 * a**2, delta * a).mean(),
         "the linear part must be δ(|r| − δ/2): without the − δ/2 the loss jumps at |r| = δ"),
        (torch.where(inside, delta * (a - 0.5 * delta), 0.5 * a**2).mean(),
         "the two branches are swapped: ½ r² is for small residuals (|r| < δ), δ(|r| − δ/2) for large ones"),
        (torch.where(inside, 0.5 * a**2, a - 0.5).mean(),
         "the linear part must use δ: δ(|r| − δ/2), not |r| − ½"),
        ((0.5 * a**2).mean(), "you only used ½ r²: beyond |r| = δ the loss must grow linearly"),
    ]
    for value, hint in tries:
        if _matches(got, value):
            return hint
    return None


def huber_cases() -> list[Case]:
    """Week 04: (pred, target, delta) cases: both branches, residuals right at δ, large δ, small δ."""
    g = torch.Generator().manual_seed(40)
    pred, target = 3 * torch.randn(8, generator=g), torch.randn(8, generator=g)
    return [
        Case("residuals [-3, -0.5, 0, 0.5, 3], delta=1", (torch.tensor([-3.0, -0.5, 0.0, 0.5, 3.0]), torch.zeros(5), 1.0)),
        Case("a batch of 8, delta=1.5", (pred, target, 1.5)),
        Case("residuals exactly at ±delta=2", (torch.tensor([2.0, -2.0, 1.0]), torch.zeros(3), 2.0)),
        Case("a small delta=0.1 (almost MAE)", (pred, target, 0.1)),
        Case("a large delta=100 (all quadratic)", (pred, target, 100.0)),
        Case("large residuals (up to 1000), delta=1", (torch.tensor([1000.0, -400.0]), torch.tensor([0.0, 100.0]), 1.0)),
    ]


def _expect_value_error(fn: Callable, name: str, args: tuple, what: str, word: str) -> None:
    """Week 04: fail unless ``fn(*args)`` raises ValueError whose message mentions ``word``."""
    try:
        fn(*args)
    except NotImplementedError:
        raise CheckFailed(f"{name} is not implemented yet: replace `raise NotImplementedError` with your code") from None
    except ValueError as exc:
        if word not in str(exc).lower():
            raise CheckFailed(f"{name} raised ValueError for {what}, good — but its message {str(exc)!r} does not "
                              f"say which argument is wrong\n  Hint: mention {word!r} in the message") from None
        return
    except Exception as exc:
        raise CheckFailed(f"{name} raised {type(exc).__name__} for {what}; raise a ValueError instead\n  Hint: "
                          f"test the input yourself before computing, then `raise ValueError(...)` naming {word!r}"
                          ) from None
    raise CheckFailed(f"{name} accepted {what} without complaint\n  Hint: check the argument first and "
                      f"`raise ValueError(...)` with a message naming {word!r}")


def check_huber(fn: Callable) -> None:
    """Week 04 exercise: ``fn(pred, target, delta)`` must equal torch.nn.HuberLoss(delta=delta) and refuse delta <= 0."""
    _require_tensor04(fn, "huber", huber_cases()[0].args)
    _with_error_hints04(check_function, fn, lambda p, t, d: torch.nn.functional.huber_loss(p, t, delta=d),
                        huber_cases(), name="huber", diagnose=diagnose_huber, rtol=1e-5)
    two = (torch.tensor([1.0, 2.0]), torch.zeros(2))
    _expect_value_error(fn, "huber", (*two, -1.0), "a negative delta (-1.0)", "delta")
    _expect_value_error(fn, "huber", (*two, 0.0), "delta = 0", "delta")
    passed("huber: refuses delta <= 0 with a clear message")


def autograd_grad(loss_fn: Callable, pred: torch.Tensor, target: torch.Tensor, *args) -> torch.Tensor:
    """Week 04: d loss_fn(pred, target, *args) / d pred by autograd, in float64: (...) → (...)."""
    p = pred.detach().double().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(p, target.double(), *args), p)
    return g


def diagnose_grad(got, case: Case, expected, *, loss: str) -> str | None:
    """Week 04: hints for a hand-derived gradient of the mean MSE, MAE or Huber loss w.r.t. pred."""
    r = _residual04(case)
    n = r.numel()
    exp_t = _as_tensor(expected).double()
    if _matches(got, -exp_t):
        return "the sign is flipped: differentiate with respect to pred, and r = pred − target grows with pred"
    if _matches(got, exp_t * n) and n > 1:
        return "you returned the gradient of the sum: the mean divides every term by N, and so does its gradient"
    if _divided_by_rows(got, case, exp_t):
        return LEN_HINT
    if loss == "mse" and _matches(got, exp_t / 2):
        if n == 2:  # dividing by N = 2 a second time looks exactly like dropping the 2
            return "d(r²)/dr = 2r: you dropped the factor 2 — or divided by N twice (with N = 2 they look alike)"
        return "d(r²)/dr = 2r: you dropped the factor 2"
    if loss == "mse" and _matches(got, exp_t / n) and n > 1:
        return "you divided by N twice"
    got_t = _as_tensor(got)
    if loss == "mae" and got_t is not None and torch.isnan(got_t).any():
        return "r / |r| is 0 / 0 = NaN where the residual is exactly 0: torch.sign(r) gives 0 there"
    same_shape = got_t is not None and got_t.shape == r.shape
    if loss == "mae" and same_shape and (r == 0).any() and _matches(got_t[r != 0], exp_t[r != 0]):
        return "where the residual is exactly 0 the slope must be 0 (as PyTorch uses; torch.sign gives it)"
    if loss == "huber":
        delta = float(case.args[2])
        if _matches(got, r / n):
            return "beyond |r| = δ the slope is constant: clip the residual to [−δ, δ] (torch.clamp)"
        if _matches(got, torch.sign(r) / n):
            return "inside |r| < δ the slope is r (not sign(r)); only outside is it ±δ"
        if _matches(got, torch.clamp(r, -delta, delta) / n / delta) and delta != 1:
            return "you divided by δ: the slope outside ±δ is ±δ, not ±1"
    return None


def _grad_cases(loss: str) -> list[Case]:
    """Week 04: (pred, target[, delta]) cases for the gradient exercise, including zero residuals."""
    cases = regression_cases(with_zero=True)
    if loss != "huber":
        return cases
    return [Case(c.label + ", delta=1.5", (*c.args, 1.5)) for c in cases] + [
        Case("residuals [-3, -0.5, 0.5, 3], delta=0.25", (torch.tensor([-3.0, -0.5, 0.5, 3.0]), torch.zeros(4), 0.25))]


def check_loss_grad(fn: Callable, loss: str) -> None:
    """Week 04 exercise: ``fn(pred, target[, delta])`` must equal autograd's d(mean ``loss``)/d pred, same shape."""
    refs = {"mse": torch.nn.functional.mse_loss, "mae": torch.nn.functional.l1_loss,
            "huber": lambda p, t, d: torch.nn.functional.huber_loss(p, t, delta=d)}
    if loss not in refs:
        raise ValueError(f"loss must be one of {sorted(refs)}, got {loss!r}")

    def reference(pred, target, *args):
        return autograd_grad(refs[loss], pred, target, *args).to(pred.dtype)

    check_function(fn, reference, _grad_cases(loss), name=f"{loss}_grad",
                   diagnose=lambda g, c, e: diagnose_grad(g, c, e, loss=loss), rtol=1e-5)


def check_loss_choice(choice: str, slope_errors: dict, x: torch.Tensor, y: torch.Tensor, true_slope: float) -> None:
    """Week 04 exercise: ``slope_errors`` maps "mse"/"mae"/"huber" to |fitted slope − true slope|; ``choice`` is the winner."""
    from course_utils.fitting import best_line

    if not isinstance(slope_errors, dict) or set(slope_errors) != {"mse", "mae", "huber"}:
        raise CheckFailed('slope_errors must be a dict with the keys "mse", "mae" and "huber"')
    for loss, got in slope_errors.items():
        if isinstance(got, np.number) or (isinstance(got, (torch.Tensor, np.ndarray)) and got.ndim == 0):
            got = float(got)  # a 0-dim tensor or NumPy scalar holds one number: accept it
        w = best_line(x, y, loss).w
        want = abs(w - true_slope)
        if not isinstance(got, (int, float)) or isinstance(got, bool) or not math.isclose(got, want, abs_tol=0.02):
            number = isinstance(got, (int, float)) and not isinstance(got, bool)
            hint = ("\n  Hint: store one plain number per loss, e.g. abs(best_line(x, y, loss).w - true_slope)"
                    if not number else
                    "\n  Hint: the error is |fitted slope − true slope|, a positive number"
                    if math.isclose(abs(got), want, abs_tol=0.02) else
                    "\n  Hint: that is the fitted slope w itself; subtract the true slope and take abs()"
                    if math.isclose(got, w, abs_tol=0.02) else
                    "\n  Hint: fit the line under this loss (e.g. best_line(x, y, loss)) and compare its slope w")
            raise CheckFailed(f'slope_errors["{loss}"] = {got!r} is not the slope error of the {loss.upper()} fit{hint}')
    if choice not in slope_errors:
        raise CheckFailed(f'choice must be one of "mse", "mae", "huber", got {choice!r}')
    if slope_errors[choice] > min(slope_errors.values()) + 1e-9:
        best = min(slope_errors, key=slope_errors.get)
        raise CheckFailed(f'choice = "{choice}" but its slope error {slope_errors[choice]:.3f} is larger than '
                          f'{best.upper()}\'s {slope_errors[best]:.3f}\n  Hint: pick the loss whose number is smallest')
    passed(f"loss choice: {choice.upper()} with slope error {slope_errors[choice]:.3f}")


def check_bug_shape(bug_shape) -> None:
    """Week 04 exercise: the shape of ``out - y`` for ``out`` (64, 1) and ``y`` (64,), without giving it away."""
    got = tuple(bug_shape) if isinstance(bug_shape, (tuple, list, torch.Size)) else bug_shape
    want = tuple((torch.zeros(64, 1) - torch.zeros(64)).shape)
    if got == want:
        passed("bug_shape is correct: every prediction minus every target")
        return
    hints = {(64,): "broadcasting does not pair the rows of out with the entries of y — it stretches both",
             (64, 1): "y is stretched too: (64,) is read as a row (1, 64) and repeated for every row of out"}
    hint = hints.get(got, "compare the shapes from the right: (64, 1) against (64,) — size 1 stretches to match")
    raise CheckFailed(f"bug_shape = {bug_shape!r} is not right yet\n  Hint: {hint}")


def diagnose_safe_mse(got, case: Case, expected) -> str | None:
    """Week 04: hints for the broadcasting-safe MSE of a model output (N, 1) against targets (N,)."""
    out, target = case.args[0].double(), case.args[1].double()
    if out.dim() == 2 and target.dim() == 1 and _matches(got, ((out - target) ** 2).mean()):
        return BROADCAST_HINT
    return diagnose_regression(got, case, expected)


def check_safe_mse(fn: Callable) -> None:
    """Week 04 exercise: ``fn(output, target)`` accepts output (N, 1) or (N,) with target (N,) and refuses other shapes."""
    g = torch.Generator().manual_seed(44)
    cases = [
        Case("model output (5, 1) against targets (5,)", (torch.randn(5, 1, generator=g), torch.randn(5, generator=g))),
        Case("output (4,) against targets (4,)", (torch.randn(4, generator=g), torch.randn(4, generator=g))),
        Case("the worked example as a column: [[2], [3]] against [1, 0]", (torch.tensor([[2.0], [3.0]]), torch.tensor([1.0, 0.0]))),
        Case("a batch of one: (1, 1) against (1,)", (torch.tensor([[0.5]]), torch.tensor([2.0]))),
    ]

    def reference(out, target):
        return torch.nn.functional.mse_loss(out.reshape(target.shape), target)

    _with_error_hints04(check_function, fn, reference, cases, name="safe_mse", diagnose=diagnose_safe_mse,
                        rtol=1e-5)
    _expect_value_error(fn, "safe_mse", (torch.zeros(5, 1), torch.zeros(4)), "output (5, 1) with targets (4,)", "shape")
    _expect_value_error(fn, "safe_mse", (torch.zeros(3, 2), torch.zeros(3)), "output (3, 2) with targets (3,)", "shape")
    passed("safe_mse: refuses shapes that cannot be matched, with a message about the shapes")


# --------------------------------------------------------------------------- week 05
LOSS_PAIRING_ANSWERS = {
    "A": ("CrossEntropyLoss expects raw logits and applies log-softmax itself; after a LogSoftmax layer it only "
          "gives the right number by accident (log-softmax of log-probabilities changes nothing)"),
    "B": None,
    "C": "MSELoss is for regression: it compares numbers on a continuous scale, not class indices",
    "D": "BCELoss is for yes/no questions with one probability per sample, not for C log-probabilities",
}


def check_loss_pairing(answer) -> None:
    """Week 05: which loss belongs after an nn.LogSoftmax(dim=1) output layer (multiple choice)."""
    if answer not in LOSS_PAIRING_ANSWERS:
        raise CheckFailed(f"answer must be one of {sorted(LOSS_PAIRING_ANSWERS)} (a string), got {answer!r}")
    if LOSS_PAIRING_ANSWERS[answer] is not None:
        raise CheckFailed(f"answer {answer!r} is not right yet.\n  Hint: {LOSS_PAIRING_ANSWERS[answer]}")
    passed("loss pairing: LogSoftmax outputs go with NLLLoss")


def _net05(kind: str, seed: int = 0) -> torch.nn.Module:
    """A small seeded model for the week-05 checks: 'mlp' and 'dropout' (4 -> 3 logits), 'reg' (3 -> (N,))."""
    from torch import nn

    torch.manual_seed(seed)
    if kind == "mlp":
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    if kind == "dropout":
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 3))
    return nn.Sequential(nn.Linear(3, 1), nn.Flatten(0))


def _loader05(kind: str, n: int = 50, batch_size: int = 16, seed: int = 0):
    """Fixed-order batches (16, 16, 16, 2: the last one smaller) of a tiny data set for the week-05 checks."""
    from torch.utils.data import DataLoader, TensorDataset

    g = torch.Generator().manual_seed(seed)
    if kind == "reg":
        X = torch.randn(n, 3, generator=g)
        y = X @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(n, generator=g)
    else:
        X = torch.randn(n, 4, generator=g)
        y = torch.randint(0, 3, (n,), generator=g)
    return DataLoader(TensorDataset(X, y), batch_size=batch_size)


def _params05(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _same_params05(a, b, atol: float = 1e-5) -> bool:
    return all(torch.allclose(x, y, atol=atol, rtol=1e-4) for x, y in zip(a, b, strict=True))


def _run_train05(fn, kind: str, *, zero_grad: bool = True, start_eval: bool = False):
    """Run ``fn(model, loss_fn, optimizer, loader)`` on a fresh seeded case; returns (result, params, batch losses)."""
    from torch import nn

    from course_utils.training import train_one_epoch

    model = _net05(kind)
    if start_eval:
        model.eval()  # as an evaluation might have left it
    loss_fn = nn.MSELoss() if kind == "reg" else nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = _loader05(kind)
    torch.manual_seed(1)  # dropout masks
    if fn is None:  # the reference, optionally with a known mistake
        if zero_grad:
            return train_one_epoch(model, loss_fn, opt, loader).loss, _params05(model), None
        losses = []
        model.train()
        for X, y in loader:
            loss = loss_fn(model(X), y)
            loss.backward()
            opt.step()
            losses.append((loss.item(), len(y)))
        return None, _params05(model), losses
    return fn(model, loss_fn, opt, loader), _params05(model), None


def _batch_losses05(kind: str) -> list[tuple[float, int]]:
    """(loss, batch size) of each batch in the reference epoch, measured before each step."""
    from torch import nn

    model, loader = _net05(kind), _loader05(kind)
    loss_fn = nn.MSELoss() if kind == "reg" else nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    torch.manual_seed(1)
    out = []
    model.train()
    for X, y in loader:
        loss = loss_fn(model(X), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        out.append((loss.item(), len(y)))
    return out


def diagnose_train_one_epoch(got_value, got_params, kind: str, *, params_ok: bool, start_eval: bool) -> str | None:
    """A hint naming the likely mistake in a student's train_one_epoch (week 05)."""
    if not params_ok:
        if _same_params05(got_params, _params05(_net05(kind)), atol=0.0):
            return ("the weights did not change: call optimizer.step() after loss.backward() (and zero_grad before "
                    "backward, not between backward and step)")
        if _same_params05(got_params, _run_train05(None, kind, zero_grad=False)[1]):
            return "gradients piled up across batches: call optimizer.zero_grad() before loss.backward()"
        if start_eval:
            return "the model was in eval mode when your function got it: call model.train() at the start"
        return None
    batches = _batch_losses05(kind)
    if _isclose(got_value, batches[-1][0]):
        return "you returned the last batch's loss: return the mean over the whole epoch"
    if _isclose(got_value, sum(v for v, _ in batches) / len(batches)):
        return ("you averaged the batch losses with equal weights; the last batch is smaller — weight each "
                "batch loss by its size: sum(loss * len(y)) / number of samples")
    if _isclose(got_value, sum(v * b for v, b in batches)):
        return "you returned the sum over samples: divide by the number of samples"
    if _isclose(got_value, sum(v for v, _ in batches)):
        return "you returned the sum of the batch losses: return the mean per sample"
    return None


def check_train_one_epoch(fn: Callable) -> None:
    """Week 05: fn(model, loss_fn, optimizer, loader) -> mean loss per sample (float); checks weights and value."""
    if not callable(fn):
        raise CheckFailed(f"expected a function, got {type(fn).__name__} — pass the function itself, without calling it")
    name = getattr(fn, "__name__", "train_one_epoch")
    cases = [("classifier, SGD with momentum", "mlp", False), ("regressor with MSELoss", "reg", False),
             ("model with dropout handed over in eval mode", "dropout", True)]
    for label, kind, start_eval in cases:
        try:
            got, params, _ = _run_train05(fn, kind, start_eval=start_eval)
        except NotImplementedError:
            raise CheckFailed(f"{name} is not implemented yet: replace `raise NotImplementedError` with your code") from None
        except Exception as exc:
            raise CheckFailed(f"{name} raised {type(exc).__name__}: {exc}\n  on case: {label}") from None
        expected, ref_params, _ = _run_train05(None, kind)
        if got is None:
            raise CheckFailed(f"{name} returned None on case: {label} — return the mean loss as a float")
        if isinstance(got, torch.Tensor):
            raise CheckFailed(f"{name} returned a tensor on case: {label}\n  Hint: return a plain float, e.g. "
                              "total / n with total built from loss.item() * len(y)")
        params_ok = _same_params05(params, ref_params)
        problem = None if params_ok else "the weights after one epoch differ from the reference"
        if problem is None:
            problem = describe_difference(float(got), expected, atol=1e-5, rtol=1e-5)
        if problem is not None:
            hint = diagnose_train_one_epoch(float(got), params, kind, params_ok=params_ok, start_eval=start_eval)
            raise CheckFailed(f"{name} is not right yet on case: {label}\n  {problem}" + (f"\n  Hint: {hint}" if hint else ""))
    passed(f"{name}: weights and mean epoch loss match the reference on all {len(cases)} cases")


class _Spy05(torch.nn.Module):
    """Wraps a model and records, at every forward call, whether gradients were on and the training flag."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, x):
        self.calls.append((torch.is_grad_enabled(), self.training))
        return self.inner(x)


def _ref_evaluate05(model, loss_fn, loader) -> tuple[float, float]:
    """Reference mean loss and accuracy (eval mode, no gradients), from the whole data at once."""
    X = torch.cat([x for x, _ in loader])
    y = torch.cat([t for _, t in loader])
    was = model.training
    model.eval()
    with torch.no_grad():
        out = model(X)
        value = (loss_fn(out, y).item(), (out.argmax(1) == y).double().mean().item())
    model.train(was)
    return value


def _diagnose_evaluate05(got: float, part: str, model, loader) -> str | None:
    """Hint for a wrong mean loss or accuracy: unweighted batch means, train-mode outputs, sums."""
    model.eval()
    with torch.no_grad():
        per_batch = [(torch.nn.functional.cross_entropy(model(X), y).item(),
                      (model(X).argmax(1) == y).double().mean().item(), len(y)) for X, y in loader]
    model.train()
    k = 0 if part == "mean loss" else 1
    if len(per_batch) > 1 and _isclose(got, sum(b[k] for b in per_batch) / len(per_batch)):
        return "you averaged the batches with equal weights; the last batch is smaller — weight each by its size"
    if _isclose(got, sum(b[k] * b[2] for b in per_batch)) or _isclose(got, sum(b[k] for b in per_batch)):
        return "you returned a sum: divide by the number of samples"
    if part == "accuracy":
        return ("accuracy is the fraction of samples whose largest logit is the true class: "
                "(output.argmax(dim=1) == y), counted over all samples")
    return None


def check_evaluate(fn: Callable) -> None:
    """Week 05: fn(model, loss_fn, loader) -> (mean loss, accuracy), in eval mode, without gradients, back in train mode."""
    from torch import nn

    if not callable(fn):
        raise CheckFailed(f"expected a function, got {type(fn).__name__} — pass the function itself, without calling it")
    name = getattr(fn, "__name__", "evaluate")
    for label, kind, bs in (("classifier, batches of 16 (last one smaller)", "mlp", 16),
                            ("model with dropout, one batch", "dropout", 64)):
        model = _Spy05(_net05(kind))
        model.train()
        loader = _loader05(kind, batch_size=bs)
        expected = _ref_evaluate05(model, nn.CrossEntropyLoss(), loader)
        model.calls.clear()
        try:
            got = fn(model, nn.CrossEntropyLoss(), loader)
        except NotImplementedError:
            raise CheckFailed(f"{name} is not implemented yet: replace `raise NotImplementedError` with your code") from None
        except Exception as exc:
            raise CheckFailed(f"{name} raised {type(exc).__name__}: {exc}\n  on case: {label}") from None
        fail = f"{name} is not right yet on case: {label}\n  "
        if not isinstance(got, tuple) or len(got) != 2:
            raise CheckFailed(fail + f"expected a tuple (mean loss, accuracy), got {type(got).__name__}")
        if any(grad for grad, _ in model.calls):
            raise CheckFailed(fail + "gradients were being recorded during evaluation\n  Hint: wrap the loop in "
                              "`with torch.no_grad():`")
        if any(training for _, training in model.calls):
            raise CheckFailed(fail + "the model was in training mode during evaluation (dropout still on)\n  Hint: "
                              "call model.eval() before the loop")
        if not model.training:
            raise CheckFailed(fail + "the model was left in eval mode\n  Hint: call model.train() before returning, "
                              "so that training can continue")
        for part, g, e in (("mean loss", got[0], expected[0]), ("accuracy", got[1], expected[1])):
            if isinstance(g, torch.Tensor):
                raise CheckFailed(fail + f"the {part} is a tensor\n  Hint: return plain floats (use .item())")
            problem = describe_difference(float(g), e, atol=1e-5, rtol=1e-5)
            if problem is not None:
                hint = _diagnose_evaluate05(float(g), part, model, loader)
                raise CheckFailed(fail + f"{part}: {problem}" + (f"\n  Hint: {hint}" if hint else ""))
    passed(f"{name}: loss and accuracy match, computed in eval mode without gradients")


def train_variant05(model, train_loader, val_loader, epochs: int, lr: float, *, zero_grad: bool = True,
                    pairing_ok: bool = True, eval_ok: bool = True):
    """Week 05 broken-loop exercise: the loop with any of its three bugs switched on (all off = the reference).

    Returns the per-epoch mean losses and the final validation accuracy, like ``broken_train``.
    """
    from torch import nn

    loss_fn = nn.CrossEntropyLoss() if pairing_ok else nn.NLLLoss()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    model.train()
    for _ in range(epochs):
        total, n = 0.0, 0
        for X, y in train_loader:
            out = model(X)
            loss = loss_fn(out, y) if pairing_ok else loss_fn(torch.softmax(out, dim=1), y)
            if zero_grad:
                opt.zero_grad()
            loss.backward()
            opt.step()
            total, n = total + loss.item() * len(y), n + len(y)
        losses.append(total / n)
    if eval_ok:
        model.eval()
    with torch.no_grad():
        correct = sum((model(X).argmax(1) == y).sum().item() for X, y in val_loader)
    model.train()
    return losses, correct / sum(len(y) for _, y in val_loader)


def _fixed_train_case05(fn, **bugs):
    model = _Spy05(_net05("dropout"))
    train, val = _loader05("mlp", seed=0), _loader05("mlp", n=40, seed=1)
    torch.manual_seed(1)
    out = fn(model, train, val, 3, 0.2, **bugs)
    # forward calls after the 3 epochs x 4 training batches are the evaluation: was dropout off?
    return out, _params05(model), [training for _, training in model.calls[3 * len(train):]]


def check_fixed_train(fn: Callable) -> None:
    """Week 05: the repaired loop must match the reference; hints say which of the three bugs is left."""
    if not callable(fn):
        raise CheckFailed(f"expected a function, got {type(fn).__name__} — pass the function itself, without calling it")
    name = getattr(fn, "__name__", "fixed_train")
    try:
        got, params, eval_modes = _fixed_train_case05(fn)
    except NotImplementedError:
        raise CheckFailed(f"{name} is not implemented yet: replace `raise NotImplementedError` with your code") from None
    except Exception as exc:
        raise CheckFailed(f"{name} raised {type(exc).__name__}: {exc}") from None
    (exp_losses, exp_acc), ref_params, _ = _fixed_train_case05(train_variant05)
    if not isinstance(got, tuple) or len(got) != 2:
        raise CheckFailed(f"{name} must return (epoch_losses, val_accuracy) like broken_train, got {type(got).__name__}")
    losses, acc = got
    fail = f"{name} is not right yet: "
    if not _same_params05(params, ref_params, atol=1e-4):
        hints = []
        for bug, kwargs in (("zero_grad", {"zero_grad": False}), ("pairing", {"pairing_ok": False})):
            # which single bug, or both, reproduces the student's weights?
            if _same_params05(params, _fixed_train_case05(train_variant05, **kwargs)[1], atol=1e-4):
                hints.append(bug)
        if _same_params05(params, _fixed_train_case05(train_variant05, zero_grad=False, pairing_ok=False)[1], atol=1e-4):
            hints = ["zero_grad", "pairing"]
        text = {"zero_grad": "gradients still pile up: call optimizer.zero_grad() before loss.backward()",
                "pairing": ("the loss pairing is still wrong: NLLLoss got probabilities — pass the logits to "
                            "nn.CrossEntropyLoss (or log-probabilities to NLLLoss)")}
        hint = "; and ".join(text[h] for h in hints) or "compare your loop step by step with the five-step loop"
        raise CheckFailed(fail + f"the weights after training differ from the reference\n  Hint: {hint}")
    problem = describe_difference(torch.tensor([float(v) for v in losses]), torch.tensor(exp_losses), atol=1e-4,
                                  rtol=1e-4)
    if problem is not None:
        raise CheckFailed(fail + f"the per-epoch losses differ: {problem}\n  Hint: keep the sample-weighted mean "
                          "per epoch, as broken_train computes it")
    if any(eval_modes):
        raise CheckFailed(fail + "the validation accuracy was computed with dropout still on\n  Hint: evaluate "
                          "with model.eval() and torch.no_grad(), then switch back with model.train()")
    if not _isclose(float(acc), exp_acc, 1e-6):
        raise CheckFailed(fail + f"validation accuracy {float(acc):.4f}, expected {exp_acc:.4f}\n  Hint: count "
                          "(output.argmax(dim=1) == y) over all validation samples and divide by their number")
    passed(f"{name}: the bugs are fixed (weights, losses and validation accuracy match the reference)")


def check_digits_model(fn: Callable, *, min_val_accuracy: float = 0.95, time_budget_s: float = 60.0,
                       seed: int = 0) -> dict:
    """Week 05: fn(train_loader, val_loader) -> trained model; must reach ``min_val_accuracy`` within the budget.

    Returns ``{"model", "val_accuracy", "seconds", "split"}`` so that further tests reuse the trained model.
    """
    import time

    from course_utils.data import load_dataset, make_loaders
    from course_utils.devices import set_seed
    from course_utils.training import evaluate

    if not callable(fn):
        raise CheckFailed(f"expected a function, got {type(fn).__name__} — pass the function itself, without calling it")
    name = getattr(fn, "__name__", "train_digits_model")
    split = load_dataset("digits", seed=seed)
    set_seed(seed)
    train, val, _ = make_loaders(split, batch_size=64, seed=seed)
    start = time.perf_counter()
    try:
        model = fn(train, val)
    except NotImplementedError:
        raise CheckFailed(f"{name} is not implemented yet: replace `raise NotImplementedError` with your code") from None
    seconds = time.perf_counter() - start
    if not isinstance(model, torch.nn.Module):
        raise CheckFailed(f"{name} must return the trained model (an nn.Module), got {type(model).__name__}")
    dev = next(model.parameters()).device
    with torch.no_grad():
        shape = tuple(model.eval()(split.X_val[:2].to(dev)).shape)
    if shape != (2, 10):
        raise CheckFailed(f"the model must output 10 logits per image: for 2 images expected shape (2, 10), got {shape}")
    acc = evaluate(model, torch.nn.CrossEntropyLoss(), val, metric="accuracy").metric
    if seconds > time_budget_s:
        raise CheckFailed(f"{name} took longer than the budget of {time_budget_s:.0f} s\n  Hint: fewer epochs or a "
                          "smaller model; small models train fast on the CPU with batches of 32-128")
    if acc < min_val_accuracy:
        raise CheckFailed(f"validation accuracy {acc:.3f} is below {min_val_accuracy}\n  Hint: end in 10 logits with "
                          "nn.CrossEntropyLoss, train for more epochs, try Adam (lr 1e-3 to 1e-2) or SGD with "
                          "momentum 0.9 (lr 0.05 to 0.2), and keep the weights of the best validation epoch")
    passed(f"{name}: validation accuracy >= {min_val_accuracy} reached within {time_budget_s:.0f} s")
    return {"model": model, "val_accuracy": acc, "seconds": seconds, "split": split}


# --------------------------------------------------------------------------- week 06
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
    if not callable(fn):
        raise CheckFailed("pass the function itself (pick_losses), without calling it")
    try:
        answers = fn()
    except NotImplementedError:
        raise CheckFailed("pick_losses is not implemented yet: replace `raise NotImplementedError`") from None
    check_choices(answers, _LOSS_TASKS, LOSS_CHOICES, _LOSS_HINTS, what="pick_losses()",
                  default_hint="re-read the task: what does the output layer produce, and what is the target?")
    passed(f"losses: all {len(_LOSS_TASKS)} tasks answered correctly")


def _hinge_ref(scores, targets, margin=1.0):
    return torch.clamp(margin - targets * scores, min=0).mean()


def diagnose_hinge(got, case: Case, expected) -> str | None:
    """Week 06: name the usual hinge mistakes from a wrong scalar ``got``."""
    s, y = case.args[0].double(), case.args[1].double()
    m = case.kwargs.get("margin", 1.0)
    g = _as_tensor(got)
    if g is None or g.dim() != 0:
        return "return one number, the mean over the batch (a 0-dim tensor): finish with .mean()"
    g = float(g)
    if _isclose(g, float((m - y * s).mean())):
        return "some per-sample losses are negative: clamp max(0, margin − y·s) at 0 before averaging"
    if _isclose(g, float(torch.clamp(m - y * s, min=0).sum())):
        return "you summed over the batch; the course's hinge averages (mean)"
    if _isclose(g, float(torch.clamp(1 - y * s, min=0).mean())):
        return "you used a margin of 1 whatever the `margin` argument says"
    if _isclose(g, float(torch.clamp(m - s * (y + 1) / 2, min=0).mean())) or _isclose(g, float(torch.clamp(m + y * s, min=0).mean())):
        return "check the sign: the loss is max(0, margin − y·s) with y in {−1, +1}"
    if _isclose(g, float((torch.clamp(m - y * s, min=0) ** 2).mean())):
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
    check_function(fn, _hinge_ref, cases, name="hinge", diagnose=diagnose_hinge)


def _wce_ref(logits, targets, weight):
    return torch.nn.functional.cross_entropy(logits, targets, weight=weight)


def diagnose_weighted_ce(got, case: Case, expected) -> str | None:
    """Week 06: name the usual weighted cross-entropy mistakes."""
    logits, y, w = case.args
    g = _as_tensor(got)
    if g is None or g.dim() != 0:
        return "return one number: the weighted average over the batch"
    g = float(g)
    per = torch.nn.functional.cross_entropy(logits, y, reduction="none")
    if _isclose(g, float((w[y] * per).mean())):
        return "divide by the sum of the weights of the samples, w[y].sum(), not by N (that is what torch does)"
    if _isclose(g, float(per.mean())):
        return "the weights have no effect: multiply each sample's loss by the weight of its true class, w[y]"
    if _isclose(g, float((w[y] * per).sum() / w.sum())):
        return "divide by the weights of the samples in the batch, w[y].sum(), not by the sum of the class weights"
    softmax_ce = -torch.log(torch.softmax(logits, dim=1).gather(1, y.view(-1, 1)).squeeze(1))
    if _isclose(g, float((w[y] * softmax_ce).sum() / w[y].sum()), 1e-3) and not torch.isfinite(softmax_ce).all():
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
    F = torch.nn.functional
    return F.cross_entropy(species_logits, species) + lam * F.mse_loss(count_pred.reshape(-1), count)


def diagnose_multitask(got, case: Case, expected) -> str | None:
    """Week 06: name the usual multi-task loss mistakes (λ on the wrong term, broadcasting, forgetting a term)."""
    logits, species, pred, count, lam = case.args
    F = torch.nn.functional
    g = _as_tensor(got)
    if g is None or g.dim() != 0:
        return "return one number: CE + lam · MSE"
    g = float(g)
    ce, mse = float(F.cross_entropy(logits, species)), float(F.mse_loss(pred.reshape(-1), count))
    if _isclose(g, lam * ce + mse):
        return "λ multiplies the wrong term: the loss is CE(species) + lam · MSE(count)"
    if _isclose(g, ce):
        return "the count head is missing: add lam · MSE(count_pred, count)"
    if _isclose(g, ce + mse):
        return "you ignored lam"
    if pred.dim() == 2 and _isclose(g, ce + lam * float(((pred - count) ** 2).mean())):
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
    d = np.asarray(a, dtype=float) - np.asarray(b, dtype=float)
    return float(d.mean() / (d.std(ddof=1) / math.sqrt(len(d))))


def diagnose_paired_t(got, case: Case, expected) -> str | None:
    """Week 06: name the usual paired-t mistakes (population sd, unpaired test, sign, no √n)."""
    a, b = (np.asarray(x, dtype=float) for x in case.args)
    d = a - b
    if not isinstance(got, (float, int, np.floating)) and _as_tensor(got) is None:
        return "return a plain number (a float)"
    g = float(got)
    if _isclose(g, float(d.mean() / (d.std(ddof=0) / math.sqrt(len(d))))):
        return "use the sample standard deviation of the differences (ddof=1), not the population one"
    if _isclose(g, -expected):
        return "the sign is flipped: use the differences a − b"
    if _isclose(g, float(d.mean() / d.std(ddof=1))):
        return "divide the standard deviation by √n: the standard error of the mean difference is sd / √n"
    from scipy import stats

    if _isclose(g, float(stats.ttest_ind(a, b).statistic)):
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
    if not _isclose(float(t_value), row["statistic"]):
        hint = ("the sign is flipped: the table tests the second loss against the first (baseline)"
                if _isclose(float(t_value), -row["statistic"]) else
                "read the t statistic of the second row of comparison.summary() (key 'statistic')")
        raise CheckFailed(f"t_value = {float(t_value):.4g} does not match the comparison.\n  Hint: {hint}")
    if not isinstance(significant, (bool, np.bool_)):
        raise CheckFailed(f"significant must be True or False, got {type(significant).__name__}")
    if bool(significant) != (row["p"] < 0.05):
        raise CheckFailed("significant is not right yet.\n  Hint: significant means p < 0.05; the p-value is "
                          "in the same row (key 'p'), not the t statistic")
    passed("comparison: t statistic and significance read correctly")
