"""Do the week-07 checks pass right answers and name the likely mistake in wrong ones?"""

import math
import warnings

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils import calibration as cal
from course_utils import checks
from course_utils.checks import CheckFailed


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


# --------------------------------------------------------------------------- exercise 1
def _conf(p, y):
    conf, pred = p.max(dim=1)
    return conf, (pred == y).to(p.dtype)


@pytest.mark.parametrize("wrong, hint", [
    (lambda p, y: (p.gather(1, y.view(-1, 1)).squeeze(1), (p.argmax(1) == y).to(p.dtype)), "probability of the true class"),
    (lambda p, y: (p.argmax(dim=1).double(), (p.argmax(1) == y).to(p.dtype)), "predicted class \\(the index\\)"),
    (lambda p, y: (p.max(dim=0).values, (p.argmax(1) == y).to(p.dtype)), "not over the samples \\(dim=0\\)"),
    (lambda p, y: (p.max(dim=1).values, (p.argmax(1) != y).float()), "wrong way round"),
    (lambda p, y: (p.max(dim=1).values, y.to(p.dtype)), "don't return the target"),
    (lambda p, y: (p.max(1).values, p.argmax(1) == y), "a comparison gives True/False"),
    (lambda p, y: (p.max(1).values, p.argmax(1)), "1.0 and 0.0 in the probabilities' dtype"),
    (lambda p, y: torch.max(p, dim=1), "1.0 and 0.0 in the probabilities' dtype"),  # (values, indices)
    (lambda p, y: (p.max(1).values, (p.argmax(1) == y).float()), "return the dtype you were given"),
    (lambda p, y: (p.max(1).values.double(), (p.argmax(1) == y).double()), "crept into the computation"),
    (lambda p, y: [p.max(1).values, (p.argmax(1) == y).to(p.dtype)], "`return a, b` makes a tuple"),
    (lambda p, y: p.max(dim=1).values, "`return a, b` makes a tuple"),
    (not_implemented, "not implemented"),
])
def test_check_confidence_and_correct(wrong, hint, capsys):
    checks.check_confidence_and_correct(_conf)
    checks.check_confidence_and_correct(lambda p, y: (p.amax(1), torch.where(p.argmax(1) == y, 1.0, 0.0).to(p.dtype)))
    assert "confidence_and_correct: all 4 cases" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=hint):
        checks.check_confidence_and_correct(wrong)


# --------------------------------------------------------------------------- exercise 2
def _brier(p, y):
    return ((p - F.one_hot(y, p.shape[1])) ** 2).sum(dim=1).mean()


@pytest.mark.parametrize("wrong, hint", [
    (lambda p, y: F.mse_loss(p, F.one_hot(y, p.shape[1]).double()), "averaged over the classes"),
    (lambda p, y: ((1 - p.gather(1, y.view(-1, 1))) ** 2).mean(), "only the true class counted"),
    (lambda p, y: ((p - F.one_hot(y, p.shape[1])) ** 2).sum(), "summed over the samples"),
    (lambda p, y: ((p - F.one_hot(y, p.shape[1])) ** 2).sum(dim=1).mean().sqrt(), "no square root"),
    (lambda p, y: ((F.one_hot(p.argmax(1), p.shape[1]) - F.one_hot(y, p.shape[1])) ** 2).sum(1).double().mean(),
     "not a one-hot vector of the predicted class"),
    (lambda p, y: ((p - F.one_hot(y, p.shape[1])) ** 2).sum(dim=1), "return one number"),
    (lambda p, y: ((p - F.one_hot(y)) ** 2).sum(dim=1).mean(), "pass the number of classes"),  # broadcasts
    (lambda p, y: _brier(p, y) if len(y) == 1 else ((p - F.one_hot(y)) ** 2).sum(1).mean(),
     "pass the number of classes"),  # raises: 2 one-hot columns against 3 classes
    (lambda p, y: _brier(p, y).item(), "keep the result a tensor"),
    (lambda p, y: _brier(p, y).double(), "crept into the computation"),
])
def test_check_brier(wrong, hint, capsys):
    checks.check_brier(_brier)
    assert "brier_score: all 5 cases" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=hint):
        checks.check_brier(wrong)


