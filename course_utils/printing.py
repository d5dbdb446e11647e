"""Printing numbers the same way on every device (introduced in week 02)."""

from __future__ import annotations

import torch


def r4(t, digits: int = 4) -> list[float] | float:
    """A tensor (any shape, any device, with or without grad) as rounded plain numbers: a list, or a float for 0-dim.

    Printing ``r4(x)`` instead of ``x`` gives the same text on a CPU and a GPU: no ``device=``, no
    ``grad_fn=``, no float noise past ``digits`` decimals. Shapes are flattened row by row.
    """
    if not isinstance(t, torch.Tensor):
        raise TypeError(f"t must be a torch.Tensor, got {type(t).__name__}")
    if isinstance(digits, bool) or not isinstance(digits, int) or digits < 0:
        raise ValueError(f"digits must be an int >= 0, got {digits!r}")
    values = t.detach().cpu().double()
    if values.dim() == 0:
        return round(float(values), digits) + 0.0  # + 0.0 turns -0.0 into 0.0
    return [round(v, digits) + 0.0 for v in values.flatten().tolist()]
