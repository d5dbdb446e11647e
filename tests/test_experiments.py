"""Are repeated-run comparisons paired and tested correctly, and are landscape slices where they claim to be?"""

import math

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from torch import nn
from torch.nn.utils import parameters_to_vector

from course_utils.experiments import (
    compare_losses,
    decisions,
    filter_normalised_direction,
    format_p,
    landscape_1d,
    landscape_2d,
    landscape_slices,
    minimise,
    paired_test,
)


def test_paired_t_matches_the_hand_formula():
    a = np.array([0.91, 0.93, 0.90, 0.95, 0.92])
    b = np.array([0.89, 0.92, 0.90, 0.91, 0.90])
    d = a - b
    t_hand = d.mean() / (d.std(ddof=1) / math.sqrt(len(d)))
    t, p = paired_test(a, b)
    assert t == pytest.approx(t_hand)
    assert p == pytest.approx(2 * stats.t.sf(abs(t_hand), df=len(d) - 1))
    w, pw = paired_test(a, b, test="wilcoxon")
    assert pw == pytest.approx(stats.wilcoxon(d).pvalue)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.floats(-5, 5, allow_nan=False), min_size=3, max_size=10), st.floats(-1, 1, allow_nan=False))
def test_paired_test_ignores_a_shared_seed_effect(base, shift):
    """Adding the same per-seed offset to both losses must not change a paired test."""
    base = np.array(base)
    rng = np.random.default_rng(0)
    a, b = base + rng.normal(size=len(base)), base.copy()
    t1, p1 = paired_test(a, b)
    t2, p2 = paired_test(a + 100 * shift * np.arange(len(a)), b + 100 * shift * np.arange(len(a)))
    assert t1 == pytest.approx(t2, rel=1e-6, abs=1e-6) and p1 == pytest.approx(p2, rel=1e-6, abs=1e-6)


def test_paired_test_edge_cases():
    assert paired_test([1.0, 2.0], [1.0, 2.0]) == (0.0, 1.0)
    t, p = paired_test([2.0, 3.0, 4.0], [1.0, 2.0, 3.0])
    assert t == math.inf and p == 0.0


@pytest.mark.parametrize("n", [5, 6, 8])
def test_wilcoxon_with_a_constant_difference_is_scipys_exact_p_not_zero(n):
    """With S pairs that all differ the same way, the signed-rank test cannot go below 2 / 2**S."""
    b = np.arange(n, dtype=float)
    a = b + 0.5  # every difference exactly +0.5
    w, p = paired_test(a, b, test="wilcoxon")
    assert p == pytest.approx(stats.wilcoxon(a, b).pvalue) and p == pytest.approx(2 / 2**n)
    assert w == 0.0
    assert paired_test(b, a, test="wilcoxon")[1] == pytest.approx(2 / 2**n)


def test_compare_losses_with_wilcoxon_never_calls_five_seeds_significant():
    comp = compare_losses(lambda f, s: f(s), {"A": lambda s: float(s), "B": lambda s: s + 0.25}, seeds=range(5),
                          test="wilcoxon")
    row = comp.summary()[1]
    assert row["p"] == pytest.approx(0.0625) and row["p"] > 0.05
    assert " W " in comp.table().splitlines()[0] + " "


def test_decisions_count_like_sklearn():
    from sklearn.metrics import confusion_matrix, precision_score, recall_score

    rng = np.random.default_rng(0)
    y = (rng.random(200) < 0.3).astype(float)
    p = np.clip(0.35 * y + rng.random(200) * 0.7, 0, 1)
    for thr in (0.2, 0.5, 0.8):
        d = decisions(torch.tensor(p), torch.tensor(y), thr)
        tn, fp, fn, tp = confusion_matrix(y, p >= thr).ravel()
        assert (d.tp, d.fp, d.fn, d.tn) == (tp, fp, fn, tn)
        assert d.recall == pytest.approx(recall_score(y, p >= thr))
        assert d.precision == pytest.approx(precision_score(y, p >= thr))
    nothing = decisions([0.1, 0.2], [0.0, 1.0], 0.9)
    assert nothing.tp == 0 and math.isnan(nothing.precision) and nothing.recall == 0.0


def test_decisions_flag_a_score_exactly_at_the_threshold():
    """Is a score equal to the threshold a "yes", as in calibration.expected_cost (p >= threshold)?"""
    d = decisions([0.0, 0.5, 0.5, 0.7], [0.0, 0.0, 1.0, 1.0], 0.5)
    assert (d.tp, d.fp, d.fn, d.tn) == (2, 1, 0, 1)
    logits = decisions(torch.tensor([-1.0, 0.0]), torch.tensor([0.0, 1.0]), 0.0)  # logit 0 is p = 0.5
    assert (logits.tp, logits.fn) == (1, 0)