# --------------------------------------------------------------------------- exercise 3
def _threshold(cost_fn, cost_fp):
    return cost_fp / (cost_fp + cost_fn)


def _biopsy(p, cost_fn, cost_fp):
    return p >= _threshold(cost_fn, cost_fp)


@pytest.mark.parametrize("wrong_t, wrong_d, hint", [
    (lambda fn, fp: fn / (fn + fp), _biopsy, "costs are swapped"),
    (lambda fn, fp: fp / fn, _biopsy, "threshold on the odds"),
    (lambda fn, fp: torch.tensor(fp / (fp + fn)), _biopsy, "plain Python float"),
    (_threshold, lambda p, fn, fp: (p >= _threshold(fn, fp)).long(), "already a boolean tensor"),
    (_threshold, lambda p, fn, fp: (p >= _threshold(fn, fp)).tolist(), "expected a torch tensor"),
    (lambda fn, fp: 0.5, _biopsy, "only when both mistakes cost the same"),
    (_threshold, lambda p, fn, fp: p < _threshold(fn, fp), "wrong way round"),
    (_threshold, lambda p, fn, fp: p >= 0.5, "not 0.5"),
    (_threshold, lambda p, fn, fp: p > _threshold(fn, fp), "exactly equal to the threshold"),
    (_threshold, lambda p, fn, fp: (p >= _threshold(fn, fp))[:1], "one True/False per tumour"),
    (not_implemented, _biopsy, "cost_threshold is not implemented"),
    (_threshold, not_implemented, "biopsy is not implemented"),
])
def test_check_cost_threshold(wrong_t, wrong_d, hint, capsys):
    checks.check_cost_threshold(_threshold, _biopsy)
    assert "cost_threshold and biopsy" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=hint):
        checks.check_cost_threshold(wrong_t, wrong_d)


def test_check_cost_threshold_refuses_values_instead_of_functions():
    with pytest.raises(CheckFailed, match="pass biopsy itself"):
        checks.check_cost_threshold(_threshold, _biopsy(torch.tensor([0.5]), 1.0, 1.0))


# --------------------------------------------------------------------------- exercise 4
def _ece(p, y, n_bins=15):
    conf, pred = p.max(dim=1)
    correct = (pred == y).double()
    edges = torch.arange(n_bins + 1, dtype=torch.float64) / n_bins  # exactly k / M
    idx = torch.bucketize(conf.double(), edges[1:-1])
    total = 0.0
    for k in range(n_bins):
        m = idx == k
        if m.any():
            total += m.double().mean() * (conf[m].mean() - correct[m].mean()).abs()
    return float(total)


def _ece_floor(p, y, n_bins=15, drop_one=False, skip_empty=True):
    """A common wrong version: bins [lo, hi) from floor(conf * M)."""
    conf, pred = p.max(dim=1)
    correct = (pred == y).double()
    idx = torch.floor(conf * n_bins).long()
    if not drop_one:
        idx = idx.clamp(max=n_bins - 1)
    total = 0.0
    for k in range(n_bins):
        m = idx == k
        if m.any() or not skip_empty:
            total += m.double().mean() * (conf[m].mean() - correct[m].mean()).abs()
    return float(total)


def _ece_index_error(p, y, n_bins=15):
    conf, pred = p.max(dim=1)
    counts = torch.zeros(n_bins)
    counts[torch.floor(conf * n_bins).long()] += 1  # index n_bins for a confidence of 1.0
    return _ece(p, y, n_bins)


