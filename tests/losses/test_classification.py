"""Do the week-03 cross-entropy helpers equal torch (values and gradients), stay finite, and refuse bad input?"""

import math

import pytest
import torch
import torch.nn.functional as F
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    entropy,
    kl_div,
    log_softmax,
    nll_loss,
)

TOL = dict(atol=1e-6, rtol=1e-6)
REDUCTIONS = ["mean", "sum", "none"]


def batch(n=5, c=4, seed=0, scale=3.0):
    g = torch.Generator().manual_seed(seed)
    logits = scale * torch.randn(n, c, generator=g, dtype=torch.float64)
    target = torch.randint(0, c, (n,), generator=g)
    probs = torch.softmax(torch.randn(n, c, generator=g, dtype=torch.float64), dim=1)
    weight = torch.rand(c, generator=g, dtype=torch.float64) + 0.1
    return logits, target, probs, weight


def assert_same_value_and_grad(ours, theirs, *inputs):
    """Values and input gradients of two scalar-or-tensor functions agree to 1e-6."""
    xs = [x.detach().clone().requires_grad_(True) for x in inputs]
    ys = [x.detach().clone().requires_grad_(True) for x in inputs]
    a, b = ours(*xs), theirs(*ys)
    torch.testing.assert_close(a, b, **TOL)
    a.sum().backward()
    b.sum().backward()
    for x, y in zip(xs, ys, strict=True):
        torch.testing.assert_close(x.grad, y.grad, **TOL)


# --------------------------------------------------------------------------- the lecture's numbers
def test_worked_example_from_week02_logits():
    """Target 4 gives 0.0005, target 3 (the wrong class) gives 8.7505, as torch says."""
    eg = torch.tensor([-1, 0.1, 0.032, 0.25, 9])
    assert cross_entropy(eg, torch.tensor(4)).item() == pytest.approx(0.0005, abs=5e-5)
    assert cross_entropy(eg, torch.tensor(3)).item() == pytest.approx(8.7505, abs=5e-5)
    for t in range(5):
        torch.testing.assert_close(cross_entropy(eg, torch.tensor(t)), F.cross_entropy(eg, torch.tensor(t)))


def test_one_hot_and_index_targets_give_minus_log_075():
    probs = torch.tensor([[0.05, 0.75, 0.2], [0.75, 0.15, 0.1]], dtype=torch.float64)
    index = torch.tensor([1, 0])
    one_hot = F.one_hot(index, 3).double()
    expected = -math.log(0.75)  # 0.2876821
    assert cross_entropy(probs.log(), index).item() == pytest.approx(expected, abs=1e-7)
    assert cross_entropy(probs.log(), one_hot).item() == pytest.approx(expected, abs=1e-7)
    assert cross_entropy(probs.log(), index, from_logits=False).item() == pytest.approx(expected, abs=1e-7)


# --------------------------------------------------------------------------- equal to torch, values and gradients
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_index_targets_match_torch(reduction, smoothing, weighted):
    logits, target, _, weight = batch()
    target[2] = -100  # one ignored sample
    w = weight if weighted else None
    kw = dict(reduction=reduction, label_smoothing=smoothing, weight=w, ignore_index=-100)
    assert_same_value_and_grad(lambda x: cross_entropy(x, target, **kw), lambda x: F.cross_entropy(x, target, **kw), logits)


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.2])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_probability_targets_match_torch(reduction, smoothing, weighted):
    logits, _, probs, weight = batch(seed=1)
    kw = dict(reduction=reduction, label_smoothing=smoothing, weight=weight if weighted else None)
    assert_same_value_and_grad(lambda x: cross_entropy(x, probs, **kw), lambda x: F.cross_entropy(x, probs, **kw), logits)


def test_cross_entropy_gradient_wrt_soft_targets_matches_torch():
    logits, _, probs, _ = batch(seed=2)
    assert_same_value_and_grad(cross_entropy, F.cross_entropy, logits, probs)


