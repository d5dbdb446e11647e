"""Are the week-07 explorers' pure update functions right (torch as the oracle), and do their figures redraw in place?"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import calibration as cal
from course_utils.widgets import (
    plot_reliability_panels,
    recalibration_explorer,
    recalibration_update,
    scoring_rule_explorer,
    scoring_rule_update,
    temperature_scan,
)
from course_utils.widgets.week07 import RULES, T_MIN, best_reports, expected_scores

R = np.linspace(0.01, 0.99, 99)


# --------------------------------------------------------------------------- scoring rules
@pytest.mark.parametrize("q", [0.0, 0.2, 0.5, 0.7, 1.0])
def test_expected_scores_match_torch(q):
    e = expected_scores(q, R)
    r, target = torch.tensor(R), torch.full((len(R),), q, dtype=torch.float64)
    # a soft target q makes binary cross-entropy exactly the expected log loss
    assert np.allclose(e["log_loss"], F.binary_cross_entropy(r, target, reduction="none").numpy())
    assert np.allclose(e["brier"], F.mse_loss(r, target, reduction="none").numpy() + q * (1 - q))
    ones, zeros = torch.ones_like(r), torch.zeros_like(r)
    l1 = q * F.l1_loss(r, ones, reduction="none") + (1 - q) * F.l1_loss(r, zeros, reduction="none")
    assert np.allclose(e["abs_error"], l1.numpy())
    assert np.allclose(e["error_rate"], np.where(R >= 0.5, 1 - q, q))


def test_expected_scores_agree_with_sampled_outcomes():
    q = 0.3
    y = torch.bernoulli(torch.full((400_000,), q), generator=torch.Generator().manual_seed(0)).double().numpy()
    r = np.array([0.1, 0.3, 0.6])
    e = expected_scores(q, r)
    sampled = -(y[:, None] * np.log(r) + (1 - y[:, None]) * np.log1p(-r)).mean(axis=0)
    assert np.allclose(e["log_loss"], sampled, atol=0.01)
    assert np.allclose(e["brier"], ((y[:, None] - r) ** 2).mean(axis=0), atol=0.005)


@pytest.mark.parametrize("q", [0.03, 0.25, 0.5, 0.64, 0.9])
def test_best_reports_are_the_minima_of_the_curves(q):
    d = scoring_rule_update(q)
    spacing = d["r"][1] - d["r"][0]
    for rule, (lo, hi) in d["best"].items():
        curve = d["curves"][rule]
        minimisers = d["r"][curve <= curve.min() + 1e-12]
        assert lo - spacing <= minimisers.min() and minimisers.max() <= hi + spacing, rule
        assert d["best_value"][rule] == pytest.approx(curve.min())
    # strictly proper: honesty is the unique best report, with the expected loss at r = q
    for rule in ("log_loss", "brier"):
        assert d["best"][rule] == (q, q)
        assert d["at_q"][rule] == pytest.approx(d["best_value"][rule], abs=1e-4)
    assert d["best"] == best_reports(q)


def test_absolute_error_rewards_exaggeration_and_accuracy_is_flat():
    hi, lo = best_reports(0.7), best_reports(0.2)
    assert hi["abs_error"] == (1.0, 1.0) and lo["abs_error"] == (0.0, 0.0)
    assert hi["error_rate"] == (0.5, 1.0) and lo["error_rate"] == (0.0, 0.5)
    assert best_reports(0.5)["abs_error"] == (0.0, 1.0)


@pytest.mark.parametrize("q, r, match", [(1.5, R, r"q \(the true probability\)"), (0.5, [0.0, 0.5], "strictly between"),
                                         (0.5, [1.0], "strictly between"), (float("nan"), R, "q must be a finite")])
def test_expected_scores_refuse_bad_input(q, r, match):
    with pytest.raises(ValueError, match=match):
        expected_scores(q, r)


def test_scoring_rule_explorer_redraws_in_place():
    exp = scoring_rule_explorer(live=False)
    axes = exp.figure.axes
    counts = [len(ax.lines) for ax in axes]
    d = exp.set(q=0.2)
    assert [len(ax.lines) for ax in axes] == counts
    for ax, rule in zip(axes, RULES, strict=True):
        assert np.allclose(ax.lines[0].get_ydata(), d["curves"][rule])
        assert list(ax.lines[1].get_xdata()) == [0.2, 0.2]
        assert "q = 0.20" in ax.texts[0].get_text()
    assert list(axes[2].lines[2].get_xdata()) == [0.0, 0.0]  # absolute error: best report 0
    assert exp.describe() == "Explorer: expected loss of every reported probability (sliders: q in [0, 1])"


# --------------------------------------------------------------------------- temperature scaling
@pytest.fixture(scope="module")
def overconfident():
    p, y = cal.simulate_calibrated(400, 6, scale=3.0, seed=3)
    return 2.5 * torch.log(p), y  # logits 2.5 times too large


@pytest.mark.parametrize("T", [0.5, 1.0, 2.5, 6.0])
def test_recalibration_update_matches_torch(overconfident, T):
    z, y = overconfident
    d = recalibration_update(T, z, y)
    p = F.softmax(z.double() / T, dim=1)
    assert d["nll"] == pytest.approx(F.cross_entropy(z.double() / T, y).item())
    assert d["brier"] == pytest.approx(6 * F.mse_loss(p, F.one_hot(y, 6).double()).item())
    assert d["ece"] == pytest.approx(cal.expected_calibration_error(p, y))
    assert d["mce"] == pytest.approx(cal.maximum_calibration_error(p, y))
    assert d["mean_confidence"] == pytest.approx(p.max(dim=1).values.mean().item())
    assert d["accuracy"] == pytest.approx((z.argmax(1) == y).double().mean().item())  # the same at every T


def test_temperature_scan_and_the_fitted_temperature(overconfident):
    z, y = overconfident
    T_fit = cal.fit_temperature(z, y)
    scan = temperature_scan(z, y, [1.0, T_fit, 5.0])
    assert scan["nll"][1] < scan["nll"][0] and scan["nll"][1] < scan["nll"][2]
    assert scan["ece"][1] < scan["ece"][0]
    assert len(set(scan["accuracy"])) == 1
    assert scan["nll"][0] == pytest.approx(recalibration_update(1.0, z, y)["nll"])
    with pytest.raises(ValueError, match="temperatures must be positive"):
        temperature_scan(z, y, [1.0, 0.0])
    with pytest.raises(ValueError, match="T \\(temperature\\) must be at least"):
        recalibration_update(-1.0, z, y)


def test_recalibration_update_refuses_temperatures_below_its_floor(overconfident):
    """The floor is the lower end of the fitting range: a fitted T is always drawable, a T of 1e-308 is refused."""
    z, y = overconfident
    assert T_MIN == cal.T_BOUNDS[0] == 0.05
    d = recalibration_update(T_MIN, z, y)
    assert np.isfinite(d["nll"]) and d["accuracy"] == recalibration_update(1.0, z, y)["accuracy"]
    for T in (0.049, 1e-300, 2.2250738585072014e-308, 0.0):
        with pytest.raises(ValueError, match=r"T \(temperature\) must be at least 0.05 .*got"):
            recalibration_update(T, z, y)


def test_recalibration_explorer_redraws_in_place(overconfident):
    z, y = overconfident
    T_fit = cal.fit_temperature(z, y)
    exp = recalibration_explorer(z, y, T_fit, live=False)
    ax_rel, ax_hist, ax_nll, ax_ece = exp.figure.axes
    n_patches, n_lines = len(ax_rel.patches), len(ax_nll.lines)
    d = exp.set(T=2.0)
    bins = cal.reliability_bins(cal.temperature_scale(z, 2.0), y)
    heights = np.array([p.get_height() for p in ax_rel.patches[:15]])
    assert np.allclose(heights, np.nan_to_num(bins.accuracy.numpy()))
    assert np.allclose([p.get_height() for p in ax_hist.patches], bins.counts.numpy())
    assert len(ax_rel.patches) == n_patches and len(ax_nll.lines) == n_lines
    assert list(ax_nll.lines[-1].get_xdata()) == [2.0] and list(ax_ece.lines[-1].get_ydata()) == [pytest.approx(d["ece"])]
    assert "T = 2.00" in ax_rel.texts[0].get_text() and f"ECE = {d['ece']:.3f}" in ax_rel.texts[0].get_text()
    assert list(ax_nll.lines[1].get_xdata()) == [T_fit, T_fit]  # the fitted T stays marked
    assert ax_nll.get_title() == "NLL (nats) on the test set" and ax_ece.get_title() == "ECE on the test set"
    assert ax_nll.lines[1].get_label() == f"fitted T = {T_fit:.2f} (validation)"
    assert ax_hist.get_ylabel() == "samples\n(log scale)" and ax_hist.get_yscale() == "log"
    other = recalibration_explorer(z, y, T_fit, shown_on="new images", fitted_on="the training set", live=False)
    assert other.figure.axes[3].get_title() == "ECE on new images"


def test_live_explorers_follow_their_sliders(overconfident):
    z, y = overconfident
    s = scoring_rule_explorer()
    s.sliders["q"].value = 0.35
    assert s.data["best"]["brier"] == (0.35, 0.35)
    r = recalibration_explorer(z, y, 2.5)
    r.sliders["T"].value = 3.0
    assert r.data["T"] == 3.0 and "course-explorer" in r.widget._dom_classes


def test_plot_reliability_panels():
    p, y = cal.simulate_calibrated(100, 4, seed=0)
    fig = plot_reliability_panels({"a": cal.reliability_bins(p, y), "b": cal.reliability_bins(p, y, 5)}, suptitle="t")
    assert len(fig.axes) == 4 and fig.axes[0].get_title() == "a"
    # the strip counts samples on a log axis that reaches down to 1, so a bin of one sample stays visible
    strip = fig.axes[1]
    assert strip.get_yscale() == "log" and strip.get_ylim()[0] < 1
    assert [p.get_height() for p in strip.patches] == cal.reliability_bins(p, y).counts.tolist()
    # one legend below the panels, clear of the bars, with an entry for the darker under-confident gap
    assert fig.axes[0].get_legend() is None and len(fig.legends) == 1
    labels = [t.get_text() for t in fig.legends[0].get_texts()]
    assert any(label.startswith("under-confident") for label in labels) and len(labels) == 4
    import matplotlib.pyplot as plt

    plt.close(fig)
    with pytest.raises(ValueError, match="at least one"):
        plot_reliability_panels({}, suptitle="t")
