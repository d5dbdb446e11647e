"""Do the week-04 explorers compute the right curves and lines, and redraw in place?"""


import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils.data import make_line_with_outliers
from course_utils.fitting import best_line
from course_utils.widgets import Explorer, huber_explorer, huber_update, outlier_explorer, outlier_update


# --------------------------------------------------------------------------- Huber δ explorer
@pytest.mark.parametrize("delta", [0.1, 1.0, 2.5])
def test_huber_update_equals_torch_loss_and_autograd_slope(delta):
    d = huber_update(delta)
    r = torch.tensor(d["r"], requires_grad=True)
    loss = F.huber_loss(r, torch.zeros_like(r), reduction="none", delta=delta)
    (grad,) = torch.autograd.grad(loss.sum(), r)
    assert np.allclose(d["huber"], loss.detach().numpy(), atol=1e-12)
    assert np.allclose(d["huber_grad"], grad.numpy(), atol=1e-12)
    assert np.allclose(d["half_sq"], 0.5 * d["r"] ** 2) and np.array_equal(d["abs_grad"], np.sign(d["r"]))


def test_huber_update_limits_and_probe():
    big = huber_update(10.0, r_max=4.0)
    assert np.allclose(big["huber"], big["half_sq"])  # δ beyond every residual: r²/2
    small = huber_update(1e-3)
    assert np.allclose(small["huber"] / 1e-3, small["abs"], atol=1e-3)  # δ -> 0: δ|r|
    d = huber_update(1.0, r_probe=3.0)
    assert d["probe_loss"] == pytest.approx(2.5)  # 1·(3 − ½)
    assert d["probe_grad"] == 1.0 and d["probe_smooth_l1"] == pytest.approx(2.5)
    d = huber_update(2.0, r_probe=3.0)
    assert d["probe_loss"] == pytest.approx(4.0) and d["probe_smooth_l1"] == pytest.approx(2.0)  # 2·(3 − 1)


@pytest.mark.parametrize("delta", [0.0, -1.0, float("nan")])
def test_huber_update_refuses_bad_delta(delta):
    with pytest.raises(ValueError, match="delta must be a positive"):
        huber_update(delta)


def test_huber_explorer_redraws_in_place():
    exp = huber_explorer(delta=1.0, live=False)
    assert isinstance(exp, Explorer)
    ax_l, ax_g = exp.figure.axes
    n = len(ax_l.lines) + len(ax_g.lines)
    before = ax_l.lines[0].get_ydata().copy()
    data = exp.set(delta=0.5)
    assert len(ax_l.lines) + len(ax_g.lines) == n
    assert not np.allclose(ax_l.lines[0].get_ydata(), before)
    assert np.allclose(ax_g.lines[0].get_ydata(), np.clip(data["r"], -0.5, 0.5))
    assert data["probe_loss"] == pytest.approx(0.5 * (3 - 0.25))
    assert exp._repr_mimebundle_()["text/plain"] == "Explorer: Huber loss and its slope (sliders: delta in [0.1, 4])"


# --------------------------------------------------------------------------- outlier explorer
@pytest.fixture(scope="module")
def line():
    x, y = make_line_with_outliers(n=30, n_outliers=0, seed=0)
    return x.double().numpy(), y.double().numpy()


def test_outlier_update_moves_one_point_and_fits_each_loss(line):
    x, y = line
    d = outlier_update(12.0, x, y)
    assert d["y"][-1] == pytest.approx(y[-1] + 12.0) and np.array_equal(d["y"][:-1], y[:-1])
    assert d["moved"] == (pytest.approx(x[-1]), pytest.approx(y[-1] + 12.0))
    for loss in ("mse", "mae", "huber"):
        fit = best_line(torch.tensor(x), torch.tensor(d["y"]), loss)
        assert d[f"slope_{loss}"] == pytest.approx(fit.w, abs=1e-9)
        assert np.allclose(d[f"{loss}_line"], fit.w * d["grid"] + fit.b)
    assert y[0] == make_line_with_outliers(n=30, n_outliers=0, seed=0)[1][0].item()  # input left untouched


def test_mse_slope_moves_linearly_with_the_outlier_mae_barely(line):
    x, y = line
    base, far = outlier_update(0.0, x, y), outlier_update(30.0, x, y)
    # Least squares by hand: moving y_k by s changes the slope by s (x_k − mean x) / Σ (x − mean x)².
    expected = 30.0 * (x[-1] - x.mean()) / ((x - x.mean()) ** 2).sum()
    assert far["slope_mse"] - base["slope_mse"] == pytest.approx(expected, rel=1e-9)
    assert abs(far["slope_mae"] - base["slope_mae"]) < 0.1
    assert abs(far["slope_huber"] - base["slope_huber"]) < 0.1


def test_outlier_update_refuses_bad_input(line):
    x, y = line
    with pytest.raises(ValueError, match="same length"):
        outlier_update(1.0, x, y[:-1])
    with pytest.raises(IndexError, match="out of range"):
        outlier_update(1.0, x, y, index=30)


def test_outlier_explorer_redraws_in_place():
    exp = outlier_explorer(live=False)
    ax = exp.figure.axes[0]
    n = len(ax.lines) + len(ax.collections)
    mse_line = ax.lines[1]
    before = mse_line.get_ydata().copy()
    data = exp.set(shift=25.0)
    assert len(ax.lines) + len(ax.collections) == n
    assert not np.allclose(mse_line.get_ydata(), before)
    assert ax.lines[0].get_ydata()[0] == pytest.approx(data["moved"][1])
    assert data["slope_mse"] > data["slope_huber"] > 0 and data["slope_mse"] > data["slope_mae"]


def test_live_explorers_follow_the_slider():
    exp = huber_explorer()
    assert exp.canvas is not None and "course-explorer" in exp.widget._dom_classes
    exp.sliders["delta"].value = 2.0
    assert exp.data["delta"] == 2.0
    out = outlier_explorer()
    out.sliders["shift"].value = 10.0
    assert out.data["shift"] == 10.0


def test_huber_explorer_axes_carry_units():
    ax_l, ax_g = huber_explorer(live=False).figure.axes
    assert ax_l.get_ylabel() == "loss (target units²; |r|: target units)" and ax_g.get_ylabel() == "d loss / d r (target units)"
    assert "target units" in ax_l.get_xlabel()


def test_outlier_explorer_can_start_where_the_lines_differ():
    exp = outlier_explorer(shift=20.0, live=False)
    d = exp.data
    assert d["shift"] == 20.0 and d["slope_mse"] - d["slope_mae"] > 0.3