def test_cross_entropy_from_log_probs_equals_from_logits_and_torch():
    logits, target, _, _ = batch(seed=3)
    logp = torch.log_softmax(logits, dim=1)
    torch.testing.assert_close(cross_entropy(logp, target, from_logits=False), F.nll_loss(logp, target), **TOL)
    torch.testing.assert_close(cross_entropy(logp, target, from_logits=False), F.cross_entropy(logits, target), **TOL)


def test_cross_entropy_ignore_index_other_value_and_unbatched():
    logits, target, _, _ = batch(seed=4)
    target[0] = 7
    target[1] = 7
    for red in REDUCTIONS:
        torch.testing.assert_close(cross_entropy(logits, target, ignore_index=7, reduction=red),
                                   F.cross_entropy(logits, target, ignore_index=7, reduction=red), **TOL)
    one = logits[3]
    for red in REDUCTIONS:
        torch.testing.assert_close(cross_entropy(one, target[3], reduction=red),
                                   F.cross_entropy(one, target[3], reduction=red), **TOL)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_nll_loss_matches_torch_with_weights_and_ignore(reduction):
    logits, target, _, weight = batch(seed=5)
    target[4] = -100
    logp = torch.log_softmax(logits, dim=1)
    kw = dict(weight=weight, reduction=reduction)
    assert_same_value_and_grad(lambda x: nll_loss(x, target, **kw), lambda x: F.nll_loss(x, target, **kw), logp)


def test_log_softmax_then_nll_is_cross_entropy_on_logits():
    """The classifier shape Linear → LogSoftmax + NLLLoss equals Linear + CrossEntropyLoss."""
    logits, target, _, _ = batch(seed=6)
    ours = nll_loss(log_softmax(logits, dim=1), target)
    torch.testing.assert_close(ours, torch.nn.CrossEntropyLoss()(logits, target), **TOL)
    torch.testing.assert_close(ours, torch.nn.NLLLoss()(torch.nn.LogSoftmax(dim=1)(logits), target), **TOL)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_binary_cross_entropy_matches_torch(reduction):
    g = torch.Generator().manual_seed(7)
    p = torch.rand(8, generator=g, dtype=torch.float64) * 0.98 + 0.01
    y = torch.rand(8, generator=g, dtype=torch.float64)  # soft labels too
    w = torch.rand(8, generator=g, dtype=torch.float64)
    assert_same_value_and_grad(lambda a, b: binary_cross_entropy(a, b, weight=w, reduction=reduction),
                               lambda a, b: F.binary_cross_entropy(a, b, weight=w, reduction=reduction), p, y)


def test_binary_cross_entropy_clamps_like_torch_at_0_and_1():
    p = torch.tensor([0.0, 1.0, 0.0, 1.0])
    y = torch.tensor([1.0, 0.0, 0.0, 1.0])
    torch.testing.assert_close(binary_cross_entropy(p, y, reduction="none"),
                               F.binary_cross_entropy(p, y, reduction="none"))
    assert binary_cross_entropy(p, y, reduction="none").tolist() == [100.0, 100.0, 0.0, 0.0]


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_bce_with_logits_matches_torch_incl_pos_weight(reduction):
    g = torch.Generator().manual_seed(8)
    x = 4 * torch.randn(3, 5, generator=g, dtype=torch.float64)
    y = (torch.rand(3, 5, generator=g) > 0.5).double()
    w = torch.rand(5, generator=g, dtype=torch.float64)
    pw = torch.rand(5, generator=g, dtype=torch.float64) * 3
    kw = dict(weight=w, pos_weight=pw, reduction=reduction)
    assert_same_value_and_grad(lambda a, b: binary_cross_entropy_with_logits(a, b, **kw),
                               lambda a, b: F.binary_cross_entropy_with_logits(a, b, **kw), x, y)


