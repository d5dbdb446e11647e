"""Fitting a straight line y ≈ w·x + b under different losses (week 04).

Two routes to the same lines:

* :func:`fit_line` — gradient descent with autograd on any loss function, as a
  network would be trained. This is what the lecture shows.
* :func:`best_line` — the optimum computed directly (closed form for MSE, an exact
  search over lines through two data points for MAE, iteratively reweighted least
  squares for Huber). It takes well under a millisecond for a few dozen points, so
  the outlier explorer can refit at every slider step. Tests check that both routes agree.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

LOSSES = ("mse", "mae", "huber")


@dataclass(frozen=True)
class LineFit:
    """A fitted line ``y = w * x + b``; ``losses`` holds the loss per gradient step (empty for direct fits)."""

    w: float
    b: float
    losses: list[float] = field(default_factory=list)

    def predict(self, x):
        """Predictions w·x + b for an array or tensor ``x`` of any shape."""
        return self.w * x + self.b


def _check_xy(x, y) -> tuple[torch.Tensor, torch.Tensor]:
    """Validate x, y as 1-D float tensors of equal length >= 2 (week 04)."""
    for name, v in (("x", x), ("y", y)):
        if not isinstance(v, torch.Tensor):
            raise TypeError(f"{name} must be a torch.Tensor, got {type(v).__name__}")
        if not v.is_floating_point():
            raise TypeError(f"{name} must be a floating-point tensor, got {v.dtype}; use {name}.float()")
        if v.dim() != 1:
            raise ValueError(f"{name} must be 1-D with shape (N,), got shape {tuple(v.shape)}; use {name}.view(-1)")
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {tuple(x.shape)} and {tuple(y.shape)}")
    if len(x) < 2:
        raise ValueError(f"x and y need at least 2 points to fit a line, got {len(x)}")
    if not (torch.isfinite(x).all() and torch.isfinite(y).all()):
        raise ValueError("x and y must be finite (no NaN or inf)")
    return x, y


def fit_line(
    x: torch.Tensor,
    y: torch.Tensor,
    loss_fn: Callable[[torch.Tensor, torch.Tensor], torch.Tensor],
    *,
    lr: float = 0.1,
    steps: int = 1000,
    w0: float = 0.0,
    b0: float = 0.0,
    decay: bool = True,
) -> LineFit:
    """Fit ``y ≈ w·x + b`` by full-batch gradient descent on ``loss_fn(pred, y)`` (week 04).

    ``x``, ``y``: (N,) float tensors (any device). ``loss_fn`` maps (N,), (N,) to a scalar.
    x is centred internally (the same line, but gradient descent converges much faster);
    with ``decay`` the step size falls linearly to 0, which lets MAE's constant-size
    gradient settle instead of jumping around the optimum.
    """
    x, y = _check_xy(x, y)
    if not (isinstance(lr, (int, float)) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be a positive int, got {steps!r}")
    x_mean = x.mean()
    xc = x - x_mean
    w = torch.tensor(float(w0), dtype=x.dtype, device=x.device, requires_grad=True)
    c = torch.tensor(float(b0) + float(w0) * x_mean.item(), dtype=x.dtype, device=x.device, requires_grad=True)
    losses = []
    for t in range(steps):
        loss = loss_fn(w * xc + c, y)
        if loss.dim() != 0:
            raise ValueError(f"loss_fn must return a scalar, got shape {tuple(loss.shape)}; use reduction='mean'")
        w.grad = c.grad = None
        loss.backward()
        step = lr * (1 - t / steps) if decay else lr
        with torch.no_grad():
            w -= step * w.grad
            c -= step * c.grad
        losses.append(loss.item())
    w_fit = w.item()
    return LineFit(w=w_fit, b=c.item() - w_fit * x_mean.item(), losses=losses)


# --------------------------------------------------------------------------- direct optima (fast)
def _weighted_lstsq(x: np.ndarray, y: np.ndarray, weights: np.ndarray) -> tuple[float, float]:
    """Closed-form weighted least-squares line (week 04): x, y, weights (N,) → (w, b)."""
    sw = weights.sum()
    xm, ym = (weights * x).sum() / sw, (weights * y).sum() / sw
    sxx = (weights * (x - xm) ** 2).sum()
    w = 0.0 if sxx == 0 else float((weights * (x - xm) * (y - ym)).sum() / sxx)
    return w, float(ym - w * xm)


def lad_line(x: np.ndarray, y: np.ndarray, *, chunk: int = 20000) -> tuple[float, float]:
    """Exact least-absolute-deviations (MAE) line (week 04): x, y (N,) → (w, b).

    The MAE-optimal line always passes through two of the data points (the
    optimum of a linear programme sits on a vertex), so we try every pair.
    Cost grows like N³: meant for a few hundred points at most.
    """
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    i, j = np.triu_indices(len(x), k=1)
    keep = x[i] != x[j]
    i, j = i[keep], j[keep]
    if len(i) == 0:  # all x equal: the best "line" is flat at the median
        return 0.0, float(np.median(y))
    best = (np.inf, 0.0, float(np.median(y)))
    for s in range(0, len(i), chunk):
        ii, jj = i[s : s + chunk], j[s : s + chunk]
        w = (y[jj] - y[ii]) / (x[jj] - x[ii])
        b = y[ii] - w * x[ii]
        cost = np.abs(y[None, :] - w[:, None] * x[None, :] - b[:, None]).sum(axis=1)
        k = int(np.argmin(cost))
        if cost[k] < best[0]:
            best = (float(cost[k]), float(w[k]), float(b[k]))
    return best[1], best[2]


def huber_line(x: np.ndarray, y: np.ndarray, delta: float, *, tol: float = 1e-12, max_iter: int = 500) -> tuple[float, float]:
    """Huber-optimal line by iteratively reweighted least squares (week 04): x, y (N,) → (w, b).

    Points with |residual| <= delta get weight 1, the others delta/|residual|:
    exactly the weights that make a weighted least-squares step a descent step on Huber.
    """
    if not delta > 0:
        raise ValueError(f"delta must be positive, got {delta!r}")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    w, b = lad_line(x, y) if len(x) <= 200 else _weighted_lstsq(x, y, np.ones_like(x))
    for _ in range(max_iter):
        r = np.abs(y - w * x - b)
        weights = np.where(r <= delta, 1.0, delta / np.maximum(r, 1e-300))
        w_new, b_new = _weighted_lstsq(x, y, weights)
        done = abs(w_new - w) + abs(b_new - b) < tol * (1 + abs(w) + abs(b))
        w, b = w_new, b_new
        if done:
            break
    return w, b


def best_line(x, y, loss: str, *, delta: float = 1.0) -> LineFit:
    """The line minimising ``loss`` ("mse", "mae" or "huber") on x, y (N,), computed directly (week 04)."""
    if loss not in LOSSES:
        raise ValueError(f"loss must be one of {LOSSES}, got {loss!r}")
    xt = x if isinstance(x, torch.Tensor) else torch.as_tensor(np.asarray(x, dtype=float))
    yt = y if isinstance(y, torch.Tensor) else torch.as_tensor(np.asarray(y, dtype=float))
    _check_xy(xt, yt)
    xn, yn = xt.detach().cpu().double().numpy(), yt.detach().cpu().double().numpy()
    if loss == "mse":
        w, b = _weighted_lstsq(xn, yn, np.ones_like(xn))
    elif loss == "mae":
        w, b = lad_line(xn, yn)
    else:
        w, b = huber_line(xn, yn, delta)
    return LineFit(w=w, b=b)
