"""The acceptance rule of an exercise: one definition shared by its visible check and its hidden tests.

How to use it is described in :mod:`course_utils.checks._core` ("One acceptance rule per exercise").
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from ._core import (
    DETACHED_HINT,
    INPLACE_HINT,
    TIME_LIMIT_S,
    Case,
    CheckFailed,
    _error_hint,
    call_student,
    clone,
    close,
    describe_difference,
    fail,
    require_callable,
)

__all__ = ["Rule", "define_rule", "rule", "CheckFailed"]


def _what(value) -> str:
    """A short description of a returned value's type, for messages: "a NumPy array (dtype float64)"."""
    if isinstance(value, torch.Tensor):
        return f"a {value.dim()}-dim tensor" if value.dim() == 0 else f"a tensor of shape {tuple(value.shape)}"
    if isinstance(value, np.ndarray):
        return f"a NumPy array (dtype {value.dtype})"
    if isinstance(value, np.generic):
        return f"a NumPy {type(value).__name__}"
    if isinstance(value, str):
        return f"the string {value[:40]!r}"
    for base in (list, tuple, dict, set):
        if isinstance(value, base):
            kind = base.__name__ if type(value) is base else f"{base.__name__} ({type(value).__name__})"
            return f"a {kind} of {len(value)}"
    return f"a Python {type(value).__name__}" if isinstance(value, (bool, int, float)) else f"a {type(value).__name__}"


def _type_hint(got, kind: str) -> str:
    numpy = isinstance(got, (np.ndarray, np.generic))
    if kind == "tensor":
        if numpy:
            return "stay in torch (torch.exp, torch.log, .sum(), .amax()): NumPy functions and .numpy() give arrays"
        if isinstance(got, (bool, int, float)):
            return ("keep the result a tensor: .item(), float() and math functions (math.sqrt, math.log) turn it "
                    "into a Python number, cut off from autograd — use the torch functions (torch.sqrt, torch.log)")
        if isinstance(got, (list, tuple)):
            return "return the tensor itself, not a list or tuple (a comma after `return x` makes a tuple)"
        return "return a torch.Tensor"
    if kind == "float":
        if isinstance(got, torch.Tensor):
            return "return a plain Python float: .item() turns a one-number tensor into one"
        if numpy:
            return "return a plain Python float: float(x) turns a NumPy number into one"
        if isinstance(got, str):
            return "return the number itself, not its text"
        return "return one plain Python float (for example total / n)"
    if kind == "floats":
        return "return a list of plain Python floats (build it with .append(total / n), as the loop you were given does)"
    if kind == "module":
        return "return the trained model itself (an nn.Module)"
    return ""


def _is_kind(got, kind: str) -> bool:
    if kind == "tensor":
        return isinstance(got, torch.Tensor)
    if kind == "float":  # np.float64 is a float subclass and behaves as one; np.float32 is not
        return isinstance(got, float)
    if kind == "floats":
        return isinstance(got, (list, tuple)) and all(isinstance(v, float) for v in got)
    if kind == "module":
        return isinstance(got, torch.nn.Module)
    raise ValueError(f"unknown return kind {kind!r}")


def _dtype_hint(got: torch.dtype, want: torch.dtype) -> str:
    if want == torch.bool:
        return ("a yes/no answer is torch.bool: return the comparison itself (e.g. p >= threshold), without "
                "converting it with .long(), .float() or torch.where(..., 1, 0)")
    if got == torch.bool:
        return ("a comparison gives torch.bool: convert with "
                + (".long()" if want == torch.long else ".to(x.dtype), the dtype of the input x"))
    if not want.is_floating_point:
        return f"class indices and 0/1 predictions are {want}: convert with .long()"
    if not got.is_floating_point:
        return "expected floating-point values: do not round or convert to integers"
    if got.itemsize > want.itemsize:
        return (f"{want} in, {want} out: a float64 tensor (torch.tensor(..., dtype=torch.float64), NumPy or "
                ".double()) crept into the computation")
    return "return the dtype you were given — do not convert with .float() or build new tensors with a fixed dtype"


def _names(fn, args, kwargs) -> dict[str, Any]:
    """The student's parameter names for ``args``/``kwargs`` ("argument 1" where they cannot be bound)."""
    try:
        return dict(inspect.signature(fn).bind_partial(*args, **kwargs).arguments)
    except (TypeError, ValueError):
        return {**{f"argument {i + 1}": a for i, a in enumerate(args)}, **kwargs}


def _same(before, after) -> bool:
    if isinstance(before, torch.Tensor):
        return (isinstance(after, torch.Tensor) and before.shape == after.shape and before.dtype == after.dtype
                and bool(((before == after.detach()) | (before.isnan() & after.detach().isnan())).all()))
    if isinstance(before, np.ndarray):
        return isinstance(after, np.ndarray) and np.array_equal(before, after, equal_nan=before.dtype.kind in "fc")
    if isinstance(before, (list, tuple)):
        return len(before) == len(after) and all(_same(b, a) for b, a in zip(before, after, strict=True))
    if isinstance(before, dict):
        return before.keys() == after.keys() and all(_same(before[k], after[k]) for k in before)
    return True  # models, loaders, numbers: not inputs a student could (or should not) change


