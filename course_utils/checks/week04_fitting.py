"""Week 04 checks, exercise 6: a line fitted by gradient descent, and a loss chosen on validation data."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import torch

from course_utils.data import make_line_with_outliers

from ._core import Case, CheckFailed, fail, passed, require_callable
from ._rules import define_rule

GD_LINE = define_rule("gd_line", returns=("float", "float"), parts=("slope w", "intercept b"), time_limit=60.0)

GD_ERROR_HINTS = {
    "element 0 of tensors does not require grad": (
        "after the first step w (or c) lost requires_grad: `w = w - step * w.grad` builds a new tensor; "
        "update in place under torch.no_grad() with `w -= step * w.grad`"),
    "NoneType": ("w.grad is None: create w and c with requires_grad=True, and call loss.backward() before "
                 "the update"),
    "a leaf Variable that requires grad": ("update the parameters inside `with torch.no_grad():` — autograd "
                                           "refuses to record an in-place change of a leaf tensor"),
}


def _gd_variant(x, y, loss_fn, lr, steps, *, centre=True, zero_grad=True, decay=True, convert=True, first=0):
    """Week 04: the exercise's algorithm, or one of its usual mistakes, in the dtype of x → (w, b); ``first`` = 1 counts
    the steps from 1 (the step size lr·(1 − t/steps) then ends at 0 one step early)."""
    x_mean = x.mean() if centre else torch.zeros((), dtype=x.dtype)
    xc = x - x_mean
    w = torch.zeros((), dtype=x.dtype, requires_grad=True)
    c = torch.zeros((), dtype=x.dtype, requires_grad=True)
    for t in range(steps):
        if zero_grad:
            w.grad = c.grad = None
        loss_fn(w * xc + c, y).backward()
        step = lr * (1 - (t + first) / steps) if decay else lr
        with torch.no_grad():
            w -= step * w.grad
            c -= step * c.grad
    w_fit = w.item()
    return w_fit, (c.item() - w_fit * x_mean.item()) if convert else c.item()


def diagnose_gd_line(got, case: Case, expected) -> str | None:
    """Week 04: name the usual mistakes of a hand-written gradient-descent line fit from its (w, b)."""
    w, b = got
    x, y, loss_fn = case.args[:3]
    lr, steps = case.kwargs.get("lr", 0.2), case.kwargs.get("steps", 1000)
    if not (math.isfinite(w) and math.isfinite(b)):
        return ("the parameters blew up to inf or NaN. Two usual causes: a step *with* the gradient instead of "
                "against it (w -= step * w.grad, not +=), or x not centred first (xc = x − x.mean()) — on the "
                "raw doses this step size overshoots further at every step")
    if abs(w) < 1e-12 and abs(b) < 1e-12:
        return ("w and b never moved from 0: update them in place under torch.no_grad() (w -= step * w.grad) and "
                "return w.item() and the intercept at the end")
    variants = [
        ({"convert": False}, "you returned c, the intercept of the centred line; the line's own intercept is "
                             "b = c − w·mean(x)"),
        ({"zero_grad": False}, "gradients pile up: reset w.grad and c.grad (to None, or .zero_()) before every "
                               "backward — loss.backward() adds to them"),
        ({"decay": False}, "with a fixed step the MAE's constant-size gradient keeps jumping across the optimum: "
                           "shrink the step, lr · (1 − t / steps)"),
        ({"centre": False}, "centre x first (xc = x − x.mean()) and fit w·xc + c: without it the slope and "
                            "intercept fight each other and gradient descent is far slower"),
        ({"first": 1}, "your loop counts t from 1: use `for t in range(steps)` (t = 0, 1, …, steps − 1), so that the "
                       "first step has the full size lr"),
    ]
    for kwargs, hint in variants:
        vw, vb = _gd_variant(x, y, loss_fn, lr, steps, **kwargs)
        if abs(w - vw) < 1e-3 * (1 + abs(vw)) and abs(b - vb) < 1e-3 * (1 + abs(vb)):
            return hint
    return None


def _gd_cases(data: tuple[torch.Tensor, torch.Tensor] | None = None) -> list[Case]:
    """Week 04: (x, y, loss_fn) cases of the gradient-descent exercise, in the order mse, mae, huber; ``data``
    replaces the course's points (the hidden tests use a falling line)."""
    F = torch.nn.functional
    clean = make_line_with_outliers(n=20, n_outliers=0, seed=11)
    dirty = make_line_with_outliers(n=30, n_outliers=3, outlier_shift=10.0, seed=12)
    what = "30 points, 3 outliers"
    if data is not None:
        clean = dirty = _line_data(data)
        what = f"{len(clean[0])} other points"
    return [
        Case("MSE on 20 points without outliers" if data is None else f"MSE on {what}", (*clean, F.mse_loss),
             hint=None),
        Case(f"MAE on {what}", (*dirty, F.l1_loss)),
        Case(f"Huber (δ = 1) on {what}", (*dirty, lambda p, t: F.huber_loss(p, t, delta=1.0))),
    ]


