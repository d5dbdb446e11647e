"""Are the week-07 calibration helpers right (torch and scikit-learn as oracles), and do they refuse bad input?"""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from course_utils import calibration as cal


def random_probs(n, c, seed, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    probs = torch.softmax(scale * torch.randn(n, c, generator=g, dtype=torch.float64), dim=1)
    return probs, torch.randint(0, c, (n,), generator=g)


def loop_ece(conf, correct, n_bins):
    """An independent, slow ECE: each sample placed by the rule k/M < c <= (k+1)/M, one bin at a time."""
    total, n = 0.0, len(conf)
    for k in range(n_bins):
        lo, hi = k / n_bins, (k + 1) / n_bins
        members = [i for i in range(n) if (lo < conf[i] <= hi) or (k == 0 and conf[i] == 0)]
        if members:
            c = sum(conf[i] for i in members) / len(members)
            a = sum(correct[i] for i in members) / len(members)
            total += len(members) / n * abs(c - a)
    return total


# --------------------------------------------------------------------------- reliability bins and ECE
@pytest.mark.parametrize("n_bins", [1, 3, 10, 15])
def test_ece_matches_a_slow_loop(n_bins):
    p, y = random_probs(300, 5, seed=n_bins)
    conf, pred = p.max(dim=1)
    expected = loop_ece(conf.tolist(), (pred == y).double().tolist(), n_bins)
    assert cal.expected_calibration_error(p, y, n_bins) == pytest.approx(expected, abs=1e-12)


def test_binary_bins_match_sklearn_calibration_curve():
    from sklearn.calibration import calibration_curve

    g = torch.Generator().manual_seed(0)
    p = torch.rand(2000, generator=g, dtype=torch.float64)
    y = torch.bernoulli(p, generator=g)
    bins = cal.reliability_bins(p, y, n_bins=10)
    prob_true, prob_pred = calibration_curve(y.numpy(), p.numpy(), n_bins=10, strategy="uniform")
    filled = bins.counts > 0
    assert np.allclose(bins.accuracy[filled].numpy(), prob_true)
    assert np.allclose(bins.confidence[filled].numpy(), prob_pred)


def test_edge_cases_confidence_one_boundaries_and_empty_bins():
    # two classes: confidences 1.0, 0.5 (exactly an edge), 0.75 (exactly an edge with 4 bins)
    p = torch.tensor([[1.0, 0.0], [0.5, 0.5], [0.25, 0.75], [0.75, 0.25]], dtype=torch.float64)
    y = torch.tensor([0, 1, 1, 1])
    bins = cal.reliability_bins(p, y, n_bins=4)
    assert bins.counts.tolist() == [0, 1, 2, 1]  # 0.5 in (0.25, 0.5], 0.75 in (0.5, 0.75], 1.0 in the last
    assert math.isnan(bins.confidence[0]) and math.isnan(bins.accuracy[0])
    assert bins.accuracy[2] == 0.5 and bins.confidence[3] == 1.0
    # argmax of [0.5, 0.5] is class 0: wrong for target 1
    expected = 0.25 * 0.5 + 0.5 * abs(0.75 - 0.5) + 0.25 * 0.0
    assert bins.ece() == pytest.approx(expected)
    assert bins.mce() == pytest.approx(0.5)
    assert bins.n == 4 and bins.weights.sum() == pytest.approx(1.0)


def test_one_bin_gives_the_gap_between_mean_confidence_and_accuracy():
    p, y = random_probs(100, 4, seed=3)
    conf, pred = p.max(dim=1)
    gap = abs(conf.mean().item() - (pred == y).double().mean().item())
    for strategy in cal.STRATEGIES:
        assert cal.expected_calibration_error(p, y, 1, strategy) == pytest.approx(gap)
        assert cal.maximum_calibration_error(p, y, 1, strategy) == pytest.approx(gap)


def test_equal_mass_bins_hold_equal_counts_and_sorted_confidences():
    p, y = random_probs(103, 6, seed=4)
    bins = cal.reliability_bins(p, y, n_bins=10, strategy="quantile")
    assert bins.counts.tolist() == [11, 11, 11, 10, 10, 10, 10, 10, 10, 10]
    assert torch.all(torch.diff(bins.confidence) >= 0) and torch.all(torch.diff(bins.edges) >= 0)
    assert bins.edges[0] == 0 and bins.edges[-1] == 1
    few = cal.reliability_bins(p[:3], y[:3], n_bins=5, strategy="quantile")
    assert few.counts.sum() == 3 and (few.counts == 0).sum() == 2


@pytest.mark.parametrize("n_bins", [2, 5, 10])
def test_equal_mass_bins_keep_tied_confidences_together(n_bins):
    """100 samples at confidence 0.9, 90 of them right: perfectly calibrated, whatever the bins."""
    p = torch.full((100,), 0.9, dtype=torch.float64)
    y = (torch.arange(100) < 90).double()
    bins = cal.reliability_bins(p, y, n_bins=n_bins, strategy="quantile")
    assert bins.counts.tolist() == [100] + [0] * (n_bins - 1)
    assert cal.expected_calibration_error(p, y, n_bins, "quantile") == pytest.approx(0.0, abs=1e-12)
    assert cal.expected_calibration_error(p, y, n_bins, "uniform") == pytest.approx(0.0, abs=1e-12)


def test_equal_mass_bins_with_some_ties_match_sklearn():
    """Ties among other values: every tie in one bin, bins cut as scikit-learn's calibration_curve cuts them."""
    from sklearn.calibration import calibration_curve

    g = torch.Generator().manual_seed(5)
    p = torch.round(torch.rand(400, generator=g, dtype=torch.float64) * 20) / 20  # 21 distinct values
    p[:60] = 1.0  # a saturated block
    y = torch.bernoulli(p, generator=g)
    bins = cal.reliability_bins(p, y, n_bins=8, strategy="quantile")
    for value in torch.unique(p):
        assert len(torch.unique(torch.bucketize(p[p == value], bins.edges[1:-1]))) == 1, value
    prob_true, prob_pred = calibration_curve(y.numpy(), p.numpy(), n_bins=8, strategy="quantile")
    filled = bins.counts > 0
    assert np.allclose(bins.confidence[filled].numpy(), prob_pred)
    assert np.allclose(bins.accuracy[filled].numpy(), prob_true)


def test_a_confidence_exactly_on_an_edge_goes_to_the_bin_below():
    """0.55 is the edge between the 11th and 12th of 20 bins: it belongs to (0.50, 0.55], not (0.55, 0.60]."""
    assert torch.linspace(0, 1, 21, dtype=torch.float64)[11].item() < 0.55  # the trap the k / M edges avoid
    p = torch.tensor([0.55, 0.35, 0.6], dtype=torch.float64)
    bins = cal.reliability_bins(p, torch.tensor([1.0, 0.0, 1.0]), n_bins=20)
    assert bins.edges[11].item() == 0.55
    assert bins.counts.nonzero().flatten().tolist() == [6, 10, 11]  # (0.30, 0.35], (0.50, 0.55], (0.55, 0.60]
    two = torch.tensor([[0.55, 0.45], [0.4, 0.6]], dtype=torch.float64)
    assert cal.reliability_bins(two, torch.tensor([0, 1]), n_bins=20).counts[10] == 1


def test_a_constant_confidence_is_calibrated_when_it_equals_the_accuracy():
    p = torch.full((10, 10), 0.1, dtype=torch.float64)
    y = torch.tensor([0] + [1] * 9)  # argmax 0 is right once in ten
    assert cal.expected_calibration_error(p, y) == pytest.approx(0.0, abs=1e-12)
    assert cal.negative_log_likelihood(p, y) == pytest.approx(math.log(10))


@settings(max_examples=12, deadline=None)
@given(seed=st.integers(0, 10_000), n_classes=st.integers(2, 10), n_bins=st.sampled_from([5, 10, 15]),
       strategy=st.sampled_from(cal.STRATEGIES))
def test_a_perfectly_calibrated_model_has_ece_near_zero(seed, n_classes, n_bins, strategy):
    """Within sampling error: each bin's accuracy has sd <= 0.5/sqrt(n_b), so E[ECE] <= 0.5 sqrt(M / N)."""
    n = 20_000
    p, y = cal.simulate_calibrated(n, n_classes, scale=3.0, seed=seed)
    assert cal.expected_calibration_error(p, y, n_bins, strategy) < 3 * 0.5 * math.sqrt(n_bins / n)
    sharp = torch.softmax(3 * torch.log(p), dim=1)  # and it notices real over-confidence
    assert cal.expected_calibration_error(sharp, y, n_bins, strategy) > 0.05


@settings(max_examples=30, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 80), n_bins=st.integers(1, 20),
       strategy=st.sampled_from(cal.STRATEGIES), rounded=st.booleans())