def _ece_true_class(p, y, n_bins=15):
    q = p.clone()
    conf = p.gather(1, y.view(-1, 1)).squeeze(1)
    correct = (p.argmax(1) == y).double()
    idx = torch.bucketize(conf, torch.linspace(0, 1, n_bins + 1, dtype=conf.dtype)[1:-1])
    total = 0.0
    for k in range(n_bins):
        m = idx == k
        if m.any():
            total += m.double().mean() * (conf[m].mean() - correct[m].mean()).abs()
    del q
    return float(total)


def _ece_unweighted(p, y, n_bins=15):
    conf, pred = p.max(dim=1)
    correct = (pred == y).double()
    idx = torch.bucketize(conf, torch.linspace(0, 1, n_bins + 1, dtype=conf.dtype)[1:-1])
    gaps = [(conf[idx == k].mean() - correct[idx == k].mean()).abs() for k in range(n_bins) if (idx == k).any()]
    return float(sum(gaps) / len(gaps))


def _ece_signed(p, y, n_bins=15):
    conf, pred = p.max(dim=1)
    correct = (pred == y).double()
    idx = torch.bucketize(conf, torch.linspace(0, 1, n_bins + 1, dtype=conf.dtype)[1:-1])
    return float(sum((idx == k).double().mean() * (conf[idx == k].mean() - correct[idx == k].mean())
                     for k in range(n_bins) if (idx == k).any()))


def _mce(p, y, n_bins=15):
    return cal.maximum_calibration_error(p, y, n_bins)


def _ece_linspace_edges(p, y, n_bins=15, dtype=torch.float32):
    """Edges from torch.linspace: in float32 0.9 of 10 bins is 0.8999999762, in float64 0.55 of 20 is 0.54999..."""
    conf, pred = p.max(dim=1)
    correct = (pred == y).double()
    edges = torch.linspace(0, 1, n_bins + 1, dtype=dtype)
    ece = 0.0
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        m = (conf > lo) & (conf <= hi)
        if m.any():
            ece += m.double().mean().item() * abs(correct[m].mean().item() - conf[m].double().mean().item())
    return ece


@pytest.mark.parametrize("wrong, hint", [
    (_ece_linspace_edges, "a hair below k / M"),
    (lambda p, y, n_bins=15: _ece_linspace_edges(p, y, n_bins, dtype=torch.float64), "even in float64"),
    (_ece_true_class, "probability of the true class"),
    (_ece_unweighted, "weight each bin by its share"),
    (lambda p, y, n_bins=15: _ece_floor(p, y, n_bins, drop_one=True), "exactly 1.0 fell out of your bins"),
    (_ece_floor, "on a bin edge"),
    (lambda p, y, n_bins=15: _ece_floor(p, y, n_bins, skip_empty=False), "NaN"),
    (_ece_index_error, "clamp the index"),
    (_ece_signed, "absolute gap"),
    (_mce, "the largest gap \\(the MCE\\)"),
    (lambda p, y, n_bins=15: torch.tensor([_ece(p, y, n_bins)] * 2), "expected a Python float"),
    (lambda p, y, n_bins=15: torch.tensor(_ece(p, y, n_bins)), "plain Python float"),
    (not_implemented, "not implemented"),
])
def test_check_ece(wrong, hint, capsys):
    checks.check_ece(_ece)
    checks.check_ece(lambda p, y, n_bins=15: cal.expected_calibration_error(p, y, n_bins))
    assert "expected_calibration_error: all 9 cases" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=hint):
        checks.check_ece(wrong)


# --------------------------------------------------------------------------- exercise 5
def _fit_grid(z, y):
    # 600 temperatures, each 1 % above the last, from 0.05 to 20
    grid = torch.exp(torch.linspace(math.log(0.05), math.log(20), 600, dtype=torch.float64))
    nll = torch.stack([F.cross_entropy(z / t, y) for t in grid])
    return float(grid[nll.argmin()])


