"""Do the week-06 checks pass right answers and name the likely mistake in wrong ones?"""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils.checks import CheckFailed
from course_utils.checks import week06 as checks


def _right_answers():
    return {"leaf_diseased": "BCEWithLogitsLoss", "flower_species": "CrossEntropyLoss",
            "dose_response_outliers": "HuberLoss", "cell_type_proportions": "KLDivLoss", "margin_pm1": "hinge",
            "flowers_per_plot": "PoissonNLLLoss"}


@pytest.mark.parametrize("task, wrong, hint", [
    ("flowers_per_plot", "MSELoss", "negative flowers"),
    ("flowers_per_plot", "CrossEntropyLoss", "unordered classes"),
    ("flowers_per_plot", "HuberLoss", "own likelihood"),
    ("dose_response_outliers", "PoissonNLLLoss", "not a count"),
])
def test_check_pick_losses_count_task_hints(task, wrong, hint):
    with pytest.raises(CheckFailed, match=hint):
        checks.check_pick_losses(lambda: _right_answers() | {task: wrong})


def test_check_pick_losses(capsys):
    checks.check_pick_losses(_right_answers)
    assert capsys.readouterr().out.startswith("✔")
    with pytest.raises(CheckFailed, match="outliers dominate"):
        checks.check_pick_losses(lambda: _right_answers() | {"dose_response_outliers": "MSELoss"})
    with pytest.raises(CheckFailed, match="ONE logit"):
        checks.check_pick_losses(lambda: _right_answers() | {"leaf_diseased": "CrossEntropyLoss"})
    with pytest.raises(CheckFailed, match="spelling"):
        checks.check_pick_losses(lambda: _right_answers() | {"margin_pm1": "Hinge"})
    with pytest.raises(CheckFailed, match="no entry for flower_species"):
        checks.check_pick_losses(lambda: {k: v for k, v in _right_answers().items() if k != "flower_species"})
    with pytest.raises(CheckFailed, match="not implemented"):
        checks.check_pick_losses(lambda: (_ for _ in ()).throw(NotImplementedError()))


def _hinge(s, y, margin=1.0):
    return torch.clamp(margin - y * s, min=0).mean()


@pytest.mark.parametrize("wrong, hint", [
    (lambda s, y, margin=1.0: (margin - y * s).mean(), "clamp"),
    (lambda s, y, margin=1.0: torch.clamp(margin - y * s, min=0).sum(), "summed"),
    (lambda s, y, margin=1.0: torch.clamp(1 - y * s, min=0).mean(), "margin of 1"),
    (lambda s, y, margin=1.0: torch.clamp(margin + y * s, min=0).mean(), "sign"),
    (lambda s, y, margin=1.0: (torch.clamp(margin - y * s, min=0) ** 2).mean(), "squared"),
    (lambda s, y, margin=1.0: torch.clamp(margin - y * s, min=0), "0-dim"),
])
def test_check_hinge(wrong, hint, capsys):
    checks.check_hinge(_hinge)
    assert "hinge: all 6 cases" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match=hint):
        checks.check_hinge(wrong)


def _wce(logits, y, w):
    per = -F.log_softmax(logits, dim=1).gather(1, y.view(-1, 1)).squeeze(1)
    return (w[y] * per).sum() / w[y].sum()


@pytest.mark.parametrize("wrong, hint", [
    (lambda z, y, w: (w[y] * F.cross_entropy(z, y, reduction="none")).mean(), "not by N"),
    (lambda z, y, w: F.cross_entropy(z, y), "no effect"),
    (lambda z, y, w: (w[y] * F.cross_entropy(z, y, reduction="none")).sum() / w.sum(), "not by the sum of the class"),
    (lambda z, y, w: (w[y] * -torch.log(torch.softmax(z, 1)[torch.arange(len(y)), y])).sum() / w[y].sum(), "log_softmax"),
])
def test_check_weighted_ce(wrong, hint):
    checks.check_weighted_ce(_wce)
    with pytest.raises(CheckFailed, match=hint):
        checks.check_weighted_ce(wrong)


def _flower(z, s, p, c, lam):
    return F.cross_entropy(z, s) + lam * F.mse_loss(p.view(-1), c)


