"""Printing numbers the same way on every device (introduced in week 02).

A float32 result can differ in its last bits between CPUs, thread counts and GPUs, so what a lecture
prints is rounded well above that noise: ``r4`` (fixed decimals), ``sig`` (significant digits, for
probabilities far below 1) and ``max_diff`` (how far two results are apart, at a stated precision).
"""

from __future__ import annotations

import torch


def _values(t, name: str = "t") -> torch.Tensor:
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(t).__name__}")
    return t.detach().cpu().double()


def _check_digits(digits, least: int) -> None:
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < least:
        raise ValueError(f"digits must be an int >= {least}, got {digits!r}")


def r4(t, digits: int = 4) -> list[float] | float:
    """A tensor (any shape, any device, with or without grad) as rounded plain numbers: a list, or a float for 0-dim.

    Printing ``r4(x)`` instead of ``x`` gives the same text on a CPU and a GPU: no ``device=``, no
    ``grad_fn=``, no float noise past ``digits`` decimals. Shapes are flattened row by row.
    """
    _check_digits(digits, 0)
    values = _values(t)
    if values.dim() == 0:
        return round(float(values), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return [round(v, digits) + 0.0 for v in values.flatten().tolist()]


def sig(t, digits: int = 5) -> list[float] | float:
    """A tensor as plain numbers rounded to ``digits`` significant digits (week 02: 4.5379e-05 stays visible).

    Like ``r4``, but small numbers keep their digits: ``sig(softmax(eg))`` prints ``4.5379e-05`` where
    ``r4`` would print ``0.0``. inf and nan are kept as they are.
    """
    _check_digits(digits, 1)
    values = _values(t)

    def one(v: float) -> float:
        return float(f"{v:.{digits}g}") + 0.0 if v == v and abs(v) != float("inf") else v

    if values.dim() == 0:
        return one(float(values))
    return [one(v) for v in values.flatten().tolist()]


def max_diff(a, b, digits: int = 6) -> float:
    """The largest absolute difference between two tensors of one shape, rounded to ``digits`` decimals.

    Shows how closely a from-scratch result agrees with torch as a number (``0.0`` at 6 decimals)
    rather than as True/False, and without the last-bit noise that differs between machines.
    """
    _check_digits(digits, 0)
    x, y = _values(a, "a"), _values(b, "b")
    if x.shape != y.shape:
        raise ValueError(f"a and b must have the same shape, got {tuple(x.shape)} and {tuple(y.shape)}")
    if x.numel() == 0:
        return 0.0
    both_inf = torch.isinf(x) & (x == y)  # the same infinity is no difference
    d = torch.where(both_inf, torch.zeros_like(x), (x - y).abs())
    return round(float(d.max()), digits) + 0.0
