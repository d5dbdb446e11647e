"""The cross-entropy family, derived in week 03: NLL, cross-entropy, binary cross-entropy, KL divergence."""

from __future__ import annotations

import torch

from ._validate import (
    REDUCTIONS,
    reduce,
    require_class_scores,
    require_class_targets,
    require_class_weight,
    require_float_tensor,
    require_log_probs,
    require_probabilities,
    require_reduction,
    require_same_shape,
)
from .softmax import log_softmax


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


def _classes_last(name: str, scores, target):
    """Week 03: (N, C, d1, ...) scores with class-index targets (N, d1, ...) as (M, C) and (M,), M = N·d1·…

    torch puts the classes in dim 1 whenever there are more than two dimensions (sequences (N, C, L),
    images (N, C, H, W)); every position is one sample. Returns the flattened pair and the shape that
    reduction='none' gives back, or the inputs unchanged (and None) for (C,) and (N, C).
    """
    if not isinstance(scores, torch.Tensor) or scores.dim() <= 2:
        return scores, target, None
    require_float_tensor(name, scores)
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    n, c, *rest = scores.shape
    if target.is_floating_point() and tuple(target.shape) == (n, *rest):
        raise TypeError(f"target of shape {tuple(target.shape)} looks like class indices but has dtype "
                        f"{target.dtype}; convert with target.long()")
    if target.is_floating_point():  # probability targets have the scores' own shape, classes in dim 1
        require_same_shape(name, scores, "target", target)
        return scores.movedim(1, -1).reshape(-1, c), target.movedim(1, -1).reshape(-1, c), (n, *rest)
    if tuple(target.shape) != (n, *rest):
        raise ValueError(f"target must have shape {(n, *rest)} for {name} of shape {tuple(scores.shape)} (the classes "
                         f"are dim 1, of size {c}), got {tuple(target.shape)} — classes last? use {name}.movedim(-1, 1)")
    return scores.movedim(1, -1).reshape(-1, c), target.reshape(-1), (n, *rest)


def _unflatten(loss: torch.Tensor, shape, reduction: str) -> torch.Tensor:
    return loss.reshape(shape) if shape is not None and reduction == "none" else loss