def _line_data(data) -> tuple[torch.Tensor, torch.Tensor]:
    """``data`` as (x, y): two float tensors of one shape (N,), N ≥ 2."""
    if (not isinstance(data, tuple) or len(data) != 2 or not all(isinstance(t, torch.Tensor) for t in data)
            or data[0].dim() != 1 or data[0].shape != data[1].shape or len(data[0]) < 2
            or not data[0].is_floating_point()):
        raise ValueError("data must be (x, y): two float tensors of the same shape (N,) with N >= 2")
    return data


def check_gd_line(fn: Callable, *, data: tuple[torch.Tensor, torch.Tensor] | None = None) -> None:
    """Week 04 exercise: ``fn(x, y, loss_fn, lr=0.2, steps=1000)`` fits a line by gradient descent → (w, b) floats.

    The answer must reach the line that minimises the loss (computed directly with ``best_line``) to within
    0.01 in the slope and 0.02 in the intercept, on the course's points or on ``data`` = (x, y).
    """
    from course_utils.fitting import best_line

    require_callable(fn, "gd_line")
    for case, loss in zip(_gd_cases(data), ("mse", "mae", "huber"), strict=True):
        x, y = case.args[:2]
        got = GD_LINE.call(fn, case.args, case.kwargs, case=case, error_hints=GD_ERROR_HINTS)
        GD_LINE.accept(got, case=case)  # a tuple of two Python floats
        best = best_line(x, y, loss, delta=1.0)
        w, b = got
        if not (abs(w - best.w) <= 0.01 and abs(b - best.b) <= 0.02):
            hint = diagnose_gd_line(got, case, (best.w, best.b))
            raise fail("gd_line", f"your line has slope {w:.4g} and intercept {b:.4g}; the line that minimises this "
                       f"loss has slope {best.w:.4f} and intercept {best.b:.4f}", case=case,
                       hint=hint or "follow the four steps above exactly: centre x, zero the gradients, step "
                       "lr·(1 − t/steps) against them, and convert the intercept back")
    # the algorithm itself, stopped early: 20 small steps are far from the best line, so a fit that ignores
    # lr and steps, or that is not this gradient descent, ends elsewhere
    from course_utils.fitting import fit_line

    x, y = _gd_cases(data)[0].args[:2]
    case = Case("MSE with lr=0.05 and steps=20 (stopped long before the best line)",
                (x, y, torch.nn.functional.mse_loss), {"lr": 0.05, "steps": 20})
    got = GD_LINE.call(fn, case.args, case.kwargs, case=case, error_hints=GD_ERROR_HINTS)
    GD_LINE.accept(got, case=case)
    ref = fit_line(x, y, torch.nn.functional.mse_loss, lr=0.05, steps=20)
    if not (abs(got[0] - ref.w) < 1e-4 and abs(got[1] - ref.b) < 1e-4):
        raise fail("gd_line", f"after 20 steps of lr=0.05 your line has slope {got[0]:.5g} and intercept "
                   f"{got[1]:.5g}; the algorithm above ends at slope {ref.w:.5f} and intercept {ref.b:.5f}",
                   case=case, hint=diagnose_gd_line(got, case, (ref.w, ref.b)) or
                   "write the loop of the four steps above (not a direct fit), using the arguments lr and steps "
                   "rather than fixed numbers")
    passed("gd_line: reaches the best line for MSE, MAE and Huber, and follows the algorithm when stopped early")


# --------------------------------------------------------------------------- choosing the loss on validation data
LOSS_KEYS = ("mse", "mae", "huber")


def _validation_mse(line, x_val: torch.Tensor, y_val: torch.Tensor) -> float:
    return float(((line.w * x_val.double() + line.b - y_val.double()) ** 2).mean())


def _as_plain_number(value):
    """A 0-dim tensor or a NumPy scalar holds one number: accept it as a float; anything else as it is."""
    if isinstance(value, np.number) or (isinstance(value, (torch.Tensor, np.ndarray)) and value.ndim == 0):
        return float(value)
    return value


def choice_data() -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """Week 04 exercise 6(b)'s cultures: 50 for training (the six at the highest doses contaminated) and a clean
    repeat of 20 for validation, as ``(x, y, x_val, y_val)``."""
    x, y = make_line_with_outliers(n=50, n_outliers=6, outlier_shift=12.0, seed=3)
    x_val, y_val = make_line_with_outliers(n=20, n_outliers=0, seed=4)
    return x, y, x_val, y_val


