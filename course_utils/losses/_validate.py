"""Input validation shared by the losses: one ``require_*`` per concept, each naming the argument."""

from __future__ import annotations

import math

import torch

REDUCTIONS = ("mean", "sum", "none")


def require_float_tensor(name: str, x, *, allow_empty: bool = False, finite: bool = True) -> torch.Tensor:
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


def require_dim(name: str, x: torch.Tensor, dim: int) -> int:
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


def require_reduction(reduction: str) -> str:
    """One of 'mean', 'sum', 'none'."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def reduce(loss: torch.Tensor, reduction: str) -> torch.Tensor:
    """Apply 'mean', 'sum' or 'none' to per-element losses."""
    require_reduction(reduction)
    if reduction == "mean":
        return loss.mean()
    if reduction == "sum":
        return loss.sum()
    return loss


def require_same_shape(name_a: str, a: torch.Tensor, name_b: str, b: torch.Tensor) -> None:
    """Refuse shapes that differ, including (N, 1) vs (N,), which would silently broadcast to (N, N)."""
    if a.shape != b.shape:
        hint = ""
        if a.dim() == b.dim() + 1 and a.shape[-1] == 1 or b.dim() == a.dim() + 1 and b.shape[-1] == 1:
            hint = " — (N, 1) against (N,) would broadcast to (N, N); use .squeeze(-1) or .view(-1)"
        raise ValueError(f"{name_a} and {name_b} must have the same shape, got {tuple(a.shape)} and {tuple(b.shape)}{hint}")


def require_class_scores(name: str, x) -> torch.Tensor:
    """Week 03: ``x`` must be float scores of shape (C,) or (N, C), classes along the last dim."""
    require_float_tensor(name, x)
    if x.dim() not in (1, 2):
        raise ValueError(f"{name} must have shape (C,) for one sample or (N, C) for a batch, got {tuple(x.shape)}")
    return x


def sum_tolerance(dtype: torch.dtype, n_classes: int) -> float:
    """How far probabilities held in ``dtype`` (or the exp of log-probabilities) may sum from 1 after rounding.

    1e-4 for float32 and float64; half precision (eps ~1e-3, bfloat16 ~8e-3) rounds each of the C
    entries, so its tolerance grows with eps and log C (weeks 02, 03).
    """
    eps = torch.finfo(dtype).eps if dtype.is_floating_point else 0.0
    return max(1e-4, 2 * eps * (1 + math.log(max(n_classes, 1))))


def require_log_probs(name: str, x: torch.Tensor, hint: str = "raw logits? apply log_softmax first") -> None:
    """Week 03: refuse scores that are not log-probabilities (exp must sum to 1 over the last dim).

    The sums are taken in float64 and allowed the rounding of ``x``'s dtype (:func:`sum_tolerance`),
    so float16 and bfloat16 log-probabilities from ``log_softmax`` are accepted.
    """
    tol = sum_tolerance(x.dtype, x.shape[-1])
    sums = torch.exp(x.detach().double()).sum(dim=-1)
    if bool(((sums - 1).abs() > tol).any()) or bool((x.detach() > tol).any()):
        raise ValueError(
            f"{name} must be log-probabilities (exp({name}) sums to 1 over the classes), but the sums range from "
            f"{sums.min().item():.4g} to {sums.max().item():.4g} — {hint}"
        )


def require_probabilities(name: str, p: torch.Tensor) -> None:
    """Week 03: ``p`` (..., C) must be non-negative and sum to 1 over the last dim (to its dtype's rounding)."""
    if torch.isnan(p).any():
        raise ValueError(f"{name} contains NaN; check the values that produced it")
    if (p < 0).any():
        raise ValueError(f"{name} must hold probabilities, but it has negative entries (min {p.min().item():.4g})")
    sums = p.detach().double().sum(dim=-1)
    if bool(((sums - 1).abs() > sum_tolerance(p.dtype, p.shape[-1])).any()):
        raise ValueError(
            f"{name} must sum to 1 over the classes (last dim); sums range from "
            f"{sums.min().item():.4g} to {sums.max().item():.4g}"
        )


def require_class_weight(weight, n_classes: int) -> None:
    """Class weights: None, or a float tensor (C,) of non-negative numbers (weeks 03, 06)."""
    if weight is None:
        return
    require_float_tensor("weight", weight)
    if weight.shape != (n_classes,):
        raise ValueError(f"weight must have one entry per class, shape ({n_classes},), got {tuple(weight.shape)}")
    if (weight < 0).any():
        raise ValueError("weight must be non-negative for every class")


def require_class_targets(target, scores: torch.Tensor, *, name: str = "target", ignore_index: int | None = None) -> None:
    """Class indices: a torch.long tensor of shape scores.shape[:-1], in [0, C) or ``ignore_index`` (weeks 03, 06).

    Like torch, only int64 is accepted: a uint8 target would wrap ignore_index=-100 round to 156.
    """
    if not isinstance(target, torch.Tensor) or target.dtype != torch.long:
        got = target.dtype if isinstance(target, torch.Tensor) else type(target).__name__
        raise TypeError(f"{name} must be a torch.long tensor of class indices (e.g. torch.tensor([2, 0])), got {got}"
                        + ("; convert with .long()" if isinstance(target, torch.Tensor) and not target.is_floating_point()
                           and target.dtype != torch.bool else ""))
    n_classes = scores.shape[-1]
    want = tuple(scores.shape[:-1])
    if tuple(target.shape) != want:
        raise ValueError(f"{name} must have shape {want} (one class index per sample) for scores of shape "
                         f"{tuple(scores.shape)}, got {tuple(target.shape)}")
    bad = (target < 0) | (target >= n_classes)
    if ignore_index is not None:
        bad &= target != ignore_index
    if bad.any():
        allowed = f" (or ignore_index={ignore_index})" if ignore_index is not None else ""
        raise IndexError(f"{name} must hold class indices in [0, {n_classes - 1}]{allowed}, "
                         f"found {target[bad].flatten()[0].item()}")


def require_number(name: str, value, *, minimum: float = 0.0, strict: bool = False) -> float:
    """A finite real number >= ``minimum`` (> with ``strict``), not a bool, returned as a float."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if not ok or value < minimum or (strict and value == minimum):
        rel = ">" if strict else ">="
        raise ValueError(f"{name} must be a finite number {rel} {minimum:g}, got {value!r}")
    return float(value)