def test_bce_with_logits_gradient_at_zero_is_sigmoid_minus_target():
    """At logit 0 the gradient is sigmoid(0) - y = 0.5 - y, not a subgradient of |x|."""
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    y = torch.tensor([0.0, 0.5, 1.0], dtype=torch.float64)
    binary_cross_entropy_with_logits(x, y, reduction="sum").backward()
    torch.testing.assert_close(x.grad, 0.5 - y)


@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides")  # torch's warning about its own 'mean'
@pytest.mark.parametrize("reduction", ["batchmean", "sum", "mean", "none"])
@pytest.mark.parametrize("log_target", [False, True])
def test_kl_div_matches_torch(reduction, log_target):
    logits, _, probs, _ = batch(seed=9)
    log_q = torch.log_softmax(logits, dim=1)
    p = probs.log() if log_target else probs
    kw = dict(reduction=reduction, log_target=log_target)
    assert_same_value_and_grad(lambda a, b: kl_div(a, b, **kw), lambda a, b: F.kl_div(a, b, **kw), log_q, p)


def test_kl_div_of_a_single_distribution_is_not_divided_by_the_number_of_classes():
    log_q = torch.log_softmax(torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64), 0)
    p = torch.tensor([0.2, 0.3, 0.5], dtype=torch.float64)
    torch.testing.assert_close(kl_div(log_q, p), F.kl_div(log_q[None], p[None], reduction="batchmean"))


def test_kl_is_cross_entropy_minus_entropy_and_zero_for_equal_distributions():
    logits, _, probs, _ = batch(seed=10)
    log_q = torch.log_softmax(logits, dim=1)
    ce = cross_entropy(logits, probs)
    h = entropy(probs, dim=1).mean()
    torch.testing.assert_close(kl_div(log_q, probs), ce - h, **TOL)
    assert kl_div(probs.log(), probs).abs().item() < 1e-12
    # bits = nats / ln 2
    assert entropy(torch.tensor([0.5, 0.5]), base=2).item() == pytest.approx(1.0)


@pytest.mark.parametrize("fn", ["ce_index", "ce_prob", "nll", "bce", "bce_logits", "kl"])
def test_gradcheck_float64(fn):
    logits, target, probs, weight = batch(n=3, c=4, seed=11)
    g = torch.Generator().manual_seed(12)
    cases = {
        "ce_index": (lambda x: cross_entropy(x, target, weight=weight, label_smoothing=0.1), logits),
        "ce_prob": (lambda x, p: cross_entropy(x, p), logits, probs),
        "nll": (lambda x: nll_loss(x, target, weight=weight, reduction="sum"), torch.log_softmax(logits, 1)),
        "bce": (lambda p, y: binary_cross_entropy(p, y), torch.rand(6, generator=g, dtype=torch.float64) * 0.9 + 0.05,
                torch.rand(6, generator=g, dtype=torch.float64)),
        "bce_logits": (lambda x, y: binary_cross_entropy_with_logits(x, y, pos_weight=torch.tensor(2.0, dtype=torch.float64)),
                       4 * torch.randn(6, generator=g, dtype=torch.float64), torch.rand(6, generator=g, dtype=torch.float64)),
        "kl": (lambda a: kl_div(a, probs), torch.log_softmax(logits, 1)),
    }
    f, *inputs = cases[fn]
    inputs = tuple(x.clone().requires_grad_(True) for x in inputs)
    assert torch.autograd.gradcheck(f, inputs, eps=1e-6, atol=1e-6)


