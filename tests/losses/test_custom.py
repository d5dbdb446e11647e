"""Do the week-06 losses (hinge family, focal, multi-task, L2 penalty) agree with torch and refuse bad input?"""

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st
from torch import nn

from course_utils.losses import focal_loss, hinge, l2_penalty, multitask_loss, poisson_nll, squared_hinge

finite = st.floats(-20, 20, allow_nan=False, width=64)


def _margin_oracle(scores, targets, margin, p):
    """torch's MultiMarginLoss on the two logits [0, s]: equals hinge / 2 (p=1) or squared hinge / 2 (p=2)."""
    two = torch.stack([torch.zeros_like(scores), scores], dim=1)
    idx = ((targets + 1) / 2).long()
    return 2 * F.multi_margin_loss(two, idx, p=p, margin=margin, reduction="none")


@pytest.mark.parametrize("margin", [1.0, 0.5, 0.0])
def test_hinge_and_squared_hinge_match_multi_margin_loss(margin):
    gen = torch.Generator().manual_seed(0)
    s = torch.randn(50, generator=gen, dtype=torch.float64) * 3
    y = torch.randint(0, 2, (50,), generator=gen).double() * 2 - 1
    assert torch.allclose(hinge(s, y, margin, reduction="none"), _margin_oracle(s, y, margin, 1))
    assert torch.allclose(squared_hinge(s, y, margin, reduction="none"), _margin_oracle(s, y, margin, 2))
    assert torch.allclose(hinge(s, y, margin), _margin_oracle(s, y, margin, 1).mean())
    assert torch.allclose(squared_hinge(s, y, margin, reduction="sum"), _margin_oracle(s, y, margin, 2).sum())


def test_hinge_hand_computed_values_and_gradient():
    s = torch.tensor([2.0, 0.5, -1.0, 0.0], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1.0, 1.0, 1.0, -1.0], dtype=torch.float64)
    # max(0, 1 - y s): 0 (beyond the margin), 0.5 (inside it), 2 (wrong side), 1 (on the boundary)
    assert hinge(s, y, reduction="none").tolist() == [0.0, 0.5, 2.0, 1.0]
    assert squared_hinge(s, y, reduction="none").tolist() == [0.0, 0.25, 4.0, 1.0]
    hinge(s, y, reduction="sum").backward()
    assert s.grad.tolist() == [0.0, -1.0, -1.0, 1.0]  # -y inside the margin, 0 beyond it
    assert torch.autograd.gradcheck(lambda t: squared_hinge(t, y), (s.detach().clone().requires_grad_(),))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(finite, st.sampled_from([-1.0, 1.0])), min_size=1, max_size=20))
def test_hinge_properties(pairs):
    s = torch.tensor([p[0] for p in pairs], dtype=torch.float64)
    y = torch.tensor([p[1] for p in pairs], dtype=torch.float64)
    h = hinge(s, y, reduction="none")
    assert (h >= 0).all()
    assert torch.equal(h == 0, y * s >= 1)  # zero exactly when right by the margin
    assert torch.allclose(squared_hinge(s, y, reduction="none"), h**2)
    # flipping both the label and the score leaves the loss unchanged
    assert torch.allclose(hinge(-s, -y, reduction="none"), h)
    # the hinge bounds the 0-1 error from above: every mistake costs at least 1
    assert (h >= (y * s <= 0).double()).all()


@pytest.mark.parametrize("weighted", [False, True])
def test_focal_loss_with_gamma_zero_is_torch_cross_entropy(weighted):
    gen = torch.Generator().manual_seed(1)
    logits = torch.randn(30, 4, generator=gen, dtype=torch.float64) * 4
    y = torch.randint(0, 4, (30,), generator=gen)
    w = torch.tensor([0.5, 2.0, 1.0, 3.0], dtype=torch.float64) if weighted else None
    for red in ("mean", "sum", "none"):
        ours = focal_loss(logits, y, gamma=0.0, weight=w, reduction=red)
        assert torch.allclose(ours, F.cross_entropy(logits, y, weight=w, reduction=red))


@settings(max_examples=40, deadline=None)
@given(st.integers(1, 8), st.integers(2, 5), st.floats(0.0, 5.0), st.integers(0, 10_000))
def test_focal_loss_matches_hand_formula_and_is_below_ce(n, c, gamma, seed):
    gen = torch.Generator().manual_seed(seed)
    logits = torch.randn(n, c, generator=gen, dtype=torch.float64) * 5
    y = torch.randint(0, c, (n,), generator=gen)
    p_t = torch.softmax(logits, dim=1)[torch.arange(n), y]
    oracle = -((1 - p_t) ** gamma) * torch.log(p_t)
    ours = focal_loss(logits, y, gamma=gamma, reduction="none")
    assert torch.allclose(ours, oracle, rtol=1e-9, atol=1e-12)
    assert (ours <= F.cross_entropy(logits, y, reduction="none") + 1e-12).all()


