"""Does the week-05 learning-rate explorer pick the right precomputed run and redraw it in place, fast?"""

import time

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.data import load_dataset, make_loaders
from course_utils.devices import set_seed
from course_utils.training import History, fit
from course_utils.widgets import lr_explorer, lr_sweep, lr_update

pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def fake_runs():
    """Three hand-made histories: too small (flat), good, too large (diverges to inf/NaN)."""
    return {
        0.001: History([2.3, 2.29, 2.28], [2.3, 2.29, 2.28], [0.1, 0.1, 0.12], [0.1, 0.11, 0.12], "accuracy"),
        0.1: History([2.0, 0.8, 0.4], [2.1, 0.9, 0.5], [0.3, 0.7, 0.9], [0.3, 0.7, 0.88], "accuracy"),
        10.0: History([2.3, float("inf"), float("nan")], [2.5, float("inf"), float("nan")], [0.1, 0.1, 0.1],
                      [0.1, 0.1, 0.1], "accuracy"),
    }


def test_lr_update_picks_the_nearest_run_on_a_log_scale():
    runs = fake_runs()
    assert lr_update(-1.0, runs)["lr"] == 0.1
    assert lr_update(-1.9, runs)["lr"] == 0.1  # 0.9 decades from 0.1, 1.1 from 0.001
    assert lr_update(-2.1, runs)["lr"] == 0.001  # 1.1 decades from 0.1, 0.9 from 0.001
    assert lr_update(-2.9, runs)["lr"] == 0.001
    assert lr_update(0.6, runs)["lr"] == 10.0


def test_lr_update_returns_the_run_and_flags_what_learns():
    runs = fake_runs()
    d = lr_update(-1.0, runs)
    np.testing.assert_allclose(d["val_loss"], [2.1, 0.9, 0.5])
    np.testing.assert_array_equal(d["epochs"], [1, 2, 3])
    assert d["final_val_acc"] == 0.88 and d["best_epoch"] == 3 and d["learns"]
    assert not lr_update(-3.0, runs)["learns"]  # 2.28 is not clearly below 2.3
    big = lr_update(1.0, runs)
    assert np.isnan(big["train_loss"][1:]).all() and not big["learns"]  # inf and NaN become gaps
    np.testing.assert_allclose(big["all_final_acc"], [0.12, 0.88, 0.1])


def test_lr_update_rejects_empty_runs():
    with pytest.raises(ValueError, match="at least one"):
        lr_update(0.0, {})
    with pytest.raises(ValueError, match="at least two"):
        lr_explorer({0.1: fake_runs()[0.1]}, live=False)
    with pytest.raises(ValueError, match="positive learning rates"):
        lr_sweep([0.1, -1.0])


def test_lr_sweep_equals_a_direct_fit_and_a_larger_lr_learns_faster():
    runs = lr_sweep([0.01, 0.3], epochs=3)
    set_seed(0)
    train, val, _ = make_loaders(load_dataset("digits"), 64)
    model = nn.Sequential(nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 10))
    oracle = fit(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.3), train, val, 3,
                 metric="accuracy", progress=False)
    assert runs[0.3].as_dict() == oracle.as_dict()
    assert runs[0.3].val_loss[-1] < runs[0.01].val_loss[-1]


def test_explorer_redraws_in_place_and_a_step_is_fast():
    exp = lr_explorer(fake_runs(), log10_lr=-1.0, live=False)
    ax_loss, ax_acc = exp.figure.axes[:2]
    n_lines = len(ax_loss.lines) + len(ax_acc.lines)
    val_line = next(line for line in ax_loss.lines if line.get_label() == "validation (selected lr)")
    start = time.perf_counter()
    data = exp.set(log10_lr=-3.0)
    exp.figure.canvas.draw()
    elapsed = time.perf_counter() - start
    assert data["lr"] == 0.001
    np.testing.assert_allclose(val_line.get_ydata(), [2.3, 2.29, 2.28])
    assert len(ax_loss.lines) + len(ax_acc.lines) == n_lines
    assert elapsed < 1.0  # no training on a slider step: only a redraw (about 0.1 s here)
    assert exp.describe() == "Explorer: learning rate and the loss curves (precomputed runs) (sliders: log10_lr in [-3, 1])"
