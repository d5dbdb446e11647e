"""Week 04 checks: MAE, MSE, RMSE, Huber, their gradients, the broadcasting bug, a line fitted by gradient descent."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ._core import (
    TIME_LIMIT_S,
    Case,
    CheckFailed,
    _time_limit,
    as_tensor,
    blaming_earlier_answers,
    check_function,
    check_parts,
    close,
    expect_value_error,
    passed,
    require_callable,
    shapes_named,
)
from ._rules import define_rule

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
    return close(got, as_tensor(expected).double() * pred.numel() / len(pred))


def _residual(case: Case) -> torch.Tensor:
    """Week 04: pred - target of a case, in float64, broadcast as the student's code would."""
    return case.args[0].double() - case.args[1].double()


#: The acceptance rules of the week's exercises, shared with the hidden tests (``rule(name)``): a loss is a
#: 0-dim tensor of the input's dtype that carries the gradient with respect to the predictions; a
#: hand-derived gradient is a tensor of the input's dtype and shape; neither may change its inputs.
MAE = define_rule("mae", grad=True, wrt=(0,))  # the gradient that training uses: with respect to the predictions
MSE = define_rule("mse", grad=True, wrt=(0,))
RMSE = define_rule("rmse", grad=True, wrt=(0,))
HUBER = define_rule("huber", grad=True, wrt=(0,))
SAFE_MSE = define_rule("safe_mse", grad=True, wrt=(0,))
GRAD_RULES = {loss: define_rule(f"{loss}_grad") for loss in ("mse", "mae", "huber")}


ERROR_HINTS = {
    "Boolean value of Tensor": ("`if` on a tensor with several elements cannot decide element by element — "
                                "use torch.where(condition, value_if_true, value_if_false)"),
}
SQUEEZE_HINT = (".squeeze() removes *every* size-1 dimension, so (1, 1) becomes a 0-dim tensor, not (1,) — "
                "use .squeeze(-1) to remove only the last one")


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
    return cases + [Case("float64 inputs (the result keeps their dtype)", (pred.double(), target.double()))]


def diagnose_regression(got, case: Case, expected) -> str | None:
    """Week 04: hints for a wrong MAE, MSE or RMSE (which one is read from ``expected``)."""
    r = _residual(case)
    n = r.numel()
    exp_t = as_tensor(expected)
    if exp_t is not None and close(got, exp_t.double() * n) and n > 1:
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
    if close(got, r.abs().mean()) and close(expected, (r**2).mean().sqrt()):
        return ("RMSE: square root of the mean, not mean of square roots — sqrt(r²) = |r|, so you computed the MAE; "
                "average the squares first, then take one square root")
    if close(got, (r**2).mean()) and close(expected, (r**2).mean().sqrt()):
        return "you returned the MSE: RMSE is its square root"
    if close(got, (r**2).sum().sqrt()) and close(expected, (r**2).mean().sqrt()):
        return "you took the square root of the sum of squares — RMSE is the square root of the *mean*"
    for value, hint in candidates:
        if close(got, value):
            return hint
    if as_tensor(got) is not None and as_tensor(got).dim() > 0:
        return "return one number (a 0-dim tensor): average over every element, e.g. with .mean()"
    return None


def check_mae(fn: Callable) -> None:
    """Week 04 exercise: ``fn(pred, target)`` must equal torch.nn.L1Loss() (mean |pred - target|)."""
    check_function(fn, lambda p, t: torch.nn.functional.l1_loss(p, t), regression_cases(), diagnose=diagnose_regression,
                   rule=MAE)


def check_mse(fn: Callable) -> None:
    """Week 04 exercise: ``fn(pred, target)`` must equal torch.nn.MSELoss() (mean (pred - target)²)."""
    check_function(fn, lambda p, t: torch.nn.functional.mse_loss(p, t), regression_cases(), diagnose=diagnose_regression,
                   rule=MSE)


def check_rmse(fn: Callable) -> None:
    """Week 04 exercise: ``fn(pred, target)`` must equal sqrt(torch.nn.MSELoss()(pred, target))."""
    with blaming_earlier_answers(fn, "rmse", [("mse", check_mse, "exercise 2's mse")]):
        check_function(fn, lambda p, t: torch.nn.functional.mse_loss(p, t).sqrt(), regression_cases(),
                       diagnose=diagnose_regression, rule=RMSE)


def diagnose_huber(got, case: Case, expected) -> str | None:
    """Week 04: hints for a wrong Huber loss huber(pred, target, delta)."""
    r = _residual(case)
    delta = float(case.args[2] if len(case.args) > 2 else case.kwargs.get("delta", 1.0))
    a, inside = r.abs(), r.abs() < delta
    if close(got, as_tensor(expected).double() * r.numel()) and r.numel() > 1:
        return SUM_HINT
    if close(got, as_tensor(expected).double() / delta) and delta != 1:
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
        if close(got, value):
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
        Case("float64 inputs, delta=0.5 (the result keeps their dtype)", (pred.double(), target.double(), 0.5)),
    ]


