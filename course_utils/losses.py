"""From-scratch reference implementations of the functions the lectures derive.

Each function is written with elementary tensor operations so a student can
read it line by line, and each is tested against ``torch.nn.functional`` (values
and gradients, float64) in ``tests/``. Bad input raises an error that names the
argument; nothing silently broadcasts or returns NaN.

Sections follow the weeks: 02 softmax family, 03 cross-entropy family,
04 regression losses, 06 losses for choosing and designing.
"""

from __future__ import annotations

import math

import torch

REDUCTIONS = ("mean", "sum", "none")


# --------------------------------------------------------------------------- validation helpers
def check_float_tensor(name: str, x, *, allow_empty: bool = False, finite: bool = True) -> torch.Tensor:
    """Raise a clear error unless ``x`` is a floating-point tensor (non-empty, no NaN)."""
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if not x.is_floating_point():
        raise TypeError(
            f"{name} must be a floating-point tensor (e.g. torch.float32), got {x.dtype}; "
            f"convert with {name}.float()"
        )
    if not allow_empty and x.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(x.shape)}")
    if finite and torch.isnan(x).any():
        raise ValueError(f"{name} contains NaN; check the values that produced it")
    return x


def check_dim(name: str, x: torch.Tensor, dim: int) -> int:
    """Normalise ``dim`` for ``x`` or raise naming the tensor and its shape."""
    if isinstance(dim, bool) or not isinstance(dim, int):
        raise TypeError(f"dim must be an int, got {type(dim).__name__}")
    if x.dim() == 0:
        raise ValueError(f"{name} must have at least one dimension, got a scalar")
    if not -x.dim() <= dim < x.dim():
        raise IndexError(f"dim={dim} is out of range for {name} of shape {tuple(x.shape)}")
    dim = dim % x.dim()
    if x.shape[dim] == 0:
        raise ValueError(f"{name} has size 0 along dim={dim} (shape {tuple(x.shape)}); nothing to normalise")
    return dim


def check_reduction(reduction: str) -> str:
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """Apply 'mean', 'sum' or 'none' to per-element losses."""
    check_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def check_same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """Refuse shapes that differ, including (N, 1) vs (N,), which would silently broadcast to (N, N)."""
    if a.shape != b.shape:
        hint = ""
        if a.dim() == b.dim() + 1 and a.shape[-1] == 1 or b.dim() == a.dim() + 1 and b.shape[-1] == 1:
            hint = " — (N, 1) against (N,) would broadcast to (N, N); use .squeeze(-1) or .view(-1)"
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}{hint}")


