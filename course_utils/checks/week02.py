"""Week 02 checks: softmax (vector, batch), logsumexp, log-softmax, temperature."""

from __future__ import annotations

import math
from collections.abc import Callable

import torch

from ._core import (
    SHAPE_MARKER,
    Case,
    CheckFailed,
    as_tensor,
    blaming_earlier_answers,
    check_function,
    close,
    finite,
    passed,
)
from ._rules import define_rule

#: The acceptance rules of the week's exercises (shared with the hidden tests): tensors of the input's dtype,
#: shape and device that carry its gradient; the temperature is a Python float.
SOFTMAX_VECTOR = define_rule("softmax_vector", grad=True)
SOFTMAX_BATCH = define_rule("softmax_batch", grad=True)
LOGSUMEXP = define_rule("logsumexp", grad=True, rtol=1e-6)
LOG_SOFTMAX = define_rule("log_softmax", grad=True, rtol=1e-6)
TEMPERATURE_FOR = define_rule("temperature_for", returns="float")

EXAMPLE_LOGITS = [-1.0, 0.1, 0.032, 0.25, 9.0]


def _wrong_dim(got, x: torch.Tensor, dim: int, op: Callable) -> int | None:
    """The other dim ``d`` for which ``got`` equals ``op(x, d)`` (the student used the wrong dim), or None."""
    return next((d for d in range(x.dim()) if d != dim % x.dim() and close(got, op(x, d))), None)


def _same_nan(got, ref: torch.Tensor) -> bool:
    """True when ``got`` has NaN/inf exactly where ``ref`` does (and somewhere)."""
    g = as_tensor(got)
    if g is None or g.shape != ref.shape:
        return False
    bad_g, bad_r = ~torch.isfinite(g.double()), ~torch.isfinite(ref.double())
    return bool(bad_r.any()) and bool((bad_g == bad_r).all())


KEEPDIM_HINT = ("the shapes do not line up when you subtract or divide: take the max and the sum along dim "
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
    if not finite(got) and bool(torch.isfinite(torch.softmax(x, dim)).all()):
        if bool((torch.exp(x.float()) == float("inf")).any()):
            return ("your softmax overflows for large logits: exp(1000) is inf and inf/inf is NaN — "
                    "subtract the max first: softmax(x) = softmax(x - max(x))")
    via_lse = torch.exp(case.args[0] - torch.logsumexp(case.args[0], dim, keepdim=True))
    if close(got, via_lse, atol=1e-7, rtol=1e-6) and not close(got, expected, atol=1e-6, rtol=1e-5):
        return ("exp(x - logsumexp(x)) loses digits for logits of size 1e4: in float32 logsumexp is rounded to "
                "about 0.001 there — subtract the max and divide by the sum instead")
    if close(got, torch.exp(x)) or close(got, torch.exp(x - x.amax(dim, keepdim=True))):
        return "you returned exp(x) without dividing by the sum of the exponentials"
    if close(got, x / x.sum(dim, keepdim=True)):
        return "you divided the logits themselves by their sum — exponentiate first, then divide"
    if close(got, torch.softmax(-x, dim)):
        return "you used exp(-x): the largest logit should get the largest probability"
    if x.dim() > 1:
        if (d := _wrong_dim(got, x, dim, torch.softmax)) is not None:
            return (f"your softmax sums to 1 along dim {d} instead of dim {dim % x.dim()} — "
                    f"use the dim argument in both the max and the sum")
        g = as_tensor(got)
        if g is not None and g.shape == x.shape and close(float(g.double().sum()), 1.0):
            return ("you divided by the sum over the whole tensor: sum along dim only, "
                    "with keepdim=True so the shapes broadcast")
    return None


def softmax_vector_cases() -> list[Case]:
    """Week 02: vectors (C,) for a from-scratch softmax, from the worked example to large logits."""
    return [
        Case("the worked example [-1, 0.1, 0.032, 0.25, 9]", (torch.tensor(EXAMPLE_LOGITS),)),
        Case("three equal logits", (torch.zeros(3),)),
        Case("negative logits [-3, -1, -2]", (torch.tensor([-3.0, -1.0, -2.0]),)),
        Case("a single class", (torch.tensor([4.2]),)),
        Case("large logits [1000, 999, 990]", (torch.tensor([1000.0, 999.0, 990.0]),)),
        Case("logits far apart [50, -50, 0]", (torch.tensor([50.0, -50.0, 0.0]),)),
        Case("very negative logits [-1e4, -1e4 - 1]", (torch.tensor([-1e4, -1e4 - 1.0]),)),
        Case("float64 logits [0.5, -1, 2]", (torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64),)),
    ]