def nll_loss(log_probs: torch.Tensor, target: torch.Tensor, *, weight: torch.Tensor | None = None,
             ignore_index: int = -100, reduction: str = "mean") -> torch.Tensor:
    """Negative log-likelihood of the target classes (week 03), like ``F.nll_loss``.

    ``log_probs``: (N, C) or (C,) log-probabilities, or (N, C, d1, ...) with the classes in dim 1;
    ``target``: (N,), () or (N, d1, ...) class indices → scalar ('mean', 'sum') or the target's shape
    ('none'). Unlike torch, refuses raw logits.
    """
    log_probs, target, shape = _classes_last("log_probs", log_probs, target)
    require_class_scores("log_probs", log_probs)
    require_log_probs("log_probs", log_probs)
    require_reduction(reduction)
    require_class_targets(target, log_probs, ignore_index=ignore_index)
    if weight is not None:
        require_class_weight(weight, log_probs.shape[-1])
    return _unflatten(_nll_index(log_probs, target, weight, ignore_index, reduction), shape, reduction)


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

    ``logits``: (N, C) or (C,) raw scores (log-probabilities if ``from_logits=False``), or (N, C, d1, ...)
    with the classes in dim 1 as in torch; ``target``: (N,) / (N, d1, ...) integer class indices or
    probabilities of the logits' shape → scalar, or one loss per sample (position) with 'none'.
    """
    logits, target, shape = _classes_last("logits", logits, target)
    return _unflatten(_cross_entropy(logits, target, weight, ignore_index, reduction, label_smoothing, from_logits),
                      shape, reduction)


def _cross_entropy(logits, target, weight, ignore_index: int, reduction: str, label_smoothing: float,
                   from_logits: bool) -> torch.Tensor:
    """Week 03: :func:`cross_entropy` for (C,) or (N, C) logits."""
    require_class_scores("logits", logits)
    require_reduction(reduction)
    if not 0.0 <= label_smoothing <= 1.0:
        raise ValueError(f"label_smoothing must lie in [0, 1], got {label_smoothing}")
    if not isinstance(target, torch.Tensor):
        raise TypeError(f"target must be a torch.Tensor, got {type(target).__name__}")
    if weight is not None:
        require_class_weight(weight, logits.shape[-1])
    if from_logits:
        logp = log_softmax(logits, dim=-1)
    else:
        require_log_probs("logits", logits, "raw logits? call with from_logits=True")
        logp = logits
    if target.dtype == torch.bool:
        raise TypeError("target must be class indices (integer) or probabilities (float), got torch.bool")
    if not target.is_floating_point():
        require_class_targets(target, logits, ignore_index=ignore_index)
        return _ce_index(logp, target, weight, ignore_index, reduction, label_smoothing)
    if target.shape == logits.shape[:-1]:
        raise TypeError(f"target of shape {tuple(target.shape)} looks like class indices but has dtype "
                        f"{target.dtype}; convert with target.long()")
    require_same_shape("logits", logits, "target", target)
    require_probabilities("target", target)
    if ignore_index >= 0:
        raise ValueError("ignore_index works only with class-index targets, not with probability targets")
    return _ce_prob(logp, target, weight, reduction, label_smoothing)


def _require_binary(name: str, x, target) -> None:
    """Week 03: float ``x`` and ``target`` of one shape, targets in [0, 1]."""
    require_float_tensor(name, x)
    require_float_tensor("target", target)
    require_same_shape(name, x, "target", target)
    if ((target < 0) | (target > 1)).any():
        raise ValueError("target must lie in [0, 1] (labels 0/1 or soft labels)")


def _apply_weight(loss: torch.Tensor, weight) -> torch.Tensor:
    """Week 03: multiply per-element losses by ``weight`` if it broadcasts to their shape."""
    if weight is None:
        return loss
    require_float_tensor("weight", weight)
    try:
        ok = torch.broadcast_shapes(weight.shape, loss.shape) == loss.shape
    except RuntimeError:
        ok = False
    if not ok:
        raise ValueError(f"weight of shape {tuple(weight.shape)} does not broadcast to the loss shape {tuple(loss.shape)}")
    return loss * weight


class _BCEOnProbabilities(torch.autograd.Function):
    """Week 03: per-element -[y log p + (1 - y) log(1 - p)], logs clamped at -100, with torch's backward.

    The derivative (p - y) / (p (1 - p)) is divided by max(p (1 - p), 1e-12) instead, as in torch, so a
    saturated sigmoid (p rounded to exactly 0 or 1) gives a finite gradient — and, through the sigmoid,
    a gradient of 0 for its logit — rather than 0 · inf = NaN.
    """

    @staticmethod
    def forward(ctx, probs, target):
        ctx.save_for_backward(probs, target)
        log_p = torch.clamp(torch.log(probs), min=-100.0)
        log_1mp = torch.clamp(torch.log1p(-probs), min=-100.0)
        return -(target * log_p + (1 - target) * log_1mp)

    @staticmethod
    def backward(ctx, grad):
        probs, target = ctx.saved_tensors
        d_probs = grad * (probs - target) / torch.clamp(probs * (1 - probs), min=1e-12)
        d_target = grad * (torch.log1p(-probs) - torch.log(probs))  # as torch: not clamped
        return d_probs, d_target


def binary_cross_entropy(probs: torch.Tensor, target: torch.Tensor, *, weight: torch.Tensor | None = None,
                         reduction: str = "mean") -> torch.Tensor:
    """-[y log p + (1 - y) log(1 - p)] per element, logs clamped at -100 as torch does (week 03).

    ``probs``: (...) probabilities from a sigmoid, ``target``: same shape, in [0, 1] → reduced loss.
    Gradients as torch's: finite where the sigmoid saturated (p exactly 0 or 1).
    """
    _require_binary("probs", probs, target)
    require_reduction(reduction)
    if ((probs < 0) | (probs > 1)).any():
        raise ValueError(
            f"probs must lie in [0, 1], got values from {probs.min().item():.4g} to {probs.max().item():.4g} — "
            "raw logits? use binary_cross_entropy_with_logits"
        )
    loss = _BCEOnProbabilities.apply(probs, target)
    return reduce(_apply_weight(loss, weight), reduction)


def _require_pos_weight(pos_weight, logits: torch.Tensor) -> None:
    """Week 03: pos_weight is a number or (C,) along the logits' last dimension — never broadcast into a bigger loss."""
    require_float_tensor("pos_weight", pos_weight)
    c = logits.shape[-1] if logits.dim() else 1
    if pos_weight.dim() > 1 or pos_weight.numel() not in (1, c):
        raise ValueError(f"pos_weight must be one number or have shape ({c},), one weight per label along the last "
                         f"dimension of logits {tuple(logits.shape)}; got shape {tuple(pos_weight.shape)}")
    if (pos_weight < 0).any():
        raise ValueError("pos_weight must be non-negative")


