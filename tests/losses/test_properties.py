"""Do all the course's losses agree with torch — values and gradients — on any input, and refuse bad input clearly?

One table row per public loss of ``course_utils.losses``: how to draw its arguments, torch's answer
(a ``torch.nn.functional`` loss, or the loss written with torch operations where torch has none),
which arguments carry a gradient, and what kind of value each argument is. Three properties run on
every row:

* float64 on ordinary inputs: the value and the gradients equal torch's;
* float32 at saturation (logits of ±17 to ±1e4, probabilities that round to exactly 0 or 1, tiny
  variances): the value equals torch's, and every gradient is finite wherever torch's is (and then
  equal to it) — a saturated sigmoid or a confident sample must not give NaN;
* a bad argument (an integer or NaN tensor, a list, class indices out of range or of the wrong
  dtype, mismatched shapes) raises TypeError/ValueError/IndexError with a message naming it.
"""

from __future__ import annotations

import inspect
import math
from collections.abc import Callable
from dataclasses import dataclass

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
import torch
import torch.nn.functional as F
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from course_utils import losses as L

PROPERTY = settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
BAD = settings(max_examples=8, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REDUCTION = st.sampled_from(["mean", "sum", "none"])
LOGIT_EXTREMES = [17.0, -17.0, 40.0, -40.0, 100.0, -100.0, 1e3, -1e3, 1e4, -1e4]


# --------------------------------------------------------------------------- drawing arguments
def values(data, shape, dtype, lo, hi, extremes=()):
    """A tensor of ``shape`` with entries in [lo, hi] — and, at saturation, some of ``extremes``."""
    elements = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    if extremes:
        elements = st.one_of(elements, st.sampled_from(list(extremes)))
    return torch.tensor(data.draw(hnp.arrays(np.float64, shape, elements=elements)), dtype=dtype)


def batch(data, *, min_c=2):
    return data.draw(st.integers(1, 5), label="N"), data.draw(st.integers(min_c, 5), label="C")


def logits(data, dtype, extreme, shape):
    return values(data, shape, dtype, -8, 8, LOGIT_EXTREMES if extreme else ())


def classes(data, n, c):
    return torch.tensor(data.draw(st.lists(st.integers(0, c - 1), min_size=n, max_size=n)), dtype=torch.long)


def class_weight(data, c, dtype):
    if not data.draw(st.booleans(), label="weighted"):
        return None
    return values(data, (c,), dtype, 0.1, 3.0)


def draw_dim_logits(data, dtype, extreme):
    n, c = batch(data)
    return [logits(data, dtype, extreme, (n, c))], {"dim": data.draw(st.sampled_from([-1, 0, 1]))}


def draw_entropy(data, dtype, extreme):
    n, c = batch(data)
    return [torch.softmax(logits(data, dtype, extreme, (n, c)), -1)], {}


def draw_nll(data, dtype, extreme):
    n, c = batch(data)
    return ([torch.log_softmax(logits(data, dtype, extreme, (n, c)), -1), classes(data, n, c)],
            {"weight": class_weight(data, c, dtype), "reduction": data.draw(REDUCTION)})


def draw_ce(data, dtype, extreme):
    n, c = batch(data)
    return ([logits(data, dtype, extreme, (n, c)), classes(data, n, c)],
            {"weight": class_weight(data, c, dtype), "reduction": data.draw(REDUCTION),
             "label_smoothing": data.draw(st.sampled_from([0.0, 0.1]))})


def draw_ce_probs(data, dtype, extreme):
    n, c = batch(data)
    target = torch.softmax(logits(data, dtype, extreme, (n, c)), -1)
    return [logits(data, dtype, extreme, (n, c)), target], {"reduction": data.draw(REDUCTION)}


def binary_target(data, shape, dtype):
    if data.draw(st.booleans(), label="hard labels"):
        return values(data, shape, dtype, 0, 1).round()
    return values(data, shape, dtype, 0, 1)


def draw_bce(data, dtype, extreme):
    n, c = batch(data, min_c=1)
    probs = torch.sigmoid(logits(data, dtype, extreme, (n, c)))  # exactly 0 or 1 in float32 beyond |z| ~ 17
    return [probs, binary_target(data, (n, c), dtype)], {"reduction": data.draw(REDUCTION)}


def draw_bce_logits(data, dtype, extreme):
    n, c = batch(data, min_c=1)
    pos_weight = values(data, (c,), dtype, 0.2, 5.0) if data.draw(st.booleans(), label="pos_weight") else None
    return ([logits(data, dtype, extreme, (n, c)), binary_target(data, (n, c), dtype)],
            {"pos_weight": pos_weight, "reduction": data.draw(REDUCTION)})


def draw_kl(data, dtype, extreme):
    n, c = batch(data)
    return ([torch.log_softmax(logits(data, dtype, extreme, (n, c)), -1),
             torch.softmax(logits(data, dtype, extreme, (n, c)), -1)], {})


def draw_pair(data, dtype, extreme):
    n = data.draw(st.integers(1, 8), label="N")
    ext = [1e6, -1e6, 3e4, -3e4] if extreme else ()
    return [values(data, (n,), dtype, -10, 10, ext), values(data, (n,), dtype, -10, 10, ext)], {}


def with_reduction(draw):
    def drawn(data, dtype, extreme):
        args, kwargs = draw(data, dtype, extreme)
        return args, {**kwargs, "reduction": data.draw(REDUCTION)}
    return drawn


def draw_huber(data, dtype, extreme):
    args, kwargs = with_reduction(draw_pair)(data, dtype, extreme)
    return args, {**kwargs, "delta": data.draw(st.sampled_from([0.1, 1.0, 2.5]))}


def draw_gaussian(data, dtype, extreme):
    (pred, target), _ = draw_pair(data, dtype, False)
    var = values(data, pred.shape, dtype, 1e-2, 10.0, [1e-9, 1e-7] if extreme else ())
    return [pred, target, var], {"full": data.draw(st.booleans()), "reduction": data.draw(REDUCTION)}


def draw_hinge(data, dtype, extreme):
    n = data.draw(st.integers(1, 8), label="N")
    targets = values(data, (n,), dtype, 0, 1).round() * 2 - 1
    return ([values(data, (n,), dtype, -3, 3, LOGIT_EXTREMES if extreme else ()), targets],
            {"margin": data.draw(st.sampled_from([0.5, 1.0])), "reduction": data.draw(REDUCTION)})


def draw_focal(data, dtype, extreme):
    n, c = batch(data)
    return ([logits(data, dtype, extreme, (n, c)), classes(data, n, c)],
            {"gamma": data.draw(st.sampled_from([0.0, 0.5, 1.0, 2.0])), "weight": class_weight(data, c, dtype),
             "reduction": data.draw(REDUCTION)})


def draw_poisson(data, dtype, extreme):
    n = data.draw(st.integers(1, 8), label="N")
    log_input = data.draw(st.booleans(), label="log_input")
    counts = values(data, (n,), dtype, 0, 20).round()
    if log_input:
        pred = values(data, (n,), dtype, -5, 5, [60.0, -60.0, 80.0] if extreme else ())
    else:
        pred = values(data, (n,), dtype, 0, 20, [0.0, 1e-9] if extreme else ())
    return [pred, counts], {"log_input": log_input, "full": data.draw(st.booleans()),
                            "reduction": data.draw(REDUCTION)}


def draw_multitask(data, dtype, extreme):
    n, c = batch(data)
    return ([logits(data, dtype, extreme, (n, c)), classes(data, n, c), values(data, (n,), dtype, -5, 5),
             values(data, (n,), dtype, -5, 5)], {"lam": data.draw(st.sampled_from([0.0, 0.5, 2.0]))})


def draw_l2(data, dtype, extreme):
    shapes = data.draw(st.lists(hnp.array_shapes(min_dims=1, max_dims=2, max_side=4), min_size=1, max_size=3))
    return [[values(data, s, dtype, -3, 3, [1e3, -1e3] if extreme else ()) for s in shapes]], \
        {"lam": data.draw(st.sampled_from([0.01, 1.0]))}


# --------------------------------------------------------------------------- torch's answers
def focal_ref(logits, targets, gamma=2.0, weight=None, reduction="mean"):
    ce = F.cross_entropy(logits, targets, reduction="none")
    loss = (1 - torch.exp(-ce)) ** gamma * ce
    w = torch.ones_like(loss) if weight is None else weight[targets]
    return (w * loss).sum() / w.sum() if reduction == "mean" else (w * loss).sum() if reduction == "sum" else w * loss


def hinge_ref(scores, targets, margin=1.0, reduction="mean", power=1):
    loss = torch.clamp(margin - targets * scores, min=0) ** power
    return loss.mean() if reduction == "mean" else loss.sum() if reduction == "sum" else loss


@dataclass(frozen=True)
class Loss:
    """One public loss: how to draw its arguments, torch's answer, the differentiable and the checkable args."""

    name: str
    ours: Callable
    torch: Callable
    draw: Callable
    grad: tuple[int, ...] = (0,)
    kinds: tuple[str, ...] = ("float",)  # per positional argument: "float", "index", "pm1", "list", "probs"
    saturates: bool = True  # softmax_naive overflows on purpose
    paired: bool = False  # its first two arguments must have one shape: (N, 1) against (N,) is refused


PAIR = {"kinds": ("float", "float"), "paired": True}  # two float tensors of one shape


def gaussian_ref(p, t, v, full, reduction):
    return F.gaussian_nll_loss(p, t, v, full=full, eps=1e-6, reduction=reduction)


def poisson_ref(p, t, log_input, full, reduction):
    return F.poisson_nll_loss(p, t, log_input=log_input, full=full, eps=1e-8, reduction=reduction)


LOSSES = [
    Loss("logsumexp", L.logsumexp, torch.logsumexp, draw_dim_logits),
    Loss("softmax", L.softmax, torch.softmax, draw_dim_logits),
    Loss("log_softmax", L.log_softmax, torch.log_softmax, draw_dim_logits),
    Loss("softmax_naive", L.softmax_naive, torch.softmax, draw_dim_logits, saturates=False),
    Loss("entropy", L.entropy, lambda p: torch.special.entr(p).sum(-1), draw_entropy, kinds=("probs",)),
    Loss("nll_loss", L.nll_loss, F.nll_loss, draw_nll, kinds=("float", "index")),
    Loss("cross_entropy", L.cross_entropy, F.cross_entropy, draw_ce, kinds=("float", "index")),
    Loss("cross_entropy (probability targets)", L.cross_entropy, F.cross_entropy, draw_ce_probs, grad=(0, 1),
         kinds=("float", "probs"), paired=True),
    Loss("binary_cross_entropy", L.binary_cross_entropy, F.binary_cross_entropy, draw_bce, **PAIR),
    Loss("binary_cross_entropy_with_logits", L.binary_cross_entropy_with_logits, F.binary_cross_entropy_with_logits,
         draw_bce_logits, grad=(0, 1), **PAIR),
    Loss("kl_div", L.kl_div, lambda q, p: F.kl_div(q, p, reduction="batchmean"), draw_kl, kinds=("float", "probs"),
         paired=True),
    Loss("mae", L.mae, F.l1_loss, with_reduction(draw_pair), grad=(0, 1), **PAIR),
    Loss("mse", L.mse, F.mse_loss, with_reduction(draw_pair), grad=(0, 1), **PAIR),
    Loss("rmse", L.rmse, lambda p, t: torch.sqrt(F.mse_loss(p, t)), draw_pair, grad=(0, 1), **PAIR),
    Loss("huber", L.huber, F.huber_loss, draw_huber, grad=(0, 1), **PAIR),
    Loss("gaussian_nll", L.gaussian_nll, gaussian_ref, draw_gaussian, grad=(0, 1, 2), kinds=("float",) * 3,
         paired=True),
    Loss("hinge", L.hinge, hinge_ref, draw_hinge, kinds=("float", "pm1"), paired=True),
    Loss("squared_hinge", L.squared_hinge, lambda *a, **k: hinge_ref(*a, **k, power=2), draw_hinge,
         kinds=("float", "pm1"), paired=True),
    Loss("focal_loss", L.focal_loss, focal_ref, draw_focal, kinds=("float", "index")),
    Loss("poisson_nll", L.poisson_nll, poisson_ref, draw_poisson, **PAIR),
    Loss("multitask_loss", L.multitask_loss, lambda z, y, c, t, lam: F.cross_entropy(z, y) + lam * F.mse_loss(c, t),
         draw_multitask, grad=(0, 2), kinds=("float", "index", "float", "float")),
    Loss("l2_penalty", L.l2_penalty, lambda ts, lam: lam * sum((t**2).sum() for t in ts), draw_l2, grad=(),
         kinds=("list",)),
]
IDS = [spec.name for spec in LOSSES]


def test_the_table_covers_every_public_loss():
    """A loss added to course_utils.losses needs its row here."""
    validators = {n for n in L.__all__ if n.startswith("require_") or n in ("REDUCTIONS", "reduce")}
    assert {n for n in L.__all__ if n not in validators} == {spec.ours.__name__ for spec in LOSSES}


# --------------------------------------------------------------------------- the properties
def leaves(args, positions):
    """Fresh float64/float32 leaves for the differentiable args (l2_penalty: every tensor of its list)."""
    out = [a.detach().clone().requires_grad_(True) if i in positions else a for i, a in enumerate(args)]
    if out and isinstance(out[0], list):  # l2_penalty
        out[0] = [t.detach().clone().requires_grad_(True) for t in out[0]]
    return out


def grads(value, args, positions):
    wrt = args[0] if args and isinstance(args[0], list) else [args[i] for i in positions]
    if not wrt:
        return []
    w = torch.linspace(0.5, 1.5, value.numel(), dtype=value.dtype).reshape(value.shape)
    return torch.autograd.grad(value, wrt, w, allow_unused=True)


def both(spec: Loss, args, kwargs):
    """(our value, torch's value, our gradients, torch's gradients) on the same arguments."""
    mine, theirs = leaves(args, spec.grad), leaves(args, spec.grad)
    a, b = spec.ours(*mine, **kwargs), spec.torch(*theirs, **kwargs)
    return a, b, grads(a, mine, spec.grad), grads(b, theirs, spec.grad)


@pytest.mark.parametrize("spec", LOSSES, ids=IDS)
@PROPERTY
@given(data=st.data())
def test_value_and_gradients_equal_torch_in_float64(spec, data):
    args, kwargs = spec.draw(data, torch.float64, False)
    a, b, ga, gb = both(spec, args, kwargs)
    assert a.dtype == b.dtype and a.shape == b.shape
    torch.testing.assert_close(a, b, rtol=1e-9, atol=1e-9)
    for x, y in zip(ga, gb, strict=True):
        torch.testing.assert_close(x, y, rtol=1e-8, atol=1e-9, equal_nan=True)  # rmse at r = 0: NaN in both


@pytest.mark.parametrize("spec", [s for s in LOSSES if s.saturates], ids=[s.name for s in LOSSES if s.saturates])
@PROPERTY
@given(data=st.data())
def test_float32_at_saturation_no_nan_where_torch_is_finite(spec, data):
    args, kwargs = spec.draw(data, torch.float32, True)
    a, b, ga, gb = both(spec, args, kwargs)
    assert a.dtype == b.dtype == torch.float32
    assert bool(torch.isfinite(a[torch.isfinite(b)]).all()), f"{spec.name}: value not finite where torch's is"
    torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4, equal_nan=True)
    for x, y in zip(ga, gb, strict=True):
        ok = torch.isfinite(y)
        assert bool(torch.isfinite(x[ok]).all()), f"{spec.name}: gradient NaN/inf where torch's is finite"
        torch.testing.assert_close(x[ok], y[ok], rtol=1e-3, atol=1e-4)
    if spec.name == "focal_loss":  # torch's own composition is NaN there for 0 < gamma < 1; ours must not be
        assert all(bool(torch.isfinite(x).all()) for x in ga)


