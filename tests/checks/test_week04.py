"""Do the week-04 student checks pass right answers and name the mistake in wrong ones?"""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import checks
from course_utils.checks import CheckFailed, check_loss_grad, check_mse, check_rmse, week04
from course_utils.data import make_line_with_outliers
from course_utils.fitting import best_line
from course_utils.losses import huber as ref_huber


def fails_with(check, fn, *fragments):
    with pytest.raises(CheckFailed) as info:
        check(fn)
    for fragment in fragments:
        assert fragment in str(info.value), str(info.value)
    return str(info.value)


def stub(*args, **kwargs):
    raise NotImplementedError()


# --------------------------------------------------------------------------- MAE, MSE, RMSE
def test_correct_answers_pass_with_one_line(capsys):
    checks.check_mae(lambda p, t: (p - t).abs().mean())
    checks.check_mse(lambda p, t: ((p - t) ** 2).mean())
    checks.check_rmse(lambda p, t: ((p - t) ** 2).mean().sqrt())
    out = capsys.readouterr()
    assert out.err == "" and out.out.count("\n") == 3 and out.out.startswith("✔ mae")


def test_stub_is_reported_as_not_implemented():
    fails_with(checks.check_mae, stub, "not implemented yet")


def test_sum_instead_of_mean():
    fails_with(checks.check_mse, lambda p, t: ((p - t) ** 2).sum(), "you returned the sum, not the mean")
    fails_with(checks.check_mae, lambda p, t: (p - t).abs().sum(), "you returned the sum, not the mean")


def test_mae_mistakes():
    fails_with(checks.check_mae, lambda p, t: (p - t).mean().abs(), "|mean(r)|")
    fails_with(checks.check_mae, lambda p, t: ((p - t) ** 2).mean(), "you computed the MSE")
    fails_with(checks.check_mae, lambda p, t: (p - t).abs(), "return one number")


def test_mse_mistakes():
    fails_with(checks.check_mse, lambda p, t: (p - t).mean() ** 2, "mean(r)²")
    fails_with(checks.check_mse, lambda p, t: ((p - t) ** 2).mean().sqrt(), "you computed the RMSE")


def test_rmse_mistakes():
    fails_with(checks.check_rmse, lambda p, t: ((p - t) ** 2).sqrt().mean(),
               "RMSE: square root of the mean, not mean of square roots")
    fails_with(checks.check_rmse, lambda p, t: ((p - t) ** 2).mean(), "RMSE is its square root")
    fails_with(checks.check_rmse, lambda p, t: ((p - t) ** 2).sum().sqrt(), "square root of the sum")


# --------------------------------------------------------------------------- Huber
def good_huber(p, t, delta=1.0):
    if delta <= 0:
        raise ValueError(f"delta must be positive, got {delta}")
    return F.huber_loss(p, t, delta=delta)


def test_huber_passes_and_mistakes_get_hints(capsys):
    checks.check_huber(good_huber)
    checks.check_huber(ref_huber)
    assert capsys.readouterr().out.count("✔") == 4

    def no_half(p, t, delta=1.0):
        a = (p - t).abs()
        return torch.where(a < delta, a**2, delta * (a - 0.5 * delta)).mean()

    def no_shift(p, t, delta=1.0):
        a = (p - t).abs()
        return torch.where(a < delta, 0.5 * a**2, delta * a).mean()

    def swapped(p, t, delta=1.0):
        a = (p - t).abs()
        return torch.where(a < delta, delta * (a - 0.5 * delta), 0.5 * a**2).mean()

    fails_with(checks.check_huber, no_half, "factor ½")
    fails_with(checks.check_huber, no_shift, "− δ/2")
    fails_with(checks.check_huber, swapped, "swapped")
    fails_with(checks.check_huber, lambda p, t, delta=1.0: F.smooth_l1_loss(p, t, beta=delta), "SmoothL1Loss")
    fails_with(checks.check_huber, lambda p, t, delta=1.0: F.huber_loss(p, t, delta=delta, reduction="sum"),
               "you returned the sum")