@pytest.mark.parametrize("wrong, hint", [
    (lambda z, s, p, c, lam: lam * F.cross_entropy(z, s) + F.mse_loss(p.view(-1), c), "wrong term"),
    (lambda z, s, p, c, lam: F.cross_entropy(z, s), "count head is missing"),
    (lambda z, s, p, c, lam: F.cross_entropy(z, s) + ((p - c) ** 2).mean() * lam, "broadcasts"),
    (lambda z, s, p, c, lam: F.cross_entropy(z, s) + F.mse_loss(p.view(-1), c), "ignored lam"),
])
def test_check_multitask_loss(wrong, hint):
    checks.check_multitask_loss(_flower)
    with pytest.raises(CheckFailed, match=hint):
        checks.check_multitask_loss(wrong)


def _paired_t(a, b):
    d = np.asarray(a) - np.asarray(b)
    return float(d.mean() / (d.std(ddof=1) / np.sqrt(len(d))))


def _paired_t_float32(a, b):
    """A correct paired t computed in torch's default dtype, float32."""
    d = torch.tensor(a) - torch.tensor(b)
    return float(d.mean() / (d.std() / len(d) ** 0.5))


@pytest.mark.parametrize("wrong, hint", [
    (_paired_t_float32, "float64"),
    (lambda a, b: _paired_t(b, a), "sign is flipped"),
    (lambda a, b: float((np.subtract(a, b)).mean() / np.subtract(a, b).std(ddof=0) * np.sqrt(len(a))), "ddof=1"),
    (lambda a, b: float(np.subtract(a, b).mean() / np.subtract(a, b).std(ddof=1)), "√n"),
    (lambda a, b: __import__("scipy").stats.ttest_ind(a, b).statistic, "unpaired"),
])
def test_check_paired_t(wrong, hint):
    checks.check_paired_t(_paired_t)
    with pytest.raises(CheckFailed, match=hint):
        checks.check_paired_t(wrong)


# --------------------------------------------------------------------------- Poisson NLL
def _poisson(z, k):
    return (torch.exp(z) - k * z).mean()


@pytest.mark.parametrize("wrong, hint", [
    (lambda z, k: (k * z - torch.exp(z)).mean(), "log-likelihood"),
    (lambda z, k: (z - k * z).mean(), "torch.exp(log_rate), not log_rate"),
    (lambda z, k: (torch.exp(z) - k * z + torch.lgamma(k + 1)).mean(), "log(k!)"),
    (lambda z, k: (torch.exp(z) - k * z).sum(), "summed"),
    (lambda z, k: torch.exp(z) - k * z, "0-dim"),
    (lambda z, k: (z - k * torch.log(z)).mean(), "already the logarithm"),
    (lambda z, k: (torch.exp(z) - z * torch.exp(k)).mean(), "swapped"),
    (lambda z, k: (torch.exp(z) - k * z).sum() / len(z), "divided by len(log_rate), the number of rows"),
    (lambda z, k: torch.tensor((torch.exp(z) - k * z).mean().item(), dtype=z.dtype), "detached"),
    (lambda z, k: (torch.exp(z.double()) - k.double() * z.double()).mean(), "dtype"),
])
def test_check_poisson_nll(wrong, hint, capsys):
    checks.check_poisson_nll(_poisson)
    assert "poisson_nll: all 5 cases" in capsys.readouterr().out
    checks.check_poisson_nll(lambda z, k: torch.nn.functional.poisson_nll_loss(z, k))  # right by another route
    with pytest.raises(CheckFailed, match=re.escape(hint)):
        checks.check_poisson_nll(wrong)