def _fit_linear_grid(z, y):
    # 1000 temperatures spread evenly in T: steps of 0.02, too coarse for a best T of about 0.06
    grid = torch.linspace(0.05, 20, 1000, dtype=torch.float64)
    return float(grid[torch.stack([F.cross_entropy(z.double() / t, y) for t in grid]).argmin()])


def test_check_fit_temperature_passes_right_answers(capsys):
    checks.check_fit_temperature(_fit_grid)  # a grid search is good enough
    checks.check_fit_temperature(lambda z, y: np.float64(cal.fit_temperature(z, y)))  # a float subclass
    assert "fit_temperature: all 6 cases" in capsys.readouterr().out


def _search_up_to_2(z, y):
    # a student's search that stops at T = 2 and says nothing (cal.fit_temperature would warn at its bound)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", cal.BoundaryTemperatureWarning)
        return cal.fit_temperature(z, y, bounds=(0.05, 2.0))


@pytest.mark.parametrize("wrong, hint", [
    (lambda z, y: 1 / cal.fit_temperature(z, y), "you found 1/T"),
    (lambda z, y: -cal.fit_temperature(z, y), "T must be positive"),
    (lambda z, y: cal.nll_at_temperature(z, y, cal.fit_temperature(z, y)), "smallest NLL"),
    (lambda z, y: 1.0, "T = 1 changes nothing"),
    (lambda z, y: _search_up_to_2(z, y), "cover 0.05 to 20"),
    (_fit_linear_grid, "spread it evenly in log T"),
    (lambda z, y: float("nan"), "infinite or NaN"),
    (lambda z, y: "2.0", "not its text"),
    (lambda z, y: torch.tensor(cal.fit_temperature(z, y)), "plain Python float"),
    (lambda z, y: np.float32(cal.fit_temperature(z, y)), "plain Python float"),
    (not_implemented, "not implemented"),
])
def test_check_fit_temperature(wrong, hint):
    with pytest.raises(CheckFailed, match=hint):
        checks.check_fit_temperature(wrong)


# --------------------------------------------------------------------------- exercise 6
def _report(zv, yv, zt, yt):
    T = cal.fit_temperature(zv, yv)
    probs = torch.softmax(zt / T, dim=1)
    return {"T": T, "probs": probs, "ece_before": cal.expected_calibration_error(zt.softmax(1), yt),
            "ece_after": cal.expected_calibration_error(probs, yt)}


def _with(**changes):
    def report(zv, yv, zt, yt):
        right = _report(zv, yv, zt, yt)
        return right | {key: make(zv, yv, zt, yt, right) for key, make in changes.items()}
    return report


def _fitted_on_test(zv, yv, zt, yt):
    return _report(zt, yt, zt, yt)


@pytest.mark.parametrize("wrong, hint", [
    (_fitted_on_test, "T was fitted on the test set"),
    (_with(T=lambda zv, yv, zt, yt, o: 1 / o["T"]), "you found 1/T"),
    (_with(probs=lambda zv, yv, zt, yt, o: torch.softmax(zt / o["T"], dim=0)), "changes some of the network's predictions"),
    (_with(probs=lambda zv, yv, zt, yt, o: torch.softmax(-zt / o["T"], dim=1)), "must not change any prediction"),
    (_with(probs=lambda zv, yv, zt, yt, o: zt.softmax(1)), "uncalibrated probabilities"),
    (_with(probs=lambda zv, yv, zt, yt, o: zt.softmax(1)[:10]), "calibrated test probabilities, shape"),
    (_with(ece_before=lambda zv, yv, zt, yt, o: o["ece_after"], ece_after=lambda zv, yv, zt, yt, o: o["ece_before"]),
     "swapped"),
    (_with(ece_before=lambda zv, yv, zt, yt, o: cal.expected_calibration_error(zv.softmax(1), yv)), "on the test set"),
    (_with(ece_after=lambda zv, yv, zt, yt, o: None), "ece_after is None"),
    (_with(T=lambda zv, yv, zt, yt, o: torch.tensor(o["T"])), "expected a Python float for T"),
    (_with(probs=lambda zv, yv, zt, yt, o: o["probs"].numpy()), "expected a torch tensor for probs"),
    (_with(ece_before=lambda zv, yv, zt, yt, o: torch.tensor(o["ece_before"])), "a Python float for ece_before"),
    (lambda zv, yv, zt, yt: [1, 2], "expected a dict with keys"),
    (not_implemented, "not implemented"),
])
def test_check_calibration_report(wrong, hint, capsys):
    p, y = cal.simulate_calibrated(300, 4, seed=9)
    q, t = cal.simulate_calibrated(300, 4, seed=10)
    real = (2 * torch.log(p), y, 2 * torch.log(q), t)
    checks.check_calibration_report(_report, *real)
    assert "on all 2 cases" in capsys.readouterr().out
    checks.check_calibration_report(_report)  # the made-up case alone
    with pytest.raises(CheckFailed, match=hint):
        checks.check_calibration_report(wrong, *real)


