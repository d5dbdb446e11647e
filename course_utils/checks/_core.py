"""The machinery every week's checks share (introduced in week 01).

A check calls the student's code on several cases, compares each result with the course's
reference and, on a mismatch, raises :class:`CheckFailed` (an ``AssertionError``) whose message
says *how* the answer differs and gives a hint naming the likely mistake. A passing check prints
one short confirmation line to stdout and never writes to stderr (nbgrader scores a cell that
writes to stderr as failed).

Hints are data, given to :func:`check_function` in one way:
- ``diagnose(got, case, expected) -> hint | None`` for wrong values;
- ``error_hints = {marker: hint}`` for errors the student's code raises (the marker is looked
  for in ``"ExceptionType: message"``);
- ``Case.hint`` for any failure on that one case that nothing more specific explains.

One acceptance rule per exercise (:mod:`course_utils.checks._rules`)
--------------------------------------------------------------------
A ✔ from a visible check must predict the hidden tests' verdict, so both apply the same
:class:`Rule`: what the answer must *be*, besides having the right values. Define it once, in the
week's module, and use it in the check and in the hidden test cell::

    SIGMOID = define_rule("sigmoid", grad=True)              # checks/week01.py
    check_function(fn, torch.sigmoid, cases, rule=SIGMOID)   # the visible check

    from course_utils.checks import rule                     # the hidden test cell
    rule("sigmoid").verify(sigmoid, (_z,), torch.sigmoid, atol=1e-12)

``Rule.verify(fn, args, oracle)`` calls the student's function on copies of ``args`` under the time
limit (errors, stubs and time-outs become :class:`CheckFailed` with a hint), then refuses, in order:
- an answer that changed its **inputs** in place (``x -= x.max()`` gives a right softmax and a
  wrong ``x`` to the caller);
- the wrong **type** (``returns``): ``"tensor"`` (a torch tensor: not a Python or NumPy number, not
  a list), ``"float"`` (a Python float: not a 0-dim tensor, not ``np.float32``, not the string
  ``"0.53"``), ``"floats"`` (a list of Python floats), ``"module"`` (an ``nn.Module``), or a tuple of
  these (a tuple of that length, each part checked);
- the wrong **shape**, **dtype** (``dtype``, or exactly the oracle's: float64 out of float32 input
  and int32 class indices are refused) and **device** of a tensor;
- wrong **values** (``close`` with ``atol``/``rtol``; a ``diagnose`` hint may name the mistake);
- with ``grad=True``, a result **detached** from its input (float inputs are given
  ``requires_grad``) or whose gradient differs from the oracle's where both are finite.
``Rule.call`` and ``Rule.accept`` are the two halves, for checks that judge values themselves
(training loops, searches); ``accept(got)`` without an expected value checks the type only.

Beyond values (the helpers a week's checks and hidden tests share)
-----------------------------------------------------------------
- :func:`check_parts` runs every part of one exercise's check (values, refusals, "no loops") and reports
  all the failing parts in one run;
- :func:`require_no_loop` enforces a text's "no Python loops" by behaviour: whole-tensor code makes as many
  torch calls for a large batch as for a small one;
- :func:`blaming_earlier_answers` names the exercise a follow-on failure comes from (the student's
  log_softmax failing because their own logsumexp does);
- :func:`expect_value_error` with ``naming=`` asks the message to write out the shapes involved.
A hidden test calls the same function as the visible check (e.g. ``temperature_reached``,
``refuses_mismatched_shapes``, ``hinge_without_loops``), so that it fails with the same explained
:class:`CheckFailed`, never with a bare ``assert``.

For a week's author: define each exercise's rule with ``define_rule`` in ``checks/weekNN.py``,
pass ``rule=`` to :func:`check_function` (or call ``call``/``accept`` in a hand-written check),
call ``rule(name)`` in every hidden test that runs the student's function, and add the exercise's
odd answers to ``tests/test_verdicts.py``, which fails when a visible check and its hidden tests
disagree about one of them.
"""

from __future__ import annotations

import contextlib
import re
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import torch
import torch.overrides

from ._choices import check_choice, check_choices  # noqa: F401  (re-exported)
from ._failed import HINT_MIME, CheckFailed, _student_frames  # noqa: F401  (re-exported)
from ._parts import (  # noqa: F401  (re-exported)
    blaming_earlier_answers,
    broken_earlier_answer,
    check_each,
    check_parts,
    require,
    silently,
)

if TYPE_CHECKING:
    from ._rules import Rule

#: Seconds one call of the student's function may take before the check gives up with a hint.
TIME_LIMIT_S = 20.0
#: In the text of torch's errors about shapes that do not broadcast (weeks 02, 03).
SHAPE_MARKER = "must match the size"
INPLACE_HINT = ("compute into a new tensor (y = x - m) instead of changing the input (x -= m, x.sub_(m), "
                "x[...] = ...): the caller still needs it")