# --------------------------------------------------------------------------- stable at extreme logits
@pytest.mark.parametrize("scale", [1e2, 1e4, 1e30])
def test_cross_entropy_finite_and_equal_to_torch_at_extreme_logits(scale):
    logits = torch.tensor([[1.0, -1.0, 0.5], [-2.0, 3.0, 0.0]]) * scale
    target = torch.tensor([1, 1])
    logits.requires_grad_(True)
    loss = cross_entropy(logits, target)
    loss.backward()
    assert torch.isfinite(loss) and torch.isfinite(logits.grad).all()
    torch.testing.assert_close(loss, F.cross_entropy(logits.detach(), target), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("x", [-1e4, -100.0, -40.0, 40.0, 100.0, 1e4])
def test_bce_with_logits_finite_at_extreme_logits_where_the_probability_route_fails(x):
    logits = torch.tensor([x, x])
    y = torch.tensor([0.0, 1.0])
    ours = binary_cross_entropy_with_logits(logits, y, reduction="none")
    torch.testing.assert_close(ours, F.binary_cross_entropy_with_logits(logits, y, reduction="none"))
    assert ours.tolist() == pytest.approx([max(x, 0.0), max(-x, 0.0)], rel=1e-6, abs=1e-6)


# --------------------------------------------------------------------------- properties (hypothesis)
small_floats = st.floats(-50, 50, allow_nan=False, width=64)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 6), st.integers(2, 6), st.data())
def test_cross_entropy_equals_torch_on_random_batches(n, c, data):
    logits = torch.tensor(data.draw(st.lists(st.lists(small_floats, min_size=c, max_size=c), min_size=n, max_size=n)),
                          dtype=torch.float64)
    target = torch.tensor(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)))
    red = data.draw(st.sampled_from(REDUCTIONS))
    torch.testing.assert_close(cross_entropy(logits, target, reduction=red),
                               F.cross_entropy(logits, target, reduction=red), **TOL)


@settings(max_examples=60, deadline=None)
@given(st.lists(small_floats, min_size=2, max_size=8), st.data(), st.floats(-30, 30, allow_nan=False))
def test_cross_entropy_is_nonnegative_and_shift_invariant(row, data, shift):
    logits = torch.tensor(row, dtype=torch.float64)
    t = torch.tensor(data.draw(st.integers(0, len(row) - 1)))
    loss = cross_entropy(logits, t)
    assert loss.item() >= -1e-12
    torch.testing.assert_close(cross_entropy(logits + shift, t), loss, atol=1e-9, rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(small_floats, min_size=2, max_size=8), st.data())
def test_cross_entropy_gradient_is_softmax_minus_one_hot(row, data):
    logits = torch.tensor(row, dtype=torch.float64, requires_grad=True)
    t = data.draw(st.integers(0, len(row) - 1))
    cross_entropy(logits, torch.tensor(t)).backward()
    expected = torch.softmax(logits.detach(), 0) - F.one_hot(torch.tensor(t), len(row)).double()
    torch.testing.assert_close(logits.grad, expected, atol=1e-12, rtol=1e-9)


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(-200, 200, allow_nan=False), min_size=1, max_size=8), st.data())
def test_bce_with_logits_equals_torch_and_bce_on_sigmoid(xs, data):
    x = torch.tensor(xs, dtype=torch.float64)
    y = torch.tensor(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=len(xs), max_size=len(xs))),
                     dtype=torch.float64)
    ours = binary_cross_entropy_with_logits(x, y, reduction="none")
    torch.testing.assert_close(ours, F.binary_cross_entropy_with_logits(x, y, reduction="none"), **TOL)
    assert torch.isfinite(ours).all()
    moderate = x.abs() < 10  # where 1 - sigmoid(x) keeps its digits, the probability route agrees
    if moderate.any():
        torch.testing.assert_close(ours[moderate], binary_cross_entropy(torch.sigmoid(x[moderate]), y[moderate],
                                                                        reduction="none"), **TOL)


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 5), st.integers(2, 6), st.data())
def test_kl_is_nonnegative_and_equals_ce_minus_h(n, c, data):
    rows = data.draw(st.lists(st.lists(st.floats(-10, 10, allow_nan=False), min_size=c, max_size=c),
                              min_size=2 * n, max_size=2 * n))
    t = torch.tensor(rows, dtype=torch.float64)
    log_q, p = torch.log_softmax(t[:n], 1), torch.softmax(t[n:], 1)
    kl = kl_div(log_q, p)
    assert kl.item() >= -1e-12
    torch.testing.assert_close(kl, cross_entropy(log_q, p, from_logits=False) - entropy(p, dim=1).mean(), **TOL)