@pytest.mark.parametrize("args, match", [
    (([0.1, 0.2], [0.0]), "same length"),
    (([0.1, 0.2], [0.0, 2.0]), "only 0 and 1"),
    (([0.1, float("nan")], [0.0, 1.0]), "finite"),
    (([0.1, 0.2], [0.0, 1.0], float("inf")), "threshold"),
])
def test_decisions_reject_bad_input(args, match):
    with pytest.raises(ValueError, match=match):
        decisions(*args)


def test_minimise_reaches_least_squares_and_logistic_optimum():
    g = torch.Generator().manual_seed(0)
    X = torch.randn(80, 3, generator=g, dtype=torch.float64)
    y = X @ torch.tensor([1.0, -2.0, 0.5], dtype=torch.float64) + 0.3 + 0.1 * torch.randn(80, generator=g, dtype=torch.float64)
    model = nn.Linear(3, 1).double()
    final = minimise(model, lambda out, t: ((out.squeeze(1) - t) ** 2).mean(), X, y)
    A = torch.cat([X, torch.ones(80, 1, dtype=torch.float64)], dim=1)
    coef = torch.linalg.lstsq(A, y.unsqueeze(1)).solution.squeeze(1)
    assert torch.allclose(model.weight.detach().squeeze(0), coef[:3], atol=1e-6)
    assert final == pytest.approx(((A @ coef - y) ** 2).mean().item(), rel=1e-8)
    # logistic regression without a penalty: the gradient of the mean BCE vanishes at the optimum
    labels = (X[:, 0] + 0.8 * torch.randn(80, generator=g, dtype=torch.float64) > 0).double()
    logreg = nn.Linear(3, 1).double()
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    minimise(logreg, lambda out, t: bce(out.squeeze(1), t), X, labels)
    loss = bce(logreg(X).squeeze(1), labels)
    grads = torch.autograd.grad(loss, list(logreg.parameters()))
    assert max(gr.abs().max().item() for gr in grads) < 1e-6


@pytest.mark.parametrize("kwargs, err, match", [
    ({"model": "linear"}, TypeError, "nn.Module"),
    ({"loss_fn": 3}, TypeError, "loss_fn must be a function"),
    ({"max_iter": 0}, ValueError, "max_iter"),
    ({"loss_fn": lambda out, t: (out - t.unsqueeze(1)) ** 2}, ValueError, "single number"),
])
def test_minimise_rejects_bad_input(kwargs, err, match):
    args = {"model": nn.Linear(2, 1), "loss_fn": lambda out, t: ((out.squeeze(1) - t) ** 2).mean(),
            "X": torch.randn(5, 2), "y": torch.randn(5)} | kwargs
    with pytest.raises(err, match=match):
        minimise(args.pop("model"), args.pop("loss_fn"), args.pop("X"), args.pop("y"), **args)


def _toy_run(loss_fn, seed):
    """A fake training run: a seed effect shared by both losses plus the loss's own offset."""
    return float(np.random.default_rng(seed).normal()) + loss_fn(seed)


def test_compare_losses_table_and_pairing():
    losses = {"A": lambda s: 0.0, "B": lambda s: 0.1 + 0.01 * (s % 2)}
    comp = compare_losses(_toy_run, losses, seeds=[0, 1, 2, 3, 4], metric="accuracy")
    assert list(comp.scores) == ["A", "B"] and comp.seeds == (0, 1, 2, 3, 4)
    seed_effect = np.array([np.random.default_rng(s).normal() for s in range(5)])
    assert np.allclose(comp.scores["A"], seed_effect)
    rows = comp.summary()
    assert rows[0]["sd"] == pytest.approx(seed_effect.std(ddof=1))
    assert rows[1]["diff"] == pytest.approx(0.1 + 0.01 * 2 / 5)
    t, p = stats.ttest_rel(comp.scores["B"], comp.scores["A"])
    assert rows[1]["statistic"] == pytest.approx(t) and rows[1]["p"] == pytest.approx(p)
    # the seed effect is large, the loss effect small: unpaired, the difference is invisible; paired, it is clear
    assert stats.ttest_ind(comp.scores["B"], comp.scores["A"]).pvalue > 0.5 and p < 1e-4
    table = comp.table()
    assert "accuracy mean ± sd" in table and "(base)" in table and len(table.splitlines()) == 3
    assert table.splitlines()[2].endswith(" <0.001") and "0.000" not in table.splitlines()[2].split()[-1]


