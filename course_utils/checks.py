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
    problem = describe_difference(got, expected)
    if problem is None:
        passed(f"{name} is correct")
        return
    hint = (hints or {}).get(got) if isinstance(got, (str, int, float, tuple)) else None
    raise CheckFailed(f"{name} is not right yet: {problem}" + (f"\n  Hint: {hint}" if hint else ""))


def _isclose(a: float, b: float, tol: float = 1e-4) -> bool:
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


# --------------------------------------------------------------------------- week 01

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