def test_ece_and_mce_do_not_depend_on_the_order_of_the_samples(seed, n, n_bins, strategy, rounded):
    p, y = random_probs(n, 3, seed=seed)
    if rounded:  # many ties in the confidences
        p = torch.round(p * 4) / 4
        p = p / p.sum(dim=1, keepdim=True)
    perm = torch.randperm(n, generator=torch.Generator().manual_seed(seed + 1))
    for fn in (cal.expected_calibration_error, cal.maximum_calibration_error):
        assert fn(p[perm], y[perm], n_bins, strategy) == pytest.approx(fn(p, y, n_bins, strategy), abs=1e-12)


def test_binary_probabilities_bin_p_of_class_one():
    p = torch.tensor([0.05, 0.05, 0.95, 0.95])
    y = torch.tensor([0.0, 1.0, 1.0, 1.0])
    bins = cal.reliability_bins(p, y, n_bins=2)
    assert bins.counts.tolist() == [2, 2] and bins.accuracy.tolist() == [0.5, 1.0]
    assert cal.expected_calibration_error(p, y, 2) == pytest.approx(0.5 * 0.45 + 0.5 * 0.05)


# --------------------------------------------------------------------------- Brier, NLL, accuracy, bootstrap
def test_brier_matches_torch_and_sklearn():
    from sklearn.metrics import brier_score_loss

    p, y = random_probs(50, 7, seed=5)
    assert cal.brier_score(p, y) == pytest.approx(7 * F.mse_loss(p, F.one_hot(y, 7).double()).item())
    q = torch.rand(50, dtype=torch.float64, generator=torch.Generator().manual_seed(1))
    yb = (torch.arange(50) % 3 == 0).double()
    assert cal.brier_score(q, yb) == pytest.approx(brier_score_loss(yb.numpy(), q.numpy()))
    two = torch.stack([1 - q, q], dim=1)
    assert cal.brier_score(two, yb.long()) == pytest.approx(2 * cal.brier_score(q, yb))