def test_huber_must_refuse_bad_delta_with_a_clear_message():
    fails_with(checks.check_huber, lambda p, t, delta=1.0: F.huber_loss(p, t, delta=abs(delta) + 1e-12)
               if delta >= 0 else F.huber_loss(p, t, delta=-delta), "accepted a negative delta")

    def vague(p, t, delta=1.0):
        if delta <= 0:
            raise ValueError("bad value")
        return F.huber_loss(p, t, delta=delta)

    fails_with(checks.check_huber, vague, "mention 'delta'")


# --------------------------------------------------------------------------- gradients by hand
def test_gradient_checks_pass_for_hand_derivations(capsys):
    checks.check_loss_grad(lambda p, t: 2 * (p - t) / p.numel(), "mse")
    checks.check_loss_grad(lambda p, t: torch.sign(p - t) / p.numel(), "mae")
    checks.check_loss_grad(lambda p, t, d: torch.clamp(p - t, -d, d) / p.numel(), "huber")
    assert capsys.readouterr().out.count("✔") == 3


def test_gradient_mistakes_get_hints():
    fails_with(lambda f: checks.check_loss_grad(f, "mse"), lambda p, t: 2 * (t - p) / p.numel(), "sign is flipped")
    fails_with(lambda f: checks.check_loss_grad(f, "mse"), lambda p, t: 2 * (p - t), "gradient of the sum")
    fails_with(lambda f: checks.check_loss_grad(f, "mse"), lambda p, t: (p - t) / p.numel(), "factor 2")
    fails_with(lambda f: checks.check_loss_grad(f, "huber"), lambda p, t, d: (p - t) / p.numel(), "clip the residual")
    fails_with(lambda f: checks.check_loss_grad(f, "huber"), lambda p, t, d: torch.sign(p - t) / p.numel(),
               "inside |r| < δ")
    with pytest.raises(ValueError, match="loss must be one of"):
        checks.check_loss_grad(lambda p, t: p, "l2")


# --------------------------------------------------------------------------- choosing a loss on validation data
def _choice_data():
    """Exercise 6(b)'s data: 50 training cultures (6 contaminated) and 20 clean validation cultures."""
    x, y = make_line_with_outliers(n=50, n_outliers=6, outlier_shift=12.0, seed=3)
    x_val, y_val = make_line_with_outliers(n=20, n_outliers=0, seed=4)
    return x, y, x_val, y_val


def _val_mse(line, x_val, y_val):
    return float(((line.w * x_val + line.b - y_val) ** 2).mean())


def test_loss_choice(capsys):
    x, y, x_val, y_val = _choice_data()
    lines = {k: best_line(x, y, k) for k in ("mse", "mae", "huber")}
    errors = {k: _val_mse(line, x_val, y_val) for k, line in lines.items()}
    # the numbers the exercise is built on: the MAE's line predicts the clean cultures best, the MSE's worst
    assert errors["mae"] < errors["huber"] < 0.5 < 5 < errors["mse"]
    checks.check_loss_choice("mae", errors)
    assert capsys.readouterr().out.startswith("✔ loss choice: MAE")
    with pytest.raises(CheckFailed, match="choose the loss whose line predicts the validation cultures best"):
        checks.check_loss_choice("huber", errors)
    with pytest.raises(CheckFailed, match="keys"):
        checks.check_loss_choice("mae", {"mse": 1.0})
    with pytest.raises(CheckFailed, match="not answered yet"):
        checks.check_loss_choice(None, dict.fromkeys(errors))
    with pytest.raises(CheckFailed, match="chosen_loss is not answered yet"):
        checks.check_loss_choice(None, errors)


@pytest.mark.parametrize(("stored", "hint"), [
    ("train", "error on the training cultures"),
    ("val_mae", "mean absolute error"),
    ("slope", "true slope, which real data never tell you"),
    ("shifted", "then compute mse(w * x_val + b, y_val)"),
    ("rmse", "that is the root of the mean squared error"),
    ("huber_delta_5", "a Huber line with another δ"),
])
def test_loss_choice_names_what_was_measured_instead(stored, hint):
    """The usual wrong numbers each get their hint: the training error, the validation MAE, the distance to the
    true slope (which no one can compute on real data), an unrelated number."""
    x, y, x_val, y_val = _choice_data()
    made = {}
    for k in ("mse", "mae", "huber"):
        line = best_line(x, y, k)
        made[k] = {"train": _val_mse(line, x, y), "val_mae": float((line.w * x_val + line.b - y_val).abs().mean()),
                   "slope": abs(line.w - 2.0), "shifted": _val_mse(line, x_val, y_val) + 5.0,
                   "rmse": _val_mse(line, x_val, y_val) ** 0.5,
                   "huber_delta_5": _val_mse(best_line(x, y, k, delta=5.0) if k == "huber" else line, x_val, y_val)}[stored]
    with pytest.raises(CheckFailed, match=re.escape(hint)):
        checks.check_loss_choice("mae", made)


