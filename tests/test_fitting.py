"""Do the week-04 line fits find the true optima, agree with each other, and refuse bad input?"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog, minimize

from course_utils.data import make_line_with_outliers
from course_utils.fitting import LineFit, best_line, fit_line, huber_line, lad_line
from course_utils.losses import huber, mae, mse


@pytest.fixture(scope="module")
def data():
    x, y = make_line_with_outliers(n=40, n_outliers=4, seed=0)
    return x.double(), y.double()


def lad_by_linprog(x, y):
    """Oracle: min sum |y - w x - b| as a linear programme in (w, b, e_1..e_N)."""
    n = len(x)
    c = np.r_[0.0, 0.0, np.ones(n)]
    a = np.c_[x, np.ones(n)]
    a_ub = np.block([[a, -np.eye(n)], [-a, -np.eye(n)]])
    res = linprog(c, A_ub=a_ub, b_ub=np.r_[y, -y], bounds=[(None, None)] * 2 + [(0, None)] * n, method="highs")
    return res.x[0], res.x[1], res.fun


def huber_by_scipy(x, y, delta):
    """Oracle: minimise torch's mean Huber loss with BFGS (it is convex and smooth enough)."""
    xt, yt = torch.as_tensor(x), torch.as_tensor(y)

    def f(p):
        return F.huber_loss(p[0] * xt + p[1], yt, delta=delta).item()

    return minimize(f, np.polyfit(x, y, 1), method="Nelder-Mead", options={"xatol": 1e-10, "fatol": 1e-14,
                                                                           "maxiter": 20000}).x


def test_mse_line_is_least_squares(data):
    x, y = data
    fit = best_line(x, y, "mse")
    w, b = np.polyfit(x.numpy(), y.numpy(), 1)
    assert fit.w == pytest.approx(w, abs=1e-10) and fit.b == pytest.approx(b, abs=1e-10)


def test_mae_line_is_the_linear_programme_optimum(data):
    x, y = (v.numpy() for v in data)
    w, b = lad_line(x, y)
    w_lp, b_lp, cost_lp = lad_by_linprog(x, y)
    assert np.abs(y - w * x - b).sum() == pytest.approx(cost_lp, rel=1e-9)
    assert w == pytest.approx(w_lp, abs=1e-6) and b == pytest.approx(b_lp, abs=1e-6)


def test_huber_line_is_the_minimum_of_torch_huber(data):
    x, y = (v.numpy() for v in data)
    for delta in (0.3, 1.0, 3.0):
        w, b = huber_line(x, y, delta)
        w_s, b_s = huber_by_scipy(x, y, delta)
        assert w == pytest.approx(w_s, abs=1e-5) and b == pytest.approx(b_s, abs=1e-5)


@pytest.mark.parametrize("name, loss_fn", [("mse", mse), ("mae", mae), ("huber", lambda p, t: huber(p, t, 1.0))])
def test_gradient_descent_reaches_the_direct_optimum(data, name, loss_fn):
    x, y = data
    gd = fit_line(x, y, loss_fn, lr=0.2, steps=600)
    direct = best_line(x, y, name)
    assert gd.w == pytest.approx(direct.w, abs=2e-3) and gd.b == pytest.approx(direct.b, abs=5e-3)
    assert len(gd.losses) == 600 and gd.losses[-1] < gd.losses[0]


def test_outlier_pulls_the_mse_line_but_not_the_mae_line(data):
    x, y = data
    clean_x, clean_y = x[:-4], y[:-4]
    for loss, max_change in (("mse", None), ("mae", 0.2), ("huber", 0.3)):
        change = abs(best_line(x, y, loss).w - best_line(clean_x, clean_y, loss).w)
        if max_change is None:
            assert change > 1.0  # the four outliers tilt the least-squares line strongly
        else:
            assert change < max_change


def test_fit_line_without_decay_and_from_a_start_point(data):
    x, y = data
    fit = fit_line(x, y, mse, lr=0.1, steps=400, w0=2.0, b0=1.0, decay=False)
    assert isinstance(fit, LineFit)
    assert fit.w == pytest.approx(best_line(x, y, "mse").w, abs=1e-3)
    assert torch.allclose(fit.predict(torch.tensor([0.0, 1.0], dtype=torch.float64)),
                          torch.tensor([fit.b, fit.b + fit.w], dtype=torch.float64))


@settings(max_examples=40, deadline=None)
@given(st.floats(-5, 5), st.floats(-5, 5), st.integers(3, 25), st.sampled_from(["mse", "mae", "huber"]))
def test_points_on_a_line_give_back_that_line(w, b, n, loss):
    x = torch.linspace(-2, 3, n, dtype=torch.float64)
    fit = best_line(x, w * x + b, loss)
    assert fit.w == pytest.approx(w, abs=1e-7) and fit.b == pytest.approx(b, abs=1e-7)


@settings(max_examples=30, deadline=None)
@given(st.floats(-100, 100), st.sampled_from(["mse", "mae", "huber"]))
def test_shifting_y_shifts_only_the_intercept(c, loss):
    x, y = make_line_with_outliers(n=15, n_outliers=2, seed=1)
    a, b = best_line(x.double(), y.double(), loss), best_line(x.double(), y.double() + c, loss)
    assert b.w == pytest.approx(a.w, abs=1e-6) and b.b == pytest.approx(a.b + c, abs=1e-6)


def test_lad_line_with_all_x_equal_is_the_median():
    assert lad_line(np.ones(5), np.array([1.0, 2.0, 9.0, 3.0, 4.0])) == (0.0, 3.0)


def test_bad_input_names_the_argument():
    x, y = torch.linspace(0, 1, 5), torch.zeros(5)
    with pytest.raises(ValueError, match=r"x must be 1-D with shape \(N,\), got shape \(5, 1\)"):
        fit_line(x.view(-1, 1), y, mse)
    with pytest.raises(ValueError, match="same length"):
        best_line(x, torch.zeros(4), "mse")
    with pytest.raises(TypeError, match="y must be a floating-point tensor"):
        fit_line(x, torch.zeros(5, dtype=torch.long), mse)
    with pytest.raises(ValueError, match="lr must be a positive number"):
        fit_line(x, y, mse, lr=-0.1)
    with pytest.raises(ValueError, match="steps must be a positive int"):
        fit_line(x, y, mse, steps=0)
    with pytest.raises(ValueError, match="loss_fn must return a scalar"):
        fit_line(x, y, lambda p, t: mse(p, t, reduction="none"))
    with pytest.raises(ValueError, match="loss must be one of"):
        best_line(x, y, "l1")
    with pytest.raises(ValueError, match="at least 2 points"):
        best_line(x[:1], y[:1], "mse")
    with pytest.raises(ValueError, match="delta must be positive"):
        best_line(x, y, "huber", delta=-1.0)
    with pytest.raises(ValueError, match="finite"):
        best_line(x, torch.tensor([0.0, 1.0, float("nan"), 0.0, 1.0]), "mae")
