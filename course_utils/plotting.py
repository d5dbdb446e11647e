"""Small figure helpers in one colour-blind-safe style (week 01 onwards).

Nothing here touches matplotlib's global rcParams at import time. Every helper
works on a figure or axes it is given or creates, and applies the course style
through :func:`course_style`, a context manager.
"""

from __future__ import annotations

import contextlib
from collections.abc import Sequence

import matplotlib as mpl
import numpy as np
from matplotlib.figure import Figure

# Okabe & Ito (2008): distinguishable under the common colour-vision deficiencies.
PALETTE = {
    "blue": "#0072B2",
    "orange": "#E69F00",
    "green": "#009E73",
    "vermillion": "#D55E00",
    "sky": "#56B4E9",
    "purple": "#CC79A7",
    "yellow": "#F0E442",
    "black": "#000000",
}
COLORS = [PALETTE[k] for k in ("blue", "orange", "green", "vermillion", "sky", "purple", "black", "yellow")]

STYLE = {
    "axes.prop_cycle": mpl.cycler(color=COLORS),
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": 11,
    "axes.labelsize": 10,
    "legend.fontsize": 9,
    "legend.frameon": False,
    "figure.dpi": 80,
    "savefig.dpi": 80,
    "font.size": 10,
}


@contextlib.contextmanager
def course_style():
    """Apply the course style inside a ``with`` block only."""
    with mpl.rc_context(STYLE):
        yield


def new_figure(nrows: int = 1, ncols: int = 1, *, width: float = 6.0, height: float = 3.2) -> tuple[Figure, np.ndarray]:
    """A pyplot figure in the course style; returns ``(fig, axes)`` with axes always a flat array."""
    import matplotlib.pyplot as plt

    if nrows < 1 or ncols < 1:
        raise ValueError(f"nrows and ncols must be >= 1, got {nrows}, {ncols}")
    with course_style():
        fig, axes = plt.subplots(nrows, ncols, figsize=(width, height), squeeze=False, layout="constrained")
    return fig, axes.ravel()


def style_axes(ax, *, title: str, xlabel: str, ylabel: str, legend: bool = False) -> None:
    """Title, axis labels, light grid and (optionally) a legend: every figure gets these."""
    ax.set_title(title)
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.grid(True, alpha=0.3)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    if legend:
        ax.legend(frameon=False)


def prob_bars(ax, probs: Sequence[float], labels: Sequence[str] | None = None, *, title: str = "Predicted probabilities",
              highlight: int | None = None):
    """Bar chart of a probability vector (C,) on ``ax``; returns the bar container."""
    probs = np.asarray(probs, dtype=float).ravel()
    if labels is None:
        labels = [str(i) for i in range(len(probs))]
    if len(labels) != len(probs):
        raise ValueError(f"labels must have one entry per probability ({len(probs)}), got {len(labels)}")
    colors = [PALETTE["sky"]] * len(probs)
    if highlight is not None:
        colors[highlight] = PALETTE["vermillion"]
    bars = ax.bar(range(len(probs)), probs, color=colors)
    ax.set_xticks(range(len(probs)), labels)
    ax.set_ylim(0, 1.05)
    style_axes(ax, title=title, xlabel="class", ylabel="probability")
    return bars


def plot_history(history, *, metric_name: str = "metric") -> Figure:
    """Train/validation loss and metric per epoch, side by side (week 05).

    ``history`` needs lists ``train_loss``, ``val_loss`` and optionally
    ``train_metric``, ``val_metric`` (attributes or dict keys).
    """
    get = history.get if isinstance(history, dict) else lambda k, d=None: getattr(history, k, d)
    train_loss, val_loss = get("train_loss"), get("val_loss")
    if not train_loss:
        raise ValueError("history has no train_loss values to plot")
    has_metric = bool(get("val_metric"))
    fig, axes = new_figure(1, 2 if has_metric else 1, width=8 if has_metric else 4.5)
    epochs = np.arange(1, len(train_loss) + 1)
    with course_style():
        axes[0].plot(epochs, train_loss, label="train")
        if val_loss:
            axes[0].plot(epochs, val_loss, ls="--", label="validation")  # dashed: not told apart by colour alone
        style_axes(axes[0], title="Loss per epoch", xlabel="epoch", ylabel="loss", legend=True)
        if has_metric:
            if get("train_metric"):
                axes[1].plot(epochs, get("train_metric"), label="train")
            axes[1].plot(epochs, get("val_metric"), ls="--", label="validation")
            style_axes(axes[1], title=f"{metric_name} per epoch", xlabel="epoch", ylabel=metric_name, legend=True)
    return fig