# --------------------------------------------------------------------------- week 02: softmax family
def logsumexp(x: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    """log(sum(exp(x))) along ``dim``, computed stably by factoring out the maximum (week 02).

    ``x``: (..., C, ...) → same shape without ``dim`` (or with size 1 if ``keepdim``).
    """
    check_float_tensor("x", x, finite=False)
    if torch.isnan(x).any():
        raise ValueError("x contains NaN; check the values that produced it")
    dim = check_dim("x", x, dim)
    m = x.amax(dim=dim, keepdim=True)
    # If a whole slice is -inf, keep m finite so that exp(x - m) is 0, not NaN.
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m)).detach()
    out = m + torch.log(torch.exp(x - m).sum(dim=dim, keepdim=True))
    return out if keepdim else out.squeeze(dim)


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``dim``, shifted by the max so it cannot overflow (week 02).

    ``x``: (..., C, ...) logits → probabilities of the same shape, summing to 1 along ``dim``.
    """
    check_float_tensor("x", x)
    dim = check_dim("x", x, dim)
    z = x - x.amax(dim=dim, keepdim=True).detach()  # shift invariance: same result, no overflow
    e = torch.exp(z)
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """x - logsumexp(x) along ``dim``: log-probabilities without ever forming exp(x) (week 02).

    ``x``: (..., C, ...) logits → log-probabilities of the same shape.
    """
    check_float_tensor("x", x)
    dim = check_dim("x", x, dim)
    # Subtract the max first and the log of the sum second: adding the max back in
    # (x - logsumexp(x)) would round away the small digits of the winning class in float32.
    z = x - x.amax(dim=dim, keepdim=True).detach()
    return z - torch.log(torch.exp(z).sum(dim=dim, keepdim=True))


def softmax_naive(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """The textbook formula without the max shift: overflows for large logits (week 02 demo only)."""
    check_float_tensor("x", x)
    dim = check_dim("x", x, dim)
    e = torch.exp(x)
    return e / e.sum(dim=dim, keepdim=True)


def entropy(p: torch.Tensor, dim: int = -1, *, base: float = math.e) -> torch.Tensor:
    """H(p) = -sum p log p along ``dim`` (0 log 0 taken as 0); ``base=2`` gives bits (weeks 02-03)."""
    check_float_tensor("p", p)
    dim = check_dim("p", p, dim)
    if (p < 0).any():
        raise ValueError("p must be a probability vector: it has negative entries")
    sums = p.sum(dim=dim)
    if not torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
        raise ValueError(f"p must sum to 1 along dim={dim}; sums range from {sums.min().item():.4g} to {sums.max().item():.4g}")
    if base <= 0 or base == 1:
        raise ValueError(f"base must be positive and not 1, got {base}")
    plogp = torch.where(p > 0, p * torch.log(torch.where(p > 0, p, torch.ones_like(p))), torch.zeros_like(p))
    return -plogp.sum(dim=dim) / math.log(base)


# --------------------------------------------------------------------------- week 03: cross-entropy family
def _check_class_scores(name: str, x) -> torch.Tensor:
    """Week 03: ``x`` must be float scores of shape (C,) or (N, C), classes along the last dim."""
    check_float_tensor(name, x)
    if x.dim() not in (1, 2):
        raise ValueError(f"{name} must have shape (C,) for one sample or (N, C) for a batch, got {tuple(x.shape)}")
    return x


def _check_log_probs(name: str, x: torch.Tensor, hint: str = "raw logits? apply log_softmax first") -> None:
    """Week 03: refuse scores that are not log-probabilities (exp must sum to 1 over the last dim)."""
    sums = torch.exp(x.detach()).sum(dim=-1)
    if not torch.allclose(sums, torch.ones_like(sums), atol=1e-4) or (x > 1e-6).any():
        raise ValueError(
            f"{name} must be log-probabilities (exp({name}) sums to 1 over the classes), but the sums range from "
            f"{sums.min().item():.4g} to {sums.max().item():.4g} — {hint}"
        )


def _check_probabilities(name: str, p: torch.Tensor) -> None:
    """Week 03: ``p`` (..., C) must be non-negative and sum to 1 over the last dim."""
    if (p < 0).any():
        raise ValueError(f"{name} must hold probabilities, but it has negative entries (min {p.min().item():.4g})")
    sums = p.detach().sum(dim=-1)
    if not torch.allclose(sums, torch.ones_like(sums), atol=1e-4):
        raise ValueError(
            f"{name} must sum to 1 over the classes (last dim); sums range from "
            f"{sums.min().item():.4g} to {sums.max().item():.4g}"
        )


def _check_weight(weight, n_classes: int) -> None:
    """Week 03: class weights are a float tensor (C,) of non-negative numbers."""
    check_float_tensor("weight", weight)
    if weight.shape != (n_classes,):
        raise ValueError(f"weight must have one entry per class, shape ({n_classes},), got {tuple(weight.shape)}")
    if (weight < 0).any():
        raise ValueError("weight must be non-negative")


def _check_index_target(target: torch.Tensor, logits: torch.Tensor, ignore_index: int) -> None:
    """Week 03: integer class indices (N,) in [0, C) (or ignore_index) for logits (N, C)."""
    n_classes = logits.shape[-1]
    want = tuple(logits.shape[:-1])
    if tuple(target.shape) != want:
        raise ValueError(
            f"target must have shape {want} (one class index per sample) for logits of shape "
            f"{tuple(logits.shape)}, got {tuple(target.shape)}"
        )
    bad = (target != ignore_index) & ((target < 0) | (target >= n_classes))
    if bad.any():
        raise IndexError(
            f"target must hold class indices in [0, {n_classes - 1}] (or ignore_index={ignore_index}), "
            f"found {target[bad].flatten()[0].item()}"
        )


def _nll_index(logp, target, weight, ignore_index: int, reduction: str):
    """Week 03: -weight[y] * logp[n, y] per sample; 'mean' divides by the summed weights. (N, C), (N,)."""
    keep = target != ignore_index
    safe = torch.where(keep, target, torch.zeros_like(target)).long()
    picked = logp.gather(-1, safe.unsqueeze(-1)).squeeze(-1)
    w = weight[safe] if weight is not None else torch.ones_like(picked)
    w = torch.where(keep, w, torch.zeros_like(w))
    loss = torch.where(keep, -w * picked, torch.zeros_like(picked))
    if reduction == "mean":
        return loss.sum() / w.sum()  # a weighted mean, as torch does (NaN if every target is ignored)
    return reduce(loss, reduction)


def nll_loss(log_probs: torch.Tensor, target: torch.Tensor, *, weight: torch.Tensor | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> torch.Tensor:
    """Negative log-likelihood of the target classes (week 03), like ``F.nll_loss``.

    ``log_probs``: (N, C) or (C,) log-probabilities, ``target``: (N,) or () class indices
    → scalar ('mean', 'sum') or (N,) ('none'). Unlike torch, refuses raw logits.
    """
    _check_class_scores("log_probs", log_probs)
    _check_log_probs("log_probs", log_probs)
    check_reduction(reduction)
    if not isinstance(target, torch.Tensor) or target.is_floating_point() or target.dtype == torch.bool:
        raise TypeError("target must be an integer tensor of class indices (e.g. torch.tensor([2, 0]))")
    _check_index_target(target, log_probs, ignore_index)
    if weight is not None:
        _check_weight(weight, log_probs.shape[-1])
    return _nll_index(log_probs, target, weight, ignore_index, reduction)


def _ce_index(logp, target, weight, ignore_index: int, reduction: str, eps: float):
    """Week 03: cross-entropy with index targets (N,), optional label smoothing ``eps`` as in torch."""
    nll = _nll_index(logp, target, weight, ignore_index, reduction)
    if eps == 0:
        return nll
    n_classes = logp.shape[-1]
    keep = target != ignore_index
    w = weight if weight is not None else logp.new_ones(n_classes)
    smooth = torch.where(keep, -(logp * w).sum(-1), torch.zeros_like(logp[..., 0]))
    if reduction == "mean":
        safe = torch.where(keep, target, torch.zeros_like(target)).long()
        smooth = smooth.sum() / torch.where(keep, w[safe], torch.zeros_like(w[safe])).sum()
    else:
        smooth = reduce(smooth, reduction)
    return (1 - eps) * nll + smooth * (eps / n_classes)


def _ce_prob(logp, target, weight, reduction: str, eps: float):
    """Week 03: cross-entropy with probability targets (N, C); 'mean' divides by N, as torch does."""
    n_classes = logp.shape[-1]
    if eps > 0:
        target = target * (1 - eps) + eps / n_classes
    w = weight if weight is not None else torch.ones(n_classes, dtype=logp.dtype, device=logp.device)
    per_sample = -(logp * target * w).sum(-1)
    return reduce(per_sample, reduction)


def cross_entropy(logits: torch.Tensor, target: torch.Tensor, *, weight: torch.Tensor | None = None,
                  ignore_index: int = -100, reduction: str = "mean", label_smoothing: float = 0.0,
                  from_logits: bool = True) -> torch.Tensor:
    """-sum_c target_c log softmax(logits)_c per sample, then reduced (week 03), like ``F.cross_entropy``.

    ``logits``: (N, C) or (C,) raw scores (log-probabilities if ``from_logits=False``);
    ``target``: (N,) integer class indices or (N, C) probabilities → scalar, or (N,) with 'none'.
    """
    _check_class_scores("logits", logits)
    check_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing}")
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    if weight is not None:
        _check_weight(weight, logits.shape[-1])
    if from_logits:
        logp = log_softmax(logits, dim=-1)
    else:
        _check_log_probs("logits", logits, "raw logits? call with from_logits=True")
        logp = logits
    if target.dtype == torch.bool:
        raise TypeError("target must be class indices (integer) or probabilities (float), got torch.bool")
    if not target.is_floating_point():
        _check_index_target(target, logits, ignore_index)
        return _ce_index(logp, target, weight, ignore_index, reduction, label_smoothing)
    if target.shape == logits.shape[:-1]:
        raise TypeError(f"target of shape {tuple(target.shape)} looks like class indices but has dtype "
                        f"{target.dtype}; convert with target.long()")
    check_same_shape("logits", logits, "target", target)
    _check_probabilities("target", target)
    if ignore_index >= 0:
        raise ValueError("ignore_index works only with class-index targets, not with probability targets")
    return _ce_prob(logp, target, weight, reduction, label_smoothing)


def _check_binary(name: str, x, target) -> None:
    """Week 03: float ``x`` and ``target`` of one shape, targets in [0, 1]."""
    check_float_tensor(name, x)
    check_float_tensor("target", target)
    check_same_shape(name, x, "target", target)
    if ((target < 0) | (target > 1)).any():
        raise ValueError("target must lie in [0, 1] (labels 0/1 or soft labels)")


def _apply_weight(loss: torch.Tensor, weight) -> torch.Tensor:
    """Week 03: multiply per-element losses by ``weight`` if it broadcasts to their shape."""
    if weight is None:
        return loss
    check_float_tensor("weight", weight)
    try:
        ok = torch.broadcast_shapes(weight.shape, loss.shape) == loss.shape
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(f"weight of shape {tuple(weight.shape)} does not broadcast to the loss shape {tuple(loss.shape)}")
    return loss * weight


def binary_cross_entropy(probs: torch.Tensor, target: torch.Tensor, *, weight: torch.Tensor | None = None,
                         reduction: str = "mean") -> torch.Tensor:
    """-[y log p + (1 - y) log(1 - p)] per element, logs clamped at -100 as torch does (week 03).

    ``probs``: (...) probabilities from a sigmoid, ``target``: same shape, in [0, 1] → reduced loss.
    """
    _check_binary("probs", probs, target)
    check_reduction(reduction)
    if ((probs < 0) | (probs > 1)).any():
        raise ValueError(
            f"probs must lie in [0, 1], got values from {probs.min().item():.4g} to {probs.max().item():.4g} — "
            "raw logits? use binary_cross_entropy_with_logits"
        )
    log_p = torch.clamp(torch.log(probs), min=-100.0)
    log_1mp = torch.clamp(torch.log1p(-probs), min=-100.0)
    loss = -(target * log_p + (1 - target) * log_1mp)
    return reduce(_apply_weight(loss, weight), reduction)


def binary_cross_entropy_with_logits(logits: torch.Tensor, target: torch.Tensor, *,
                                     weight: torch.Tensor | None = None, pos_weight: torch.Tensor | None = None,
                                     reduction: str = "mean") -> torch.Tensor:
    """BCE on sigmoid(logits) without forming the sigmoid: stable for any logit (week 03).

    Uses log(1 + e^-x) = max(-x, 0) + log1p(e^-|x|) (the log-sum-exp trick).
    ``logits``: (...), ``target``: same shape in [0, 1]; ``pos_weight`` scales the positive term.
    """
    _check_binary("logits", logits, target)
    check_reduction(reduction)
    # -|x| and max(-x, 0) written with where so that the gradient at x = 0 is the true one, sigmoid(0) - y.
    neg_abs = torch.where(logits >= 0, -logits, logits)
    softplus_neg = torch.where(logits >= 0, torch.zeros_like(logits), -logits) + torch.log1p(torch.exp(neg_abs))
    if pos_weight is None:
        loss = (1 - target) * logits + softplus_neg
    else:
        check_float_tensor("pos_weight", pos_weight)
        loss = (1 - target) * logits + (1 + (pos_weight - 1) * target) * softplus_neg
    return reduce(_apply_weight(loss, weight), reduction)


def kl_div(log_q: torch.Tensor, p: torch.Tensor, *, reduction: str = "batchmean",
           log_target: bool = False) -> torch.Tensor:
    """KL(p || q) = sum p (log p - log q), argument order as ``F.kl_div`` (week 03).

    ``log_q``: (N, C) or (C,) model log-probabilities, ``p``: same shape, target probabilities
    (log-probabilities if ``log_target``). 'batchmean' (default) is the true KL averaged over samples.
    """
    _check_class_scores("log_q", log_q)
    check_float_tensor("p", p)
    check_same_shape("log_q", log_q, "p", p)
    _check_log_probs("log_q", log_q)
    if reduction not in REDUCTIONS + ("batchmean",):
        raise ValueError(f"reduction must be one of {REDUCTIONS + ('batchmean',)}, got {reduction!r}")
    if log_target:
        _check_log_probs("p", p)
        pointwise = torch.exp(p) * (p - log_q)
    else:
        _check_probabilities("p", p)
        plogp = torch.where(p > 0, p * torch.log(torch.where(p > 0, p, torch.ones_like(p))), torch.zeros_like(p))
        pointwise = plogp - p * log_q
    if reduction == "batchmean":
        n = log_q.shape[0] if log_q.dim() == 2 else 1  # a single (C,) distribution counts as one sample
        return pointwise.sum() / n
    return reduce(pointwise, reduction)


# --------------------------------------------------------------------------- week 04: regression losses
def _residual(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """pred - target after refusing non-float input and mismatched shapes (week 04): (...) → (...)."""
    check_float_tensor("pred", pred)
    check_float_tensor("target", target)
    check_same_shape("pred", pred, "target", target)
    return pred - target


def mae(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean absolute error (L1 loss), mean(|pred - target|) (week 04).

    ``pred``, ``target``: same shape (...) → scalar, or (...) with ``reduction="none"``.
    Equals ``torch.nn.L1Loss``; its gradient at a zero residual is 0, as in torch.
    """
    check_reduction(reduction)
    return reduce(_residual(pred, target).abs(), reduction)