def test_loss_choice_judges_the_exercises_own_data_by_default():
    """A student who rebinds x or x_val in another cell gets the verdict the grader gives: the check makes the
    exercise's cultures again instead of reading the notebook's variables."""
    x, y, x_val, y_val = _choice_data()
    assert all(torch.equal(a, b) for a, b in zip(checks.week04_fitting.choice_data(), (x, y, x_val, y_val), strict=True))
    other = make_line_with_outliers(n=20, n_outliers=0, seed=5)
    on_other = {k: _val_mse(best_line(x, y, k), *other) for k in ("mse", "mae", "huber")}
    with pytest.raises(CheckFailed, match="is not the validation error"):
        checks.check_loss_choice("mae", on_other)
    checks.check_loss_choice("mae", on_other, (x, y, *other))


def test_loss_choice_refuses_data_that_is_not_the_exercises():
    x, y, x_val, y_val = _choice_data()
    with pytest.raises(CheckFailed, match="x_val must be the exercise's float tensor"):
        checks.check_loss_choice("mae", {}, (x, y, x_val.tolist(), y_val))


# --------------------------------------------------------------------------- the broadcasting bug
def good_safe_mse(out, target):
    if out.dim() == target.dim() + 1 and out.shape[-1] == 1:
        out = out.squeeze(-1)
    if out.shape != target.shape:
        raise ValueError(f"shape mismatch: output {tuple(out.shape)} vs target {tuple(target.shape)}")
    return ((out - target) ** 2).mean()


def test_safe_mse_passes_and_the_broadcast_bug_is_named(capsys):
    checks.check_safe_mse(good_safe_mse)
    assert capsys.readouterr().out.count("✔") == 2
    fails_with(checks.check_safe_mse, lambda o, t: ((o - t) ** 2).mean(), "(N,1) vs (N,) broadcast to (N,N)")


def test_safe_mse_must_refuse_mismatched_shapes():
    def squeeze_all(o, t):
        return ((o.reshape(-1)[: len(t)] - t) ** 2).mean()

    fails_with(checks.check_safe_mse, squeeze_all, "accepted output (5, 1) with targets (4,)")


def test_dividing_by_rows_instead_of_elements_is_named():
    fails_with(checks.check_mae, lambda p, t: (p - t).abs().sum() / len(p), "pred.numel()")
    fails_with(lambda f: checks.check_loss_grad(f, "mse"), lambda p, t: 2 * (p - t) / len(p), "pred.numel()")


# --------------------------------------------------------------------------- hints added with the stricter checks
def mse_as_item(p, t):
    return ((p - t) ** 2).mean().item()


def mae_broadcast(p, t):
    """The right formula on an (N, 1) view of the predictions: torch warns about the broadcast."""
    return torch.nn.functional.l1_loss(p.reshape(-1, 1), t)


def rmse_with_math_sqrt(p, t):
    import math

    return math.sqrt(((p - t) ** 2).mean().item())


@pytest.mark.parametrize("check, fn", [(checks.check_mse, mse_as_item), (checks.check_rmse, rmse_with_math_sqrt)])
def test_python_number_instead_of_tensor_is_named(check, fn):
    """Does a loss returned as a Python float (through .item() or math.sqrt) fail with the tensor hint?"""
    fails_with(check, fn, "expected a torch tensor, got a Python float", "keep the result a tensor", "torch.sqrt")


def test_a_warning_fails_the_check_with_its_hint():
    """A warning goes to stderr, where the grader scores the cell 0: the check says so before the grade does."""
    fails_with(checks.check_mae, mae_broadcast, "gave a warning", "Using a target size", "give them one shape first")