#: In-place work on a tensor the function made itself (not its input) that autograd saved for the gradient.
TEMPORARY_INPLACE_HINT = ("an in-place operation (e /= s, e -= m, e.exp_(), e[...] = ...) overwrote a tensor that autograd "
                          "saved to compute the gradient — your input is fine: write e = e / s (a new tensor) instead")
DETACHED_HINT = ("stay with torch operations on the input: .item(), .numpy(), .detach(), .data and "
                 "torch.tensor(...) cut the result off from the gradient")
#: Errors torch raises when student code breaks the gradient rules; every rule adds these hints.
GRAD_ERROR_HINTS = {
    "leaf Variable that requires grad": INPLACE_HINT,
    "modified by an inplace operation": TEMPORARY_INPLACE_HINT,  # Rule.call names a changed input itself
    "numpy() on Tensor that requires grad": DETACHED_HINT,
    "does not require grad and does not have a grad_fn": DETACHED_HINT,
}


@dataclass
class Case:
    """One call of the student's function: ``fn(*args, **kwargs)``; ``label`` names it in messages.

    ``hint`` is shown when the answer to this case is wrong (or the code raises on it) and no
    diagnosis names a more specific mistake.
    """

    label: str
    args: tuple = ()
    kwargs: dict = field(default_factory=dict)
    hint: str | None = None


def clone(value):
    """A deep copy of tensors, arrays and containers of them, so the student's code cannot alter a case."""
    if isinstance(value, torch.Tensor):
        return value.detach().clone()
    if isinstance(value, np.ndarray):
        return value.copy()
    if isinstance(value, (list, tuple)):
        return type(value)(clone(v) for v in value)
    if isinstance(value, dict):
        return {k: clone(v) for k, v in value.items()}
    return value


def as_tensor(value) -> torch.Tensor | None:
    """``value`` as a detached CPU tensor (tensors, arrays, numbers), or None for anything else."""
    if isinstance(value, torch.Tensor):
        return value.detach().cpu()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value) if value.dtype.kind in "biuf" else None
    if isinstance(value, (int, float, bool, np.number)):
        return torch.tensor(value)
    return None


def close(a, b, *, atol: float = 1e-5, rtol: float = 1e-4) -> bool:
    """True when ``a`` and ``b`` (tensors, arrays or numbers) have one shape and agree; NaN never agrees."""
    a, b = as_tensor(a), as_tensor(b)
    if a is None or b is None or a.shape != b.shape:
        return False
    return bool(torch.allclose(a.double(), b.double(), atol=atol, rtol=rtol))


def finite(value) -> bool:
    """True when ``value`` converts to a tensor whose entries are all finite."""
    t = as_tensor(value)
    return t is not None and bool(torch.isfinite(t.double()).all())


def describe_difference(got: Any, expected: Any, *, atol: float = 1e-6, rtol: float = 1e-5) -> str | None:
    """None when ``got`` matches ``expected``; otherwise one sentence saying how it differs."""
    exp_t = as_tensor(expected)
    if exp_t is None:  # plain Python objects: strings, tuples of names ...
        return None if got == expected else f"expected {expected!r}, got {got!r}"
    if got is None:
        return "your function returned None — did you forget the `return` statement?"
    got_t = as_tensor(got)
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


def fail(name: str, problem: str, *, case: Case | str | None = None, hint: str | None = None) -> CheckFailed:
    """The one way a check fails: ``raise fail(...)`` gives "name is not right yet on case: …" + hint."""
    label = case.label if isinstance(case, Case) else case
    msg = f"{name} is not right yet" + (f" on case: {label}" if label else "") + f"\n  {problem}"
    if hint:
        msg += f"\n  Hint: {hint}"
    return CheckFailed(msg)


def require_callable(fn, name: str) -> None:
    """Fail with a hint when the student passed a value (the function's result) instead of the function."""
    if not callable(fn):
        raise CheckFailed(f"expected a function, got {type(fn).__name__} — pass {name} itself, without calling it")


class _TimeLimit(Exception):
    """Raised inside the student's code when a call runs past its time limit."""


@contextlib.contextmanager
def _time_limit(seconds: float | None) -> Iterator[None]:
    """Interrupt the block after ``seconds`` (main thread only); an outer timer keeps its remaining time."""
    if not seconds or threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        yield
        return

    def on_alarm(signum, frame):
        raise _TimeLimit

    previous = signal.signal(signal.SIGALRM, on_alarm)
    outer, _ = signal.setitimer(signal.ITIMER_REAL, seconds)
    start = time.monotonic()
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
        if outer:  # an enclosing limit (or a test runner's timeout) keeps ticking
            signal.setitimer(signal.ITIMER_REAL, max(outer - (time.monotonic() - start), 1e-3))