@pytest.mark.parametrize("p, text", [(0.0, "<0.001"), (0.00011, "<0.001"), (0.001, "0.001"), (0.0794, "0.079"),
                                     (1.0, "1.000")])
def test_format_p_never_prints_a_p_value_of_zero(p, text):
    """Does a tiny p read "<0.001" instead of "0.000", and a larger one keep three decimals?"""
    assert format_p(p) == text


@pytest.mark.parametrize("p", [-0.1, 1.5, float("nan"), "0.01", None, True])
def test_format_p_refuses_what_is_not_a_p_value(p):
    with pytest.raises(ValueError, match="p must be a number between 0 and 1"):
        format_p(p)


@pytest.mark.parametrize("kwargs, err, match", [
    ({"seeds": [0]}, ValueError, "at least 2 seeds"),
    ({"seeds": [0, 0, 1]}, ValueError, "distinct"),
    ({"seeds": [0, -1]}, ValueError, "non-negative ints"),
    ({"losses": {"A": lambda s: 0.0}}, ValueError, "at least 2 named"),
    ({"losses": {"A": lambda s: 0.0, "B": 3}}, TypeError, "losses\\['B'\\]"),
    ({"run": lambda f, s: float("nan")}, ValueError, "finite number"),
    ({"run": None}, TypeError, "run must be a function"),
    ({"test": "anova"}, ValueError, "test must be one of"),
])
def test_compare_losses_rejects_bad_input(kwargs, err, match):
    args = {"run": _toy_run, "losses": {"A": lambda s: 0.0, "B": lambda s: 1.0}, "seeds": [0, 1, 2]} | kwargs
    with pytest.raises(err, match=match):
        compare_losses(**args)


def test_paired_test_rejects_bad_input():
    with pytest.raises(ValueError, match="one score per seed"):
        paired_test([1.0, 2.0], [1.0, 2.0, 3.0])
    with pytest.raises(ValueError, match="at least 2 scores"):
        paired_test([1.0], [2.0])
    with pytest.raises(ValueError, match="NaN or inf"):
        paired_test([1.0, float("nan")], [1.0, 2.0])


# --------------------------------------------------------------------------- landscapes
def _quadratic_model():
    """A model whose 'loss' is a known quadratic of its two parameters: L = w0² + 4 w1²."""
    model = nn.Linear(2, 1, bias=False)
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[1.0, -0.5]]))
    return model, lambda m: float((m.weight[0, 0] ** 2 + 4 * m.weight[0, 1] ** 2).item())


def test_landscape_1d_interpolates_and_restores_parameters():
    model, loss_of = _quadratic_model()
    start, end = torch.tensor([2.0, 1.0]), torch.tensor([0.0, 0.0])
    alphas = np.linspace(-0.5, 1.5, 9)
    got = landscape_1d(model, loss_of, start, end, alphas)
    w = [(1 - a) * np.array([2.0, 1.0]) for a in alphas]  # the end point is 0
    assert np.allclose(got, [v[0] ** 2 + 4 * v[1] ** 2 for v in w])
    assert torch.equal(model.weight, torch.tensor([[1.0, -0.5]]))  # untouched afterwards


def test_landscape_2d_grid_orientation_and_centre():
    model, loss_of = _quadratic_model()
    d1, d2 = torch.tensor([1.0, 0.0]), torch.tensor([0.0, 1.0])
    coords = np.array([-1.0, 0.0, 2.0])
    grid = landscape_2d(model, loss_of, d1, d2, coords)
    assert grid.shape == (3, 3)
    for i, b in enumerate(coords):  # rows follow d2, columns d1
        for j, a in enumerate(coords):
            assert grid[i, j] == pytest.approx((1 + a) ** 2 + 4 * (-0.5 + b) ** 2)
    slices = landscape_slices(model, loss_of, d1, d2, [0.5, 1.0], n=5)
    assert sorted(slices) == [0.5, 1.0]
    assert slices[1.0]["loss"][2, 2] == pytest.approx(loss_of(model)) == pytest.approx(2.0)
    assert np.allclose(slices[0.5]["coords"], np.linspace(-0.5, 0.5, 5))