def test_huber_as_python_number_is_named():
    """Does check_huber refuse a Huber loss returned through .item()?"""
    fails_with(checks.check_huber, lambda p, t, delta=1.0: good_huber(p, t, delta).item(), "expected a torch tensor, got a Python float")


def test_rmse_with_torch_sqrt_passes(capsys):
    """Does the tensor route with torch.sqrt pass, with one line?"""
    checks.check_rmse(lambda p, t: torch.sqrt(((p - t) ** 2).mean()))
    assert capsys.readouterr().out.startswith("✔ rmse")


def test_mse_computed_as_mae_is_named():
    """Does mean|r| handed to check_mse get the 'you computed the MAE' hint?"""
    fails_with(checks.check_mse, lambda p, t: (p - t).abs().mean(), "you computed the MAE")


def test_mae_of_raw_residuals_is_named():
    """Does mean(r) without abs get the 'positive and negative errors cancel' hint?"""
    fails_with(checks.check_mae, lambda p, t: (p - t).mean(), "you averaged the raw residuals")


def huber_with_if(p, t, delta=1.0):
    a = (p - t).abs()
    if a < delta:
        return (0.5 * a**2).mean()
    return (delta * (a - 0.5 * delta)).mean()


def huber_linear_without_delta(p, t, delta=1.0):
    a = (p - t).abs()
    return torch.where(a < delta, 0.5 * a**2, a - 0.5).mean()


def huber_quadratic_only(p, t, delta=1.0):
    return (0.5 * (p - t) ** 2).mean()


def huber_asserts_delta(p, t, delta=1.0):
    assert delta > 0, "delta must be positive"
    return F.huber_loss(p, t, delta=delta)


def test_if_on_a_tensor_in_huber_gets_the_torch_where_hint():
    """Does the 'Boolean value of Tensor' error of an `if` on a tensor come back with the torch.where hint?"""
    fails_with(checks.check_huber, huber_with_if, "Boolean value of Tensor", "Hint:", "torch.where(condition")


def test_more_huber_mistakes_get_hints():
    """Do a linear part without δ and a purely quadratic loss each get their own hint?"""
    fails_with(checks.check_huber, huber_linear_without_delta, "the linear part must use δ")
    fails_with(checks.check_huber, huber_quadratic_only, "you only used ½ r²")


def test_huber_refusing_delta_with_the_wrong_error_type_is_named():
    """Does an assert (AssertionError) for delta <= 0 fail with 'raise a ValueError instead'?"""
    fails_with(checks.check_huber, huber_asserts_delta, "raised AssertionError for a negative delta",
               "raise a ValueError instead")


def test_huber_with_torch_where_and_valueerror_passes(capsys):
    """Does a from-scratch Huber loss with torch.where and a ValueError pass both parts?"""
    def huber_where(p, t, delta=1.0):
        if delta <= 0:
            raise ValueError(f"delta must be > 0, got {delta}")
        a = (p - t).abs()
        return torch.where(a < delta, 0.5 * a**2, delta * (a - 0.5 * delta)).mean()

    checks.check_huber(huber_where)
    assert capsys.readouterr().out.count("✔") == 2


def test_mae_gradient_at_zero_residual_is_named():
    """Do r/|r| (NaN at 0) and where(r > 0, 1, -1) (-1 at 0) each get the zero-residual hint?"""
    def mae_grad(f):
        checks.check_loss_grad(f, "mae")

    fails_with(mae_grad, lambda p, t: (p - t) / (p - t).abs() / p.numel(), "some residuals exactly 0",
               "r / |r| is 0 / 0 = NaN")
    fails_with(mae_grad, lambda p, t: torch.where(p - t > 0, 1.0, -1.0) / p.numel(), "some residuals exactly 0",
               "the slope must be 0")


def test_huber_gradient_divided_by_delta_is_named():
    """Does clamp(r, -δ, δ) / (N δ) get the 'slope outside ±δ is ±δ' hint?"""
    fails_with(lambda f: checks.check_loss_grad(f, "huber"),
               lambda p, t, d: torch.clamp(p - t, -d, d) / p.numel() / d, "you divided by δ")


