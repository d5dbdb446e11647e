"""Are the week-03 explorers' update functions right (torch as the oracle), and do the sliders redraw in place?"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.widgets import (
    Explorer,
    logit_gradient_curve,
    logit_gradient_explorer,
    logit_gradient_update,
    true_class_explorer,
    true_class_update,
)

LOGITS = [2.0, 0.5, -1.0]


@pytest.mark.parametrize("p", [0.01, 0.25, 0.5, 0.9, 1.0])
def test_true_class_update_matches_autograd(p):
    pt = torch.tensor(p, dtype=torch.float64, requires_grad=True)
    loss = -torch.log(pt)
    loss.backward()
    d = true_class_update(p)
    assert d["loss"] == pytest.approx(loss.item(), abs=1e-12)
    assert d["dloss_dp"] == pytest.approx(pt.grad.item(), rel=1e-12)
    assert d["loss_bits"] == pytest.approx(loss.item() / math.log(2), abs=1e-12)
    # through softmax: the gradient w.r.t. the true class's logit is p - 1
    z = torch.tensor([math.log(p), math.log1p(-p) if p < 1 else -1e9], dtype=torch.float64, requires_grad=True)
    F.cross_entropy(z, torch.tensor(0)).backward()
    assert d["dloss_dz"] == pytest.approx(z.grad[0].item(), abs=1e-9)


def test_true_class_update_coding_intuition():
    """p = 1/2 costs 1 bit, p = 1/4 costs 2 bits."""
    assert true_class_update(0.5)["loss_bits"] == pytest.approx(1.0)
    assert true_class_update(0.25)["loss_bits"] == pytest.approx(2.0)


@pytest.mark.parametrize("p", [0.0, -0.1, 1.5])
def test_true_class_update_rejects_impossible_probabilities(p):
    with pytest.raises(ValueError, match=r"p \(probability of the true class\) must lie in \(0, 1\]"):
        true_class_update(p)


@pytest.mark.parametrize("p", [float("nan"), float("inf")])
def test_true_class_update_refuses_nan_naming_the_slider(p):
    with pytest.raises(ValueError, match=r"p \(probability of the true class\) must be a finite number"):
        true_class_update(p)


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=2.3e-308, max_value=1.0))
def test_true_class_update_is_finite_for_every_probability_it_accepts(p):
    d = true_class_update(p)
    assert all(math.isfinite(d[k]) for k in ("loss", "loss_bits", "dloss_dp", "dloss_dz"))


def test_true_class_update_refuses_subnormal_probabilities_whose_gradient_overflows():
    with pytest.raises(ValueError, match="must be at least"):
        true_class_update(1e-310)


@pytest.mark.parametrize("z", [-6.0, 0.0, 1.3, 6.0, 80.0])
@pytest.mark.parametrize("target,index", [(2, 2), (2, 0), (0, 1)])
def test_logit_gradient_update_matches_torch_autograd(z, target, index):
    d = logit_gradient_update(z, LOGITS, target, index)
    logits = torch.tensor(LOGITS, dtype=torch.float64)
    logits[index] = z
    logits.requires_grad_(True)
    loss = F.cross_entropy(logits, torch.tensor(target))
    loss.backward()
    assert d["loss"] == pytest.approx(loss.item(), abs=1e-12)
    np.testing.assert_allclose(d["grad"], logits.grad.numpy(), atol=1e-12)
    np.testing.assert_allclose(d["probs"], torch.softmax(logits.detach(), 0).numpy(), atol=1e-12)
    assert d["grad"].sum() == pytest.approx(0.0, abs=1e-12)  # softmax and one-hot both sum to 1
    assert d["p_target"] == pytest.approx(d["probs"][target])


def test_logit_gradient_curve_equals_the_update_pointwise_and_falls_as_the_true_logit_rises():
    zs = np.linspace(-6, 6, 13)
    curve = logit_gradient_curve(zs, LOGITS, 2, 2)
    assert np.allclose(curve, [logit_gradient_update(z, LOGITS, 2, 2)["loss"] for z in zs], atol=1e-12)
    assert np.all(np.diff(curve) < 0)
    rising_wrong = logit_gradient_curve(zs, LOGITS, 2, 0)  # pushing up a wrong class raises the loss
    assert np.all(np.diff(rising_wrong) > 0)


def test_logit_gradient_update_rejects_bad_input():
    with pytest.raises(ValueError, match=r"target must be a class index in \[0, 2\]"):
        logit_gradient_update(0.0, LOGITS, 3, 0)
    with pytest.raises(ValueError, match=r"index must be a class index"):
        logit_gradient_update(0.0, LOGITS, 0, -1)
    with pytest.raises(ValueError, match=r"z \(the logit being moved\) must be a finite number"):
        logit_gradient_update(float("inf"), LOGITS, 0, 0)
    with pytest.raises(ValueError, match=r"z \(the logit being moved\) must be a finite number"):
        logit_gradient_update(float("nan"), LOGITS, 0, 0)
    with pytest.raises(ValueError, match="zs .* must all be finite"):
        logit_gradient_curve([0.0, float("nan")], LOGITS, 0, 0)
    with pytest.raises(ValueError, match="logits must hold at least two classes"):
        logit_gradient_update(0.0, [1.0], 0, 0)


@settings(max_examples=100, deadline=None)
@given(st.floats(-1e300, 1e300), st.integers(0, 2), st.integers(0, 2))
def test_logit_gradient_update_is_finite_far_beyond_the_slider_range(z, target, index):
    d = logit_gradient_update(z, LOGITS, target, index)
    assert np.isfinite(d["loss"]) and np.all(np.isfinite(d["grad"])) and np.all(np.isfinite(d["probs"]))


def test_true_class_explorer_labels_the_units_of_both_gradients():
    exp = true_class_explorer(live=False)
    ax_g = exp.figure.axes[1]
    labels = [line.get_label() for line in ax_g.lines[:2]]
    assert "nats per unit of p" in labels[0] and "nats per unit of the logit z" in labels[1]


def test_true_class_explorer_redraws_in_place():
    exp = true_class_explorer(p=0.5, live=False)
    assert isinstance(exp, Explorer)
    ax_l = exp.figure.axes[0]
    n_lines = len(ax_l.lines)
    dot = ax_l.lines[1]
    d = exp.set(p=0.25)
    assert len(ax_l.lines) == n_lines
    assert list(dot.get_ydata()) == pytest.approx([math.log(4)])
    assert d["loss_bits"] == pytest.approx(2.0)
    assert "p = 0.25" in ax_l.texts[0].get_text()


def test_logit_gradient_explorer_moves_bars_and_dot():
    exp = logit_gradient_explorer(LOGITS, target=2, labels=["setosa", "versicolor", "virginica"], live=False)
    assert exp.describe() == ("Explorer: cross-entropy and its gradient as one logit moves "
                              "(sliders: z in [-6, 6])")
    ax_p, ax_g, _ = exp.figure.axes
    before = [b.get_height() for b in ax_g.patches]
    d = exp.set(z=3.0)
    after = [b.get_height() for b in ax_g.patches]
    assert len(ax_g.patches) == 3 and not np.allclose(before, after)
    np.testing.assert_allclose(after, d["grad"])
    np.testing.assert_allclose([b.get_height() for b in ax_p.patches], d["probs"])
    with pytest.raises(KeyError, match="unknown slider"):
        exp.set(T=1.0)


def test_live_explorers_wire_their_sliders():
    exp = logit_gradient_explorer(LOGITS, target=0, index=1)
    exp.sliders["z"].value = 4.0  # as a student dragging the slider
    assert exp.data["z"] == 4.0 and exp.data["logits"][1] == 4.0
    assert "course-explorer" in exp.widget._dom_classes
    exp2 = true_class_explorer()
    exp2.sliders["p"].value = 0.5
    assert exp2.data["loss_bits"] == pytest.approx(1.0)
