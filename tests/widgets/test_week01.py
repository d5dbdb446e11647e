"""Is the week-01 threshold explorer's update function right (torch as the oracle), and does it redraw in place?"""

import matplotlib.colors
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.widgets import threshold_explorer, threshold_update


def test_threshold_update_probabilities_equal_torch_sigmoid_even_for_huge_logits():
    x = np.array([-3.0, 0.0, 3.0])
    d = threshold_update(w=400.0, b=0.0, x=x, y=np.array([0.0, 1.0, 1.0]))
    expected = torch.sigmoid(torch.tensor(400.0 * d["grid"])).numpy()
    assert np.allclose(d["p_grid"], expected, atol=1e-15) and np.all(np.isfinite(d["p_grid"]))


def test_threshold_update_boundary_and_accuracy():
    x = np.array([-2.0, -1.0, 1.0, 2.0])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    d = threshold_update(w=2.0, b=-1.0, x=x, y=y)
    assert d["boundary"] == pytest.approx(0.5)  # 2x - 1 = 0
    assert d["accuracy"] == 1.0 and d["n_positive"] == 2
    d = threshold_update(w=2.0, b=3.0, x=x, y=y)  # boundary at -1.5: the point at -1 becomes positive
    assert d["accuracy"] == 0.75
    assert threshold_update(w=0.0, b=0.0, x=x, y=y)["boundary"] is None
    # a stricter threshold moves the boundary to where sigmoid = 0.9: 2x - 1 = log 9
    assert threshold_update(2.0, -1.0, x, y, threshold=0.9)["boundary"] == pytest.approx((np.log(9) + 1) / 2)


def test_threshold_update_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        threshold_update(1.0, 0.0, np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="threshold"):
        threshold_update(1.0, 0.0, np.zeros(3), np.zeros(3), threshold=1.0)


def test_threshold_update_counts_both_kinds_of_error():
    x = np.array([-2.0, -1.0, 0.5, 1.0, 2.0])
    y = np.array([0.0, 1.0, 0.0, 1.0, 1.0])
    d = threshold_update(w=1.0, b=0.0, x=x, y=y)  # predicted positive: x >= 0
    assert (d["false_negatives"], d["false_positives"]) == (1, 1)
    assert d["false_negatives"] + d["false_positives"] == round((1 - d["accuracy"]) * len(y))
    low = threshold_update(w=1.0, b=0.0, x=x, y=y, threshold=0.2)  # boundary at logit(0.2) = -1.386
    assert (low["false_negatives"], low["false_positives"]) == (0, 1)
    probs = torch.sigmoid(torch.tensor(x)).numpy()
    assert low["n_positive"] == int((probs >= 0.2).sum())


@pytest.mark.parametrize("name,kwargs", [("w", dict(w=float("nan"))), ("b", dict(b=float("nan"))),
                                         ("threshold", dict(threshold=float("nan"))), ("w", dict(w=float("inf")))])
def test_threshold_update_refuses_nan_and_inf_slider_values_naming_the_slider(name, kwargs):
    args = dict(w=1.0, b=0.0, x=np.zeros(3), y=np.zeros(3)) | kwargs
    with pytest.raises(ValueError, match=rf"^{name}\b.*must be a finite number"):
        threshold_update(**args)


@settings(max_examples=100, deadline=None)
@given(st.floats(-1e300, 1e300), st.floats(-1e300, 1e300), st.floats(0.001, 0.999))
def test_threshold_update_is_finite_far_beyond_the_slider_ranges(w, b, threshold):
    d = threshold_update(w, b, np.array([-2.0, 0.0, 3.0]), np.array([0.0, 1.0, 1.0]), threshold)
    assert np.all(np.isfinite(d["p_grid"])) and np.all((d["p_grid"] >= 0) & (d["p_grid"] <= 1))
    assert d["boundary"] is None or np.isfinite(d["boundary"])
    assert 0.0 <= d["accuracy"] <= 1.0


def test_threshold_explorer_moves_the_threshold_line_and_the_boundary():
    x = np.array([-2.0, -1.0, 1.0, 2.0])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    exp = threshold_explorer(x, y, w=2.0, b=0.0, positive="malignant", live=False)
    ax = exp.figure.axes[0]
    d = exp.set(threshold=0.9)
    hline, vline = ax.lines[1], ax.lines[2]
    assert list(hline.get_ydata()) == [0.9, 0.9]
    assert vline.get_xdata()[0] == pytest.approx(np.log(9) / 2) == pytest.approx(d["boundary"])
    # the boundary moved to log(9)/2 = 1.10, past the malignant sample at x = 1
    assert "missed malignant: 1" in ax.texts[0].get_text() and "false alarms: 0" in ax.texts[0].get_text()
    assert exp.describe() == ("Explorer: sigmoid threshold on one feature "
                              "(sliders: w in [-5, 5], b in [-5, 5], threshold in [0.05, 0.95])")


def test_live_threshold_explorer_follows_its_sliders():
    exp = threshold_explorer(np.array([-1.0, 1.0]), np.array([0.0, 1.0]))
    exp.sliders["threshold"].value = 0.25  # as a student dragging the slider
    assert exp.data["threshold"] == 0.25
    assert exp.data["boundary"] == pytest.approx(np.log(1 / 3) / 2)
    assert "course-explorer" in exp.widget._dom_classes


def test_threshold_explorer_tells_the_classes_apart_without_colour():
    """Do the two classes differ in marker, and is the boundary a neutral dashed line, not a class colour?"""
    exp = threshold_explorer(np.array([-1.0, 1.0]), np.array([0.0, 1.0]), live=False)
    ax = exp.figure.axes[0]
    benign, malignant = ax.collections[:2]
    assert benign.get_paths()[0].vertices.shape != malignant.get_paths()[0].vertices.shape  # circle vs triangle
    vline = ax.lines[2]
    assert vline.get_label() == "decision boundary" and vline.get_linestyle() == "--"
    assert matplotlib.colors.to_hex(vline.get_color()) == "#000000"