def corruptions(kind: str, x, paired: bool = False):
    """(label, bad value, errors) replacing one argument of a kind; the message must name that argument."""
    if kind == "list":
        return [("a list holding an integer tensor", [torch.ones(2, dtype=torch.long)], (TypeError,))]
    common = [("a Python list", x.tolist(), (TypeError,))]
    if kind == "index":
        bad = x.clone()
        bad[0] = 99
        return common + [("an int32 tensor", x.int(), (TypeError,)), ("a uint8 tensor", x.to(torch.uint8), (TypeError,)),
                         ("a float tensor", x.double(), (TypeError,)), ("an index out of range", bad, (IndexError,))]
    nan = x.clone()
    nan.reshape(-1)[0] = float("nan")
    # an integer tensor where floats belong: TypeError, or ValueError where it reads as class indices of a wrong shape
    out = common + [("an integer tensor", x.round().long(), (TypeError, ValueError)), ("NaN", nan, (ValueError,))]
    if paired:
        out.append(("an extra dimension of size 1", x.unsqueeze(-1), (ValueError,)))
    if kind == "pm1":
        out.append(("0/1 labels", torch.zeros_like(x), (ValueError,)))
    return out


@pytest.mark.parametrize("spec", LOSSES, ids=IDS)
@BAD
@given(data=st.data())
def test_bad_arguments_are_refused_naming_them(spec, data):
    args, kwargs = spec.draw(data, torch.float64, False)
    names = list(inspect.signature(spec.ours).parameters)
    position = data.draw(st.integers(0, len(spec.kinds) - 1), label="argument")
    name = names[position]
    for label, bad, errors in corruptions(spec.kinds[position], args[position], spec.paired and position < 2):
        broken = list(args)
        broken[position] = bad
        with pytest.raises(errors) as info:
            spec.ours(*broken, **kwargs)
        assert name.split("_")[0] in str(info.value) or name in str(info.value), (spec.name, label, str(info.value))