# --------------------------------------------------------------------------- bad input gets a clear error
def test_target_out_of_range_names_target():
    logits, target, _, _ = batch()
    with pytest.raises(IndexError, match=r"target must hold class indices in \[0, 3\].*found 4"):
        cross_entropy(logits, torch.tensor([0, 1, 2, 3, 4]))
    with pytest.raises(IndexError, match="target"):
        nll_loss(torch.log_softmax(logits, 1), torch.tensor([0, -1, 2, 3, 0]))


def test_shape_mismatch_names_both_arguments():
    logits, target, probs, _ = batch()
    with pytest.raises(ValueError, match=r"target must have shape \(5,\)"):
        cross_entropy(logits, target[:3])
    with pytest.raises(ValueError, match="logits and target must have the same shape"):
        cross_entropy(logits, probs[:, :3] / probs[:, :3].sum(1, keepdim=True))
    with pytest.raises(ValueError, match=r"logits and target must have the same shape.*squeeze"):
        binary_cross_entropy_with_logits(torch.zeros(4, 1), torch.zeros(4))
    with pytest.raises(ValueError, match="log_q and p must have the same shape"):
        kl_div(torch.log_softmax(logits, 1), probs[:3])
    with pytest.raises(ValueError, match=r"target must have shape \(2, 4\).*classes are dim 1.*movedim"):
        cross_entropy(torch.zeros(2, 3, 4), torch.zeros(2, 3, dtype=torch.long))  # classes last: (N, L, C)


def test_probabilities_not_summing_to_one_name_the_argument():
    logits, _, probs, _ = batch()
    with pytest.raises(ValueError, match="target must sum to 1"):
        cross_entropy(logits, probs * 2)
    with pytest.raises(ValueError, match="p must sum to 1"):
        kl_div(torch.log_softmax(logits, 1), probs * 0.5)
    with pytest.raises(ValueError, match="target must hold probabilities.*negative"):
        cross_entropy(logits, probs - 0.5)


def test_logits_where_log_probs_are_expected_are_refused():
    logits, target, _, _ = batch()
    with pytest.raises(ValueError, match="log_probs must be log-probabilities.*log_softmax"):
        nll_loss(logits, target)
    with pytest.raises(ValueError, match="from_logits=True"):
        cross_entropy(logits, target, from_logits=False)
    with pytest.raises(ValueError, match="log_q must be log-probabilities"):
        kl_div(logits, torch.softmax(logits, 1))


def test_other_bad_inputs_have_clear_messages():
    logits, target, _, weight = batch()
    with pytest.raises(TypeError, match=r"looks like class indices.*target.long\(\)"):
        cross_entropy(logits, target.float())
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        cross_entropy(target, target)
    with pytest.raises(ValueError, match="reduction must be one of"):
        cross_entropy(logits, target, reduction="avg")
    with pytest.raises(ValueError, match=r"weight must have one entry per class, shape \(4,\)"):
        cross_entropy(logits, target, weight=weight[:3])
    with pytest.raises(ValueError, match="label_smoothing"):
        cross_entropy(logits, target, label_smoothing=1.5)
    with pytest.raises(ValueError, match=r"probs must lie in \[0, 1\].*with_logits"):
        binary_cross_entropy(torch.tensor([2.0, -1.0]), torch.tensor([1.0, 0.0]))
    with pytest.raises(ValueError, match=r"target must lie in \[0, 1\]"):
        binary_cross_entropy_with_logits(torch.tensor([2.0]), torch.tensor([2.0]))
    with pytest.raises(ValueError, match="weight of shape"):
        binary_cross_entropy_with_logits(torch.zeros(3), torch.zeros(3), weight=torch.ones(4))
    with pytest.raises(TypeError, match="torch.long tensor of class indices"):
        nll_loss(torch.log_softmax(logits, 1), target.double())


