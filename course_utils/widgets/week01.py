"""Week 01 explorer: a sigmoid threshold on one feature."""

from __future__ import annotations

import numpy as np
from scipy.special import expit, logit

from course_utils.plotting import COLORS, PALETTE, style_axes

from ._core import Explorer, build_explorer, float_slider, require_finite


def threshold_update(w: float, b: float, x: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> dict:
    """Week 01 explorer: a one-feature binary classifier p = sigmoid(w*x + b), "yes" when p >= threshold.

    ``x``: (N,) feature values, ``y``: (N,) labels 0/1. Returns the probability curve over the feature
    range, each sample's predicted class, the decision boundary (x where p = threshold, or None when
    w = 0 or so close to 0 that the boundary is out of range), the accuracy, and the two kinds of error: ``false_negatives`` (positives called negative)
    and ``false_positives`` (negatives called positive).
    """
    w, b = require_finite(w, "w (weight)"), require_finite(b, "b (bias)")
    threshold = require_finite(threshold, "threshold")
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.shape} and {y.shape}")
    if x.size == 0 or not np.all(np.isfinite(x)):
        raise ValueError("x must hold at least one finite feature value (no NaN or inf)")
    if not np.all((y == 0) | (y == 1)):
        raise ValueError("y must hold labels 0 or 1")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold}")
    grid = np.linspace(x.min() - 0.5, x.max() + 0.5, 200)
    with np.errstate(over="ignore"):  # w*x can overflow to ±inf, and expit(±inf) is exactly 0 or 1
        p_grid = expit(w * grid + b)
        pred = (expit(w * x + b) >= threshold).astype(float)
        boundary = None if w == 0 else float((logit(threshold) - b) / w) + 0.0  # + 0.0 turns -0.0 into 0.0
    if boundary is not None and not np.isfinite(boundary):  # a weight so small the boundary is out of reach
        boundary = None
    return {
        "grid": grid,
        "p_grid": p_grid,
        "pred": pred,
        "boundary": boundary,
        "threshold": threshold,
        "accuracy": float((pred == y).mean()),
        "n_positive": int(pred.sum()),
        "false_negatives": int(((pred == 0) & (y == 1)).sum()),
        "false_positives": int(((pred == 1) & (y == 0)).sum()),
    }


def threshold_explorer(x, y, *, w: float = 2.0, b: float = 0.0, threshold: float = 0.5, feature: str = "feature",
                       positive: str = "positive", live: bool = True) -> Explorer:
    """Week 01: sliders for weight, bias and threshold of sigmoid(w*x + b) >= threshold over labelled 1-D data."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    jitter = np.random.default_rng(0).uniform(-0.04, 0.04, size=len(y))

    def update(w, b, threshold):
        return threshold_update(w, b, x, y, threshold)

    def setup(fig, d):
        ax = fig.add_subplot()
        # a marker per class as well as a colour, so that the classes can be told apart without colour
        ax.scatter(x[y == 0], y[y == 0] + jitter[y == 0], s=10, alpha=0.5, color=PALETTE["blue"], marker="o",
                   label=f"not {positive} (0)")
        ax.scatter(x[y == 1], y[y == 1] + jitter[y == 1], s=14, alpha=0.5, color=PALETTE["orange"], marker="^",
                   label=f"{positive} (1)")
        (curve,) = ax.plot(d["grid"], d["p_grid"], color=COLORS[6], lw=2, label="p = sigmoid(w·x + b)")
        hline = ax.axhline(d["threshold"], color="grey", ls=":", lw=1, label="threshold")
        # neutral black, dashed: it must not look like one of the two classes' colours
        vline = ax.axvline(np.nan, color=PALETTE["black"], ls="--", lw=1.2, label="decision boundary")
        text = ax.text(0.02, 0.55, "", transform=ax.transAxes, fontsize=9)
        ax.set_xlim(d["grid"][0], d["grid"][-1])
        ax.set_ylim(-0.1, 1.1)
        style_axes(ax, title="Sigmoid output and the decision threshold", xlabel=f"{feature} (standardised)",
                   ylabel=f"P({positive})")
        ax.legend(loc="lower right", fontsize=8, frameon=False)  # below the malignant cloud, right of the benign one

        def redraw(d):
            curve.set_ydata(d["p_grid"])
            hline.set_ydata([d["threshold"], d["threshold"]])
            xb = d["boundary"] if d["boundary"] is not None else np.nan
            vline.set_xdata([xb, xb])
            text.set_text(f"accuracy = {d['accuracy']:.3f}\npredicted {positive}: {d['n_positive']}\n"
                          f"missed {positive}: {d['false_negatives']}\nfalse alarms: {d['false_positives']}")

        redraw(d)
        return redraw

    sliders = {"w": float_slider("weight w", w, -5.0, 5.0, 0.1), "b": float_slider("bias b", b, -5.0, 5.0, 0.1),
               "threshold": float_slider("threshold", threshold, 0.05, 0.95, 0.05)}
    return build_explorer("sigmoid threshold on one feature", update, sliders, setup, live=live)