def check_loss_choice(choice: str, val_errors: dict, data: tuple | None = None) -> None:
    """Week 04 exercise 6(b): ``val_errors`` maps "mse"/"mae"/"huber" to the mean squared error, on the clean
    validation cultures ``x_val, y_val``, of the line fitted to the training cultures ``x, y`` under that loss;
    ``choice`` is the loss whose validation error is smallest. ``data`` = (x, y, x_val, y_val), by default the
    exercise's own cultures (made again here, so that a variable changed in another cell cannot change the verdict)."""
    from course_utils.fitting import best_line

    if data is None:
        data = choice_data()
    if not isinstance(data, tuple) or len(data) != 4:
        raise ValueError("data must be (x, y, x_val, y_val)")
    x, y, x_val, y_val = data
    for name, value in (("x", x), ("y", y), ("x_val", x_val), ("y_val", y_val)):
        if not isinstance(value, torch.Tensor) or value.dim() != 1 or not value.is_floating_point():
            raise CheckFailed(f"{name} must be the exercise's float tensor of shape (N,), got {type(value).__name__}"
                              "\n  Hint: run the cell that makes the data again")
    if not isinstance(val_errors, dict) or set(val_errors) != set(LOSS_KEYS):
        raise CheckFailed('val_errors must be a dict with the keys "mse", "mae" and "huber"')
    if all(v is None for v in val_errors.values()) and choice is None:
        raise CheckFailed("val_errors and chosen_loss are not answered yet: fit a line per loss, then measure it on "
                          "the validation cultures")
    errors = {}
    for loss in LOSS_KEYS:
        got = _as_plain_number(val_errors[loss])
        line = best_line(x, y, loss)
        want = _validation_mse(line, x_val, y_val)
        number = isinstance(got, (int, float)) and not isinstance(got, bool) and math.isfinite(got)
        if number and math.isclose(got, want, rel_tol=0.02, abs_tol=0.005):
            errors[loss] = got
            continue
        if not number:
            hint = "store one plain number per loss (a float, e.g. with .item()), the validation error of that line"
        elif math.isclose(got, float(((line.w * x.double() + line.b - y.double()) ** 2).mean()), rel_tol=0.02):
            hint = ("that is the error on the training cultures, which the six contaminated ones dominate; measure "
                    "the fitted line on the clean validation cultures x_val, y_val")
        elif math.isclose(got, math.sqrt(want), rel_tol=0.02):
            hint = "that is the root of the mean squared error (RMSE); store the MSE itself, mse(w * x_val + b, y_val)"
        elif math.isclose(got, float((line.w * x_val.double() + line.b - y_val.double()).abs().mean()), rel_tol=0.02):
            hint = "that is the mean absolute error; measure the validation error with your mse from exercise 2"
        elif math.isclose(got, abs(line.w - 2.0), abs_tol=0.02):
            hint = ("that is the slope's distance from the true slope, which real data never tell you; measure the "
                    "line's predictions on the validation cultures instead")
        elif loss == "huber" and any(math.isclose(got, _validation_mse(best_line(x, y, "huber", delta=d), x_val, y_val),
                                                  rel_tol=0.02) for d in (0.1, 0.5, 2.0, 5.0, 10.0)):
            hint = "that is a Huber line with another δ; the exercise uses δ = 1: lambda p, t: huber(p, t, 1.0)"
        else:
            hint = ("fit the line to the training cultures (x, y) with your gd_line under this loss, then compute "
                    "mse(w * x_val + b, y_val)")
        raise CheckFailed(f'val_errors["{loss}"] = {str(got)[:60]} is not the validation error of the line fitted '
                          f"with the {loss.upper()}\n  Hint: {hint}")
    if choice is None:
        raise CheckFailed('chosen_loss is not answered yet: set it to "mse", "mae" or "huber"')
    if not isinstance(choice, str) or choice not in LOSS_KEYS:
        raise CheckFailed(f'chosen_loss must be one of "mse", "mae", "huber" (a string), got {choice!r}'[:300])
    best = min(errors, key=errors.get)
    if errors[choice] > errors[best] + 1e-9:
        raise CheckFailed(f'chosen_loss = "{choice}", but its validation error {errors[choice]:.3f} is larger than '
                          f"{best.upper()}'s {errors[best]:.3f}\n  Hint: choose the loss whose line predicts the "
                          "validation cultures best: the smallest number")
    passed(f"loss choice: {choice.upper()}, whose line has the smallest validation error ({errors[choice]:.3f})")
