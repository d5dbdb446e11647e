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

# --------------------------------------------------------------------------- week 03

# --------------------------------------------------------------------------- week 04

# --------------------------------------------------------------------------- week 05

# --------------------------------------------------------------------------- week 06