def test_mse_gradient_divided_by_n_twice_is_named_by_the_diagnosis():
    """On a case with N != 2, does diagnose_grad name a gradient divided by N twice?"""
    p, t = torch.tensor([1.0, 2.0, 4.0]), torch.tensor([0.0, 0.0, 0.0])
    case = checks.Case("three samples", (p, t))
    expected = 2 * (p - t) / 3
    hint = week04.diagnose_grad(expected / 3, case, expected, loss="mse")
    assert hint == "you divided by N twice"


def safe_mse_squeeze_all(out, target):
    out = out.squeeze()
    if out.shape != target.shape:
        raise ValueError(f"shape mismatch: output {tuple(out.shape)} vs target {tuple(target.shape)}")
    return ((out - target) ** 2).mean()


def safe_mse_reshape(out, target):
    return ((out.reshape(target.shape) - target) ** 2).mean()


def safe_mse_vague(out, target):
    out = out.squeeze(-1) if out.dim() == 2 and out.shape[1] == 1 else out
    if out.shape != target.shape:
        raise ValueError("cannot compute the loss")
    return ((out - target) ** 2).mean()


def test_safe_mse_squeeze_without_dim_is_named():
    """Does .squeeze() (which turns (1, 1) into a 0-dim tensor) get the .squeeze(-1) hint on the batch of one?"""
    fails_with(checks.check_safe_mse, safe_mse_squeeze_all, "a batch of one", "use .squeeze(-1)")


def test_safe_mse_with_the_wrong_error_type_is_named():
    """Does letting reshape raise RuntimeError for (5, 1) vs (4,) fail with 'raise a ValueError instead'?"""
    fails_with(checks.check_safe_mse, safe_mse_reshape, "raised RuntimeError for output (5, 1) with targets (4,)",
               "raise a ValueError instead")


def test_safe_mse_vague_message_is_named():
    """Does a ValueError whose message does not mention the shape get the 'mention shape' hint?"""
    fails_with(checks.check_safe_mse, safe_mse_vague, "does not say which argument is wrong", "mention 'shape'")


def test_safe_mse_with_view_passes(capsys):
    """Does a right answer that flattens with .view(-1) after checking the shape pass both parts?"""
    def safe_mse_view(out, target):
        if out.numel() != target.numel() or (out.dim() == 2 and out.shape[1] != 1):
            raise ValueError(f"output shape {tuple(out.shape)} does not match target shape {tuple(target.shape)}")
        return ((out.view(-1) - target) ** 2).mean()

    checks.check_safe_mse(safe_mse_view)
    assert capsys.readouterr().out.count("✔") == 2


# --------------------------------------------------------------------------- choosing a loss: what is stored
def test_loss_choice_accepts_numbers_in_any_plain_form(capsys):
    """0-dim tensors and NumPy scalars (one number each) are accepted like floats; (1,)-shaped tensors get a hint."""
    x, y, x_val, y_val = _choice_data()
    errors = {k: _val_mse(best_line(x, y, k), x_val, y_val) for k in ("mse", "mae", "huber")}
    checks.check_loss_choice("mae", {k: torch.tensor(v) for k, v in errors.items()})
    checks.check_loss_choice("mae", {k: np.float32(v) for k, v in errors.items()})
    assert capsys.readouterr().out.count("✔ loss choice: MAE") == 2
    with pytest.raises(CheckFailed, match="store one plain number per loss"):
        checks.check_loss_choice("mae", {k: torch.tensor([v]) for k, v in errors.items()})
    with pytest.raises(CheckFailed, match="must be one of"):
        checks.check_loss_choice("l1", errors)


# --------------------------------------------------------------------------- the shape of out - y
def test_bug_shape_right_answer_and_hints(capsys):
    """Does (64, 64) pass (also as a torch.Size) and do (64,), (64, 1) and others get their hints?"""
    checks.check_bug_shape((64, 64))
    checks.check_bug_shape((torch.zeros(64, 1) - torch.zeros(64)).shape)
    assert capsys.readouterr().out.count("✔") == 2
    with pytest.raises(CheckFailed, match="does not pair the rows"):
        checks.check_bug_shape((64,))
    with pytest.raises(CheckFailed, match="y is stretched too"):
        checks.check_bug_shape([64, 1])
    with pytest.raises(CheckFailed, match="compare the shapes from the right"):
        checks.check_bug_shape((1, 64))