def _error_hint(exc: BaseException, case: Case | None, error_hints: Mapping[str, str] | None) -> str | None:
    text = f"{type(exc).__name__}: {exc}"
    for marker, hint in {**(error_hints or {}), **GRAD_ERROR_HINTS}.items():
        if marker in text:
            return hint
    return case.hint if case is not None else None


#: Warnings a student's code commonly gives, and what to do instead (a marker in the warning's text -> hint).
WARNING_HINTS = {
    "requires_grad=True to a scalar": ("float(t) of a tensor that carries a gradient warns, and the number is cut "
                                       "off from autograd: where a tensor is asked, return the tensor itself; where "
                                       "a plain number is asked, take it with t.item()"),
    "Using a target size": ("the prediction and the target have different shapes, and torch broadcast them (so "
                            "the loss is wrong): give them one shape first, e.g. .squeeze(-1) on a model output "
                            "(.squeeze() also removes the batch dimension of a batch of one)"),
    "To copy construct from a tensor": "torch.tensor(t) on a tensor warns: use t.clone() for a copy",
}
WARNING_HINT = ("a warning is written to stderr when your code runs, and a graded cell that writes to stderr "
                "scores 0: change the code so that it gives no warning")


def call_student(fn: Callable, args: tuple = (), kwargs: dict | None = None, *, name: str,
                 case: Case | str | None = None, error_hints: Mapping[str, str] | None = None,
                 time_limit: float | None = TIME_LIMIT_S) -> Any:
    """The one way a check calls the student's code: errors, stubs, time-outs and warnings (which the grader
    sees on stderr) become :class:`CheckFailed`."""
    label = case.label if isinstance(case, Case) else case
    on = f"\n  on case: {label}" if label else ""
    try:
        with _time_limit(time_limit), warnings.catch_warnings(record=True) as caught:
            got = fn(*args, **(kwargs or {}))
        if caught:  # the filters in force decide, as they do when the notebook runs
            w = caught[0]
            text = f"{w.category.__name__}: {str(w.message).strip()}"
            hint = next((h for marker, h in WARNING_HINTS.items() if marker in text), WARNING_HINT)
            raise CheckFailed(f"{name} gave a warning — {text[:300]}{on}\n  Hint: {hint}")
        return got
    except CheckFailed:
        raise
    except NotImplementedError:
        raise CheckFailed(f"{name} is not implemented yet: replace `raise NotImplementedError` with your code") from None
    except _TimeLimit:
        raise CheckFailed(f"{name} took longer than {time_limit:g} s{on}\n  Hint: a Python loop over samples or "
                          "elements is slow — use whole-tensor operations (and check the loop ends)") from None
    except Exception as exc:  # the student's error is the message
        hint = _error_hint(exc, case if isinstance(case, Case) else None, error_hints)
        failed = CheckFailed(f"{name} raised {type(exc).__name__}: {str(exc)[:500]}{on}"
                             + (f"\n  Hint: {hint}" if hint else ""))
        failed.student_frames = _student_frames(exc.__traceback__)
        raise failed from None


def check_function(
    fn: Callable,
    reference: Callable,
    cases: Sequence[Case],
    *,
    name: str | None = None,
    diagnose: Callable[[Any, Case, Any], str | None] | None = None,
    error_hints: Mapping[str, str] | None = None,
    atol: float | None = None,
    rtol: float | None = None,
    quiet: bool = False,
    rule: Rule | None = None,
) -> None:
    """Run ``fn`` and ``reference`` on every case; raise :class:`CheckFailed` with a hint on the first mismatch.

    ``diagnose(got, case, expected)`` may return a hint naming the likely mistake; ``error_hints`` maps a
    marker in the text of an error the student's code raises to a hint. ``quiet`` skips the confirmation
    line (for checks that print one line for several parts). With ``rule`` every case goes through
    :meth:`Rule.verify` (type, dtype, device, gradient and untouched inputs too); without one only the
    values (and shape) are compared.
    """
    name = name or (rule.name if rule is not None else getattr(fn, "__name__", "your function"))
    require_callable(fn, name)
    n_cases = len(cases)
    if rule is not None:  # values on every case first: a wrong formula is named by its values, not its gradient
        for grad in (False, True) if rule.grad else (False,):
            for case in cases:
                rule.verify(fn, case.args, reference, kwargs=case.kwargs, case=case, diagnose=diagnose,
                            error_hints=error_hints, atol=atol, rtol=rtol, grad=grad)
        cases = []
    for case in cases:
        expected = reference(*clone(case.args), **clone(case.kwargs))
        got = call_student(fn, clone(case.args), clone(case.kwargs), name=name, case=case, error_hints=error_hints)
        problem = describe_difference(got, expected, atol=1e-6 if atol is None else atol,
                                      rtol=1e-5 if rtol is None else rtol)
        if problem is not None:
            hint = diagnose(got, case, expected) if diagnose else None
            raise fail(name, problem, case=case, hint=hint or case.hint)
    if not quiet:
        passed(f"{name}: all {n_cases} cases match the reference")


