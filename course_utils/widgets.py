"""Slider explorers: a pure update function plus thin ipywidgets/ipympl wiring.

The pattern (used by every week):

* ``update(**slider_values) -> dict`` is a *pure* function: numbers in, the data
  to draw out. It is unit-tested without a browser.
* :func:`build_explorer` wires sliders to an ipympl canvas. The figure is itself
  a widget; a slider change calls ``update`` and then a ``redraw(data)`` function
  that changes the existing artists in place (``set_data``, ``set_height``) and
  asks for a redraw with ``draw_idle``. No ``clear_output``, no ``interact``:
  that is what lets these cells pass strict nbval, and it is fast in the browser.
* The figure is built without pyplot (``Canvas(Figure())``), so it is not shown
  a second time by the inline backend and the notebook's backend is untouched.
* Displaying an :class:`Explorer` gives JupyterLab the live widget, gives static
  viewers (GitHub, HTML export) a PNG of the starting state, and gives nbval a
  stable one-line text description to compare.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from course_utils.plotting import COLORS, PALETTE, course_style, style_axes

Redraw = Callable[[dict], None]


@dataclass
class Explorer:
    """A live figure driven by sliders; ``set(name=value)`` moves a slider from code."""

    title: str
    update: Callable[..., dict]
    sliders: dict[str, Any]
    figure: Figure
    redraw: Redraw
    widget: Any = None
    canvas: Any = None
    data: dict = field(default_factory=dict)

    def values(self) -> dict[str, Any]:
        return {name: s.value for name, s in self.sliders.items()}

    def refresh(self) -> dict:
        """Recompute from the current slider values and redraw the artists in place."""
        self.data = self.update(**self.values())
        self.redraw(self.data)
        if self.canvas is not None:
            self.canvas.draw_idle()
        return self.data

    def set(self, **values) -> dict:
        """Move sliders from code (as a student would with the mouse); returns the new data."""
        unknown = set(values) - set(self.sliders)
        if unknown:
            raise KeyError(f"unknown slider(s) {sorted(unknown)}; this explorer has {sorted(self.sliders)}")
        with _hold(self.sliders.values()):
            for name, value in values.items():
                self.sliders[name].value = value
        return self.refresh()

    def describe(self) -> str:
        parts = ", ".join(f"{n} in [{s.min:g}, {s.max:g}]" for n, s in self.sliders.items())
        return f"Explorer: {self.title} (sliders: {parts})"

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        bundle = {"text/plain": self.describe()}
        if self.widget is not None:
            bundle.update({k: v for k, v in _widget_bundle(self.widget).items() if k != "text/plain"})
        bundle["image/png"] = _png(self.figure)
        return bundle


class _hold:
    """Suspend slider callbacks while several values change, so we redraw once."""

    def __init__(self, sliders):
        self.sliders = list(sliders)

    def __enter__(self):
        for s in self.sliders:
            s._course_hold = True

    def __exit__(self, *exc):
        for s in self.sliders:
            s._course_hold = False


def _widget_bundle(widget) -> dict:
    data = widget._repr_mimebundle_()
    return data[0] if isinstance(data, tuple) else data


def _png(fig: Figure) -> str:
    import base64
    import io

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _live_canvas(fig: Figure):
    """An ipympl canvas for ``fig`` (no pyplot involved), or None without a kernel/ipympl."""
    try:
        from ipympl.backend_nbagg import Canvas, FigureManager
    except ImportError:  # pragma: no cover - ipympl is a runtime dependency
        return None
    canvas = Canvas(fig)
    FigureManager(canvas, 0)
    canvas.toolbar_visible = False
    canvas.header_visible = False
    canvas.footer_visible = False
    canvas.resizable = False
    canvas.capture_scroll = False
    return canvas


def float_slider(description: str, value: float, min: float, max: float, step: float, **kw):
    """A FloatSlider that only fires when released-or-keyed in one step (continuous updates on)."""
    import ipywidgets as w

    if not min <= value <= max:
        raise ValueError(f"slider {description!r}: value {value} must lie in [min, max] = [{min}, {max}]")
    return w.FloatSlider(
        value=value, min=min, max=max, step=step, description=description,
        continuous_update=True, readout_format=kw.pop("readout_format", ".2f"),
        style={"description_width": "initial"}, layout=w.Layout(width="420px"), **kw,
    )


def build_explorer(
    title: str,
    update: Callable[..., dict],
    sliders: Mapping[str, Any],
    setup: Callable[[Figure, dict], Redraw],
    *,
    figsize: tuple[float, float] = (7.0, 3.2),
    live: bool = True,
) -> Explorer:
    """Wire ``sliders`` (name -> ipywidgets slider) to a figure drawn by ``setup``.

    ``setup(fig, data)`` draws the first state from ``data = update(**values)``
    and returns ``redraw(data)``, which must only change existing artists.
    With ``live=False`` no widgets are created (used by tests and benchmarks).
    """
    if not sliders:
        raise ValueError("sliders must name at least one slider")
    with course_style():
        fig = Figure(figsize=figsize, dpi=80, layout="constrained")
        values = {name: s.value for name, s in sliders.items()}
        data = update(**values)
        redraw = setup(fig, data)
    exp = Explorer(title=title, update=update, sliders=dict(sliders), figure=fig, redraw=redraw, data=data)
    if not live:
        return exp
    import ipywidgets as w

    exp.canvas = _live_canvas(fig)

    def on_change(change):
        if not getattr(change["owner"], "_course_hold", False):
            with course_style():
                exp.refresh()

    for s in exp.sliders.values():
        s.observe(on_change, names="value")
    controls = w.VBox(list(exp.sliders.values()))
    children = [controls] + ([exp.canvas] if exp.canvas is not None else [])
    exp.widget = w.VBox(children, layout=w.Layout(align_items="flex-start"))
    exp.widget.add_class("course-explorer")
    return exp


# --------------------------------------------------------------------------- week 01
def sigmoid_np(z):
    """Logistic sigmoid for NumPy arrays, stable for large |z| (week 01)."""
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def threshold_update(w: float, b: float, x: np.ndarray, y: np.ndarray, threshold: float = 0.5) -> dict:
    """Week 01 explorer: a one-feature binary classifier p = sigmoid(w*x + b).

    ``x``: (N,) feature values, ``y``: (N,) labels 0/1. Returns the probability
    curve over the feature range, each sample's predicted class, the decision
    boundary (x where p = threshold, or None when w = 0) and the accuracy.
    """
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.shape} and {y.shape}")
    if not 0.0 < threshold < 1.0:
        raise ValueError(f"threshold must lie strictly between 0 and 1, got {threshold}")
    grid = np.linspace(x.min() - 0.5, x.max() + 0.5, 200)
    p_grid = sigmoid_np(w * grid + b)
    pred = (sigmoid_np(w * x + b) >= threshold).astype(float)
    logit_t = np.log(threshold / (1 - threshold))
    boundary = None if w == 0 else (logit_t - b) / w
    return {
        "grid": grid,
        "p_grid": p_grid,
        "pred": pred,
        "boundary": boundary,
        "accuracy": float((pred == y).mean()),
        "n_positive": int(pred.sum()),
    }


def threshold_explorer(x, y, *, w: float = 2.0, b: float = 0.0, feature: str = "feature",
                       positive: str = "positive", live: bool = True) -> Explorer:
    """Week 01: sliders for weight and bias of sigmoid(w*x + b) over labelled 1-D data."""
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    jitter = np.random.default_rng(0).uniform(-0.04, 0.04, size=len(y))

    def update(w, b):
        return threshold_update(w, b, x, y)

    def setup(fig, d):
        ax = fig.add_subplot()
        ax.scatter(x[y == 0], y[y == 0] + jitter[y == 0], s=10, alpha=0.5, color=PALETTE["blue"], label=f"not {positive} (0)")
        ax.scatter(x[y == 1], y[y == 1] + jitter[y == 1], s=10, alpha=0.5, color=PALETTE["orange"], label=f"{positive} (1)")
        (curve,) = ax.plot(d["grid"], d["p_grid"], color=COLORS[6], lw=2, label="p = sigmoid(w·x + b)")
        ax.axhline(0.5, color="grey", ls=":", lw=1)
        vline = ax.axvline(d["boundary"] if d["boundary"] is not None else np.nan, color=PALETTE["vermillion"], ls="--",
                           label="decision boundary (p = 0.5)")
        text = ax.text(0.02, 0.6, "", transform=ax.transAxes, fontsize=9)
        ax.set_xlim(d["grid"][0], d["grid"][-1])
        ax.set_ylim(-0.1, 1.1)
        style_axes(ax, title="Sigmoid output and the 0.5 threshold", xlabel=f"{feature} (standardised)",
                   ylabel="P(positive)")
        ax.legend(loc="center right", fontsize=8, frameon=False)

        def redraw(d):
            curve.set_ydata(d["p_grid"])
            xb = d["boundary"] if d["boundary"] is not None else np.nan
            vline.set_xdata([xb, xb])
            text.set_text(f"accuracy = {d['accuracy']:.3f}\npredicted positive: {d['n_positive']}")

        redraw(d)
        return redraw

    sliders = {"w": float_slider("weight w", w, -5.0, 5.0, 0.1), "b": float_slider("bias b", b, -5.0, 5.0, 0.1)}
    return build_explorer("sigmoid threshold on one feature", update, sliders, setup, live=live)