def mse_raw_mean_of_residuals(pred, target):
    return (pred - target).mean()


def test_raw_mean_in_mse_gets_the_cancelling_hint():
    """Does an MSE that averages the raw residuals get the 'errors cancel' hint, not the MAE hint?"""
    with pytest.raises(CheckFailed, match="positive and negative errors cancel"):
        check_mse(mse_raw_mean_of_residuals)


def test_rmse_raw_mean_gets_the_cancelling_hint():
    with pytest.raises(CheckFailed, match="positive and negative errors cancel"):
        check_rmse(mse_raw_mean_of_residuals)


def mse_grad_divided_twice(pred, target):
    return 2 * (pred - target) / pred.numel() ** 2


def test_mse_grad_divided_by_n_twice_is_named_on_the_first_case():
    with pytest.raises(CheckFailed, match="divided by N twice"):
        check_loss_grad(mse_grad_divided_twice, "mse")


# --------------------------------------------------------------------------- gradient descent on a line
def _gd(x, y, loss_fn, lr=0.2, steps=1000, *, centre=True, zero=True, decay=True, convert=True, sign=-1.0,
        move=True, item=True):
    """The exercise's gradient-descent line fit, with switches for the usual mistakes."""
    m = x.mean() if centre else torch.zeros(())
    xc = x - m
    w, c = torch.zeros((), requires_grad=True), torch.zeros((), requires_grad=True)
    for t in range(steps):
        if zero:
            w.grad = c.grad = None
        loss_fn(w * xc + c, y).backward()
        step = lr * (1 - t / steps) if decay else lr
        if move:
            with torch.no_grad():
                w += sign * step * w.grad
                c += sign * step * c.grad
    b = c - w * m if convert else c
    return (w.item(), b.item()) if item else (w.detach(), b.detach())


def test_gd_line_right_answer_passes(capsys):
    checks.check_gd_line(_gd)
    assert "gd_line: reaches the best line" in capsys.readouterr().out
    # the best line computed directly reaches the same line, but it is not the gradient descent asked for
    with pytest.raises(CheckFailed, match="not a direct fit"):
        checks.check_gd_line(lambda x, y, loss_fn, lr=0.2, steps=1000: best_line_tuple(x, y, loss_fn))


def best_line_tuple(x, y, loss_fn):
    """The direct optimum for the loss the check passes (the right line, but not by the algorithm asked for)."""
    r = loss_fn(torch.tensor([3.0]), torch.tensor([0.0])).item()
    loss = {9.0: "mse", 3.0: "mae", 2.5: "huber"}[r]
    fit = best_line(x, y, loss)
    return fit.w, fit.b


def _reassigning(x, y, loss_fn, lr=0.2, steps=1000):
    w, c = torch.zeros((), requires_grad=True), torch.zeros((), requires_grad=True)
    xc = x - x.mean()
    for _ in range(steps):
        loss_fn(w * xc + c, y).backward()
        with torch.no_grad():
            w = w - lr * w.grad
            c = c - lr * c.grad
    return w.item(), c.item()


def _no_requires_grad(x, y, loss_fn, lr=0.2, steps=1000):
    w = torch.zeros(())
    loss = loss_fn(w * x, y)
    return float(w - lr * w.grad), float(loss)


@pytest.mark.parametrize("wrong, hint", [
    (lambda x, y, f, lr=0.2, steps=1000: _gd(x, y, f, lr, steps, convert=False), "b = c − w·mean(x)"),
    (lambda x, y, f, lr=0.2, steps=1000: _gd(x, y, f, lr, steps, zero=False), "gradients pile up"),
    (lambda x, y, f, lr=0.2, steps=1000: _gd(x, y, f, lr, steps, decay=False), "fixed step"),
    (lambda x, y, f, lr=0.2, steps=1000: _gd(x, y, f, lr, steps, centre=False), "not centred first"),
    (lambda x, y, f, lr=0.2, steps=1000: _gd(x, y, f, lr, steps, sign=+1.0), "against it"),
    (lambda x, y, f, lr=0.2, steps=1000: _gd(x, y, f, lr, steps, move=False), "never moved"),
    (lambda x, y, f, lr=0.2, steps=1000: _gd(x, y, f, lr, steps, item=False), ".item()"),
    (lambda x, y, f, lr=0.2, steps=1000: _gd(x, y, f, lr, steps)[0], "tuple of 2"),
    (_reassigning, "in place under torch.no_grad()"),
    (_no_requires_grad, "requires_grad=True"),
])
def test_gd_line_mistakes_get_hints(wrong, hint):
    with pytest.raises(CheckFailed, match=None) as info:
        checks.check_gd_line(wrong)
    assert hint in str(info.value), str(info.value)


