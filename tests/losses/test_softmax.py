"""Does the week-02 softmax family agree with torch, stay stable for huge logits, and refuse bad input?"""

import math

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.losses import entropy, log_softmax, logsumexp, softmax, softmax_naive

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def logits_and_dim(draw, low=-1e4, high=1e4, dtype=np.float32):
    """A float tensor of 1-3 dims (each 1-6 long) with values in [low, high], and a valid dim (maybe negative)."""
    shape = draw(hnp.array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6))
    width = 32 if dtype == np.float32 else 64
    x = draw(hnp.arrays(dtype, shape, elements=st.floats(low, high, width=width)))
    dim = draw(st.integers(-len(shape), len(shape) - 1))
    return torch.from_numpy(x), dim


# --------------------------------------------------------------------------- agreement with torch
@SETTINGS
@given(logits_and_dim())
def test_softmax_matches_torch_up_to_1e4(xd):
    x, dim = xd
    got = softmax(x, dim)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, torch.softmax(x, dim), atol=1e-6, rtol=1e-5)


@SETTINGS
@given(logits_and_dim())
def test_log_softmax_matches_torch_up_to_1e4(xd):
    x, dim = xd
    got = log_softmax(x, dim)
    assert torch.isfinite(got).all()
    torch.testing.assert_close(got, torch.log_softmax(x, dim), atol=1e-6, rtol=1e-6)


@SETTINGS
@given(logits_and_dim(), st.booleans())
def test_logsumexp_matches_torch_up_to_1e4(xd, keepdim):
    x, dim = xd
    got = logsumexp(x, dim, keepdim=keepdim)
    torch.testing.assert_close(got, torch.logsumexp(x, dim, keepdim=keepdim), atol=1e-6, rtol=1e-6)


# --------------------------------------------------------------------------- properties
@SETTINGS
@given(logits_and_dim())
def test_softmax_sums_to_one_and_lies_in_0_1(xd):
    x, dim = xd
    p = softmax(x, dim)
    assert ((p >= 0) & (p <= 1)).all()
    torch.testing.assert_close(p.sum(dim), torch.ones(p.sum(dim).shape), atol=1e-5, rtol=0)


@SETTINGS
@given(logits_and_dim(-50, 50, np.float64), st.floats(-1e3, 1e3))
def test_shift_invariance(xd, c):
    x, dim = xd
    torch.testing.assert_close(softmax(x + c, dim), softmax(x, dim), atol=1e-10, rtol=1e-8)
    torch.testing.assert_close(log_softmax(x + c, dim), log_softmax(x, dim), atol=1e-9, rtol=1e-9)
    torch.testing.assert_close(logsumexp(x + c, dim), logsumexp(x, dim) + c, atol=1e-9, rtol=1e-12)


@SETTINGS
@given(logits_and_dim())
def test_exp_of_log_softmax_is_softmax(xd):
    x, dim = xd
    torch.testing.assert_close(torch.exp(log_softmax(x, dim)), softmax(x, dim), atol=1e-6, rtol=1e-5)


@SETTINGS
@given(logits_and_dim(-30, 30, np.float64))
def test_entropy_matches_torch_categorical_in_nats_and_bits(xd):
    x, dim = xd
    p = softmax(x, dim)
    ref = torch.distributions.Categorical(probs=p.movedim(dim, -1)).entropy()
    torch.testing.assert_close(entropy(p, dim), ref, atol=1e-10, rtol=1e-8)
    torch.testing.assert_close(entropy(p, dim, base=2), ref / math.log(2), atol=1e-10, rtol=1e-8)


def test_entropy_of_uniform_is_log2_c_bits_and_of_one_hot_is_zero():
    assert entropy(torch.full((8,), 1 / 8), base=2).item() == pytest.approx(3.0)
    assert entropy(torch.tensor([0.0, 1.0, 0.0])).item() == 0.0