# --------------------------------------------------------------------------- the reported comparison
@pytest.fixture(scope="module")
def screen():
    """The reference comparison of the exercise and the scores of its usual mistakes (one CPU thread)."""
    from course_utils.experiments import Comparison

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # tiny models: one thread is fastest on a busy CPU
    seeds = checks.SCREEN_SEEDS
    runs = {kind: np.array(checks._screen_scores(kind)) for kind in
            ("plain", "weighted", "inverted", "moved", "moved wrong way", "moved probability", "weighted 10")}
    plain, weighted, moved = runs["plain"], runs["weighted"], runs["moved"]
    one_sample = np.array([checks.screen_run(checks._bce, s, draw_seed=0) for s in seeds])

    def comp(a, b, c=moved, names=checks.SCREEN_NAMES, seeds=seeds):
        return Comparison(scores=dict(zip(names, (a, b, c), strict=True)), seeds=tuple(seeds), metric="bal. accuracy")

    torch.set_num_threads(threads)
    names = checks.SCREEN_NAMES
    return {"right": comp(plain, weighted), "swapped": comp(weighted, plain, names=(names[1], names[0], names[2])),
            "mixed_up": comp(weighted, plain), "renamed": comp(plain, weighted, names=("plain", "weighted", "moved")),
            "inverted": comp(plain, inverted := runs["inverted"]), "no_weight": comp(plain, plain),
            "one_sample": comp(one_sample, weighted), "five": comp(plain[:5], weighted[:5], moved[:5], seeds=seeds[:5]),
            "not_moved": comp(plain, weighted, plain), "wrong_way": comp(plain, weighted, runs["moved wrong way"]),
            "probability": comp(plain, weighted, runs["moved probability"]),
            "alias": comp(moved, weighted), "fixed_10": comp(plain, runs["weighted 10"]),
            "two_arms": Comparison(scores={"BCE": plain, "BCE + pos_weight": weighted}, seeds=tuple(seeds),
                                   metric="bal. accuracy"), "_inverted": inverted}


def _report(comparison, **changes):
    row = comparison.summary()[1]
    try:
        ci = checks.gap_interval(comparison)
    except KeyError:  # arms named otherwise: the check refuses them before it reads the interval
        ci = (0.0, 0.0)
    args = {"ci": ci, "verdict": checks.verdict_of(ci), "t_value": row["statistic"], "p_value": row["p"]} | changes
    return comparison, args["ci"], args["verdict"], args["t_value"], args["p_value"]


def test_check_comparison_report_passes_the_reference(screen, capsys):
    checks.check_comparison_report(*_report(screen["right"]))
    out = capsys.readouterr().out
    assert out.startswith("✔ comparison: pos_weight − moved threshold, 95 % CI [")
    assert "]: no detectable difference; pos_weight against plain BCE: paired t = " in out


def test_the_two_remedies_show_no_detectable_difference(screen):
    """Is the reference interval of pos_weight − moved threshold scipy's, and does it contain 0?"""
    from scipy import stats

    right = screen["right"]
    low, high = checks.gap_interval(right)
    ref = stats.ttest_rel(right.scores["BCE + pos_weight"], right.scores["moved threshold"]).confidence_interval(0.95)
    assert low == pytest.approx(ref.low) and high == pytest.approx(ref.high)
    assert low < 0 < high and checks.verdict_of((low, high)) == "no detectable difference"
    assert checks.verdict_of((0.01, 0.02)) == "better" and checks.verdict_of((-0.02, -0.01)) == "worse"


