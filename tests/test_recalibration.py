"""Are the week-07 recalibration maps right (scikit-learn and the calibration helpers as oracles), do they refuse
bad input, and are they still reachable from course_utils.calibration?"""

import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import calibration as cal
from course_utils import recalibration as rc
from tests.test_calibration import loop_ece


def random_probs(n, c, seed, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    probs = torch.softmax(scale * torch.randn(n, c, generator=g, dtype=torch.float64), dim=1)
    return probs, torch.randint(0, c, (n,), generator=g)


def test_the_maps_are_still_reachable_from_calibration():
    """Do cal.fit_isotonic and friends name the same objects as before the maps moved, in either import order?"""
    for name in ("StepMap", "fit_histogram_binning", "fit_isotonic", "fit_one_vs_rest", "classwise_calibration_error"):
        assert getattr(cal, name) is getattr(rc, name) and name in dir(cal)
    with pytest.raises(AttributeError, match="no attribute 'fit_nothing'"):
        cal.fit_nothing  # noqa: B018
    code = ("import course_utils.recalibration as rc; from course_utils.calibration import fit_isotonic; "
            "assert fit_isotonic is rc.fit_isotonic")
    subprocess.run([sys.executable, "-c", code], check=True)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_isotonic_matches_sklearn_at_the_fitted_points(seed):
    """Does pool-adjacent-violators give sklearn's IsotonicRegression values, ties in the scores included?"""
    from sklearn.isotonic import IsotonicRegression

    g = torch.Generator().manual_seed(seed)
    s = torch.round(torch.rand(300, generator=g, dtype=torch.float64) * 40) / 40  # many ties
    y = torch.bernoulli(s, generator=g)
    ours = rc.fit_isotonic(s, y)(s)
    theirs = IsotonicRegression(out_of_bounds="clip").fit(s.numpy(), y.numpy()).predict(s.numpy())
    assert np.abs(ours.numpy() - theirs).max() < 1e-12
    sorted_out = rc.fit_isotonic(s, y)(torch.sort(s).values)
    assert torch.all(sorted_out.diff() >= 0)  # non-decreasing in the score


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.floats(-5, 5), st.booleans()), min_size=1, max_size=40))
def test_isotonic_is_monotone_and_keeps_the_mean(pairs):
    """Is the fit non-decreasing, in [0, 1], and does it keep the fraction of 1s (each block is a mean)?"""
    s = torch.tensor([p[0] for p in pairs], dtype=torch.float64)
    y = torch.tensor([float(p[1]) for p in pairs], dtype=torch.float64)
    m = rc.fit_isotonic(s, y)
    fitted = m(s)
    assert torch.all(m.values.diff() >= 0) and torch.all((m.values >= 0) & (m.values <= 1))
    assert float(fitted.mean()) == pytest.approx(float(y.mean()), abs=1e-12)
    assert torch.all(m(torch.sort(s).values).diff() >= 0)


def test_isotonic_of_already_ordered_targets_is_exact_and_extends_flat():
    """Are targets that already rise with the score fitted exactly, and new scores given their block's value?"""
    m = rc.fit_isotonic(torch.tensor([0.1, 0.2, 0.3, 0.4]), torch.tensor([0, 0, 1, 1]))
    assert m(torch.tensor([0.1, 0.2, 0.3, 0.4])).tolist() == [0.0, 0.0, 1.0, 1.0]
    assert m(torch.tensor([-9.0, 0.25, 9.0])).tolist() == [0.0, 1.0, 1.0]  # (0.2, 0.4] is the block of 1s
    m = rc.fit_isotonic(torch.tensor([0.1, 0.2, 0.3]), torch.tensor([1, 0, 0]))  # all out of order: one block
    assert m.values.tolist() == [pytest.approx(1 / 3)] and m.inner.numel() == 0


@pytest.mark.parametrize("strategy", ["uniform", "quantile"])
def test_histogram_binning_is_the_fraction_of_ones_per_bin(strategy):
    """Does each bin map to the fraction of 1s of the held-out scores in it, as reliability_bins counts them?"""
    g = torch.Generator().manual_seed(3)
    s = torch.rand(400, generator=g, dtype=torch.float64) ** 2
    y = torch.bernoulli(s, generator=g)
    m = rc.fit_histogram_binning(s, y, 8, strategy)
    bins = cal.reliability_bins(s, y, 8, strategy)
    filled = bins.counts > 0
    assert torch.allclose(m.values[filled], bins.accuracy[filled])
    for k in torch.nonzero(filled).flatten().tolist():  # every score lands in its own bin's value
        lo, hi = bins.edges[k], bins.edges[k + 1]
        inside = (s > lo) & (s <= hi) if k > 0 else (s <= hi)
        assert torch.allclose(m(s[inside]), bins.accuracy[k].expand(int(inside.sum())))