_NUMBER_GROUP = re.compile(r"\d+(?:\s*[,x×*]\s*\d+)*")


def shapes_named(message: str) -> set[tuple[int, ...]]:
    """The shapes a message writes out: (5, 1), [5, 1], torch.Size([5, 1]), 5x1 and 5 × 1 all name (5, 1)."""
    return {tuple(int(n) for n in re.findall(r"\d+", group)) for group in _NUMBER_GROUP.findall(message)}


def expect_value_error(fn: Callable, name: str, args: tuple, what: str, word: str, *,
                       naming: Sequence[tuple[str, Sequence[tuple[int, ...]]]] = ()) -> None:
    """Fail unless ``fn(*args)`` raises ValueError whose message mentions ``word`` (weeks 03, 04) and, for each
    ``(argument, shapes)`` in ``naming``, writes out one of that argument's ``shapes`` (week 04)."""
    try:
        with _time_limit(TIME_LIMIT_S):
            fn(*args)
    except NotImplementedError:
        raise CheckFailed(f"{name} is not implemented yet: replace `raise NotImplementedError` with your code") from None
    except _TimeLimit:
        raise CheckFailed(f"{name} took longer than {TIME_LIMIT_S:g} s on {what}") from None
    except ValueError as exc:
        if word not in str(exc).lower():
            raise CheckFailed(f"{name} raised ValueError for {what}, good — but its message {str(exc)!r} does not "
                              f"say which argument is wrong\n  Hint: mention {word!r} in the message") from None
        found = shapes_named(str(exc))
        missing = [arg for arg, shapes in naming if not found & {tuple(s) for s in shapes}]
        if missing:
            shown = " and ".join(f"{arg} {tuple(shapes[0])}" for arg, shapes in naming)
            raise CheckFailed(f"{name} raised ValueError for {what}, good — but its message {str(exc)[:200]!r} does "
                              f"not name the shape of {' or '.join(missing)}\n  Hint: put both shapes in the message "
                              f"(here {shown}), e.g. with tuple(x.shape)") from None
        return
    except Exception as exc:
        raise CheckFailed(f"{name} raised {type(exc).__name__} for {what}; raise a ValueError instead\n  Hint: "
                          f"test the input yourself before computing, then `raise ValueError(...)` naming {word!r}"
                          ) from None
    raise CheckFailed(f"{name} accepted {what} without complaint\n  Hint: check the argument first and "
                      f"`raise ValueError(...)` with a message naming {word!r}")


class _CountTorchCalls(torch.overrides.TorchFunctionMode):
    """Counts the torch functions and tensor methods called inside the ``with`` block."""

    def __init__(self):
        super().__init__()
        self.calls = 0

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.calls += 1
        return func(*args, **(kwargs or {}))


def torch_calls(fn: Callable, args: tuple = (), kwargs: dict | None = None, *, name: str,
                error_hints: Mapping[str, str] | None = None) -> int:
    """How many torch functions and tensor methods one call ``fn(*args, **kwargs)`` makes (errors as in
    :func:`call_student`)."""
    with _CountTorchCalls() as counter:
        call_student(fn, clone(args), clone(kwargs or {}), name=name, error_hints=error_hints)
    return counter.calls


def require_no_loop(fn: Callable, name: str, make_args: Callable[[int], tuple], *, sizes: tuple[int, int] = (8, 512),
                    kwargs: dict | None = None, hint: str, error_hints: Mapping[str, str] | None = None) -> None:
    """Fail when ``fn`` makes more torch calls for a batch of ``sizes[1]`` samples than for ``sizes[0]``, beyond a
    slack: a Python loop over the samples (whole-tensor operations make the same calls for any batch size).
    ``make_args(n)`` gives the arguments for a batch of n."""
    small, big = (torch_calls(fn, make_args(n), kwargs, name=name, error_hints=error_hints) for n in sizes)
    if big > small + (sizes[1] - sizes[0]) // 4:
        raise CheckFailed(f"{name} makes {big} torch calls for a batch of {sizes[1]} and {small} for a batch of "
                          f"{sizes[0]}: it loops over the samples in Python, and the exercise says no loops\n"
                          f"  Hint: {hint}")


def as_number(value) -> float | None:
    """A plain float from a Python number, NumPy scalar or one-element tensor/array; None otherwise."""
    if isinstance(value, bool):
        return None
    if isinstance(value, (int, float, np.number)):
        return float(value)
    t = as_tensor(value)
    if t is not None and t.numel() == 1 and not t.dtype == torch.bool:
        return float(t.reshape(()))
    return None