def check_softmax_vector(fn: Callable) -> None:
    """Week 02 exercise 1: ``fn(x)`` with x (C,) must equal torch.softmax(x, dim=0) and keep x's dtype."""
    cases = softmax_vector_cases()
    check_function(fn, lambda x: torch.softmax(x, dim=0), cases, diagnose=diagnose_softmax, quiet=True,
                   rule=SOFTMAX_VECTOR)
    passed(f"softmax_vector: all {len(cases)} cases match the reference (float64 stays float64)")


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
    check_function(fn, lambda x, dim: torch.softmax(x, dim), batch_cases(), diagnose=diagnose_softmax,
                   error_hints={SHAPE_MARKER: KEEPDIM_HINT}, rule=SOFTMAX_BATCH)


SQUEEZE_ALL_HINT = (".squeeze() without an argument removes every dimension of size 1 — for a batch of one sample "
                    "also the batch dimension: squeeze only the summed dimension, .squeeze(dim) (or sum without "
                    "keepdim)")


def _squeezed_too_much(got, expected) -> bool:
    """True when ``got`` is ``expected`` with its size-1 dimensions squeezed away (``.squeeze()`` on a batch of one)."""
    g, e = as_tensor(got), as_tensor(expected)
    return (g is not None and e is not None and g.shape != e.shape and 1 in e.shape
            and g.shape == e.squeeze().shape and close(g, e.squeeze()))


def diagnose_logsumexp(got, case: Case, expected) -> str | None:
    """Week 02: hints for a wrong logsumexp(x, dim)."""
    x, dim = case.args[0].double(), case.args[1]
    if _squeezed_too_much(got, expected):
        return SQUEEZE_ALL_HINT
    m = x.amax(dim, keepdim=True)
    xf = case.args[0].float()
    if x.dim() > 1 and _same_nan(got, xf.max() + torch.log(torch.exp(xf - xf.max()).sum(dim))):
        return GLOBAL_MAX_HINT
    if not finite(got) and finite(expected):
        return "exp overflows (or log(0) underflows): factor out the max, m + log(sum(exp(x - m)))"
    if close(got, torch.log(torch.exp(x - m).sum(dim))):
        return "you subtracted the max inside the exp but forgot to add it back: m + log(sum(exp(x - m)))"
    if close(got, torch.log(torch.exp(x - m).sum(dim, keepdim=True))) or close(got, torch.logsumexp(x, dim, True)):
        return "your result keeps the summed dimension (size 1): squeeze it, or sum without keepdim at the end"
    g = as_tensor(got)
    if g is not None and g.dim() > x.dim() - 1 and g.shape != x.shape:
        return (f"your result has shape {tuple(g.shape)}: m kept dim {dim % x.dim()} (keepdim=True) but the sum "
                "did not, and the two broadcast against each other — use keepdim=True in both, then squeeze(dim) once")
    if x.dim() > 1 and (d := _wrong_dim(got, x, dim, torch.logsumexp)) is not None:
        return f"you summed along dim {d} instead of dim {dim % x.dim()}"
    return None


def check_logsumexp(fn: Callable) -> None:
    """Week 02 exercise 3: ``fn(x, dim)`` must equal torch.logsumexp(x, dim), stable for huge logits."""
    cases = batch_cases() + [Case("very negative logits [-1000, -1001], dim=0", (torch.tensor([-1000.0, -1001.0]), 0))]
    check_function(fn, lambda x, dim: torch.logsumexp(x, dim), cases, diagnose=diagnose_logsumexp,
                   error_hints={SHAPE_MARKER: KEEPDIM_HINT}, rule=LOGSUMEXP)


def diagnose_log_softmax(got, case: Case, expected) -> str | None:
    """Week 02: hints for a wrong log_softmax(x, dim)."""
    x, dim = case.args[0].double(), case.args[1]
    naive = torch.log(torch.softmax(x.float(), dim)).double()
    if not finite(got) and finite(expected):
        if _same_nan(got, naive):
            return ("log(softmax(x)) underflows: a tiny probability rounds to 0 (below ~1e-45 in float32, "
                    "~1e-308 in float64) and log(0) = -inf — compute x - logsumexp(x) instead")
        return ("exp overflows for large logits, so log(sum(exp(x))) is inf: use your logsumexp, "
                "which subtracts the max first")
    if close(got, x - x.amax(dim, keepdim=True)):
        return "you subtracted the max but not log(sum(exp(x - max))): subtract logsumexp(x) itself"
    if close(got, torch.softmax(x, dim)):
        return "you returned probabilities: log_softmax returns their logarithms, x - logsumexp(x)"
    if close(got, x + torch.logsumexp(x, dim, keepdim=True)):
        return "you added logsumexp(x); log_softmax subtracts it: x - logsumexp(x)"
    if x.dim() > 1 and (d := _wrong_dim(got, x, dim, torch.log_softmax)) is not None:
        return f"you normalised along dim {d} instead of dim {dim % x.dim()}"
    return None