@pytest.mark.parametrize("which, changes, hint", [
    ("swapped", {}, "put plain BCE first"),
    ("renamed", {}, "name the three arms exactly"),
    ("mixed_up", {}, "the baseline (the first loss in the dict) is plain BCE"),
    ("inverted", {}, "upside down"),
    ("no_weight", {}, "pass pos_weight=n_neg / n_pos"),
    ("one_sample", {}, "the seed must choose the sample"),
    ("five", {}, "seeds 0, 1, ..., 9"),
    ("two_arms", {}, "compare 3 arms"),
    ("not_moved", {}, "score the model at the moved threshold"),
    ("wrong_way", {}, "the wrong way"),
    ("probability", {}, "not the probability itself"),
    ("alias", {}, "the very same function as the baseline's"),
    ("fixed_10", {}, "fixed pos_weight = 10"),
    ("right", {"verdict": "worse"}, "the interval contains 0"),
    ("right", {"verdict": "better"}, "the interval contains 0"),
    ("right", {"verdict": "No detectable difference"}, "spelled the same"),
    ("right", {"ci": None}, "pair of numbers (low, high)"),
    ("right", {"ci": (0.0, 0.0, 0.0)}, "pair of numbers (low, high)"),
    ("right", {"t_value": 1.0, "ci": "flip"}, "the sign is flipped: d is pos_weight minus"),
    ("right", {"t_value": 1.0, "ci": "1.96"}, "not the normal 1.96"),
    ("right", {"t_value": 1.0, "ci": "1.96 typed"}, "not the normal 1.96"),  # the literal 1.96, not norm.ppf
    ("right", {"t_value": 1.0, "ci": "ddof"}, "ddof=1"),
    ("right", {"t_value": 1.0, "ci": "root"}, "divide sd(d) by √S"),
    ("right", {"t_value": 1.0, "ci": "swapped"}, "low first"),
    ("right", {"t_value": "6.5"}, "t_value must be a number"),
    ("right", {"t_value": -1.0}, None),
    ("right", {"p_value": 0.05}, "key 'p'"),
])
def test_check_comparison_report_mistakes_get_hints(screen, which, changes, hint):
    comparison, ci, verdict, t_value, p_value = _report(screen[which], **changes)
    if changes.get("t_value") == -1.0 and "ci" not in changes:  # the sign of the right t flipped
        t_value = -screen["right"].summary()[1]["statistic"]
        hint = "sign is flipped"
    elif "ci" in changes and isinstance(changes["ci"], str):  # a usual mistake in the interval; t and p right
        kwargs = {"flip": {"flip": True}, "1.96": {"quantile": 1.959963984540054},
                  "1.96 typed": {"quantile": 1.96}, "ddof": {"ddof": 0},
                  "root": {"root": False}, "swapped": {}}[changes["ci"]]
        ci = checks.gap_interval(comparison, **kwargs)
        ci = ci[::-1] if changes["ci"] == "swapped" else ci
        t_value = comparison.summary()[1]["statistic"]
    with pytest.raises(CheckFailed) as info:
        checks.check_comparison_report(comparison, ci, verdict, t_value, p_value)
    assert hint in str(info.value), str(info.value)


def test_check_comparison_report_refuses_other_objects(screen):
    with pytest.raises(CheckFailed, match="result of compare_losses"):
        checks.check_comparison_report(screen["right"].scores, (0.0, 1.0), "better", 1.0, 0.5)


# --------------------------------------------------------------------------- the acceptance rule (shared with the hidden tests)
def _wce(logits, targets, weight):
    return F.cross_entropy(logits, targets, weight=weight)


@pytest.mark.parametrize("check, fn, fragment", [
    (checks.check_hinge, lambda s, y, margin=1.0: torch.clamp(margin - y * s, min=0).mean().item(),
     "got a Python float"),
    (checks.check_hinge, lambda s, y, margin=1.0: torch.clamp(margin - y * s, min=0).mean().detach(),
     "carries no gradient"),
    (checks.check_weighted_ce, lambda z, t, w: _wce(z, t, w).double(), "dtype torch.float64"),
    (checks.check_weighted_ce, lambda z, t, w: _wce(z, t, w).numpy(force=True), "NumPy"),
    (checks.check_multitask_loss, lambda z, s, cp, c, lam: (F.cross_entropy(z, s) + lam * F.mse_loss(
        cp.view(-1), c)).detach(), "carries no gradient"),
    (checks.check_paired_t, lambda a, b: torch.tensor(float(np.mean(np.subtract(a, b)) / (
        np.std(np.subtract(a, b), ddof=1) / np.sqrt(len(a))))), "expected a Python float, got a 0-dim tensor"),
    (checks.check_paired_t, lambda a, b: np.float32(checks._paired_t_ref(a, b)), "got a NumPy float32"),
])
def test_odd_returns_fail_like_the_hidden_tests(check, fn, fragment):
    """Non-tensor, detached and wrong-dtype losses, and a t that is not a Python float, fail visibly."""
    with pytest.raises(CheckFailed) as info:
        check(fn)
    assert fragment in str(info.value), str(info.value)


def test_weighted_ce_gradient_is_checked_for_the_logits_only(capsys):
    """torch cannot differentiate a loss by its class weights: the rule asks for d/d logits only."""
    checks.check_weighted_ce(_wce)
    assert capsys.readouterr().out.startswith("✔ weighted_cross_entropy")