def test_nll_and_accuracy_match_torch():
    p, y = random_probs(40, 5, seed=6)
    assert cal.negative_log_likelihood(p, y) == pytest.approx(F.nll_loss(torch.log(p), y).item())
    q = torch.sigmoid(torch.randn(40, dtype=torch.float64, generator=torch.Generator().manual_seed(2)))
    yb = (torch.arange(40) % 2).double()
    assert cal.negative_log_likelihood(q, yb) == pytest.approx(F.binary_cross_entropy(q, yb).item())
    assert cal.accuracy(p, y) == pytest.approx((p.argmax(1) == y).double().mean().item())
    assert cal.accuracy(q, yb) == pytest.approx(((q >= 0.5).double() == yb).double().mean().item())


def test_bootstrap_is_seeded_and_resamples():
    p, y = random_probs(60, 3, seed=7)
    a = cal.bootstrap(cal.expected_calibration_error, p, y, n_boot=50, seed=3)
    assert a.shape == (50,) and torch.equal(a, cal.bootstrap(cal.expected_calibration_error, p, y, n_boot=50, seed=3))
    assert a.std() > 0
    acc = cal.bootstrap(cal.accuracy, p, y, n_boot=2000, seed=0)
    assert acc.mean().item() == pytest.approx(cal.accuracy(p, y), abs=0.01)