def test_gd_line_stub_is_not_implemented():
    fails_with(checks.check_gd_line, stub, "not implemented")


# --------------------------------------------------------------------------- the acceptance rule (shared with the hidden tests)
def _mae_in_place(pred, target):
    pred -= target  # overwrites the caller's predictions
    return pred.abs().mean()


@pytest.mark.parametrize("check, fn, fragment", [
    (checks.check_mae, lambda p, t: (p - t).abs().mean().detach(), "carries no gradient"),
    (checks.check_mae, _mae_in_place, "instead of changing the input"),
    (checks.check_mse, lambda p, t: ((p - t) ** 2).mean().double(), "dtype torch.float64, expected torch.float32"),
    (checks.check_rmse, lambda p, t: ((p - t) ** 2).mean().sqrt().numpy(force=True), "got a NumPy array"),
    (checks.check_huber, lambda p, t, delta=1.0: [ref_huber(p, t, delta)], "got a list"),
])
def test_odd_returns_fail_like_the_hidden_tests(check, fn, fragment):
    """Do detached, in-place, wrong-dtype and non-tensor answers fail visibly (the hidden tests refuse them)?"""
    fails_with(check, fn, fragment)


def test_loss_grad_in_float64_for_float32_input_is_refused():
    fails_with(lambda f: check_loss_grad(f, "mse"), lambda p, t: (2 * (p - t) / p.numel()).double(), "dtype")


def test_safe_mse_must_refuse_one_sample_with_many_outputs():
    """(1, N) against (N,) reshaped to the target's shape would pass silently; the check asks for a ValueError."""
    def reshape_to_target(output, target):
        if output.numel() != target.numel():
            raise ValueError(f"shape mismatch {tuple(output.shape)} vs {tuple(target.shape)}")
        return ((output.reshape(target.shape) - target) ** 2).mean()
    fails_with(checks.check_safe_mse, reshape_to_target, "(1, 6)")


@pytest.mark.parametrize("answer", [[64, 64], torch.Size([64, 64]), (64, 64), __import__("numpy").array([64, 64])])
def test_bug_shape_accepts_any_sequence_of_the_two_numbers(answer, capsys):
    checks.check_bug_shape(answer)
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize("answer", ["(64, 64)", None, 4096, ("64", "64"), __import__("numpy").array([[64, 64]])])
def test_bug_shape_odd_answers_get_a_hint_not_a_traceback(answer):
    with pytest.raises(CheckFailed):
        checks.check_bug_shape(answer)


def test_loss_choice_as_a_list_gets_a_hint():
    x, y, x_val, y_val = _choice_data()
    errors = {k: _val_mse(best_line(x, y, k), x_val, y_val) for k in ("mse", "mae", "huber")}
    with pytest.raises(CheckFailed, match="a string"):
        checks.check_loss_choice(["mae"], errors)


def test_loss_grad_by_autograd_is_refused_with_the_by_hand_hint():
    """The gradients are derived by hand: an answer that calls .backward() runs under no_grad and fails."""
    def by_autograd(pred, target):
        p = pred.clone().requires_grad_()
        ((p - target) ** 2).mean().backward()
        return p.grad
    fails_with(lambda f: check_loss_grad(f, "mse"), by_autograd, "without autograd", "the derivative you derived")


def safe_mse_saying(message):
    """A right safe_mse whose ValueError has the message ``message(output, target)``."""
    def safe_mse(out, target):
        if out.dim() == target.dim() + 1 and out.shape[-1] == 1:
            out = out.squeeze(-1)
        if out.shape != target.shape:
            raise ValueError(message(out, target))
        return ((out - target) ** 2).mean()
    return safe_mse