@pytest.mark.parametrize("verdict", [["no detectable difference"], {"no detectable difference"}, None,
                                     np.array(["no detectable difference"]), "no difference", True])
def test_check_comparison_report_odd_verdict_gets_a_hint(screen, verdict):
    comparison, ci, _, t_value, p_value = _report(screen["right"])
    with pytest.raises(CheckFailed, match="verdict"):
        checks.check_comparison_report(comparison, ci, verdict, t_value, p_value)


@pytest.mark.parametrize("make", [list, np.array, lambda ci: tuple(np.float32(e) for e in ci)])
def test_check_comparison_report_takes_an_interval_in_any_sequence(screen, make, capsys):
    """A list, an array or scipy's ConfidenceInterval are pairs too (float32 ends are close enough)."""
    comparison, ci, verdict, t_value, p_value = _report(screen["right"])
    checks.check_comparison_report(comparison, make(ci), verdict, t_value, p_value)
    assert capsys.readouterr().out.startswith("✔ comparison")


def _hinge_loop(s, y, margin=1.0):
    total = torch.zeros((), dtype=s.dtype)
    for i in range(len(s)):
        total = total + torch.clamp(margin - y[i] * s[i], min=0)
    return total / len(s)


@pytest.mark.parametrize("looped", [
    _hinge_loop,
    lambda s, y, margin=1.0: torch.stack([torch.clamp(margin - b * a, min=0) for a, b in zip(s, y, strict=True)]).mean(),
    lambda s, y, margin=1.0: sum(torch.relu(margin - b * a) for a, b in zip(s, y, strict=True)) / len(s),
])
def test_a_python_loop_over_the_samples_is_refused(looped):
    """The text says no loops: a right value computed sample by sample fails, in the check and the hidden test."""
    for check in (checks.check_hinge, checks.hinge_without_loops):
        with pytest.raises(CheckFailed, match="loops over the samples in Python, and the exercise says no loops"):
            check(looped)


@pytest.mark.parametrize("vectorised", [
    _hinge,
    lambda s, y, margin=1.0: F.relu(margin - y * s).mean(),
    lambda s, y, margin=1.0: torch.where(margin - y * s > 0, margin - y * s, torch.zeros_like(s)).mean(),
])
def test_whole_tensor_hinges_pass(vectorised, capsys):
    checks.check_hinge(vectorised)
    assert "with whole-tensor operations" in capsys.readouterr().out


@pytest.mark.parametrize("wrong, hint", [
    (lambda s, y, margin=1.0: max(0, margin - y * s).mean(), r"Python's max\(0, x\) asks for one True/False"),
    (lambda s, y, margin=1.0: torch.maximum(0, margin - y * s).mean(), "torch.maximum needs two tensors"),
    (lambda s, y, margin=1.0: torch.max(margin - y * s, 0).mean(), r"torch.max\(x, 0\) is the maximum along dimension 0"),
])
def test_max_with_zero_gets_the_clamp_hint(wrong, hint):
    with pytest.raises(CheckFailed, match=hint) as info:
        checks.check_hinge(wrong)
    assert r"torch.clamp(..., min=0)" in str(info.value)


def test_comparison_hidden_tests_pass_the_solution_and_explain_a_wrong_piece(screen):
    """The hidden tests of exercise 7 fail with a hint (CheckFailed), never with a bare AssertionError."""
    right = _report(screen["right"])
    weighted, moved = checks._bce_pos_weight, checks._bce

    def run(loss_fn, seed):
        return checks.screen_run(loss_fn, seed, threshold="moved" if loss_fn is moved else "0")

    checks.comparison_hidden_tests(*right, run, weighted, moved)
    with pytest.raises(CheckFailed, match="pos_weight is \\(number of negatives\\)"):
        checks.comparison_hidden_tests(*right, run, lambda z, y: weighted(z, y, invert=True), moved)
    with pytest.raises(CheckFailed, match="trains exactly like the first"):
        checks.comparison_hidden_tests(*right, run, weighted, weighted)
    with pytest.raises(CheckFailed, match="depend only on the loss and the seed"):
        checks.comparison_hidden_tests(*right, lambda fn, seed: 0.5, weighted, moved)