def test_focal_loss_is_stable_and_gradchecks():
    logits = torch.tensor([[1000.0, 0.0], [0.0, -1000.0]], dtype=torch.float64)
    y = torch.tensor([1, 0])
    assert torch.allclose(focal_loss(logits, y, gamma=0.0, reduction="none"), torch.tensor([1000.0, 0.0], dtype=torch.float64))
    x = torch.randn(5, 3, dtype=torch.float64, requires_grad=True)
    t = torch.tensor([0, 1, 2, 1, 0])
    assert torch.autograd.gradcheck(lambda z: focal_loss(z, t, gamma=2.0), (x,))


@pytest.mark.parametrize("gamma", [0.25, 0.5, 0.9])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_focal_loss_gradient_is_finite_on_a_confidently_correct_sample(gamma, dtype):
    """With 0 < gamma < 1, (1 - p)^gamma has an infinite slope at p = 1: the gradient must still be finite."""
    logits = torch.tensor([[40.0, 0.0, -5.0], [0.3, 0.1, -0.2]], dtype=dtype, requires_grad=True)
    y = torch.tensor([0, 1])
    focal_loss(logits, y, gamma=gamma, reduction="sum").backward()
    assert torch.isfinite(logits.grad).all()
    assert logits.grad[0].abs().max() < 1e-6  # the confident, correct sample teaches (almost) nothing
    # the other sample's gradient is the formula's, computed where nothing saturates
    z = logits.detach()[1:].double().requires_grad_(True)
    p = torch.softmax(z, dim=1)[0, 1]
    (-((1 - p) ** gamma) * torch.log(p)).backward()
    assert torch.allclose(logits.grad[1].double(), z.grad[0], rtol=1e-5, atol=1e-6)


def _poisson_oracle(pred, target, log_input, full, reduction):
    return nn.PoissonNLLLoss(log_input=log_input, full=full, reduction=reduction)(pred, target)


@pytest.mark.parametrize("log_input", [True, False])
@pytest.mark.parametrize("full", [False, True])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_poisson_nll_value_and_gradient_equal_torch(log_input, full, reduction):
    gen = torch.Generator().manual_seed(3)
    log_rate = torch.randn(7, 3, generator=gen, dtype=torch.float64) * 2
    counts = torch.poisson(log_rate.exp(), generator=gen)
    pred = (log_rate if log_input else log_rate.exp()).requires_grad_(True)
    pred_t = pred.detach().clone().requires_grad_(True)
    ours = poisson_nll(pred, counts, log_input=log_input, full=full, reduction=reduction)
    theirs = _poisson_oracle(pred_t, counts, log_input, full, reduction)
    assert torch.allclose(ours, theirs, rtol=1e-12, atol=1e-12)
    ours.sum().backward()
    theirs.sum().backward()
    assert torch.allclose(pred.grad, pred_t.grad, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(finite, st.integers(0, 60)), min_size=1, max_size=20))
def test_poisson_nll_properties(pairs):
    z = torch.tensor([p[0] for p in pairs], dtype=torch.float64, requires_grad=True)
    k = torch.tensor([float(p[1]) for p in pairs], dtype=torch.float64)
    loss = poisson_nll(z, k, reduction="none")
    assert torch.allclose(loss, _poisson_oracle(z, k, True, False, "none"))
    # up to log k!, the loss is -log of the Poisson probability of k at rate exp(z)
    log_pmf = torch.distributions.Poisson(z.exp()).log_prob(k)
    assert ((loss + torch.lgamma(k + 1) + log_pmf).abs() <= 1e-9 * (1 + z.exp() + k * z.abs())).all()
    # its slope in the log-rate is rate - count: zero exactly where the predicted rate equals the count
    (g,) = torch.autograd.grad(loss.sum(), z)
    assert torch.allclose(g, z.exp() - k)


def test_poisson_nll_gradchecks_in_float64():
    z = torch.randn(6, dtype=torch.float64, requires_grad=True)
    k = torch.tensor([0.0, 1.0, 2.0, 5.0, 0.0, 11.0], dtype=torch.float64)
    assert torch.autograd.gradcheck(lambda x: poisson_nll(x, k), (z,))
    assert torch.autograd.gradcheck(lambda x: poisson_nll(x.exp(), k, log_input=False, full=True), (z,))


def test_multitask_loss_is_ce_plus_lambda_mse():
    gen = torch.Generator().manual_seed(2)
    logits = torch.randn(12, 3, generator=gen)
    species = torch.randint(0, 3, (12,), generator=gen)
    pred, count = torch.randn(12, generator=gen), torch.randn(12, generator=gen) * 5
    for lam in (0.0, 0.1, 1.0, 10.0):
        total, ce, mse = multitask_loss(logits, species, pred, count, lam, return_parts=True)
        assert torch.allclose(ce, F.cross_entropy(logits, species))
        assert torch.allclose(mse, F.mse_loss(pred, count))
        assert torch.allclose(total, F.cross_entropy(logits, species) + lam * F.mse_loss(pred, count))
        assert torch.equal(multitask_loss(logits, species, pred, count, lam), total)