def binary_cross_entropy_with_logits(logits: torch.Tensor, target: torch.Tensor, *,
                                     weight: torch.Tensor | None = None, pos_weight: torch.Tensor | None = None,
                                     reduction: str = "mean") -> torch.Tensor:
    """BCE on sigmoid(logits) without forming the sigmoid: stable for any logit (week 03).

    Uses log(1 + e^-x) = max(-x, 0) + log1p(e^-|x|) (the log-sum-exp trick).
    ``logits``: (...), ``target``: same shape in [0, 1]; ``pos_weight``: one number, or (C,) with one
    weight per label of the last dimension (multi-label (N, C)), scales the positive term.
    """
    _require_binary("logits", logits, target)
    require_reduction(reduction)
    # -|x| and max(-x, 0) written with where so that the gradient at x = 0 is the true one, sigmoid(0) - y.
    neg_abs = torch.where(logits >= 0, -logits, logits)
    softplus_neg = torch.where(logits >= 0, torch.zeros_like(logits), -logits) + torch.log1p(torch.exp(neg_abs))
    if pos_weight is None:
        loss = (1 - target) * logits + softplus_neg
    else:
        _require_pos_weight(pos_weight, logits)
        loss = (1 - target) * logits + (1 + (pos_weight - 1) * target) * softplus_neg
    return reduce(_apply_weight(loss, weight), reduction)


def kl_div(log_q: torch.Tensor, p: torch.Tensor, *, reduction: str = "batchmean",
           log_target: bool = False) -> torch.Tensor:
    """KL(p || q) = sum p (log p - log q), argument order as ``F.kl_div`` (week 03).

    ``log_q``: (N, C) or (C,) model log-probabilities, ``p``: same shape, target probabilities
    (log-probabilities if ``log_target``). 'batchmean' (default) is the true KL averaged over samples.
    """
    require_class_scores("log_q", log_q)
    require_float_tensor("p", p)
    require_same_shape("log_q", log_q, "p", p)
    require_log_probs("log_q", log_q)
    if reduction not in REDUCTIONS + ("batchmean",):
        raise ValueError(f"reduction must be one of {REDUCTIONS + ('batchmean',)}, got {reduction!r}")
    if log_target:
        require_log_probs("p", p)
        pointwise = torch.exp(p) * (p - log_q)
    else:
        require_probabilities("p", p)
        plogp = torch.where(p > 0, p * torch.log(torch.where(p > 0, p, torch.ones_like(p))), torch.zeros_like(p))
        pointwise = plogp - p * log_q
    if reduction == "batchmean":
        n = log_q.shape[0] if log_q.dim() == 2 else 1  # a single (C,) distribution counts as one sample
        return pointwise.sum() / n
    return reduce(pointwise, reduction)