def test_worked_example_numbers():
    """The week-02 example prints these values (torch as the oracle, and the rounded printed numbers)."""
    eg = torch.tensor([-1, 0.1, 0.032, 0.25, 9])
    torch.testing.assert_close(softmax(eg, 0), torch.nn.functional.softmax(eg, dim=0))
    torch.testing.assert_close(log_softmax(eg, 0), torch.nn.functional.log_softmax(eg, dim=0))
    expected_p = torch.tensor([4.5379e-05, 1.3633e-04, 1.2736e-04, 1.5839e-04, 9.9953e-01])
    torch.testing.assert_close(softmax(eg, 0), expected_p, atol=0, rtol=1e-4)
    assert log_softmax(eg, 0)[-1].item() == pytest.approx(-4.6755e-04, rel=1e-4)


# --------------------------------------------------------------------------- stability
def test_naive_softmax_overflows_where_the_stable_one_does_not():
    x = torch.tensor([1000.0, 999.0, 0.0])
    assert torch.isnan(softmax_naive(x)).any()
    torch.testing.assert_close(softmax(x), torch.softmax(x, 0))
    small = torch.tensor([[0.5, -1.0, 2.0]])
    torch.testing.assert_close(softmax_naive(small, 1), torch.softmax(small, 1))


def test_log_softmax_does_not_underflow_to_minus_inf():
    x = torch.tensor([0.0, -200.0])
    assert torch.isinf(torch.log(softmax(x))).any()  # the naive route really does underflow
    torch.testing.assert_close(log_softmax(x), torch.tensor([0.0, -200.0]))


@pytest.mark.parametrize("dtype, big", [(torch.float16, 12.0), (torch.bfloat16, 100.0)])
def test_half_precision_stable_holds_where_naive_breaks(dtype, big):
    x = torch.tensor([big, big - 2.0, 0.0], dtype=dtype)
    assert torch.isnan(softmax_naive(x)).any()
    ref = torch.softmax(x.float(), 0)
    torch.testing.assert_close(softmax(x).float(), ref, atol=1e-2, rtol=0)
    torch.testing.assert_close(log_softmax(x).float(), torch.log_softmax(x.float(), 0), atol=0.1, rtol=1e-2)


def test_logsumexp_with_infinities_matches_torch():
    for x in ([float("-inf"), float("-inf")], [float("-inf"), 1.0], [float("inf"), 1.0]):
        t = torch.tensor(x)
        assert logsumexp(t).item() == torch.logsumexp(t, 0).item()


def test_masked_logit_gets_probability_zero():
    torch.testing.assert_close(softmax(torch.tensor([float("-inf"), 0.0, 0.0])), torch.tensor([0.0, 0.5, 0.5]))


# --------------------------------------------------------------------------- gradients
@pytest.mark.parametrize("fn", [softmax, log_softmax, logsumexp], ids=lambda f: f.__name__)
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_gradcheck_float64(fn, dim):
    x = torch.randn(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) * 3
    x.requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: fn(t, dim), (x,))


@pytest.mark.parametrize("fn, ref", [(softmax, torch.softmax), (log_softmax, torch.log_softmax),
                                     (logsumexp, torch.logsumexp)], ids=["softmax", "log_softmax", "logsumexp"])
def test_gradients_equal_torch_at_large_logits(fn, ref):
    x = torch.tensor([[1e4, 0.0, -1e4], [3.0, 1.0, 0.2]], dtype=torch.float64, requires_grad=True)
    w = torch.tensor([[0.3, -1.0, 2.0], [1.0, 0.5, -0.5]], dtype=torch.float64)
    (g_ours,) = torch.autograd.grad((fn(x, 1) * (w if fn is not logsumexp else w[:, 0])).sum(), x)
    (g_ref,) = torch.autograd.grad((ref(x, 1) * (w if fn is not logsumexp else w[:, 0])).sum(), x)
    torch.testing.assert_close(g_ours, g_ref)


def test_entropy_gradcheck_float64():
    z = torch.randn(2, 5, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: entropy(torch.softmax(t, 1), 1), (z,))


# --------------------------------------------------------------------------- bad input
ALL = [softmax, log_softmax, logsumexp, softmax_naive]


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.__name__)
def test_integer_tensor_is_refused_naming_the_argument(fn):
    with pytest.raises(TypeError, match=r"x must be a floating-point tensor.*torch.int64.*x\.float\(\)"):
        fn(torch.tensor([1, 2, 3]))


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.__name__)
@pytest.mark.parametrize("shape, dim", [((0,), 0), ((3, 0), 1), ((0, 4), 1)])
def test_empty_dims_are_refused(fn, shape, dim):
    with pytest.raises(ValueError, match=r"x (must not be empty|has size 0)"):
        fn(torch.empty(shape), dim)


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.__name__)
def test_nan_is_refused(fn):
    with pytest.raises(ValueError, match="x contains NaN"):
        fn(torch.tensor([0.0, float("nan"), 1.0]))