def check_huber(fn: Callable) -> None:
    """Week 04 exercise: ``fn(pred, target, delta)`` must equal torch.nn.HuberLoss(delta=delta) and refuse delta <= 0."""
    check_function(fn, lambda p, t, d: torch.nn.functional.huber_loss(p, t, delta=d), huber_cases(),
                   diagnose=diagnose_huber, error_hints=ERROR_HINTS, rule=HUBER)
    two = (torch.tensor([1.0, 2.0]), torch.zeros(2))
    expect_value_error(fn, "huber", (*two, -1.0), "a negative delta (-1.0)", "delta")
    expect_value_error(fn, "huber", (*two, 0.0), "delta = 0", "delta")
    expect_value_error(fn, "huber", (*two, -1e-9), "a tiny negative delta (-1e-9)", "delta")
    passed("huber: refuses delta <= 0 with a clear message")


def autograd_grad(loss_fn: Callable, pred: torch.Tensor, target: torch.Tensor, *args) -> torch.Tensor:
    """Week 04: d loss_fn(pred, target, *args) / d pred by autograd, in float64: (...) → (...)."""
    p = pred.detach().double().requires_grad_(True)
    (g,) = torch.autograd.grad(loss_fn(p, target.double(), *args), p)
    return g


def diagnose_grad(got, case: Case, expected, *, loss: str) -> str | None:
    """Week 04: hints for a hand-derived gradient of the mean MSE, MAE or Huber loss w.r.t. pred."""
    r = _residual(case)
    n = r.numel()
    exp_t = as_tensor(expected).double()
    if close(got, -exp_t):
        return "the sign is flipped: differentiate with respect to pred, and r = pred − target grows with pred"
    if close(got, exp_t * n) and n > 1:
        return "you returned the gradient of the sum: the mean divides every term by N, and so does its gradient"
    if _divided_by_rows(got, case, exp_t):
        return LEN_HINT
    if loss == "mse" and close(got, exp_t / 2):
        if n == 2:  # dividing by N = 2 a second time looks exactly like dropping the 2
            return "d(r²)/dr = 2r: you dropped the factor 2 — or divided by N twice (with N = 2 they look alike)"
        return "d(r²)/dr = 2r: you dropped the factor 2"
    if loss == "mse" and close(got, exp_t / n) and n > 1:
        return "you divided by N twice"
    got_t = as_tensor(got)
    if loss == "mae" and got_t is not None and torch.isnan(got_t).any():
        return "r / |r| is 0 / 0 = NaN where the residual is exactly 0: torch.sign(r) gives 0 there"
    same_shape = got_t is not None and got_t.shape == r.shape
    if loss == "mae" and same_shape and (r == 0).any() and close(got_t[r != 0], exp_t[r != 0]):
        return "where the residual is exactly 0 the slope must be 0 (as PyTorch uses; torch.sign gives it)"
    if loss == "huber":
        delta = float(case.args[2])
        if close(got, r / n):
            return "beyond |r| = δ the slope is constant: clip the residual to [−δ, δ] (torch.clamp)"
        if close(got, torch.sign(r) / n):
            return "inside |r| < δ the slope is r (not sign(r)); only outside is it ±δ"
        if close(got, torch.clamp(r, -delta, delta) / n / delta) and delta != 1:
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

    from .week03 import AUTOGRAD_HINT, NO_GRAD_MARKER, without_autograd

    student = without_autograd(fn) if callable(fn) else fn  # derived by hand: an autograd route fails here
    check_function(student, reference, _grad_cases(loss), diagnose=lambda g, c, e: diagnose_grad(g, c, e, loss=loss),
                   error_hints={NO_GRAD_MARKER: AUTOGRAD_HINT.replace("(softmax(logits) - one_hot(target)) / N",
                                                                      "the derivative you derived above")},
                   rule=GRAD_RULES[loss])


def check_bug_shape(bug_shape) -> None:
    """Week 04 exercise: the shape of ``out - y`` for ``out`` (64, 1) and ``y`` (64,), without giving it away."""
    got = bug_shape
    if isinstance(bug_shape, (tuple, list, torch.Size, np.ndarray)) and np.ndim(bug_shape) == 1:
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in bug_shape):
            got = tuple(int(v) for v in bug_shape)
    want = tuple((torch.zeros(64, 1) - torch.zeros(64)).shape)
    if isinstance(got, tuple) and got == want:
        passed("bug_shape is correct: every prediction minus every target")
        return
    hints = {(64,): "broadcasting does not pair the rows of out with the entries of y — it stretches both",
             (64, 1): "y is stretched too: (64,) is read as a row (1, 64) and repeated for every row of out"}
    if not isinstance(got, tuple):
        raise CheckFailed(f"bug_shape must be a tuple of whole numbers, like (3, 5), got {bug_shape!r}"[:300])
    hint = hints.get(got, "compare the shapes from the right: (64, 1) against (64,) — size 1 stretches to match")
    raise CheckFailed(f"bug_shape = {bug_shape!r} is not right yet\n  Hint: {hint}"[:400])


