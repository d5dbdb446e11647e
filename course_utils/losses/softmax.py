"""The softmax family, derived in week 02: logsumexp, softmax, log-softmax, entropy."""

from __future__ import annotations

import math

import torch

from ._validate import require_dim, require_float_tensor, sum_tolerance


def logsumexp(x: torch.Tensor, dim: int = -1, keepdim: bool = False) -> torch.Tensor:
    """log(sum(exp(x))) along ``dim``, computed stably by factoring out the maximum (week 02).

    ``x``: (..., C, ...) → same shape without ``dim`` (or with size 1 if ``keepdim``).
    """
    require_float_tensor("x", x, finite=False)
    if torch.isnan(x).any():
        raise ValueError("x contains NaN; check the values that produced it")
    dim = require_dim("x", x, dim)
    m = x.amax(dim=dim, keepdim=True)
    # If a whole slice is -inf, keep m finite so that exp(x - m) is 0, not NaN.
    m = torch.where(torch.isfinite(m), m, torch.zeros_like(m)).detach()
    out = m + torch.log(torch.exp(x - m).sum(dim=dim, keepdim=True))
    return out if keepdim else out.squeeze(dim)


def softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """exp(x_i) / sum_j exp(x_j) along ``dim``, shifted by the max so it cannot overflow (week 02).

    ``x``: (..., C, ...) logits → probabilities of the same shape, summing to 1 along ``dim``.
    """
    require_float_tensor("x", x)
    dim = require_dim("x", x, dim)
    z = x - x.amax(dim=dim, keepdim=True).detach()  # shift invariance: same result, no overflow
    e = torch.exp(z)
    return e / e.sum(dim=dim, keepdim=True)


def log_softmax(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """x - logsumexp(x) along ``dim``: log-probabilities without ever forming exp(x) (week 02).

    ``x``: (..., C, ...) logits → log-probabilities of the same shape.
    """
    require_float_tensor("x", x)
    dim = require_dim("x", x, dim)
    # Subtract the max first and the log of the sum second: adding the max back in
    # (x - logsumexp(x)) would round away the small digits of the winning class in float32.
    z = x - x.amax(dim=dim, keepdim=True).detach()
    return z - torch.log(torch.exp(z).sum(dim=dim, keepdim=True))


def softmax_naive(x: torch.Tensor, dim: int = -1) -> torch.Tensor:
    """The textbook formula without the max shift: overflows for large logits (week 02 demo only)."""
    require_float_tensor("x", x)
    dim = require_dim("x", x, dim)
    e = torch.exp(x)
    return e / e.sum(dim=dim, keepdim=True)


def entropy(p: torch.Tensor, dim: int = -1, *, base: float = math.e) -> torch.Tensor:
    """H(p) = -sum p log p along ``dim`` (0 log 0 taken as 0); ``base=2`` gives bits (weeks 02-03)."""
    require_float_tensor("p", p)
    dim = require_dim("p", p, dim)
    if (p < 0).any():
        raise ValueError("p must be a probability vector: it has negative entries")
    sums = p.detach().double().sum(dim=dim)
    if bool(((sums - 1).abs() > sum_tolerance(p.dtype, p.shape[dim])).any()):
        raise ValueError(f"p must sum to 1 along dim={dim}; sums range from {sums.min().item():.4g} to {sums.max().item():.4g}")
    if base <= 0 or base == 1:
        raise ValueError(f"base must be positive and not 1, got {base}")
    log_p = torch.log(torch.where(p > 0, p, torch.ones_like(p))).detach()
    # p log p with its derivative log p + 1 written out: autograd's own (g p) / p rounds badly for a
    # tiny p (a subnormal probability in float32 carries one or two significant bits)
    plogp = torch.where(p > 0, p * log_p + (p - p.detach()), torch.zeros_like(p))
    return -plogp.sum(dim=dim) / math.log(base)