@pytest.mark.parametrize("fn", ALL, ids=lambda f: f.__name__)
def test_non_tensor_scalar_and_bad_dim_are_refused(fn):
    with pytest.raises(TypeError, match="x must be a torch.Tensor, got list"):
        fn([1.0, 2.0])
    with pytest.raises(ValueError, match="x must have at least one dimension"):
        fn(torch.tensor(1.0), 0)
    with pytest.raises(IndexError, match=r"dim=2 is out of range for x of shape \(2, 3\)"):
        fn(torch.zeros(2, 3), 2)
    with pytest.raises(TypeError, match="dim must be an int"):
        fn(torch.zeros(2, 3), 1.0)


def test_entropy_refuses_non_distributions():
    with pytest.raises(ValueError, match="p must be a probability vector: it has negative entries"):
        entropy(torch.tensor([1.5, -0.5]))
    with pytest.raises(ValueError, match="p must sum to 1"):
        entropy(torch.tensor([0.5, 0.6]))
    with pytest.raises(ValueError, match="base must be positive and not 1"):
        entropy(torch.tensor([0.5, 0.5]), base=1)
    with pytest.raises(TypeError, match="p must be a floating-point tensor"):
        entropy(torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="p contains NaN"):
        entropy(torch.tensor([float("nan"), 1.0]))


# --------------------------------------------------------------------------- half precision
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("n_classes, scale", [(2, 1.0), (10, 5.0), (1000, 3.0)])
def test_half_precision_log_probabilities_are_accepted_and_logits_still_refused(dtype, n_classes, scale):
    """Regression: valid float16/bfloat16 log_softmax output was refused as "raw logits" (a fixed 1e-4 tolerance)."""
    from course_utils.losses._validate import require_log_probs, require_probabilities

    x = torch.randn(16, n_classes, generator=torch.Generator().manual_seed(n_classes)) * scale
    require_log_probs("log_probs", torch.log_softmax(x.to(dtype), dim=1))
    require_probabilities("p", torch.softmax(x.to(dtype), dim=1))
    entropy(torch.softmax(x.to(dtype), dim=1))
    with pytest.raises(ValueError, match="raw logits"):
        require_log_probs("log_probs", (x + 1).to(dtype))


def test_the_tolerance_is_unchanged_for_float32():
    from course_utils.losses._validate import require_log_probs, sum_tolerance

    assert sum_tolerance(torch.float32, 10) == sum_tolerance(torch.float64, 10) == 1e-4
    assert sum_tolerance(torch.float16, 10) > 1e-3
    with pytest.raises(ValueError, match="raw logits"):
        require_log_probs("log_probs", torch.log_softmax(torch.randn(3, 4), 1) + 1e-3)


def test_probabilities_with_nan_are_refused():
    """Regression (found by the loss properties): a NaN in cross_entropy's probability target gave a NaN loss."""
    from course_utils.losses import cross_entropy

    with pytest.raises(ValueError, match="target contains NaN"):
        cross_entropy(torch.zeros(1, 2), torch.tensor([[float("nan"), 0.5]]))


def test_entropy_gradient_is_exact_for_a_subnormal_probability():
    """Regression (found by the loss properties): autograd's (g p) / p rounded to 1 or 2 bits for p ~ 1e-45."""
    p = torch.softmax(torch.tensor([[3.0, -100.0]]), -1)  # [1, 1.4e-45] in float32
    a, b = p.clone().requires_grad_(True), p.clone().requires_grad_(True)
    (ga,) = torch.autograd.grad((1.5 * entropy(a)).sum(), a)
    (gb,) = torch.autograd.grad((1.5 * torch.special.entr(b).sum(-1)).sum(), b)
    torch.testing.assert_close(ga, gb, rtol=1e-5, atol=1e-6)