# --------------------------------------------------------------------------- temperature and Platt
@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 10_000), T=st.floats(0.01, 100.0), scale=st.floats(0.1, 50.0))
def test_temperature_scaling_never_changes_the_argmax(seed, T, scale):
    z = scale * torch.randn(30, 6, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    assert torch.equal(cal.temperature_scale(z, T).argmax(dim=1), z.argmax(dim=1))
    z1 = z[:, 0]
    assert torch.equal(cal.temperature_scale(z1, T) >= 0.5, z1 >= 0)


def test_temperature_scale_matches_torch():
    z = torch.tensor([[2.0, -1.0, 0.5], [0.0, 3.0, 1.0]])
    assert torch.allclose(cal.temperature_scale(z, 2.5), F.softmax(z.double() / 2.5, dim=1))
    assert torch.allclose(cal.temperature_scale(z[:, 0], 0.5), torch.sigmoid(z[:, 0].double() / 0.5))
    assert cal.nll_at_temperature(z, torch.tensor([0, 1]), 2.0) == pytest.approx(
        F.cross_entropy(z.double() / 2, torch.tensor([0, 1])).item())


@pytest.mark.parametrize("k", [0.5, 1.0, 2.5])
def test_fit_temperature_recovers_a_known_over_or_under_confidence(k):
    p, y = cal.simulate_calibrated(20_000, 10, scale=3.0, seed=11)
    T = cal.fit_temperature(k * torch.log(p), y)  # logits k times too large -> T = k
    assert T == pytest.approx(k, rel=0.05)


def test_fit_temperature_is_the_minimum_of_the_validation_nll():
    p, y = cal.simulate_calibrated(500, 5, scale=2.0, seed=12)
    z = 3 * torch.log(p)
    T = cal.fit_temperature(z, y)
    def grid_min(lo, hi, n):
        grid = torch.linspace(lo, hi, n, dtype=torch.float64)
        return grid[torch.stack([F.cross_entropy(z / t, y) for t in grid]).argmin()].item()

    coarse = grid_min(0.5, 6.0, 111)  # steps of 0.05, then steps of 0.001 around the best
    best = grid_min(coarse - 0.05, coarse + 0.05, 101)
    assert T == pytest.approx(best, abs=2e-3)
    t = torch.tensor(T, dtype=torch.float64, requires_grad=True)
    F.cross_entropy(z / t, y).backward()
    assert abs(t.grad.item()) < 1e-6


def test_fit_temperature_one_logit_and_separable_data():
    g = torch.Generator().manual_seed(0)
    z = 4 * torch.randn(4000, generator=g, dtype=torch.float64)
    y = torch.bernoulli(torch.sigmoid(z / 4), generator=g)  # the logits are 4 times too large
    assert cal.fit_temperature(z, y) == pytest.approx(4.0, rel=0.1)
    separable = torch.tensor([-3.0, -1.0, 2.0, 5.0])
    with pytest.warns(cal.BoundaryTemperatureWarning, match="search bound T = 0.1"):
        T = cal.fit_temperature(separable, torch.tensor([0.0, 0.0, 1.0, 1.0]), bounds=(0.1, 10.0))
    assert T == pytest.approx(0.1, rel=1e-3)  # no finite minimum: the search stops at the lower bound


def test_fit_temperature_warns_at_either_bound_and_not_inside():
    """Does a T at a search bound come with a warning, and a T inside the bounds without one?"""
    g = torch.Generator().manual_seed(0)
    p = torch.softmax(torch.randn(2000, 5, generator=g, dtype=torch.float64), dim=1)
    y = torch.multinomial(p, 1, generator=g).squeeze(1)
    z = 8 * torch.log(p)  # logits 8 times too large: the best T is about 8
    with pytest.warns(cal.BoundaryTemperatureWarning, match="search bound T = 2"):
        assert cal.fit_temperature(z, y, bounds=(0.05, 2.0)) == pytest.approx(2.0, rel=1e-4)
    with pytest.warns(cal.BoundaryTemperatureWarning, match="search bound T = 20"):
        assert cal.fit_temperature(10 * z, y) == pytest.approx(20.0, rel=1e-4)  # the best T is about 80
    with pytest.warns(cal.BoundaryTemperatureWarning, match="search bound T = 0.05"):
        assert cal.fit_temperature(z / 1000, y) == pytest.approx(0.05, rel=1e-4)  # the best T is about 0.008
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning fails the test
        assert cal.fit_temperature(z, y) == pytest.approx(8.0, rel=0.1)


def test_fit_platt_matches_sklearn_logistic_regression():
    from sklearn.linear_model import LogisticRegression

    g = torch.Generator().manual_seed(1)
    z = 3 * torch.randn(500, generator=g, dtype=torch.float64)
    y = torch.bernoulli(torch.sigmoid(0.4 * z - 1.0), generator=g)
    a, b = cal.fit_platt(z, y)
    ref = LogisticRegression(C=1e12, tol=1e-12, max_iter=10_000).fit(z.numpy()[:, None], y.numpy())
    assert a == pytest.approx(ref.coef_[0, 0], rel=1e-4) and b == pytest.approx(ref.intercept_[0], rel=1e-4)
    assert a == pytest.approx(0.4, abs=0.1) and b == pytest.approx(-1.0, abs=0.25)
    assert torch.allclose(cal.platt_scale(z, a, b), torch.sigmoid(a * z + b))


def test_fit_platt_on_separated_data_says_so_or_smooths():
    z, y = torch.tensor([-2.0, -1.0, 1.0, 3.0]), torch.tensor([0.0, 0.0, 1.0, 1.0])
    with pytest.raises(ValueError, match="separates the held-out 0/1 targets perfectly"):
        cal.fit_platt(z, y)
    with pytest.raises(ValueError, match="separates the held-out 0/1 targets perfectly"):
        cal.fit_platt(-z, y)  # separated the other way round
    a, b = cal.fit_platt(z, y, smooth=True)
    assert math.isfinite(a) and a > 0
    with pytest.raises(ValueError, match="one logit per sample"):
        cal.fit_platt(torch.zeros(4, 2), torch.tensor([0, 1, 0, 1]))


# --------------------------------------------------------------------------- decisions
def test_cost_threshold():
    assert cal.cost_threshold(10, 1) == pytest.approx(1 / 11)
    assert cal.cost_threshold(1, 1) == 0.5 and cal.cost_threshold(0, 1) == 1.0
    with pytest.raises(ValueError, match="cost_fn must be a finite number >= 0"):
        cal.cost_threshold(-1, 1)
    with pytest.raises(ValueError, match="both be 0"):
        cal.cost_threshold(0, 0)


@settings(max_examples=30, deadline=None)
@given(p=st.floats(0.0, 1.0), cost_fn=st.floats(0.1, 100.0), cost_fp=st.floats(0.1, 100.0))
def test_acting_above_the_threshold_minimises_the_expected_cost(p, cost_fn, cost_fp):
    t = cal.cost_threshold(cost_fn, cost_fp)
    act, wait = (1 - p) * cost_fp, p * cost_fn
    chosen = act if p >= t else wait
    assert chosen <= min(act, wait) + 1e-9 * (cost_fn + cost_fp)


def test_expected_cost_counts_each_kind_of_mistake():
    p = torch.tensor([0.9, 0.2, 0.05, 0.6])
    y = torch.tensor([1.0, 1.0, 0.0, 0.0])
    # threshold 0.5: miss the second (cost 10), false alarm on the fourth (cost 1)
    assert cal.expected_cost(p, y, 0.5, 10, 1) == pytest.approx(11 / 4)
    # threshold 0.1: catch the second; false alarm on the fourth only
    assert cal.expected_cost(p, y, 0.1, 10, 1) == pytest.approx(1 / 4)
    with pytest.raises(ValueError, match=r"shape \(N,\)"):
        cal.expected_cost(torch.full((4, 2), 0.5), torch.tensor([0, 1, 0, 1]), 0.5, 1, 1)


def test_cost_threshold_is_optimal_on_calibrated_probabilities():
    g = torch.Generator().manual_seed(0)
    p = torch.rand(200_000, generator=g, dtype=torch.float64)
    y = torch.bernoulli(p, generator=g)
    t = cal.cost_threshold(10, 1)
    at_t = cal.expected_cost(p, y, t, 10, 1)
    for other in (0.03, 0.06, 0.15, 0.3, 0.5):
        assert at_t < cal.expected_cost(p, y, other, 10, 1)


# --------------------------------------------------------------------------- recording logits
def test_record_logits_keeps_every_epoch_and_ends_at_the_trained_model():
    g = torch.Generator().manual_seed(0)
    X, y = torch.randn(40, 3, generator=g), torch.randint(0, 2, (40,), generator=g)
    torch.manual_seed(0)
    model = nn.Linear(3, 2)
    loader = DataLoader(TensorDataset(X, y), batch_size=10, shuffle=True, generator=torch.Generator().manual_seed(0))
    kept = cal.record_logits(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.5), loader,
                             {"a": X[:5], "b": X}, epochs=3)
    assert kept["a"].shape == (3, 5, 2) and kept["b"].shape == (3, 40, 2)
    with torch.no_grad():
        assert torch.allclose(kept["b"][-1], model(X))
    assert not torch.allclose(kept["b"][0], kept["b"][-1]) and model.training
    with pytest.raises(ValueError, match="epochs must be a positive int"):
        cal.record_logits(model, nn.CrossEntropyLoss(), torch.optim.SGD(model.parameters(), lr=0.5), loader, {}, 0)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("probs, targets, match", [
    (torch.tensor([[0.5, 0.6], [0.5, 0.5]]), torch.tensor([0, 1]), "sum to 1"),
    (torch.tensor([[2.0, -1.0], [0.5, 0.5]]), torch.tensor([0, 1]), "did you pass logits"),
    (torch.tensor([[0.5, 0.5], [0.5, 0.5]]), torch.tensor([0, 1, 1]), r"targets must have shape \(2,\)"),
    (torch.full((2, 2, 2), 0.5), torch.tensor([0, 1]), r"shape \(N, C\) or \(N,\)"),
    (torch.tensor([[1.0], [1.0]]), torch.tensor([0, 0]), "C >= 2"),
    (torch.tensor([[0.5, 0.5]]), torch.tensor([2]), r"class indices in \[0, 1\]"),
    (torch.tensor([[0.5, 0.5]]), torch.tensor([1.0]), "integer class indices"),
    (torch.tensor([0.3, 0.7]), torch.tensor([0.0, 2.0]), "must be 0 or 1"),
    (torch.tensor([[1, 0]]), torch.tensor([0]), "floating-point"),
    (torch.tensor([float("nan"), 0.5]), torch.tensor([0.0, 1.0]), r"lie in \[0, 1\]"),
    (torch.empty(0, 3), torch.empty(0, dtype=torch.long), "N >= 1"),
])
def test_bad_probabilities_and_targets_are_refused(probs, targets, match):
    with pytest.raises((ValueError, TypeError), match=match):
        cal.expected_calibration_error(probs, targets)


