"""Losses for choosing and designing, week 06: hinge, focal, Poisson, multi-task, the L2 penalty."""

from __future__ import annotations

import math

import torch

from ._validate import (
    reduce,
    require_class_targets,
    require_class_weight,
    require_float_tensor,
    require_number,
    require_reduction,
    require_same_shape,
)


def _require_pm1_targets(name: str, y: torch.Tensor) -> None:
    """Week 06: hinge losses need labels coded as -1 / +1, not 0 / 1."""
    if not ((y == 1) | (y == -1)).all():
        bad = y[(y != 1) & (y != -1)][0].item()
        hint = " — recode 0/1 labels with 2 * y - 1" if ((y == 0) | (y == 1)).all() else ""
        raise ValueError(f"{name} must contain only -1 and +1, found {bad:g}{hint}")


def hinge(scores: torch.Tensor, targets: torch.Tensor, margin: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    """max(0, margin - y * s) for labels y in {-1, +1} (week 06).

    ``scores``: (N,) raw outputs (one logit per sample), ``targets``: (N,) of -1/+1 →
    scalar, or (N,) with ``reduction="none"``. Zero once a sample is on the right side by ``margin``.
    """
    require_float_tensor("scores", scores)
    require_float_tensor("targets", targets)
    require_same_shape("scores", scores, "targets", targets)
    _require_pm1_targets("targets", targets)
    margin = require_number("margin", margin)
    require_reduction(reduction)
    return reduce(torch.clamp(margin - targets * scores, min=0.0), reduction)


def squared_hinge(scores: torch.Tensor, targets: torch.Tensor, margin: float = 1.0, reduction: str = "mean") -> torch.Tensor:
    """max(0, margin - y * s)² for labels y in {-1, +1}: smooth at the margin (week 06).

    ``scores``, ``targets``: (N,) → scalar, or (N,) with ``reduction="none"``.
    """
    return reduce(hinge(scores, targets, margin=margin, reduction="none") ** 2, require_reduction(reduction))


def focal_loss(logits: torch.Tensor, targets: torch.Tensor, gamma: float = 2.0, weight: torch.Tensor | None = None,
               reduction: str = "mean") -> torch.Tensor:
    """-(1 - p_t)^gamma · log p_t: cross-entropy that down-weights easy samples (week 06).

    ``logits``: (N, C), ``targets``: (N,) long class indices, ``weight``: optional (C,) class
    weights → scalar ("mean" divides by the summed weights, like ``F.cross_entropy``), or (N,).
    ``gamma = 0`` gives (weighted) cross-entropy.
    """
    require_float_tensor("logits", logits)
    if logits.dim() != 2:
        raise ValueError(f"logits must have shape (N, C), got {tuple(logits.shape)}")
    require_class_targets(targets, logits, name="targets")
    gamma = require_number("gamma", gamma)
    require_class_weight(weight, logits.shape[1])
    require_reduction(reduction)
    z = logits - logits.amax(dim=1, keepdim=True).detach()
    log_p = (z - torch.log(torch.exp(z).sum(dim=1, keepdim=True))).gather(1, targets.view(-1, 1)).squeeze(1)
    # 1 - p_t as -expm1(log p_t): exact near p_t = 1. The clamp keeps (1 - p_t)^gamma differentiable where
    # 1 - p_t is exactly 0 (a confidently correct sample): for 0 < gamma < 1 its slope there is infinite,
    # and infinite x 0 would make the whole gradient NaN; the clamp passes a gradient of 0 instead.
    one_minus_p = (-torch.expm1(log_p)).clamp_min(torch.finfo(log_p.dtype).tiny)
    loss = -(one_minus_p**gamma) * log_p
    w = torch.ones_like(loss) if weight is None else weight.to(loss.dtype)[targets]
    if reduction == "mean":
        return (w * loss).sum() / w.sum()
    return reduce(w * loss, reduction)


def poisson_nll(pred: torch.Tensor, target: torch.Tensor, *, log_input: bool = True, full: bool = False,
                eps: float = 1e-8, reduction: str = "mean") -> torch.Tensor:
    """Poisson negative log-likelihood of counts ``target`` given a predicted rate λ (week 06).

    ``log_input=True`` (the default, as in ``torch.nn.PoissonNLLLoss``): ``pred`` is log λ, any real
    number, and the loss is exp(pred) - target·pred. ``log_input=False``: ``pred`` is λ itself (>= 0)
    and the loss is pred - target·log(pred + eps). The term log(target!) does not depend on the model
    and is left out; ``full=True`` adds torch's Stirling approximation of it for counts > 1.
    ``pred``, ``target``: same shape (...), target >= 0 → scalar, or (...) with ``reduction="none"``.
    """
    require_float_tensor("pred", pred)
    require_float_tensor("target", target)
    require_same_shape("pred", pred, "target", target)
    require_reduction(reduction)
    eps = require_number("eps", eps)
    if (target < 0).any():
        raise ValueError(f"target must hold counts >= 0, found {target.min().item():g}")
    if log_input:
        loss = torch.exp(pred) - target * pred
    else:
        if (pred < 0).any():
            raise ValueError(f"with log_input=False, pred is a rate and must be >= 0, found {pred.min().item():g}; "
                             "for a log-rate output (any sign) use log_input=True")
        loss = pred - target * torch.log(pred + eps)
    if full:
        k = target.clamp_min(1.0)  # the term is 0 for counts 0 and 1; the clamp keeps log() finite there
        stirling = k * torch.log(k) - k + 0.5 * torch.log(2 * math.pi * k)
        loss = loss + torch.where(target > 1, stirling, torch.zeros_like(stirling))
    return reduce(loss, reduction)


def multitask_loss(species_logits: torch.Tensor, species: torch.Tensor, count_pred: torch.Tensor,
                   count: torch.Tensor, lam: float = 1.0, *, return_parts: bool = False):
    """Cross-entropy of the class head + lam · MSE of the regression head (week 06).

    ``species_logits``: (N, C), ``species``: (N,) long; ``count_pred``, ``count``: (N,) float.
    Returns a scalar, or ``(total, ce, mse)`` with ``return_parts=True``.
    """
    require_float_tensor("species_logits", species_logits)
    if species_logits.dim() != 2:
        raise ValueError(f"species_logits must have shape (N, C), got {tuple(species_logits.shape)}")
    require_class_targets(species, species_logits, name="species")
    require_float_tensor("count_pred", count_pred)
    require_float_tensor("count", count)
    require_same_shape("count_pred", count_pred, "count", count)
    if count_pred.shape[0] != species_logits.shape[0]:
        raise ValueError(f"both heads need the same batch size N, got {species_logits.shape[0]} logits rows "
                         f"and {count_pred.shape[0]} count predictions")
    lam = require_number("lam", lam)
    ce = focal_loss(species_logits, species, gamma=0.0)
    mse = ((count_pred - count) ** 2).mean()
    total = ce + lam * mse
    return (total, ce, mse) if return_parts else total


def l2_penalty(params, lam: float = 1.0, *, weights_only: bool = True) -> torch.Tensor:
    """lam · Σ w² over a model's weights, the term added to the loss for L2 regularisation (week 06).

    ``params``: an ``nn.Module`` or an iterable of tensors. With ``weights_only`` a module's 1-D
    parameters (biases) are left out, as is usual. Returns a scalar tensor that carries gradients.
    """
    lam = require_number("lam", lam)
    if isinstance(params, torch.nn.Module):
        tensors = [p for p in params.parameters() if p.dim() > 1 or not weights_only]
    elif isinstance(params, torch.Tensor):
        raise TypeError("params must be an nn.Module or a list of tensors; wrap a single tensor as [w]")
    else:
        tensors = list(params)
    if not tensors:
        raise ValueError("params holds no tensors to penalise")
    for i, t in enumerate(tensors):
        require_float_tensor(f"params[{i}]", t)
    return lam * sum((t**2).sum() for t in tensors)
