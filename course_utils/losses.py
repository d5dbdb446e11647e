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

# --------------------------------------------------------------------------- week 04: regression losses

# --------------------------------------------------------------------------- week 06: choosing a loss