@pytest.mark.parametrize("n_bins", [0, -3, 2.5, True, "10"])
def test_n_bins_must_be_a_positive_int(n_bins):
    p, y = random_probs(5, 3, seed=0)
    with pytest.raises(ValueError, match="n_bins must be an int >= 1"):
        cal.reliability_bins(p, y, n_bins)


def test_other_bad_arguments_name_themselves():
    p, y = random_probs(5, 3, seed=0)
    with pytest.raises(ValueError, match="strategy must be one of"):
        cal.reliability_bins(p, y, 10, "equal")
    with pytest.raises(ValueError, match="n_boot must be an int >= 1"):
        cal.bootstrap(cal.accuracy, p, y, n_boot=0)
    for T in (0, -1.0, float("inf"), True):
        with pytest.raises(ValueError, match="T \\(temperature\\) must be a positive finite number"):
            cal.temperature_scale(torch.zeros(2, 3), T)
    with pytest.raises(ValueError, match="logits must be finite"):
        cal.fit_temperature(torch.tensor([[0.0, float("inf")]]), torch.tensor([0]))
    with pytest.raises(ValueError, match="bounds must satisfy"):
        cal.fit_temperature(torch.zeros(2, 3), torch.tensor([0, 1]), bounds=(2.0, 1.0))
    with pytest.raises(ValueError, match=r"targets must have shape \(2,\)"):
        cal.fit_temperature(torch.zeros(2, 3), torch.tensor([0, 1, 2]))
    with pytest.raises(TypeError, match="probs must be a tensor or an array"):
        cal.brier_score(object(), y)