# --------------------------------------------------------------------------- follow-on failures name their exercise
_ECE_WITH_BROKEN_CONFIDENCE = '''
def confidence_and_correct(probs, targets):
    return probs.max(dim=1).values, (probs.argmax(dim=1) != targets).to(probs.dtype)  # "correct" inverted

def expected_calibration_error(probs, targets, n_bins=15):
    conf, correct = confidence_and_correct(probs, targets)
    edges = torch.linspace(0, 1, n_bins + 1, dtype=probs.dtype)
    idx = torch.clamp(torch.bucketize(conf, edges[1:-1], right=False), max=n_bins - 1)
    total = 0.0
    for b in range(n_bins):
        m = idx == b
        if m.any():
            total += m.sum().item() / len(conf) * abs(conf[m].mean().item() - correct[m].mean().item())
    return float(total)
'''

_REPORT_WITH_BROKEN_TEMPERATURE = '''
def fit_temperature(logits, targets):
    return 1.0  # never fitted

def calibration_report(val_logits, val_y, test_logits, test_y):
    T = fit_temperature(val_logits, val_y)
    probs = torch.softmax(test_logits / T, dim=1)
    return {"T": T, "probs": probs, "ece_before": cal.expected_calibration_error(test_logits.softmax(1), test_y),
            "ece_after": cal.expected_calibration_error(probs, test_y)}
'''


def test_an_ece_failing_through_a_broken_confidence_and_correct_names_exercise_1():
    namespace = {"torch": torch}
    exec(_ECE_WITH_BROKEN_CONFIDENCE, namespace)
    with pytest.raises(CheckFailed) as info:
        checks.check_ece(namespace["expected_calibration_error"])
    assert ("this comes from exercise 1: your expected_calibration_error calls your confidence_and_correct"
            in str(info.value)), str(info.value)


def test_a_report_failing_through_a_broken_fit_temperature_names_exercise_5():
    namespace = {"torch": torch, "cal": cal}
    exec(_REPORT_WITH_BROKEN_TEMPERATURE, namespace)
    with pytest.raises(CheckFailed) as info:
        checks.check_calibration_report(namespace["calibration_report"])
    assert "this comes from exercise 5: your calibration_report calls your fit_temperature" in str(info.value)


def test_the_hidden_report_case_tells_a_test_set_temperature_apart():
    """Exercise 6's hidden case (2.5 times too large on validation, 1.2 times on test) needs two temperatures more
    than 1 % apart, so that a report that fits T on the test set fails it."""
    pv, yv = cal.simulate_calibrated(800, 6, scale=2.5, seed=15)
    pt, yt = cal.simulate_calibrated(800, 6, scale=2.5, seed=16)
    t_val, t_test = cal.fit_temperature(2.5 * torch.log(pv), yv), cal.fit_temperature(1.2 * torch.log(pt), yt)
    assert abs(t_val - t_test) > 0.1 * t_test, (t_val, t_test)