def _leaf(value):
    """A float tensor as a fresh leaf that requires grad (other values unchanged)."""
    if isinstance(value, torch.Tensor) and value.is_floating_point():
        return value.detach().clone().requires_grad_(True)
    return value


@dataclass(frozen=True)
class Rule:
    """What the answer to one exercise must be besides having the right values (see the module docstring).

    ``returns``: "tensor", "float", "floats", "module" or a tuple of these (``parts`` names its
    positions in messages); ``dtype``: the tensor dtype asked for (None: exactly the oracle's);
    ``grad``: the result must carry the gradient of the float inputs (``wrt``: of these positional arguments
    only, for an input torch cannot differentiate, like a class weight).
    """

    name: str
    returns: str | tuple = "tensor"
    dtype: torch.dtype | None = None
    grad: bool = False
    parts: tuple[str, ...] = ()
    atol: float = 1e-6
    rtol: float = 1e-5
    time_limit: float | None = TIME_LIMIT_S
    wrt: tuple[int, ...] | None = None

    def call(self, fn: Callable, args: Sequence = (), kwargs: Mapping | None = None, *, case: Case | str | None = None,
             error_hints: Mapping[str, str] | None = None) -> Any:
        """``fn(*args, **kwargs)`` under the time limit; fails if it changed any of its tensor inputs in place."""
        require_callable(fn, self.name)
        args, kwargs = tuple(args), dict(kwargs or {})
        before = _names(fn, clone(args), clone(kwargs))
        try:
            got = call_student(fn, args, kwargs, name=self.name, case=case, error_hints=error_hints,
                               time_limit=self.time_limit)
        except CheckFailed as exc:
            got, failed = None, exc
        else:
            failed = None
        after = _names(fn, args, kwargs)
        changed = [n for n in before if not _same(before[n], after.get(n))]
        if failed is not None and not changed:
            raise failed
        if changed:  # only when the caller's input really changed is it called "changing the input"
            raise fail(self.name, f"your function changed its input `{changed[0]}` in place", case=case,
                       hint=INPLACE_HINT)
        return got

    def accept(self, got, expected=None, *, case: Case | str | None = None, inputs: Sequence = (),
               diagnose: Callable | None = None, atol: float | None = None, rtol: float | None = None,
               grad: bool | None = None) -> None:
        """Raise :class:`CheckFailed` unless ``got`` is what the rule asks for (and, given ``expected``, equals it)."""
        atol, rtol = self.atol if atol is None else atol, self.rtol if rtol is None else rtol
        found = self._problem(got, expected, self.returns, "", atol, rtol)
        if found is not None:
            problem, hint, diagnosable = found
            if diagnosable and diagnose is not None:
                hint = diagnose(got, case, expected) or hint
            raise fail(self.name, problem, case=case, hint=hint or (case.hint if isinstance(case, Case) else None))
        if (self.grad if grad is None else grad) and self.returns == "tensor":
            self._check_grad(got, expected, [a for a in inputs if isinstance(a, torch.Tensor) and a.requires_grad],
                             case)

    def verify(self, fn: Callable, args: Sequence = (), oracle=None, *, kwargs: Mapping | None = None,
               case: Case | str | None = None, diagnose: Callable | None = None,
               error_hints: Mapping[str, str] | None = None, atol: float | None = None,
               rtol: float | None = None, grad: bool | None = None) -> Any:
        """Call ``fn`` on copies of ``args`` and accept its result against ``oracle`` (a function of the same
        arguments, or the expected value); returns the student's result. ``grad=False`` skips the gradient."""
        args, kwargs = clone(tuple(args)), clone(dict(kwargs or {}))
        if self.grad:
            args = tuple(_leaf(a) if self.wrt is None or i in self.wrt else a for i, a in enumerate(args))
        expected = oracle(*args, **kwargs) if callable(oracle) else oracle
        got = self.call(fn, args, kwargs, case=case, error_hints=error_hints)
        self.accept(got, expected, case=case, inputs=args, diagnose=diagnose, atol=atol, rtol=rtol, grad=grad)
        return got

    def _problem(self, got, expected, kind, where: str, atol: float, rtol: float):
        """(problem, hint, diagnosable) for the first way ``got`` breaks the rule, or None."""
        if isinstance(kind, tuple):
            if got is None or not isinstance(got, tuple) or len(got) != len(kind):
                shape = f"a tuple of {len(kind)}" + (f" ({', '.join(self.parts)})" if self.parts else "")
                return (f"expected {shape}{where}, got {_what(got)}",
                        "return the values separated by a comma: `return a, b` makes a tuple", False)
            for i, (g, k) in enumerate(zip(got, kind, strict=True)):
                e = expected[i] if isinstance(expected, (tuple, list)) else None
                label = self.parts[i] if i < len(self.parts) else f"element {i}"
                found = self._problem(g, e, k, f" for {label}", atol, rtol)
                if found is not None:
                    return found
            return None
        if got is None and where:
            return f"got None{where}", "every part of the tuple needs its value: `return a, b`", False
        if got is None:
            return "your function returned None — did you forget the `return` statement?", None, False
        if not _is_kind(got, kind):
            want = {"tensor": "a torch tensor", "float": "a Python float", "floats": "a list of Python floats",
                    "module": "an nn.Module"}[kind]
            return f"expected {want}{where}, got {_what(got)}", _type_hint(got, kind), False
        if kind == "tensor":
            return self._tensor_problem(got, expected, where, atol, rtol)
        if expected is None or kind == "module":
            return None
        if kind == "floats" and len(got) != len(expected):
            return f"expected {len(expected)} numbers{where}, got {len(got)}", None, True
        problem = describe_difference(torch.tensor(got, dtype=torch.float64),
                                      torch.tensor(expected, dtype=torch.float64), atol=atol, rtol=rtol)
        return None if problem is None else (problem + where, None, True)

    def _tensor_problem(self, got: torch.Tensor, expected, where: str, atol: float, rtol: float):
        want = self.dtype or (expected.dtype if isinstance(expected, torch.Tensor) else None)
        if isinstance(expected, torch.Tensor) and got.shape != expected.shape:
            return f"expected shape {tuple(expected.shape)}{where}, got shape {tuple(got.shape)}", None, True
        if want is not None and got.dtype != want:
            wrong_values = isinstance(expected, torch.Tensor) and describe_difference(got, expected) is not None
            return (f"the result{where} has dtype {got.dtype}, expected {want}", _dtype_hint(got.dtype, want),
                    wrong_values)
        if isinstance(expected, torch.Tensor) and got.device != expected.device:
            return (f"the result{where} is on {got.device}, the input on {expected.device}",
                    "create new tensors on the input's device (device=x.device) and do not call .cpu()", False)
        if expected is None:
            return None
        problem = describe_difference(got, expected, atol=atol, rtol=rtol)
        return None if problem is None else (problem + where, None, True)

    def _check_grad(self, got: torch.Tensor, expected, leaves: list[torch.Tensor], case) -> None:
        """The result must depend on the inputs through autograd, with the oracle's gradient where both are finite."""
        if not leaves:
            return
        if got.grad_fn is None:
            raise fail(self.name, "the result carries no gradient: it is detached from the input", case=case,
                       hint=DETACHED_HINT)
        w = torch.randn(got.shape, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
        w = w.to(dtype=got.dtype, device=got.device)
        try:
            g_got = torch.autograd.grad(got, leaves, w, allow_unused=True, retain_graph=True)
        except RuntimeError as exc:
            raise fail(self.name, f"back-propagating through your result failed: {str(exc)[:300]}", case=case,
                       hint=_error_hint(exc, None, None) or DETACHED_HINT) from None
        if all(g is None for g in g_got):
            raise fail(self.name, "the result does not depend on the input through autograd", case=case,
                       hint=DETACHED_HINT)
        g_got = [torch.zeros_like(x) if g is None else g for x, g in zip(leaves, g_got, strict=True)]
        if not (isinstance(expected, torch.Tensor) and expected.grad_fn is not None):
            return
        g_exp = torch.autograd.grad(expected, leaves, w, allow_unused=True, retain_graph=True)
        for x, a, b in zip(leaves, g_got, g_exp, strict=True):
            if b is None:
                continue
            ok = torch.isfinite(a) & torch.isfinite(b)
            # both gradients carry the input's rounding: at |x| = 1e4 float32 resolves only ~1e-3 of a unit
            scale = torch.finfo(x.dtype).eps * float(x.detach().abs().max()) * 10 if x.numel() else 0.0
            if not close(a[ok], b[ok], atol=max(self.atol, 1e-5), rtol=max(self.rtol, 1e-4, scale)):
                raise fail(self.name, "the values are right but the gradient differs from torch's", case=case,
                           hint="the result must be computed from the input by differentiable torch operations; "
                           + DETACHED_HINT)


_RULES: dict[str, Rule] = {}


def define_rule(name: str, **options) -> Rule:
    """Create the acceptance rule of exercise ``name`` and register it for :func:`rule` (hidden tests)."""
    new = Rule(name, **options)
    if _RULES.get(name, new) != new:
        raise ValueError(f"two exercises define different acceptance rules named {name!r}")
    _RULES[name] = new
    return new


def rule(name: str) -> Rule:
    """The acceptance rule of exercise ``name``, as its visible check applies it."""
    try:
        return _RULES[name]
    except KeyError:
        raise KeyError(f"no acceptance rule named {name!r}; defined: {sorted(_RULES)}") from None