@pytest.mark.parametrize("message, missing", [
    (lambda o, t: "the shapes do not match", "the output or the targets"),
    (lambda o, t: f"output shape {tuple(o.shape)} is wrong", "the targets"),
    (lambda o, t: f"shape mismatch: targets have shape {tuple(t.shape)}", "the output"),
])
def test_safe_mse_message_must_name_both_shapes(message, missing):
    """The text asks for "the word shape and both shapes": a message without them is refused, saying which is missing."""
    msg = fails_with(checks.check_safe_mse, safe_mse_saying(message), f"does not name the shape of {missing}",
                     "put both shapes in the message")
    assert "Traceback" not in msg


@pytest.mark.parametrize("message", [
    lambda o, t: f"shape mismatch: {tuple(o.shape)} vs {tuple(t.shape)}",
    lambda o, t: f"shape {o.shape} does not match {t.shape}",  # torch.Size([5]) and torch.Size([4])
    lambda o, t: f"shapes {'x'.join(map(str, o.shape))} and {'x'.join(map(str, t.shape))} differ",
    lambda o, t: f"Shape {list(o.shape)} != {list(t.shape)}",
])
def test_safe_mse_message_may_write_the_shapes_in_any_usual_way(message, capsys):
    checks.check_safe_mse(safe_mse_saying(message))
    assert capsys.readouterr().out.count("✔") == 2


def test_the_original_output_shape_counts_as_named():
    """(5, 1) as given or (5,) after flattening both name the output."""
    def safe_mse(out, target):
        if out.shape != target.shape and out.reshape(-1).shape != target.shape:
            raise ValueError(f"shape {tuple(out.shape)} does not fit {tuple(target.shape)}")
        flat = out.squeeze(-1) if out.dim() == 2 and out.shape[1] == 1 else out
        if flat.shape != target.shape:
            raise ValueError(f"shape {tuple(out.shape)} does not fit {tuple(target.shape)}")
        return ((flat - target) ** 2).mean()
    checks.refuses_mismatched_shapes(safe_mse, torch.zeros(5, 1), torch.zeros(4))
    with pytest.raises(CheckFailed, match="does not name the shape of the targets"):
        checks.refuses_mismatched_shapes(safe_mse_saying(lambda o, t: f"shape {tuple(o.shape)} vs ?"),
                                         torch.zeros(1, 6), torch.zeros(6))


def test_an_rmse_failing_through_a_broken_mse_names_that_answer():
    namespace = {"torch": torch}
    exec("def mse(pred, target):\n    return ((pred - target) ** 2).sum()\n\n"
         "def rmse(pred, target):\n    return mse(pred, target).sqrt()\n", namespace)
    msg = fails_with(check_rmse, namespace["rmse"], "this comes from exercise 2's mse: your rmse calls your mse")
    assert "Traceback" not in msg
    namespace["mse"] = lambda pred, target: ((pred - target) ** 2).mean()
    check_rmse(namespace["rmse"])


def test_a_gradient_descent_loop_counting_from_one_is_named():
    """range(1, steps + 1) reaches the best line but not the early-stopped run: the hint names the count, instead
    of telling a student who wrote the loop to write the loop."""
    def gd_line(x, y, loss_fn, lr=0.2, steps=1000):
        x_mean = x.mean()
        xc = x - x_mean
        w = torch.zeros((), requires_grad=True)
        c = torch.zeros((), requires_grad=True)
        for t in range(1, steps + 1):
            loss = loss_fn(w * xc + c, y)
            w.grad = c.grad = None
            loss.backward()
            with torch.no_grad():
                w -= lr * (1 - t / steps) * w.grad
                c -= lr * (1 - t / steps) * c.grad
        return w.item(), c.item() - w.item() * x_mean.item()

    fails_with(checks.check_gd_line, gd_line, "your loop counts t from 1")


def test_a_safe_mse_that_flattens_every_output_is_told_so():
    def safe_mse(output, target):
        output = output.reshape(-1)
        if output.shape != target.shape:
            raise ValueError(f"shape {tuple(output.shape)} does not match {tuple(target.shape)}")
        return ((output - target) ** 2).mean()

    fails_with(checks.check_safe_mse, safe_mse, "you flattened every output: (3, 2) became (6,)")