def check_log_softmax(fn: Callable) -> None:
    """Week 02 exercise 4: ``fn(x, dim)`` must equal torch.log_softmax(x, dim) without underflow."""
    cases = batch_cases() + [
        Case("a 200-logit gap: [0, -200], dim=0", (torch.tensor([0.0, -200.0]), 0)),
        Case("the worked example, dim=0", (torch.tensor(EXAMPLE_LOGITS), 0)),
    ]
    unsqueeze_hint = ("logsumexp(x, dim) has lost the dimension dim: put it back with .unsqueeze(dim) "
                      "before subtracting it from x")
    with blaming_earlier_answers(fn, "log_softmax", [("logsumexp", check_logsumexp, "exercise 3")]):
        check_function(fn, lambda x, dim: torch.log_softmax(x, dim), cases, diagnose=diagnose_log_softmax,
                       error_hints={SHAPE_MARKER: unsqueeze_hint}, rule=LOG_SOFTMAX)


def top_prob_at(logits: torch.Tensor, T: float) -> float:
    """Week 02: the largest probability of softmax(logits / T) for logits (C,), in float64."""
    return float(torch.softmax(logits.double() / T, dim=0).max())


#: The stated accuracy of exercise 5: the top probability must match the target to within this (absolute).
TEMPERATURE_TOL = 1e-4
#: A temperature within this relative distance of the right one is "close": the search stopped too early.
NEAR_MISS_RTOL = 0.05


def temperature_cases() -> list[tuple[str, torch.Tensor, float]]:
    """Week 02: (label, logits (C,), target top-class probability) for the temperature exercise; the hidden tests
    use logits and targets of the same kinds (T well below and well above 1, two classes)."""
    return [
        ("the worked example, target 0.9", torch.tensor(EXAMPLE_LOGITS), 0.9),
        ("three flower species [2.0, 1.0, 0.1], target 0.5", torch.tensor([2.0, 1.0, 0.1]), 0.5),
        ("the same logits, target 0.99 (T below 1)", torch.tensor([2.0, 1.0, 0.1]), 0.99),
        ("two classes [1, 0], target 0.6", torch.tensor([1.0, 0.0]), 0.6),
        ("the worked example, target 0.3 (T far above 1)", torch.tensor(EXAMPLE_LOGITS), 0.3),
    ]


def _right_temperature(z: torch.Tensor, target: float) -> float:
    """The temperature with top probability ``target`` (a geometric bisection run to float64 precision)."""
    lo, hi = 1e-6, 1e6
    for _ in range(200):
        mid = math.sqrt(lo * hi)
        lo, hi = (mid, hi) if top_prob_at(z, mid) > target else (lo, mid)
    return math.sqrt(lo * hi)


def temperature_reached(fn: Callable, logits: torch.Tensor, target: float, *, case: str | None = None,
                        tol: float = TEMPERATURE_TOL) -> float:
    """Week 02 exercise 5, one target (the visible check and the hidden tests): ``fn(logits, target)`` must return a
    positive Python float T with |max softmax(logits / T) - target| < ``tol``; otherwise :class:`CheckFailed` with
    a hint. Returns T."""
    label = case or f"logits {[round(v, 3) for v in logits.tolist()]}, target {target:g}"
    T = TEMPERATURE_FOR.call(fn, (logits, target), case=label)
    TEMPERATURE_FOR.accept(T, case=label)
    if not (math.isfinite(T) and T > 0):
        raise CheckFailed(f"temperature_for returned T = {T}; a temperature must be positive and finite\n"
                          f"  on case: {label}")
    p = top_prob_at(logits, T)
    if abs(p - target) < tol:
        return T
    msg = (f"temperature_for is not right yet on case: {label}\n  at T = {T:.6g} the top class gets {p:.6f}, "
           f"not {target} (off by {abs(p - target):.2g}; the tolerance is {tol:g})")
    right = _right_temperature(logits, target)
    if abs(T / right - 1) < NEAR_MISS_RTOL:
        msg += ("\n  Hint: close, but not within the tolerance: your search stops too early — keep halving "
                "until the interval is tiny (a hundred halvings of [1e-3, 1e3] are plenty), then return its midpoint")
    elif close(top_prob_at(logits, 1.0 / T), target, atol=tol, rtol=0):
        msg += "\n  Hint: you returned 1/T — softmax(z / T) divides the logits by T (or you multiplied by T)"
    elif p > target:
        msg += "\n  Hint: the distribution is still too peaked — a larger T spreads the probability out"
    else:
        msg += "\n  Hint: the distribution is too flat — a smaller T makes the top class more certain"
    raise CheckFailed(msg)


def check_temperature_for(fn: Callable, *, tol: float = TEMPERATURE_TOL) -> None:
    """Week 02 exercise 5: ``fn(logits, target)`` must return T with max softmax(logits / T) = target."""
    for label, z, target in temperature_cases():
        temperature_reached(fn, z, target, case=label, tol=tol)
    passed(f"temperature_for: all {len(temperature_cases())} targets reached to within {tol:g}")