@pytest.mark.parametrize("z, y", [
    ([-2.0, 0.0, 0.0, 3.0], [0.0, 0.0, 1.0, 1.0]),   # pos.min() == neg.max(): the classes touch at z = 0
    ([-2.0, 0.0, 0.0, 0.0, 3.0], [1.0, 1.0, 0.0, 1.0, 0.0]),  # the other way round, a three-way tie
])
def test_fit_platt_refuses_quasi_separated_data(z, y):
    """Is data whose classes meet only at one logit value refused like separated data (a -> inf lowers the NLL)?"""
    z, y = torch.tensor(z, dtype=torch.float64), torch.tensor(y, dtype=torch.float64)
    with pytest.raises(ValueError, match="ties only where the classes meet"):
        cal.fit_platt(z, y)
    sign = 1.0 if z[y == 1].mean() > z[y == 0].mean() else -1.0
    nll = [float(F.binary_cross_entropy_with_logits(sign * a * z, y)) for a in (1.0, 10.0, 100.0)]
    assert nll[0] > nll[1] > nll[2]  # the NLL keeps falling as the slope grows: no finite optimum
    a, _ = cal.fit_platt(z, y, smooth=True)
    assert math.isfinite(a)


def test_fit_platt_accepts_overlapping_classes_and_a_constant_logit():
    """Is one overlapping pair enough for a finite fit, and does a constant logit fit the base rate?"""
    a, b = cal.fit_platt(torch.tensor([-2.0, 0.5, 0.0, 3.0]), torch.tensor([0.0, 0.0, 1.0, 1.0]))
    assert math.isfinite(a) and math.isfinite(b)
    a, b = cal.fit_platt(torch.zeros(4), torch.tensor([0.0, 1.0, 1.0, 1.0]))
    assert float(torch.sigmoid(torch.tensor(b))) == pytest.approx(0.75, abs=1e-6)


def test_expected_cost_and_decisions_use_the_same_rule_at_the_threshold():
    """Does a probability exactly at the threshold count as acting, in expected_cost and in decisions alike?"""
    from course_utils.experiments import decisions

    p, y = torch.tensor([0.25, 0.25, 0.75]), torch.tensor([0.0, 1.0, 1.0])
    d = decisions(p, y, 0.25)
    assert (d.tp, d.fp, d.fn, d.tn) == (2, 1, 0, 0)  # both samples at exactly 0.25 are flagged
    assert cal.expected_cost(p, y, 0.25, 10, 1) == pytest.approx((d.fp * 1 + d.fn * 10) / 3)