def mse(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean squared error (L2 loss), mean((pred - target)**2) (week 04).

    ``pred``, ``target``: same shape (...) → scalar, or (...) with ``reduction="none"``.
    Equals ``torch.nn.MSELoss``.
    """
    check_reduction(reduction)
    return reduce(_residual(pred, target) ** 2, reduction)


def rmse(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Root mean squared error, sqrt(mean((pred - target)**2)), in the target's units (week 04).

    ``pred``, ``target``: same shape (...) → scalar. The square root comes *after* the mean:
    it is not the mean of |residual|. Its gradient is undefined (NaN) when every residual is 0.
    """
    return torch.sqrt(mse(pred, target, reduction="mean"))


def huber(pred: torch.Tensor, target: torch.Tensor, delta: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    """Huber loss: r²/2 for |r| < delta, delta·(|r| - delta/2) beyond, r = pred - target (week 04).

    ``pred``, ``target``: same shape (...) → scalar, or (...) with ``reduction="none"``.
    Equals ``torch.nn.HuberLoss(delta=delta)``; ``torch.nn.SmoothL1Loss(beta=delta)`` is this divided by delta.
    """
    if isinstance(delta, bool) or not isinstance(delta, (int, float)) or not math.isfinite(delta) or delta <= 0:
        raise ValueError(f"delta must be a positive finite number (the residual where Huber turns linear), got {delta!r}")
    check_reduction(reduction)
    a = _residual(pred, target).abs()
    quadratic = 0.5 * a**2
    linear = delta * (a - 0.5 * delta)
    return reduce(torch.where(a < delta, quadratic, linear), reduction)


def gaussian_nll(
    pred: torch.Tensor,
    target: torch.Tensor,
    var: torch.Tensor | float,
    *,
    full: bool = False,
    eps: float = 1e-6,
    reduction: str = "mean",
) -> torch.Tensor:
    """Gaussian negative log-likelihood ½(log var + (target - pred)²/var) [+ ½ log 2π if ``full``] (week 04).

    ``pred``, ``target``: same shape (...); ``var``: a float or a tensor of that shape (variance, > 0).
    Returns a scalar, or (...) with ``reduction="none"``. Equals ``torch.nn.GaussianNLLLoss``
    (var is clamped to at least ``eps`` for the value, the gradient passes through as in torch).
    """
    check_reduction(reduction)
    r = _residual(pred, target)
    if isinstance(var, bool) or not isinstance(var, (int, float, torch.Tensor)):
        raise TypeError(f"var must be a float or a tensor of variances, got {type(var).__name__}")
    if not isinstance(var, torch.Tensor):
        var = torch.full_like(r, float(var))
    check_float_tensor("var", var)
    if var.dim() > 0 and var.shape != r.shape:
        raise ValueError(f"var must be a float, a scalar tensor or have the shape of pred {tuple(r.shape)}, "
                         f"got {tuple(var.shape)}")
    if (var < 0).any():
        raise ValueError("var must be non-negative (it is a variance); it has negative entries")
    var = var + (var.clamp(min=eps) - var).detach()  # clamp the value, keep the gradient (as torch does)
    loss = 0.5 * (torch.log(var) + r**2 / var)
    if full:
        loss = loss + 0.5 * math.log(2 * math.pi)
    return reduce(loss, reduction)


# --------------------------------------------------------------------------- week 06: choosing a loss
def _check_pm1_targets(name: str, y: torch.Tensor) -> None:
    """Week 06: hinge losses need labels coded as -1 / +1, not 0 / 1."""
    if not ((y == 1) | (y == -1)).all():
        bad = y[(y != 1) & (y != -1)][0].item()
        hint = " — recode 0/1 labels with 2 * y - 1" if ((y == 0) | (y == 1)).all() else ""
        raise ValueError(f"{name} must contain only -1 and +1, found {bad:g}{hint}")


def _check_margin(margin) -> float:
    if isinstance(margin, bool) or not isinstance(margin, (int, float)) or not math.isfinite(margin) or margin < 0:
        raise ValueError(f"margin must be a finite number >= 0, got {margin!r}")
    return float(margin)


def hinge(scores: torch.Tensor, targets: torch.Tensor, margin: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    """max(0, margin - y * s) for labels y in {-1, +1} (week 06).

    ``scores``: (N,) raw outputs (one logit per sample), ``targets``: (N,) of -1/+1 →
    scalar, or (N,) with ``reduction="none"``. Zero once a sample is on the right side by ``margin``.
    """
    check_float_tensor("scores", scores)
    check_float_tensor("targets", targets)
    check_same_shape("scores", scores, "targets", targets)
    _check_pm1_targets("targets", targets)
    margin = _check_margin(margin)
    check_reduction(reduction)
    return reduce(torch.clamp(margin - targets * scores, min=0.0), reduction)


def squared_hinge(scores: torch.Tensor, targets: torch.Tensor, margin: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    """max(0, margin - y * s)² for labels y in {-1, +1}: smooth at the margin (week 06).

    ``scores``, ``targets``: (N,) → scalar, or (N,) with ``reduction="none"``.
    """
    return reduce(hinge(scores, targets, margin=margin, reduction="none") ** 2, check_reduction(reduction))


def _check_class_targets(logits: torch.Tensor, targets) -> None:
    if not isinstance(targets, torch.Tensor) or targets.dtype != torch.long:
        got = targets.dtype if isinstance(targets, torch.Tensor) else type(targets).__name__
        raise TypeError(f"targets must be a torch.long tensor of class indices, got {got}")
    if logits.dim() != 2:
        raise ValueError(f"logits must have shape (N, C), got {tuple(logits.shape)}")
    if targets.shape != logits.shape[:1]:
        raise ValueError(f"targets must have shape (N,) = ({logits.shape[0]},) to match logits, got {tuple(targets.shape)}")
    if ((targets < 0) | (targets >= logits.shape[1])).any():
        raise ValueError(f"targets must be class indices in [0, {logits.shape[1] - 1}], "
                         f"got values from {targets.min().item()} to {targets.max().item()}")


def _check_class_weight(weight, n_classes: int) -> None:
    if weight is None:
        return
    check_float_tensor("weight", weight)
    if weight.shape != (n_classes,):
        raise ValueError(f"weight must have shape (C,) = ({n_classes},), one weight per class, got {tuple(weight.shape)}")
    if (weight < 0).any():
        raise ValueError("weight must be >= 0 for every class")


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, gamma: float = 2.0, weight: torch.Tensor | None = None,
               reduction: str = "mean") -> torch.Tensor:
    """-(1 - p_t)^gamma · log p_t: cross-entropy that down-weights easy samples (week 06).

    ``logits``: (N, C), ``targets``: (N,) long class indices, ``weight``: optional (C,) class
    weights → scalar ("mean" divides by the summed weights, like ``F.cross_entropy``), or (N,).
    ``gamma = 0`` gives (weighted) cross-entropy.
    """
    check_float_tensor("logits", logits)
    _check_class_targets(logits, targets)
    if isinstance(gamma, bool) or not isinstance(gamma, (int, float)) or not math.isfinite(gamma) or gamma < 0:
        raise ValueError(f"gamma must be a finite number >= 0, got {gamma!r}")
    _check_class_weight(weight, logits.shape[1])
    check_reduction(reduction)
    z = logits - logits.amax(dim=1, keepdim=True).detach()
    log_p = (z - torch.log(torch.exp(z).sum(dim=1, keepdim=True))).gather(1, targets.view(-1, 1)).squeeze(1)
    loss = -((1.0 - torch.exp(log_p)) ** gamma) * log_p
    w = torch.ones_like(loss) if weight is None else weight.to(loss.dtype)[targets]
    if reduction == "mean":
        return (w * loss).sum() / w.sum()
    return reduce(w * loss, reduction)


def multitask_loss(species_logits: torch.Tensor, species: torch.Tensor, count_pred: torch.Tensor,
                   count: torch.Tensor, lam: float = 1.0, *, return_parts: bool = False):
    """Cross-entropy of the class head + lam · MSE of the regression head (week 06).

    ``species_logits``: (N, C), ``species``: (N,) long; ``count_pred``, ``count``: (N,) float.
    Returns a scalar, or ``(total, ce, mse)`` with ``return_parts=True``.
    """
    check_float_tensor("species_logits", species_logits)
    _check_class_targets(species_logits, species)
    check_float_tensor("count_pred", count_pred)
    check_float_tensor("count", count)
    check_same_shape("count_pred", count_pred, "count", count)
    if count_pred.shape[0] != species_logits.shape[0]:
        raise ValueError(f"both heads need the same batch size N, got {species_logits.shape[0]} logits rows "
                         f"and {count_pred.shape[0]} count predictions")
    if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not math.isfinite(lam) or lam < 0:
        raise ValueError(f"lam must be a finite number >= 0, got {lam!r}")
    ce = focal_loss(species_logits, species, gamma=0.0)
    mse = ((count_pred - count) ** 2).mean()
    total = ce + lam * mse
    return (total, ce, mse) if return_parts else total


def l2_penalty(params, lam: float = 1.0, *, weights_only: bool = True) -> torch.Tensor:
    """lam · Σ w² over a model's weights, the term added to the loss for L2 regularisation (week 06).

    ``params``: an ``nn.Module`` or an iterable of tensors. With ``weights_only`` a module's 1-D
    parameters (biases) are left out, as is usual. Returns a scalar tensor that carries gradients.
    """
    if isinstance(lam, bool) or not isinstance(lam, (int, float)) or not math.isfinite(lam) or lam < 0:
        raise ValueError(f"lam must be a finite number >= 0, got {lam!r}")
    if isinstance(params, torch.nn.Module):
        tensors = [p for p in params.parameters() if p.dim() > 1 or not weights_only]
    elif isinstance(params, torch.Tensor):
        raise TypeError("params must be an nn.Module or a list of tensors; wrap a single tensor as [w]")
    else:
        tensors = list(params)
    if not tensors:
        raise ValueError("params holds no tensors to penalise")
    for i, t in enumerate(tensors):
        check_float_tensor(f"params[{i}]", t)
    return lam * sum((t**2).sum() for t in tensors)
