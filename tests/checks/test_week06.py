"""Do the week-06 checks pass right answers and name the likely mistake in wrong ones?"""

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils.checks import CheckFailed
from course_utils.checks import week06 as checks
from course_utils.experiments import compare_losses


def _right_answers():
    return {"leaf_diseased": "BCEWithLogitsLoss", "flower_species": "CrossEntropyLoss",
            "dose_response_outliers": "HuberLoss", "cell_type_proportions": "KLDivLoss", "margin_pm1": "hinge"}


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
    assert "hinge: all 4 cases" in capsys.readouterr().out
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


@pytest.mark.parametrize("wrong, hint", [
    (lambda a, b: _paired_t(b, a), "sign is flipped"),
    (lambda a, b: float((np.subtract(a, b)).mean() / np.subtract(a, b).std(ddof=0) * np.sqrt(len(a))), "ddof=1"),
    (lambda a, b: float(np.subtract(a, b).mean() / np.subtract(a, b).std(ddof=1)), "√n"),
    (lambda a, b: __import__("scipy").stats.ttest_ind(a, b).statistic, "unpaired"),
])
def test_check_paired_t(wrong, hint):
    checks.check_paired_t(_paired_t)
    with pytest.raises(CheckFailed, match=hint):
        checks.check_paired_t(wrong)


def test_check_comparison_report(capsys):
    comp = compare_losses(lambda f, s: f(s), {"A": lambda s: float(s), "B": lambda s: s + 0.1 * (s % 3)}, seeds=range(5))
    row = comp.summary()[1]
    checks.check_comparison_report(comp, row["statistic"], row["p"] < 0.05)
    assert "comparison" in capsys.readouterr().out
    with pytest.raises(CheckFailed, match="sign is flipped"):
        checks.check_comparison_report(comp, -row["statistic"], row["p"] < 0.05)
    with pytest.raises(CheckFailed, match="p < 0.05"):
        checks.check_comparison_report(comp, row["statistic"], not row["p"] < 0.05)
    with pytest.raises(CheckFailed, match="result of compare_losses"):
        checks.check_comparison_report(comp.scores, 1.0, True)
    with pytest.raises(CheckFailed, match="True or False"):
        checks.check_comparison_report(comp, row["statistic"], "yes")