def test_a_reduction_that_does_not_exist_is_refused_by_every_loss_that_takes_one():
    for spec in LOSSES:
        if "reduction" in inspect.signature(spec.ours).parameters and spec.name != "kl_div":
            data_args = {
                "nll_loss": ([torch.log_softmax(torch.zeros(2, 3), 1), torch.tensor([0, 1])]),
                "cross_entropy": ([torch.zeros(2, 3), torch.tensor([0, 1])]),
                "focal_loss": ([torch.zeros(2, 3), torch.tensor([0, 1])]),
                "hinge": ([torch.zeros(2), torch.tensor([1.0, -1.0])]),
                "squared_hinge": ([torch.zeros(2), torch.tensor([1.0, -1.0])]),
                "gaussian_nll": ([torch.zeros(2), torch.zeros(2), torch.ones(2)]),
            }.get(spec.ours.__name__, [torch.full((2,), 0.5), torch.full((2,), 0.5)])
            with pytest.raises(ValueError, match="reduction"):
                spec.ours(*data_args, reduction="average")


def test_binary_cross_entropy_of_a_saturated_sigmoid_has_torchs_gradient():
    """The case the issue found: sigmoid(17) rounds to 1 in float32; torch's gradient there is 0, not NaN."""
    z, y = torch.tensor([17.0, 40.0, -40.0, -120.0]), torch.tensor([1.0, 1.0, 0.0, 0.0])
    got = []
    for fn in (L.binary_cross_entropy, F.binary_cross_entropy):
        p = torch.sigmoid(z).requires_grad_(True)
        fn(p, y).backward()
        got.append(p.grad)
    assert torch.equal(got[0], got[1]) and got[0][0] == 0 and bool(torch.isfinite(got[0]).all())
    assert math.isfinite(L.binary_cross_entropy(torch.tensor([1.0]), torch.tensor([0.0])).item())
