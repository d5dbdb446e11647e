"""Do the week-04 regression losses equal torch's, in value and gradient, and refuse bad input?"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.losses import gaussian_nll, huber, mae, mse, rmse

REDUCTIONS = ("mean", "sum", "none")


def pair(n=7, shape=None, seed=0, scale=2.0, dtype=torch.float64):
    g = torch.Generator().manual_seed(seed)
    shape = shape or (n,)
    return scale * torch.randn(shape, generator=g, dtype=dtype), scale * torch.randn(shape, generator=g, dtype=dtype)


def values_and_grads(fn, pred, target):
    """Value and d/d pred of fn(pred, target), summed so that 'none' also gives a scalar to differentiate."""
    p = pred.clone().requires_grad_(True)
    out = fn(p, target)
    (g,) = torch.autograd.grad(out.sum(), p)
    return out.detach(), g


# --------------------------------------------------------------------------- equal to torch
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(7,), (4, 3), (1,)])
@pytest.mark.parametrize(
    "ours, theirs",
    [
        (mae, F.l1_loss),
        (mse, F.mse_loss),
        (lambda p, t, reduction: huber(p, t, 1.0, reduction), lambda p, t, reduction: F.huber_loss(p, t, reduction=reduction)),
        (lambda p, t, reduction: huber(p, t, 0.3, reduction),
         lambda p, t, reduction: F.huber_loss(p, t, reduction=reduction, delta=0.3)),
        (lambda p, t, reduction: huber(p, t, 5.0, reduction),
         lambda p, t, reduction: F.huber_loss(p, t, reduction=reduction, delta=5.0)),
    ],
    ids=["mae", "mse", "huber-1", "huber-0.3", "huber-5"],
)
def test_loss_and_gradient_equal_torch(ours, theirs, shape, reduction):
    pred, target = pair(shape=shape, seed=len(shape))
    v1, g1 = values_and_grads(lambda p, t: ours(p, t, reduction=reduction), pred, target)
    v2, g2 = values_and_grads(lambda p, t: theirs(p, t, reduction=reduction), pred, target)
    assert v1.shape == v2.shape
    assert torch.allclose(v1, v2, atol=1e-6, rtol=0)
    assert torch.allclose(g1, g2, atol=1e-6, rtol=0)


@pytest.mark.parametrize("fn", [mae, mse, lambda p, t: huber(p, t, 0.7), rmse], ids=["mae", "mse", "huber", "rmse"])
def test_gradcheck_float64(fn):
    pred, target = pair(n=6, seed=3)
    pred.requires_grad_(True)
    target.requires_grad_(True)
    assert torch.autograd.gradcheck(fn, (pred, target))


def test_float32_matches_torch_to_1e6():
    pred, target = pair(n=50, seed=5, dtype=torch.float32)
    assert abs(mae(pred, target).item() - F.l1_loss(pred, target).item()) < 1e-6
    assert abs(mse(pred, target).item() - F.mse_loss(pred, target).item()) < 1e-6
    assert abs(huber(pred, target, 1.5).item() - F.huber_loss(pred, target, delta=1.5).item()) < 1e-6


def test_rmse_is_sqrt_of_torch_mse_with_gradient():
    pred, target = pair(shape=(5, 2), seed=6)
    v1, g1 = values_and_grads(rmse, pred, target)
    v2, g2 = values_and_grads(lambda p, t: torch.sqrt(F.mse_loss(p, t)), pred, target)
    assert torch.allclose(v1, v2, atol=1e-12) and torch.allclose(g1, g2, atol=1e-12)
    assert rmse(pred, target).dim() == 0


def test_mae_gradient_at_zero_residual_is_zero_like_torch():
    pred = torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)
    target = torch.tensor([1.0, 0.0, 3.0], dtype=torch.float64)
    _, g1 = values_and_grads(mae, pred, target)
    _, g2 = values_and_grads(F.l1_loss, pred, target)
    assert torch.equal(g1, g2) and g1[0] == 0


def test_huber_at_exactly_delta_and_huge_residuals():
    pred = torch.tensor([2.0, -2.0, 1e6, -1e6], dtype=torch.float64)
    target = torch.zeros(4, dtype=torch.float64)
    v1, g1 = values_and_grads(lambda p, t: huber(p, t, 2.0, "none"), pred, target)
    v2, g2 = values_and_grads(lambda p, t: F.huber_loss(p, t, reduction="none", delta=2.0), pred, target)
    assert torch.allclose(v1, v2) and torch.equal(g1, g2)
    assert torch.allclose(v1[:2], torch.tensor([2.0, 2.0], dtype=torch.float64))  # ½·2² = 2·(2 − 1)


def test_smooth_l1_is_huber_divided_by_delta():
    pred, target = pair(n=9, seed=7)
    for delta in (0.5, 1.0, 3.0):
        assert torch.allclose(huber(pred, target, delta) / delta, F.smooth_l1_loss(pred, target, beta=delta))


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("full", [False, True])
def test_gaussian_nll_equals_torch_with_tensor_var(full, reduction):
    pred, target = pair(shape=(5, 3), seed=8)
    var = torch.rand(5, 3, generator=torch.Generator().manual_seed(9), dtype=torch.float64) + 0.1
    outs = []
    for fn in (lambda p, t, v: gaussian_nll(p, t, v, full=full, reduction=reduction),
               lambda p, t, v: F.gaussian_nll_loss(p, t, v, full=full, reduction=reduction)):
        p, v = pred.clone().requires_grad_(True), var.clone().requires_grad_(True)
        out = fn(p, target, v)
        gp, gv = torch.autograd.grad(out.sum(), (p, v))
        outs.append((out.detach(), gp, gv))
    for a, b in zip(*outs, strict=True):
        assert torch.allclose(a, b, atol=1e-6, rtol=0)


def test_gaussian_nll_float_var_and_eps_clamp_match_torch():
    pred, target = pair(n=6, seed=10)
    assert torch.allclose(gaussian_nll(pred, target, 0.5), F.gaussian_nll_loss(pred, target, torch.full_like(pred, 0.5)))
    var = torch.tensor([0.0, 1e-9, 0.2, 1.0, 2.0, 4.0], dtype=torch.float64, requires_grad=True)
    ours = gaussian_nll(pred, target, var)
    (g1,) = torch.autograd.grad(ours, var)
    theirs = F.gaussian_nll_loss(pred, target, var)
    (g2,) = torch.autograd.grad(theirs, var)
    assert torch.allclose(ours, theirs) and torch.allclose(g1, g2)


def test_gaussian_nll_with_unit_variance_is_half_mse_plus_constant():
    """Is MSE the Gaussian negative log-likelihood up to a factor and a constant?"""
    pred, target = pair(n=10, seed=11)
    nll = gaussian_nll(pred, target, 1.0, full=True)
    by_hand = 0.5 * mse(pred, target) + 0.5 * math.log(2 * math.pi)
    normal = -torch.distributions.Normal(pred, 1.0).log_prob(target).mean()
    assert torch.allclose(nll, by_hand) and torch.allclose(nll, normal)


# --------------------------------------------------------------------------- the worked example (hand oracle)
def test_worked_example_mae_2_mse_5_and_error_shares():
    pred, target = torch.tensor([2.0, 3.0]), torch.tensor([1.0, 0.0])
    assert mae(pred, target).item() == 2.0  # ½(1 + 3), not "½(4) = 4"
    assert mse(pred, target).item() == 5.0  # ½(1 + 9)
    assert rmse(pred, target).item() == pytest.approx(math.sqrt(5))
    abs_share = mae(pred, target, "none")[1] / mae(pred, target, "sum")
    sq_share = mse(pred, target, "none")[1] / mse(pred, target, "sum")
    assert abs_share.item() == pytest.approx(0.75) and sq_share.item() == pytest.approx(0.90)


# --------------------------------------------------------------------------- properties
floats = st.floats(min_value=-1e3, max_value=1e3, allow_nan=False, allow_infinity=False)
vectors = st.integers(1, 20).flatmap(lambda n: st.tuples(st.lists(floats, min_size=n, max_size=n),
                                                         st.lists(floats, min_size=n, max_size=n)))


@settings(max_examples=60, deadline=None)
@given(vectors)
def test_orderings_and_symmetry(pt):
    pred, target = (torch.tensor(v, dtype=torch.float64) for v in pt)
    a, s, r = mae(pred, target), mse(pred, target), rmse(pred, target)
    assert a >= 0 and s >= 0
    assert a <= r + 1e-9 * (1 + r)  # mean |r| <= sqrt(mean r²) (Jensen)
    assert torch.isclose(r**2, s, rtol=1e-9, atol=1e-9)
    assert torch.equal(mae(pred, target), mae(target, pred)) and torch.equal(mse(pred, target), mse(target, pred))


@settings(max_examples=60, deadline=None)
@given(vectors, st.floats(min_value=1e-3, max_value=1e3))
def test_huber_lies_below_both_parents_and_matches_the_limits(pt, delta):
    pred, target = (torch.tensor(v, dtype=torch.float64) for v in pt)
    h = huber(pred, target, delta, "none")
    res = (pred - target).abs()
    assert (h <= 0.5 * res**2 + 1e-9).all() and (h <= delta * res + 1e-9).all()
    assert (h >= 0).all()
    # δ -> 0: Huber/δ approaches |r| to within δ/2; δ above every |r|: Huber is exactly r²/2.
    assert ((h / delta - res).abs() <= delta / 2 + 1e-9).all()
    big = float(res.max()) + 1.0
    assert torch.allclose(huber(pred, target, big), 0.5 * mse(pred, target))


@settings(max_examples=40, deadline=None)
@given(vectors, st.floats(min_value=-50, max_value=50))
def test_shifting_both_by_the_same_amount_changes_nothing(pt, c):
    pred, target = (torch.tensor(v, dtype=torch.float64) for v in pt)
    assert torch.allclose(mae(pred + c, target + c), mae(pred, target), atol=1e-9)
    assert torch.allclose(mse(pred + c, target + c), mse(pred, target), rtol=1e-9, atol=1e-6)


# --------------------------------------------------------------------------- bad input
@pytest.mark.parametrize("fn", [mae, mse, rmse, lambda p, t: huber(p, t, 1.0), lambda p, t: gaussian_nll(p, t, 1.0)],
                         ids=["mae", "mse", "rmse", "huber", "gaussian_nll"])
def test_column_against_vector_is_refused_not_broadcast(fn):
    out, y = torch.zeros(4, 1), torch.zeros(4)
    with pytest.raises(ValueError, match=r"\(4, 1\) and \(4,\).*\(N, N\)"):
        fn(out, y)
    with pytest.raises(ValueError, match="same shape"):
        fn(torch.zeros(3), torch.zeros(4))


@pytest.mark.parametrize("delta", [-1.0, 0.0, float("nan"), float("inf"), "1"])
def test_huber_refuses_bad_delta_naming_it(delta):
    with pytest.raises(ValueError, match="delta must be a finite number > 0"):
        huber(torch.zeros(3), torch.ones(3), delta)


def test_type_reduction_and_variance_errors_name_the_argument():
    with pytest.raises(TypeError, match="pred must be a floating-point tensor"):
        mae(torch.tensor([1, 2]), torch.tensor([1.0, 2.0]))
    with pytest.raises(TypeError, match="target must be a torch.Tensor"):
        mse(torch.zeros(2), [0.0, 1.0])
    with pytest.raises(ValueError, match="reduction must be one of"):
        mse(torch.zeros(2), torch.zeros(2), reduction="avg")
    with pytest.raises(ValueError, match="var must be non-negative"):
        gaussian_nll(torch.zeros(2), torch.zeros(2), torch.tensor([1.0, -1.0]))
    with pytest.raises(ValueError, match="var must be a float, a scalar tensor or have the shape of pred"):
        gaussian_nll(torch.zeros(2, 3), torch.zeros(2, 3), torch.ones(2))
    with pytest.raises(ValueError, match="pred must not be empty"):
        mae(torch.zeros(0), torch.zeros(0))