def diagnose_safe_mse(got, case: Case, expected) -> str | None:
    """Week 04: hints for the broadcasting-safe MSE of a model output (N, 1) against targets (N,)."""
    out, target = case.args[0].double(), case.args[1].double()
    if out.dim() == 2 and target.dim() == 1 and close(got, ((out - target) ** 2).mean()):
        return BROADCAST_HINT
    return diagnose_regression(got, case, expected)


def _names_only_flattened(fn: Callable, output: torch.Tensor, target: torch.Tensor) -> bool:
    """True when ``fn``'s ValueError names the output flattened to (N·K,) but not the output's own shape."""
    try:
        with _time_limit(TIME_LIMIT_S):
            fn(output.clone(), target.clone())
    except ValueError as exc:
        named = shapes_named(str(exc))
        return (output.numel(),) in named and tuple(output.shape) not in named
    except Exception:  # noqa: BLE001  (any other error: not this mistake)
        return False
    return False


def refuses_mismatched_shapes(fn: Callable, output: torch.Tensor, target: torch.Tensor, what: str | None = None) -> None:
    """Week 04 exercise 3 (the visible check and the hidden tests): ``fn(output, target)`` must raise a ValueError
    whose message has the word "shape" and both shapes (the output's as given, or flattened from (N, 1) to (N,))."""
    out_shapes = [tuple(output.shape)] + ([tuple(output.shape[:-1])] if output.dim() > 1 and output.shape[-1] == 1 else [])
    what = what or f"output {tuple(output.shape)} with targets {tuple(target.shape)}"
    try:
        expect_value_error(fn, "safe_mse", (output, target), what, "shape",
                           naming=[("the output", out_shapes), ("the targets", [tuple(target.shape)])])
    except CheckFailed as exc:
        flat = output.reshape(-1)
        if output.dim() > 1 and output.shape[-1] != 1 and (
                ("without complaint" in str(exc) and flat.shape == target.shape)
                or ("does not name the shape of the output" in str(exc) and _names_only_flattened(fn, output, target))):
            hint = (f"you flattened every output: {tuple(output.shape)} became {tuple(flat.shape)}"
                    + (" and then matched the targets" if flat.shape == target.shape else "") + ". Flatten only an output whose last dimension is 1 (test output.shape[-1] == 1, then "
                    ".squeeze(-1))")
            raise CheckFailed(str(exc).partition("\n  Hint: ")[0] + f"\n  Hint: {hint}", hint=hint) from None
        raise


def check_safe_mse(fn: Callable) -> None:
    """Week 04 exercise: ``fn(output, target)`` accepts output (N, 1) or (N,) with target (N,) and refuses other shapes."""
    g = torch.Generator().manual_seed(44)
    cases = [
        Case("model output (5, 1) against targets (5,)", (torch.randn(5, 1, generator=g), torch.randn(5, generator=g))),
        Case("output (4,) against targets (4,)", (torch.randn(4, generator=g), torch.randn(4, generator=g))),
        Case("the worked example as a column: [[2], [3]] against [1, 0]", (torch.tensor([[2.0], [3.0]]), torch.tensor([1.0, 0.0]))),
        Case("a batch of one: (1, 1) against (1,)", (torch.tensor([[0.5]]), torch.tensor([2.0])), hint=SQUEEZE_HINT),
        Case("float64 output (3, 1) against float64 targets (3,)",
             (torch.randn(3, 1, generator=g, dtype=torch.float64), torch.randn(3, generator=g, dtype=torch.float64))),
    ]

    def reference(out, target):
        return torch.nn.functional.mse_loss(out.reshape(target.shape), target)

    def refusals():
        refuses_mismatched_shapes(fn, torch.zeros(5, 1), torch.zeros(4), "output (5, 1) with targets (4,)")
        refuses_mismatched_shapes(fn, torch.zeros(3, 2), torch.zeros(3), "output (3, 2) with targets (3,)")
        refuses_mismatched_shapes(fn, torch.zeros(1, 6), torch.zeros(6), "output (1, 6) with targets (6,) — six "
                                  "outputs of one sample, not one output per sample")

    require_callable(fn, "safe_mse")
    check_parts("safe_mse", [
        ("the values", lambda: check_function(fn, reference, cases, diagnose=diagnose_safe_mse, error_hints=ERROR_HINTS,
                                              rule=SAFE_MSE)),
        ("shapes that cannot be matched", refusals),
    ])
    passed("safe_mse: refuses shapes that cannot be matched, with a message naming both shapes")
