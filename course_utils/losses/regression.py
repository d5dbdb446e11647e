"""Regression losses, derived in week 04: MAE, MSE, RMSE, Huber, Gaussian NLL."""

from __future__ import annotations

import math

import torch

from ._validate import reduce, require_float_tensor, require_number, require_reduction, require_same_shape


def _residual(pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """pred - target after refusing non-float input and mismatched shapes (week 04): (...) → (...)."""
    require_float_tensor("pred", pred)
    require_float_tensor("target", target)
    require_same_shape("pred", pred, "target", target)
    return pred - target


def mae(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean absolute error (L1 loss), mean(|pred - target|) (week 04).

    ``pred``, ``target``: same shape (...) → scalar, or (...) with ``reduction="none"``.
    Equals ``torch.nn.L1Loss``; its gradient at a zero residual is 0, as in torch.
    """
    require_reduction(reduction)
    return reduce(_residual(pred, target).abs(), reduction)


def mse(pred: torch.Tensor, target: torch.Tensor, reduction: str = "mean") -> torch.Tensor:
    """Mean squared error (L2 loss), mean((pred - target)**2) (week 04).

    ``pred``, ``target``: same shape (...) → scalar, or (...) with ``reduction="none"``.
    Equals ``torch.nn.MSELoss``.
    """
    require_reduction(reduction)
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
    delta = require_number("delta", delta, strict=True)  # the residual where Huber turns linear
    require_reduction(reduction)
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
    require_reduction(reduction)
    r = _residual(pred, target)
    if isinstance(var, bool) or not isinstance(var, (int, float, torch.Tensor)):
        raise TypeError(f"var must be a float or a tensor of variances, got {type(var).__name__}")
    if not isinstance(var, torch.Tensor):
        var = torch.full_like(r, float(var))
    require_float_tensor("var", var)
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