def test_filter_normalised_direction_rows_match_weight_rows():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 4), nn.ReLU(), nn.Linear(4, 3))
    d = filter_normalised_direction(net, seed=3)
    assert d.shape == parameters_to_vector(net.parameters()).shape
    parts, i = [], 0
    for p in net.parameters():
        parts.append(d[i:i + p.numel()].view_as(p))
        i += p.numel()
    for p, q in zip(net.parameters(), parts, strict=True):
        if p.dim() == 1:
            assert torch.equal(q, torch.zeros_like(q))  # biases are left alone
        else:
            assert torch.allclose(q.norm(dim=1), p.detach().norm(dim=1), rtol=1e-5)
    assert torch.equal(d, filter_normalised_direction(net, seed=3))
    assert not torch.allclose(d, filter_normalised_direction(net, seed=4))


def test_landscape_functions_reject_bad_input():
    model, loss_of = _quadratic_model()
    with pytest.raises(TypeError, match="model must be a torch.nn.Module"):
        landscape_1d("net", loss_of, torch.zeros(2), torch.zeros(2), [0.0])
    with pytest.raises(ValueError, match="start must have shape \\(2,\\)"):
        landscape_1d(model, loss_of, torch.zeros(3), torch.zeros(2), [0.0])
    with pytest.raises(ValueError, match="alphas"):
        landscape_1d(model, loss_of, torch.zeros(2), torch.zeros(2), [])
    with pytest.raises(TypeError, match="d2 must be a floating-point tensor"):
        landscape_2d(model, loss_of, torch.zeros(2), [0.0, 1.0], [0.0, 1.0])
    with pytest.raises(ValueError, match="odd int"):
        landscape_slices(model, loss_of, torch.zeros(2), torch.zeros(2), [1.0], n=4)
    with pytest.raises(ValueError, match="scales must be positive"):
        landscape_slices(model, loss_of, torch.zeros(2), torch.zeros(2), [0.0], n=5)


def test_parameters_are_restored_even_if_the_loss_fails():
    model, _ = _quadratic_model()
    calls = []

    def bad_loss(m):
        calls.append(1)
        if len(calls) == 2:
            raise RuntimeError("boom")
        return 0.0

    with pytest.raises(RuntimeError, match="boom"):
        landscape_2d(model, bad_loss, torch.ones(2), torch.ones(2), [0.0, 1.0])
    assert torch.equal(model.weight, torch.tensor([[1.0, -0.5]]))


# --------------------------------------------------------------------------- what a week-06 student is told
def _rare(seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.randn(60, 2, generator=g), (torch.rand(60, generator=g) < 0.2).float()


@pytest.mark.parametrize("arg, loss", [
    ("pos_weight", lambda z, y: nn.functional.binary_cross_entropy_with_logits(
        z, y, pos_weight=((y == 0).sum() / y.sum()).item())),
    ("weight", lambda z, y: nn.functional.binary_cross_entropy_with_logits(z, y, weight=2.0)),
])
def test_a_float_pos_weight_gets_a_short_error_with_the_fix(arg, loss):
    """A Python number for pos_weight is a TypeError deep inside L-BFGS; minimise says what to write instead."""
    X, y = _rare()
    with pytest.raises(TypeError) as info:
        minimise(nn.Sequential(nn.Linear(2, 1), nn.Flatten(0)), loss, X, y)
    msg = str(info.value)
    assert f"argument '{arg}'" in msg and f"Hint: {arg} must be a tensor, not a Python number" in msg
    assert info.value.__cause__ is None and info.value.__suppress_context__


def test_other_type_errors_of_a_loss_are_left_as_they_are():
    X, y = _rare()
    with pytest.raises(TypeError, match="unsupported operand") as info:
        minimise(nn.Sequential(nn.Linear(2, 1), nn.Flatten(0)), lambda z, t: z.mean() + "1", X, y)
    assert "Hint" not in str(info.value)


def _comparison():
    def run(loss_fn, seed):
        return 0.5 + 0.01 * seed + (0.002 * seed * seed if loss_fn is max else 0.0)
    return compare_losses(run, {"BCE": min, "BCE + pos_weight": max}, seeds=range(4))


def test_a_summary_row_names_its_keys_when_one_is_missing():
    """The table's header says "t"; the row's key is "statistic": a KeyError says so instead of a bare 't'."""
    rows = _comparison().summary()
    with pytest.raises(KeyError, match="the table's column 't' \\(or 'W'\\) is the key 'statistic'"):
        rows[1]["t"]
    with pytest.raises(KeyError, match="is the baseline, which is not tested against itself"):
        rows[0]["statistic"]
    with pytest.raises(KeyError, match="a summary row has the keys 'loss', 'mean'"):
        rows[1]["average"]
    assert isinstance(rows[1], dict) and rows[1]["statistic"] == rows[1].get("statistic") and "t" not in rows[1]
