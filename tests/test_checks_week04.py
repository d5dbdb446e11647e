"""Do the week-04 student checks pass right answers and name the mistake in wrong ones?"""

import pytest
import torch
import torch.nn.functional as F

from course_utils import checks
from course_utils.checks import CheckFailed
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


# --------------------------------------------------------------------------- choosing a loss
def test_loss_choice():
    x, y = make_line_with_outliers(n=40, n_outliers=4, seed=0)
    errors = {k: abs(best_line(x, y, k).w - 2.0) for k in ("mse", "mae", "huber")}
    best = min(errors, key=errors.get)
    checks.check_loss_choice(best, errors, x, y, 2.0)
    with pytest.raises(CheckFailed, match="pick the loss whose number is smallest"):
        checks.check_loss_choice("mse", errors, x, y, 2.0)
    with pytest.raises(CheckFailed, match="positive number"):
        checks.check_loss_choice(best, {**errors, "mse": -errors["mse"]}, x, y, 2.0)
    with pytest.raises(CheckFailed, match="keys"):
        checks.check_loss_choice(best, {"mse": 1.0}, x, y, 2.0)


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
