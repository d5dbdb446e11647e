"""Are the week-02 explorers' pure update functions right (torch as the oracle), and do their figures redraw in place?"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.widgets import (
    one_logit_explorer,
    one_logit_update,
    temperature_curve,
    temperature_explorer,
    temperature_update,
)

FLOWER = np.array([2.0, 1.0, 0.2, -0.5, -1.0])


def torch_softmax(z, T=1.0):
    return torch.softmax(torch.tensor(np.asarray(z, dtype=float)) / T, dim=-1).numpy()


def torch_bits(p):
    return torch.distributions.Categorical(probs=torch.tensor(p)).entropy().numpy() / math.log(2)


# --------------------------------------------------------------------------- temperature
@pytest.mark.parametrize("T", [0.05, 0.3, 1.0, 2.5, 10.0])
def test_temperature_update_matches_torch(T):
    d = temperature_update(T, FLOWER)
    assert np.allclose(d["probs"], torch_softmax(FLOWER, T), atol=1e-12)
    assert d["entropy_bits"] == pytest.approx(float(torch_bits(d["probs"])), abs=1e-10)
    assert d["max_entropy_bits"] == pytest.approx(math.log2(5))
    assert d["top_class"] == 0 and d["top_prob"] == pytest.approx(d["probs"].max())
    assert d["T"] == T


def test_temperature_runs_from_one_hot_to_uniform():
    cold, hot = temperature_update(0.05, FLOWER), temperature_update(1e4, FLOWER)
    assert cold["top_prob"] > 0.999 and cold["entropy_bits"] < 0.01
    assert np.allclose(hot["probs"], 0.2, atol=1e-3) and hot["entropy_bits"] == pytest.approx(math.log2(5), abs=1e-5)


def test_entropy_grows_and_top_probability_falls_with_temperature():
    Ts = np.geomspace(0.05, 20, 60)
    probs, h = temperature_curve(FLOWER, Ts)
    assert np.all(np.diff(h) > 0) and np.all(np.diff(probs[:, 0]) < 0)
    for T, row, hk in zip(Ts[::10], probs[::10], h[::10], strict=True):
        assert np.allclose(row, torch_softmax(FLOWER, T), atol=1e-12)
        assert hk == pytest.approx(temperature_update(T, FLOWER)["entropy_bits"])


@pytest.mark.parametrize("T", [0.0, -1.0, float("nan"), float("inf"), -float("inf")])
def test_temperature_update_refuses_non_positive_or_non_finite_T(T):
    with pytest.raises(ValueError, match="T \\(temperature\\) must be a positive finite number"):
        temperature_update(T, FLOWER)


def test_bad_logits_are_refused():
    with pytest.raises(ValueError, match="at least two classes"):
        temperature_update(1.0, [1.0])
    with pytest.raises(ValueError, match="logits must be finite"):
        temperature_update(1.0, [1.0, float("nan")])
    with pytest.raises(ValueError, match="temperatures must all be positive finite numbers"):
        temperature_curve(FLOWER, [1.0, 0.0])


# --------------------------------------------------------------------------- tiny temperatures, NaN sliders
@pytest.mark.parametrize("T", [1e-3, 1e-10, 1e-300, 5e-324])
def test_temperature_update_reaches_the_one_hot_limit_for_tiny_T_instead_of_nan(T):
    """z / T overflows for a tiny T; shifting by the max first leaves 0 for the winner and -inf for the rest."""
    d = temperature_update(T, FLOWER)
    assert np.all(np.isfinite(d["probs"])) and np.isfinite(d["entropy_bits"])
    assert d["probs"].tolist() == pytest.approx([1.0, 0.0, 0.0, 0.0, 0.0], abs=1e-12)
    assert d["entropy_bits"] == pytest.approx(0.0, abs=1e-9)
    tied = temperature_update(T, [3.0, 3.0, -1.0])  # a tie shares the probability, as torch's limit does
    assert tied["probs"].tolist() == pytest.approx([0.5, 0.5, 0.0]) and tied["entropy_bits"] == pytest.approx(1.0)


def test_temperature_curve_is_finite_for_tiny_temperatures_too():
    probs, h = temperature_curve(FLOWER, [1e-300, 1e-3, 1.0])
    assert np.all(np.isfinite(probs)) and np.all(np.isfinite(h))
    assert np.allclose(probs[2], torch_softmax(FLOWER), atol=1e-12)


@settings(max_examples=100, deadline=None)
@given(st.floats(min_value=5e-324, max_value=1e300), st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=6))
def test_temperature_update_is_finite_for_any_positive_T(T, logits):
    d = temperature_update(T, logits)
    assert np.all(np.isfinite(d["probs"])) and d["probs"].sum() == pytest.approx(1.0)
    assert 0.0 <= d["entropy_bits"] <= d["max_entropy_bits"] + 1e-9


# --------------------------------------------------------------------------- adding Δ to one logit
IRIS = np.array([1.5, 0.8, -0.3])


@pytest.mark.parametrize("delta", [-4.0, -1.0, 0.0, 2.5, 4.0])
def test_one_logit_update_matches_torch(delta):
    d = one_logit_update(delta, IRIS, 1)
    z = torch.tensor(IRIS)
    z[1] = z[1] + delta
    assert np.allclose(d["logits"], z.numpy())
    assert np.allclose(d["probs"], torch.softmax(z, 0).numpy(), atol=1e-12)
    assert np.allclose(d["base_probs"], torch_softmax(IRIS), atol=1e-12)
    assert d["p_index"] == pytest.approx(float(torch.softmax(z, 0)[1]))
    assert d["delta"] == delta


@pytest.mark.parametrize("delta", [-4.0, 0.0, 3.0])
def test_every_other_class_is_multiplied_by_the_same_factor(delta):
    d = one_logit_update(delta, IRIS, 1)
    others = [0, 2]
    factors = d["probs"][others] / d["base_probs"][others]
    assert np.allclose(factors, d["others_factor"])
    # the closed form 1 / (1 - p + p e^Δ) with p the moved class's starting probability
    p = d["base_probs"][1]
    assert d["others_factor"] == pytest.approx(1 / (1 - p + p * math.exp(delta)))
    # their ratio is exp of the logit difference, whatever the moved logit does
    assert d["probs"][0] / d["probs"][2] == pytest.approx(math.exp(IRIS[0] - IRIS[2]))


def test_adding_delta_does_not_depend_on_an_offset_of_all_logits():
    """Shift invariance: the effect of Δ is the same whatever constant all logits share (unlike a scale)."""
    for offset in (-50.0, 0.0, 7.0):
        d = one_logit_update(1.5, IRIS + offset, 1)
        assert np.allclose(d["probs"], one_logit_update(1.5, IRIS, 1)["probs"], atol=1e-12)


def test_one_logit_delta_0_changes_nothing_and_growth_is_monotone():
    assert one_logit_update(0.0, IRIS, 1)["others_factor"] == pytest.approx(1.0)
    p = [one_logit_update(s, IRIS, 1)["p_index"] for s in np.linspace(-4, 4, 25)]
    assert np.all(np.diff(p) > 0)
    assert one_logit_update(2.0, IRIS, -1)["logits"][2] == pytest.approx(1.7)


@pytest.mark.parametrize("logits,delta", [([40.0, 0.0, -3.0], 0.0), ([40.0, 0.0, -3.0], -2.0), ([800.0, 1.0, 0.0], 3.0),
                                          ([1e308, 0.0, 1.0], 1e308), ([0.0, 1.0, 2.0], -1e308)])
def test_one_logit_update_stays_finite_where_a_probability_rounds_to_1(logits, delta):
    """A logit of about 37 makes its softmax exactly 1.0; (1 - p') / (1 - p) was then 0 / 0 = NaN."""
    d = one_logit_update(delta, logits, 0)
    assert all(np.all(np.isfinite(d[k])) for k in ("logits", "probs", "base_probs", "p_index", "others_factor"))


@settings(max_examples=100, deadline=None)
@given(st.lists(st.floats(-1e6, 1e6), min_size=2, max_size=6), st.floats(-1e300, 1e300), st.data())
def test_one_logit_update_is_finite_for_any_finite_input(logits, delta, data):
    index = data.draw(st.integers(0, len(logits) - 1))
    d = one_logit_update(delta, logits, index)
    assert np.all(np.isfinite(d["probs"])) and d["probs"].sum() == pytest.approx(1.0)
    assert np.isfinite(d["others_factor"]) and d["others_factor"] >= 0


@pytest.mark.parametrize("index", [3, -4, 1.0, True, "1"])
def test_one_logit_update_refuses_bad_index(index):
    with pytest.raises(ValueError, match=r"index must be an int in \[0, 3\)"):
        one_logit_update(1.0, IRIS, index)


@pytest.mark.parametrize("value", [float("nan"), float("inf"), -float("inf")])
def test_nan_and_inf_slider_values_are_refused_naming_the_slider(value):
    with pytest.raises(ValueError, match=r"delta \(added to the logit\) must be a finite number"):
        one_logit_update(value, IRIS, 0)
    with pytest.raises(ValueError, match=r"T \(temperature\) must be a positive finite number"):
        temperature_update(value, FLOWER)


# --------------------------------------------------------------------------- wiring
def bar_heights(ax):
    return np.array([p.get_height() for p in ax.patches])


def test_temperature_explorer_redraws_bars_in_place():
    exp = temperature_explorer(FLOWER, ["a", "b", "c", "d", "e"], live=False)
    ax_p, ax_h = exp.figure.axes[:2]
    n_patches, n_lines = len(ax_p.patches), len(ax_h.lines)
    data = exp.set(T=5.0)
    assert exp.sliders["T"].value == 5.0
    assert np.allclose(bar_heights(ax_p), torch_softmax(FLOWER, 5.0))
    assert len(ax_p.patches) == n_patches and len(ax_h.lines) == n_lines
    assert "T = 5.00" in ax_p.texts[0].get_text() and f"{data['entropy_bits']:.3f} bits" in ax_p.texts[0].get_text()
    dot = ax_h.lines[-1]
    assert list(dot.get_xdata()) == [5.0] and list(dot.get_ydata()) == [pytest.approx(data["entropy_bits"])]
    assert exp.describe() == "Explorer: softmax temperature (sliders: T in [0.05, 10])"


def test_one_logit_explorer_redraws_both_panels_in_place():
    exp = one_logit_explorer(IRIS, 1, ["setosa", "versicolor", "virginica"], live=False)
    ax_z, ax_p = exp.figure.axes[:2]
    n_patches = len(ax_z.patches)
    exp.set(delta=2.0)
    now = bar_heights(ax_z)[3:]  # the first three bars outline the starting logits
    assert len(ax_z.patches) == n_patches
    assert np.allclose(bar_heights(ax_z)[:3], IRIS) and np.allclose(now, [1.5, 2.8, -0.3])
    z = torch.tensor([1.5, 2.8, -0.3], dtype=torch.float64)
    assert np.allclose(bar_heights(ax_p), torch.softmax(z, 0).numpy())
    assert "Δ = +2.00" in ax_z.texts[0].get_text()
    low, high = ax_z.get_ylim()
    assert high >= 0.8 + 4.0 and low <= 0.8 - 4.0  # every value the slider can give the logit stays in view
    assert exp.describe() == "Explorer: adding Δ to one logit (sliders: delta in [-4, 4])"


def test_live_explorers_follow_their_sliders():
    t = temperature_explorer(FLOWER)
    t.sliders["T"].value = 0.5  # as a student dragging the slider
    assert t.data["probs"] == pytest.approx(torch_softmax(FLOWER, 0.5))
    o = one_logit_explorer(IRIS, 0)
    o.sliders["delta"].value = 2.0
    assert o.data["logits"][0] == pytest.approx(3.5)
    assert "course-explorer" in o.widget._dom_classes


def test_one_logit_explorer_legends_name_the_highlighted_bar():
    """Does each panel's legend say which colour is the class Δ is added to, and which the others?"""
    exp = one_logit_explorer(IRIS, 1, ["setosa", "versicolor", "virginica"], live=False)
    for ax in exp.figure.axes[:2]:
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "now: versicolor (Δ added)" in labels and "now: other classes" in labels and "at Δ = 0" in labels