# --------------------------------------------------------------------------- the class dimension: (N, C, d1, ...)
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
@pytest.mark.parametrize("weighted", [False, True])
def test_cross_entropy_on_sequences_and_images_matches_torch(reduction, smoothing, weighted):
    """(N, C, L) and (N, C, H, W) logits with (N, L) / (N, H, W) targets and padding, as torch reads them."""
    g = torch.Generator().manual_seed(20)
    for shape in ((3, 4, 6), (2, 4, 3, 5)):
        logits = 3 * torch.randn(*shape, generator=g, dtype=torch.float64)
        target = torch.randint(0, 4, (shape[0], *shape[2:]), generator=g)
        target[0, -2:] = -100  # padding
        w = torch.rand(4, generator=g, dtype=torch.float64) + 0.1 if weighted else None
        kw = dict(reduction=reduction, label_smoothing=smoothing, weight=w)
        assert_same_value_and_grad(lambda x: cross_entropy(x, target, **kw),  # noqa: B023
                                   lambda x: F.cross_entropy(x, target, **kw), logits)  # noqa: B023
        logp = torch.log_softmax(logits, dim=1)
        assert_same_value_and_grad(lambda x: nll_loss(x, target, weight=w, reduction=reduction),  # noqa: B023
                                   lambda x: F.nll_loss(x, target, weight=w, reduction=reduction), logp)  # noqa: B023


def test_cross_entropy_on_sequences_equals_flattening_the_positions():
    """Every position of (N, C, L) is one sample: the same as (N·L, C) logits with the classes last."""
    g = torch.Generator().manual_seed(21)
    logits = torch.randn(2, 3, 7, generator=g, dtype=torch.float64)
    target = torch.randint(0, 3, (2, 7), generator=g)
    target[1, 4:] = -100
    flat = cross_entropy(logits.permute(0, 2, 1).reshape(-1, 3), target.reshape(-1))
    torch.testing.assert_close(cross_entropy(logits, target), flat, **TOL)
    per_position = cross_entropy(logits, target, reduction="none")
    assert per_position.shape == (2, 7) and (per_position[1, 4:] == 0).all()


def test_cross_entropy_probability_targets_with_classes_in_dim_1_match_torch():
    g = torch.Generator().manual_seed(22)
    logits = torch.randn(2, 3, 5, generator=g, dtype=torch.float64)
    probs = torch.softmax(torch.randn(2, 3, 5, generator=g, dtype=torch.float64), dim=1)
    for red in REDUCTIONS:
        assert_same_value_and_grad(lambda x: cross_entropy(x, probs, reduction=red),  # noqa: B023
                                   lambda x: F.cross_entropy(x, probs, reduction=red), logits)  # noqa: B023


def test_sequence_inputs_with_bad_targets_get_clear_errors():
    logits = torch.zeros(2, 3, 5)
    with pytest.raises(TypeError, match=r"looks like class indices.*target.long\(\)"):
        cross_entropy(logits, torch.zeros(2, 5))
    with pytest.raises(IndexError, match=r"target must hold class indices in \[0, 2\]"):
        cross_entropy(logits, torch.full((2, 5), 3))
    with pytest.raises(TypeError, match="logits must be a floating-point tensor"):
        cross_entropy(torch.zeros(2, 3, 5, dtype=torch.long), torch.zeros(2, 5, dtype=torch.long))


# --------------------------------------------------------------------------- saturated sigmoid, pos_weight shape
@pytest.mark.parametrize("logit,label", [(17.0, 0.0), (20.0, 0.0), (40.0, 0.0), (-110.0, 1.0), (-104.0, 0.0),
                                         (110.0, 1.0)])