def test_histogram_binning_keeps_the_midpoint_of_an_empty_bin():
    """Does a bin without held-out scores map to its own midpoint (no information, no change)?"""
    m = rc.fit_histogram_binning(torch.tensor([0.05, 0.95, 0.96]), torch.tensor([0, 1, 0]), n_bins=4)
    assert m.values.tolist() == [0.0, 0.375, 0.625, 0.5]
    assert m(torch.tensor([0.3, 0.9])).tolist() == [0.375, 0.5]


def test_one_vs_rest_rows_sum_to_one():
    """Are the mapped rows renormalised, each column by its own class's map?"""
    p, y = random_probs(200, 4, seed=5)
    q = rc.fit_one_vs_rest(rc.fit_isotonic, p, y)(p)
    assert q.shape == p.shape and torch.allclose(q.sum(dim=1), torch.ones(200, dtype=torch.float64))
    # one class always right, the other never: P(class 1) maps to 1, P(class 0) to 0, whatever the score
    apply = rc.fit_one_vs_rest(rc.fit_histogram_binning, torch.tensor([[0.9, 0.1], [0.8, 0.2]]),
                                torch.tensor([1, 1]), n_bins=1)
    assert apply(torch.tensor([[0.3, 0.7]])).tolist() == [[0.0, 1.0]]


def test_one_vs_rest_gives_a_row_mapped_to_all_zeros_one_over_c():
    """Does a row that every class's map sends to 0 come back as 1 / C, not as 0 / 0?"""
    # each class: right when its score is 0.8, wrong at 0.1, so isotonic maps scores <= 0.1 to 0
    probs = torch.tensor([[0.1, 0.1, 0.8], [0.1, 0.8, 0.1], [0.8, 0.1, 0.1]])
    apply = rc.fit_one_vs_rest(rc.fit_isotonic, probs, torch.tensor([2, 1, 0]))
    assert apply(probs).tolist() == [[0.0, 0.0, 1.0], [0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]
    assert apply(torch.tensor([[0.05, 0.05, 0.1]])).tolist() == [[pytest.approx(1 / 3)] * 3]


def test_classwise_ece_is_the_mean_of_one_ece_per_class():
    """Is the class-wise ECE the mean over classes of the binary ECE of P(class c) against 1[y = c]?"""
    p, y = random_probs(300, 5, seed=7)
    by_loop = np.mean([loop_ece(p[:, c].tolist(), (y == c).double().tolist(), 15) for c in range(5)])
    assert rc.classwise_calibration_error(p, y) == pytest.approx(by_loop, abs=1e-12)


def test_recalibration_maps_refuse_bad_input():
    """Do the new fits name the argument and what was expected?"""
    with pytest.raises(ValueError, match="scores must be finite floats of shape"):
        rc.fit_isotonic(torch.zeros(3, 2), torch.zeros(3))
    with pytest.raises(ValueError, match="scores must be finite"):
        rc.fit_isotonic(torch.tensor([0.1, float("nan")]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="targets must hold 0 or 1"):
        rc.fit_isotonic(torch.tensor([0.1, 0.2]), torch.tensor([0, 2]))
    with pytest.raises(ValueError, match="targets must hold 0 or 1, one per score"):
        rc.fit_histogram_binning(torch.tensor([0.1, 0.2]), torch.tensor([0, 1, 1]))
    with pytest.raises(ValueError, match="probabilities in"):
        rc.fit_histogram_binning(torch.tensor([-1.0, 2.0]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="n_bins must be an int"):
        rc.fit_histogram_binning(torch.tensor([0.1, 0.2]), torch.tensor([0, 1]), n_bins=0)
    with pytest.raises(ValueError, match="scores must not contain NaN"):
        rc.fit_isotonic(torch.tensor([0.1, 0.2]), torch.tensor([0, 1]))(torch.tensor([float("nan")]))
    p, y = random_probs(10, 3, seed=0)
    with pytest.raises(ValueError, match=r"probs must have shape \(N, C\) for one map per class"):
        rc.fit_one_vs_rest(rc.fit_isotonic, p[:, 0], (y == 0).double())
    with pytest.raises(ValueError, match=r"probs must have shape \(M, 3\)"):
        rc.fit_one_vs_rest(rc.fit_isotonic, p, y)(p[:, :2])
    with pytest.raises(ValueError, match=r"probs must have shape \(N, C\)"):
        rc.classwise_calibration_error(p[:, 0], (y == 0).double())