def test_l2_penalty_sums_squared_weights_and_matches_weight_decay():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(4, 3), nn.Tanh(), nn.Linear(3, 2))
    w_sq = sum((m.weight**2).sum() for m in (net[0], net[2]))
    assert torch.allclose(l2_penalty(net, 0.3), 0.3 * w_sq)
    assert torch.allclose(l2_penalty(net, 1.0, weights_only=False), sum((p**2).sum() for p in net.parameters()))
    assert torch.allclose(l2_penalty([torch.tensor([3.0, 4.0])], 2.0), torch.tensor(50.0))
    # one SGD step on lam * ||w||^2 equals SGD's weight_decay = 2 * lam on the same parameters
    a, b = nn.Linear(4, 2), nn.Linear(4, 2)
    b.load_state_dict(a.state_dict())
    lam, lr = 0.05, 0.1
    opt_a = torch.optim.SGD(list(a.parameters()), lr=lr)
    opt_b = torch.optim.SGD(list(b.parameters()), lr=lr, weight_decay=2 * lam)
    x = torch.randn(8, 4)
    (a(x).pow(2).mean() + l2_penalty(list(a.parameters()), lam, weights_only=False)).backward()
    b(x).pow(2).mean().backward()
    opt_a.step()
    opt_b.step()
    for pa, pb in zip(a.parameters(), b.parameters(), strict=True):
        assert torch.allclose(pa, pb, atol=1e-7)


@pytest.mark.parametrize("call, err, match", [
    (lambda: hinge(torch.tensor([1.0, 2.0]), torch.tensor([0.0, 1.0])), ValueError, "2 \\* y - 1"),
    (lambda: hinge(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 3.0])), ValueError, "only -1 and \\+1"),
    (lambda: hinge(torch.tensor([[1.0], [2.0]]), torch.tensor([1.0, -1.0])), ValueError, "same shape"),
    (lambda: hinge(torch.tensor([1, 2]), torch.tensor([1.0, -1.0])), TypeError, "scores must be a floating-point"),
    (lambda: squared_hinge(torch.tensor([1.0]), torch.tensor([1.0]), margin=-1.0), ValueError, "margin"),
    (lambda: hinge(torch.tensor([1.0]), torch.tensor([1.0]), reduction="avg"), ValueError, "reduction"),
    (lambda: focal_loss(torch.zeros(2, 3), torch.tensor([0.0, 1.0])), TypeError, "targets must be a torch.long"),
    (lambda: focal_loss(torch.zeros(2, 3), torch.tensor([0, 3])), IndexError, "class indices in \\[0, 2\\]"),
    (lambda: focal_loss(torch.zeros(3), torch.tensor([0, 1, 2])), ValueError, "logits must have shape \\(N, C\\)"),
    (lambda: focal_loss(torch.zeros(2, 3), torch.tensor([0, 1]), gamma=-1.0), ValueError, "gamma"),
    (lambda: focal_loss(torch.zeros(2, 3), torch.tensor([0, 1]), weight=torch.ones(2)), ValueError, "weight must have one entry per class"),
    (lambda: multitask_loss(torch.zeros(2, 3), torch.tensor([0, 1]), torch.zeros(2, 1), torch.zeros(2)), ValueError,
     "squeeze"),
    (lambda: multitask_loss(torch.zeros(2, 3), torch.tensor([0, 1]), torch.zeros(3), torch.zeros(3)), ValueError,
     "same batch size"),
    (lambda: multitask_loss(torch.zeros(2, 3), torch.tensor([0, 1]), torch.zeros(2), torch.zeros(2), lam=-0.1),
     ValueError, "lam"),
    (lambda: poisson_nll(torch.zeros(3, 1), torch.zeros(3)), ValueError, "squeeze"),
    (lambda: poisson_nll(torch.zeros(3), torch.tensor([1, 2, 3])), TypeError, "target must be a floating-point"),
    (lambda: poisson_nll(torch.zeros(2), torch.tensor([1.0, -1.0])), ValueError, "counts >= 0"),
    (lambda: poisson_nll(torch.tensor([-0.5, 1.0]), torch.ones(2), log_input=False), ValueError, "log_input=True"),
    (lambda: poisson_nll(torch.zeros(2), torch.ones(2), eps=-1.0), ValueError, "eps"),
    (lambda: poisson_nll(torch.zeros(2), torch.ones(2), reduction="avg"), ValueError, "reduction"),
    (lambda: l2_penalty(torch.ones(3)), TypeError, "wrap a single tensor"),
    (lambda: l2_penalty([]), ValueError, "no tensors"),
    (lambda: l2_penalty([torch.ones(2, dtype=torch.long)]), TypeError, "params\\[0\\]"),
    (lambda: l2_penalty(nn.Linear(2, 2), lam=float("nan")), ValueError, "lam"),
])
def test_week06_losses_reject_bad_input_with_clear_errors(call, err, match):
    with pytest.raises(err, match=match):
        call()