def test_bce_on_a_saturated_sigmoid_gives_torchs_finite_gradient_not_nan(logit, label):
    """In float32 sigmoid(17) rounds to 1 and sigmoid(-104) to 0: the logit's gradient is torch's 0, never NaN."""
    grads = []
    for fn in (binary_cross_entropy, F.binary_cross_entropy):
        x = torch.tensor([logit, 0.3], requires_grad=True)
        p = torch.sigmoid(x)
        p.retain_grad()
        fn(p, torch.tensor([label, 1.0])).backward()
        grads.append((x.grad, p.grad))
    (ours_x, ours_p), (torch_x, torch_p) = grads
    assert torch.isfinite(ours_x).all() and torch.isfinite(ours_p).all()
    torch.testing.assert_close(ours_x, torch_x)
    torch.testing.assert_close(ours_p, torch_p)


def test_bce_gradients_at_probabilities_0_and_1_equal_torchs_for_both_arguments():
    p = torch.tensor([0.0, 1.0, 0.0, 1.0, 1e-50, 1e-13, 0.4], dtype=torch.float64)
    y = torch.tensor([1.0, 0.0, 0.0, 1.0, 1.0, 1.0, 0.25], dtype=torch.float64)
    assert_same_value_and_grad(lambda a, b: binary_cross_entropy(a, b, reduction="none"),
                               lambda a, b: F.binary_cross_entropy(a, b, reduction="none"), p, y)


@settings(max_examples=80, deadline=None)
@given(st.lists(st.floats(-120, 120, allow_nan=False, width=32), min_size=1, max_size=8), st.data())
def test_bce_through_a_float32_sigmoid_equals_torch_in_value_and_gradient(xs, data):
    y = torch.tensor(data.draw(st.lists(st.sampled_from([0.0, 1.0]), min_size=len(xs), max_size=len(xs))))
    assert_same_value_and_grad(lambda x: binary_cross_entropy(torch.sigmoid(x), y, reduction="none"),
                               lambda x: F.binary_cross_entropy(torch.sigmoid(x), y, reduction="none"),
                               torch.tensor(xs))


@pytest.mark.parametrize("logit_shape,pw_shape", [((4,), (4, 1)), ((3, 5), (3,)), ((3, 5), (3, 5)), ((3, 5), (1, 5)),
                                                  ((3, 5), (2,))])
def test_pos_weight_of_the_wrong_shape_is_refused_not_broadcast(logit_shape, pw_shape):
    """A (4, 1) pos_weight for 4 logits would broadcast the loss to (4, 4); only a number or (C,) is taken."""
    with pytest.raises(ValueError, match=r"pos_weight must be one number or have shape \(\d+,\)"):
        binary_cross_entropy_with_logits(torch.zeros(logit_shape), torch.zeros(logit_shape),
                                         pos_weight=torch.ones(pw_shape))


@pytest.mark.parametrize("pw_shape", [(), (1,), (5,)])
def test_pos_weight_as_a_number_or_one_per_label_matches_torch(pw_shape):
    g = torch.Generator().manual_seed(23)
    x = 3 * torch.randn(4, 5, generator=g, dtype=torch.float64)
    y = (torch.rand(4, 5, generator=g) > 0.7).double()
    pw = torch.rand(pw_shape, generator=g, dtype=torch.float64) * 4
    for red in REDUCTIONS:
        assert_same_value_and_grad(lambda a: binary_cross_entropy_with_logits(a, y, pos_weight=pw, reduction=red),  # noqa: B023
                                   lambda a: F.binary_cross_entropy_with_logits(a, y, pos_weight=pw, reduction=red),  # noqa: B023
                                   x)


def test_negative_pos_weight_is_refused():
    with pytest.raises(ValueError, match="pos_weight must be non-negative"):
        binary_cross_entropy_with_logits(torch.zeros(2, 3), torch.zeros(2, 3), pos_weight=torch.tensor([1.0, -1.0, 2.0]))
