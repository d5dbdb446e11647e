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
    import sys

    import matplotlib

    first_import = "ipympl" not in sys.modules
    backend = matplotlib.rcParams["backend"]
    try:
        from ipympl.backend_nbagg import Canvas, FigureManager
    except ImportError:  # pragma: no cover - ipympl is a runtime dependency
        return None
    if first_import and matplotlib.rcParams["backend"] != backend:
        # Importing ipympl switches pyplot to the widget backend; the lecture's ordinary
        # figures must stay inline (static PNGs), so switch straight back.
        matplotlib.use(backend)
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
        # Lay the figure out once, then freeze it: re-running constrained layout on every
        # slider step would cost about a third of each redraw.
        fig.draw_without_rendering()
        fig.set_layout_engine("none")
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
    boundary = None if w == 0 else (logit_t - b) / w + 0.0  # + 0.0 turns -0.0 into 0.0
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
                   ylabel=f"P({positive})")
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


# ---- week 02
def softmax_np(z, axis: int = -1) -> np.ndarray:
    """Max-shifted softmax for NumPy arrays (week 02): (..., C) → probabilities of the same shape."""
    z = np.asarray(z, dtype=float)
    e = np.exp(z - z.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


def entropy_bits_np(p, axis: int = -1) -> np.ndarray:
    """Entropy in bits, -sum p log2 p with 0 log 0 = 0 (week 02): (..., C) → (...)."""
    p = np.asarray(p, dtype=float)
    safe = np.where(p > 0, p, 1.0)
    return -(p * np.log2(safe)).sum(axis=axis)


def _check_logits_np(logits) -> np.ndarray:
    z = np.asarray(logits, dtype=float).ravel()
    if z.size < 2:
        raise ValueError(f"logits must hold at least two classes, got {z.size}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite (no NaN or inf)")
    return z


def temperature_update(T: float, logits) -> dict:
    """Week 02 explorer: probabilities softmax(z / T) of logits (C,) and their entropy in bits.

    Returns ``T``, ``probs`` (C,), ``entropy_bits``, ``max_entropy_bits`` (log2 C, the uniform case),
    ``top_prob`` and ``top_class``.
    """
    z = _check_logits_np(logits)
    if not (np.isfinite(T) and T > 0):
        raise ValueError(f"T (temperature) must be a positive finite number, got {T}")
    p = softmax_np(z / T)
    return {
        "T": float(T),
        "probs": p,
        "entropy_bits": float(entropy_bits_np(p)),
        "max_entropy_bits": float(np.log2(z.size)),
        "top_prob": float(p.max()),
        "top_class": int(p.argmax()),
    }


def temperature_curve(logits, temperatures) -> tuple[np.ndarray, np.ndarray]:
    """Week 02: probabilities (K, C) and entropies in bits (K,) for K temperatures at once."""
    z = _check_logits_np(logits)
    t = np.asarray(temperatures, dtype=float).ravel()
    if not np.all(t > 0):
        raise ValueError("temperatures must all be positive")
    p = softmax_np(z[None, :] / t[:, None])
    return p, entropy_bits_np(p)


def temperature_explorer(logits, labels=None, *, T: float = 1.0, live: bool = True) -> Explorer:
    """Week 02: a temperature slider over softmax(z / T) for logits (C,): bars + entropy curve."""
    z = _check_logits_np(logits)
    labels = list(labels) if labels is not None else [str(i) for i in range(z.size)]
    grid = np.geomspace(0.05, 20.0, 200)
    _, h_grid = temperature_curve(z, grid)

    def update(T):
        return temperature_update(T, z)

    def setup(fig, d):
        ax_p, ax_h = fig.subplots(1, 2, width_ratios=[1.2, 1])
        bars = ax_p.bar(range(z.size), d["probs"], color=PALETTE["sky"])
        ax_p.set_xticks(range(z.size), labels, fontsize=8)
        ax_p.set_ylim(0, 1.05)
        style_axes(ax_p, title="softmax(z / T)", xlabel="class", ylabel="probability")
        ax_h.plot(grid, h_grid, color=PALETTE["blue"], label="entropy H(T)")
        ax_h.axhline(d["max_entropy_bits"], color="grey", ls=":", label=f"uniform: log2 {z.size}")
        (dot,) = ax_h.plot([], [], "o", color=PALETTE["vermillion"], label="current T")
        ax_h.set_xscale("log")
        ax_h.set_ylim(0, d["max_entropy_bits"] * 1.1)
        style_axes(ax_h, title="Entropy of the probabilities", xlabel="temperature T (log scale)", ylabel="entropy (bits)")
        ax_h.legend(fontsize=8, loc="lower right")
        text = ax_p.text(0.98, 0.95, "", transform=ax_p.transAxes, ha="right", va="top", fontsize=9)

        def redraw(d):
            for bar, p, k in zip(bars, d["probs"], range(z.size), strict=True):
                bar.set_height(p)
                bar.set_color(PALETTE["vermillion"] if k == d["top_class"] else PALETTE["sky"])
            dot.set_data([d["T"]], [d["entropy_bits"]])
            text.set_text(f"T = {d['T']:.2f}\nH = {d['entropy_bits']:.3f} bits")

        redraw(d)
        return redraw

    sliders = {"T": float_slider("temperature T", T, 0.05, 10.0, 0.05)}
    return build_explorer("softmax temperature", update, sliders, setup, figsize=(8.0, 3.2), live=live)


def one_logit_update(scale: float, logits, index: int) -> dict:
    """Week 02 explorer: multiply logit ``index`` of logits (C,) by ``scale`` and re-apply softmax.

    Returns the new ``logits`` and ``probs`` (C,), the starting ``base_probs`` (scale 1),
    ``p_index`` and ``others_factor``: the one factor by which every *other* class's
    probability was multiplied (their ratios to each other never change).
    """
    z = _check_logits_np(logits)
    if isinstance(index, bool) or not isinstance(index, (int, np.integer)) or not -z.size <= index < z.size:
        raise ValueError(f"index must be an int in [0, {z.size}), got {index!r}")
    if not np.isfinite(scale):
        raise ValueError(f"scale must be a finite number, got {scale}")
    index = int(index) % z.size
    new = z.copy()
    new[index] = scale * z[index]
    p, base = softmax_np(new), softmax_np(z)
    return {
        "scale": float(scale),
        "logits": new,
        "probs": p,
        "base_probs": base,
        "p_index": float(p[index]),
        "others_factor": float((1.0 - p[index]) / (1.0 - base[index])),
    }


def one_logit_explorer(logits, index: int, labels=None, *, scale: float = 1.0, live: bool = True) -> Explorer:
    """Week 02: a slider scaling one logit of logits (C,): the logits and the probabilities, side by side."""
    z = _check_logits_np(logits)
    labels = list(labels) if labels is not None else [str(i) for i in range(z.size)]
    colors = [PALETTE["vermillion"] if k == index else PALETTE["sky"] for k in range(z.size)]

    def update(scale):
        return one_logit_update(scale, z, index)

    def setup(fig, d):
        ax_z, ax_p = fig.subplots(1, 2)
        zbars = ax_z.bar(range(z.size), d["logits"], color=colors)
        ax_z.axhline(0, color="grey", lw=0.8)
        # room for every value the slider can give the scaled logit (scale in [-2, 4])
        lim = 1.1 * max(abs(z).max(), 4.0 * abs(z[index]), 1.0)
        ax_z.set_ylim(-lim, lim)
        ax_z.set_xticks(range(z.size), labels, fontsize=8)
        style_axes(ax_z, title=f"Logits (class {labels[index]} scaled)", xlabel="class", ylabel="logit (unitless score)")
        pbars = ax_p.bar(range(z.size), d["probs"], color=colors, label="now")
        ax_p.plot(range(z.size), d["base_probs"], "_", color=PALETTE["black"], ms=28, mew=2, label="at scale 1")
        ax_p.set_ylim(0, 1.05)
        ax_p.set_xticks(range(z.size), labels, fontsize=8)
        style_axes(ax_p, title="softmax probabilities", xlabel="class", ylabel="probability")
        # the "at scale 1" marker is 28 pt wide: shrink it in the legend so it does not run into its label
        ax_p.legend(fontsize=8, loc="upper right", handlelength=2.0, markerscale=0.5)
        # in the logits panel, clear of the probability bars (which can reach 1 on either side)
        text = ax_z.text(0.98, 0.03, "", transform=ax_z.transAxes, ha="right", va="bottom", fontsize=9)

        def redraw(d):
            for bar, v in zip(zbars, d["logits"], strict=True):
                bar.set_height(v)
            for bar, v in zip(pbars, d["probs"], strict=True):
                bar.set_height(v)
            text.set_text(f"scale = {d['scale']:.2f}\np[{labels[index]}] = {d['p_index']:.3f}\n"
                          f"others × {d['others_factor']:.3f}")

        redraw(d)
        return redraw

    sliders = {"scale": float_slider(f"scale of logit {labels[index]}", scale, -2.0, 4.0, 0.05)}
    return build_explorer("scaling one logit", update, sliders, setup, figsize=(8.0, 3.2), live=live)


# ---- week 06
def landscape_update(scale: float, slices: Mapping[float, dict]) -> dict:
    """Week 06 explorer: the precomputed 2-D loss slice whose half-width is nearest ``scale``.

    ``slices``: ``{half_width: {"coords": (n,), "loss": (n, n)}}`` from
    ``course_utils.experiments.landscape_slices``. Returns the slice, log10 of the loss for
    colouring, the two cross-sections through the trained model (centre) and summary numbers.
    """
    if not slices:
        raise ValueError("slices must hold at least one precomputed slice")
    keys = np.array(sorted(slices))
    s = float(keys[np.abs(keys - scale).argmin()])
    coords, loss = np.asarray(slices[s]["coords"]), np.asarray(slices[s]["loss"])
    n = len(coords)
    if loss.shape != (n, n) or n % 2 == 0:
        raise ValueError(f"slice {s}: loss must be (n, n) with odd n = len(coords), got {loss.shape} for n = {n}")
    c = n // 2
    centre = float(loss[c, c])
    return {
        "scale": s, "coords": coords, "loss": loss, "log_loss": np.log10(np.maximum(loss, 1e-12)),
        "extent": (coords[0], coords[-1], coords[0], coords[-1]),
        "section_a": loss[c, :], "section_b": loss[:, c],
        "centre_loss": centre, "max_loss": float(loss.max()), "edge_ratio": float(loss.max() / centre),
        "frac_within_2x": float((loss <= 2 * centre).mean()),
    }


def landscape_explorer(slices: Mapping[float, dict], *, scale: float | None = None, what: str = "training loss",
                       live: bool = True) -> Explorer:
    """Week 06: a slider for the half-width of a precomputed 2-D loss-landscape slice."""
    keys = sorted(slices)
    if len(keys) < 2:
        raise ValueError("slices must hold at least two half-widths for the slider to move between")
    steps = np.diff(keys)
    if not np.allclose(steps, steps[0], rtol=1e-6):
        raise ValueError(f"the half-widths of slices must be equally spaced so that every slider step shows a new "
                         f"slice, got {keys}")
    step = float(steps[0])
    scale = keys[len(keys) // 2] if scale is None else scale

    def update(scale):
        return landscape_update(scale, slices)

    def setup(fig, d):
        from matplotlib.ticker import FormatStrFormatter, MaxNLocator

        ax_map, ax_cut = fig.subplots(1, 2)
        im = ax_map.imshow(d["log_loss"], origin="lower", extent=d["extent"], cmap="viridis", aspect="equal")
        ax_map.plot([0], [0], marker="*", color=PALETTE["orange"], ms=12, ls="none", label="trained model")
        cbar = fig.colorbar(im, ax=ax_map, label=f"log10({what})")
        cbar.locator, cbar.formatter = MaxNLocator(4), FormatStrFormatter("%.2f")  # narrow ranges stay legible
        cbar.update_ticks()
        style_axes(ax_map, title="Loss on a random 2-D slice", xlabel="step a along direction 1 (filter-normalised)",
                   ylabel="step b along direction 2")
        ax_map.grid(False)
        ax_map.legend(loc="upper right", fontsize=8)
        (la,) = ax_cut.plot(d["coords"], np.log10(d["section_a"]), color=PALETTE["blue"], label="along direction 1 (b = 0)")
        (lb,) = ax_cut.plot(d["coords"], np.log10(d["section_b"]), color=PALETTE["vermillion"], ls="--",
                            label="along direction 2 (a = 0)")
        for ax in (ax_map, ax_cut):
            ax.xaxis.set_major_locator(MaxNLocator(4))
        ax_map.yaxis.set_major_locator(MaxNLocator(4))
        style_axes(ax_cut, title="Cross-sections through the trained model", xlabel="step along the direction",
                   ylabel=f"log10({what})")
        ax_cut.yaxis.tick_right()  # keeps the axis label clear of the colour bar at every half-width
        ax_cut.yaxis.set_major_formatter(FormatStrFormatter("%.2f"))  # same label width at every half-width
        ax_cut.yaxis.set_label_position("right")
        ax_cut.spines["right"].set_visible(True)
        ax_cut.spines["left"].set_visible(False)
        ax_cut.legend(loc="upper center", bbox_to_anchor=(0.5, 0.84), fontsize=8)
        text = ax_cut.text(0.5, 0.97, "", transform=ax_cut.transAxes, ha="center", va="top", fontsize=8)

        def redraw(d):
            im.set_data(d["log_loss"])
            im.set_extent(d["extent"])
            im.set_clim(d["log_loss"].min(), d["log_loss"].max())
            ax_map.set_xlim(d["extent"][:2])
            ax_map.set_ylim(d["extent"][2:])
            # The layout is frozen after the first draw: log10 with "%.2f" keeps tick labels the same width.
            la.set_data(d["coords"], np.log10(d["section_a"]))
            lb.set_data(d["coords"], np.log10(d["section_b"]))
            lo = np.log10(min(d["section_a"].min(), d["section_b"].min()))
            hi = np.log10(max(d["section_a"].max(), d["section_b"].max()))
            ax_cut.set_xlim(d["coords"][0], d["coords"][-1])
            ax_cut.set_ylim(lo - 0.05 * (hi - lo), hi + 0.45 * (hi - lo))  # head room for the legend
            text.set_text(f"half-width {d['scale']:.2f}\nmax / centre = {d['edge_ratio']:.1f}")

        redraw(d)
        return redraw

    sliders = {"scale": float_slider("slice half-width", scale, keys[0], keys[-1], step)}
    return build_explorer("loss landscape slice", update, sliders, setup, figsize=(9.0, 3.6), live=live)


# ---- week 04
def huber_np(r, delta: float) -> np.ndarray:
    """Huber loss of residuals r (any shape) for NumPy arrays (week 04): r²/2 inside ±delta, linear outside."""
    a = np.abs(np.asarray(r, dtype=float))
    return np.where(a < delta, 0.5 * a**2, delta * (a - 0.5 * delta))


def huber_update(delta: float, *, r_max: float = 4.0, n: int = 401, r_probe: float = 3.0) -> dict:
    """Week 04 explorer: Huber loss and its derivative over residuals r in [-r_max, r_max] (n,).

    Also returns the references r²/2 (half the squared error) and |r| (absolute error) with
    their slopes, and the loss and slope at the residual ``r_probe``.
    """
    if not (np.isfinite(delta) and delta > 0):
        raise ValueError(f"delta must be a positive finite number, got {delta}")
    r = np.linspace(-r_max, r_max, n)
    probe_loss = float(huber_np(r_probe, delta))
    return {
        "delta": float(delta),
        "r": r,
        "huber": huber_np(r, delta),
        "huber_grad": np.clip(r, -delta, delta),
        "half_sq": 0.5 * r**2,
        "half_sq_grad": r,
        "abs": np.abs(r),
        "abs_grad": np.sign(r),
        "r_probe": float(r_probe),
        "probe_loss": probe_loss,
        "probe_grad": float(np.clip(r_probe, -delta, delta)),
        "probe_smooth_l1": probe_loss / delta,
    }


def huber_explorer(*, delta: float = 1.0, live: bool = True) -> Explorer:
    """Week 04: a δ slider for the Huber loss, with the loss (left) and its slope (right)."""

    def setup(fig, d):
        ax_l, ax_g = fig.subplots(1, 2)
        (hl,) = ax_l.plot(d["r"], d["huber"], color=PALETTE["blue"], lw=2.5, label="Huber(r; δ)")
        ax_l.plot(d["r"], d["half_sq"], color=PALETTE["orange"], ls="--", label="r²/2 (half squared error)")
        ax_l.plot(d["r"], d["abs"], color=PALETTE["green"], ls=":", lw=2, label="|r| (absolute error)")
        (hg,) = ax_g.plot(d["r"], d["huber_grad"], color=PALETTE["blue"], lw=2.5, label="slope of Huber")
        ax_g.plot(d["r"], d["half_sq_grad"], color=PALETTE["orange"], ls="--", label="slope of r²/2 = r")
        ax_g.plot(d["r"], d["abs_grad"], color=PALETTE["green"], ls=":", lw=2, label="slope of |r| = sign(r)")
        edges = [ax.axvline(s * d["delta"], color=PALETTE["vermillion"], lw=1, ls="-.") for ax in (ax_l, ax_g)
                 for s in (-1, 1)]
        edges[0].set_label("±δ")
        ax_l.set_ylim(0, 0.5 * d["r"][-1] ** 2)
        ax_g.set_ylim(-d["r"][-1], d["r"][-1])
        style_axes(ax_l, title="Huber loss", xlabel="residual r = prediction − target (target units)",
                   ylabel="loss")
        style_axes(ax_g, title="Its derivative", xlabel="residual r = prediction − target (target units)",
                   ylabel="d loss / d r")
        ax_l.legend(loc="upper center", fontsize=8)
        ax_g.legend(loc="upper left", fontsize=8)
        text = ax_g.text(0.97, 0.03, "", transform=ax_g.transAxes, ha="right", va="bottom", fontsize=8)

        def redraw(d):
            hl.set_ydata(d["huber"])
            hg.set_ydata(d["huber_grad"])
            for line, s in zip(edges, (-1, 1, -1, 1), strict=True):
                line.set_xdata([s * d["delta"]] * 2)
            text.set_text(f"δ = {d['delta']:.2f}\nat r = {d['r_probe']:g}: loss {d['probe_loss']:.2f}, "
                          f"slope {d['probe_grad']:.2f}")

        redraw(d)
        return redraw

    sliders = {"delta": float_slider("δ (delta)", delta, 0.1, 4.0, 0.1)}
    return build_explorer("Huber loss and its slope", huber_update, sliders, setup, figsize=(9.0, 3.4), live=live)


def outlier_update(shift: float, x, y, *, index: int = -1, delta: float = 1.0) -> dict:
    """Week 04 explorer: move point ``index`` of (x, y) (N,) up by ``shift`` and refit under MSE, MAE, Huber.

    Returns the moved data, each loss's best line as (w, b) and on a 2-point grid, and the slopes.
    The fits are computed directly (:func:`course_utils.fitting.best_line`), not by gradient descent.
    """
    from course_utils.fitting import best_line

    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()
    if x.shape != y.shape:
        raise ValueError(f"x and y must have the same length, got {x.shape} and {y.shape}")
    if not -len(x) <= index < len(x):
        raise IndexError(f"index {index} is out of range for {len(x)} points")
    y_moved = y.copy()
    y_moved[index] += shift
    grid = np.array([x.min(), x.max()])
    out = {"shift": float(shift), "x": x, "y": y_moved, "moved": (float(x[index]), float(y_moved[index])), "grid": grid}
    for loss in ("mse", "mae", "huber"):
        fit = best_line(x, y_moved, loss, delta=delta)
        out[loss] = (fit.w, fit.b)
        out[f"{loss}_line"] = fit.w * grid + fit.b
        out[f"slope_{loss}"] = fit.w
    return out


def outlier_explorer(x=None, y=None, *, shift: float = 0.0, shift_range: tuple[float, float] = (-10.0, 30.0),
                     delta: float = 1.0, true_line: tuple[float, float] | None = None,
                     xlabel: str = "dose (mg/L)", ylabel: str = "response (units)", live: bool = True) -> Explorer:
    """Week 04: a slider moves the last point of (x, y) (N,) up or down; the MSE, MAE and Huber lines refit."""
    if x is None or y is None:
        from course_utils.data import make_line_with_outliers

        x, y = make_line_with_outliers(n=30, n_outliers=0, seed=0)
        true_line = true_line or (2.0, 1.0)
    x = np.asarray(x, dtype=float).ravel()
    y = np.asarray(y, dtype=float).ravel()

    def update(shift):
        return outlier_update(shift, x, y, delta=delta)

    def setup(fig, d):
        ax = fig.add_subplot()
        ax.scatter(d["x"][:-1], d["y"][:-1], s=14, color=PALETTE["sky"], label="measurements")
        (pt,) = ax.plot(*d["moved"], "o", ms=9, color=PALETTE["vermillion"], label="the point you move")
        styles = {"mse": ("MSE fit", PALETTE["orange"], "-"), "mae": ("MAE fit", PALETTE["green"], "--"),
                  "huber": (f"Huber fit (δ = {delta:g})", PALETTE["blue"], "-.")}
        lines = {k: ax.plot(d["grid"], d[f"{k}_line"], color=c, ls=ls, lw=2, label=lab)[0]
                 for k, (lab, c, ls) in styles.items()}
        if true_line is not None:
            ax.plot(d["grid"], true_line[0] * d["grid"] + true_line[1], color="grey", ls=":", label="true line")
        lo, hi = y.min() + min(0.0, shift_range[0]), y.max() + max(0.0, shift_range[1])
        ax.set_ylim(lo - 1, hi + 1)
        style_axes(ax, title="One point moves: which line follows it?", xlabel=xlabel, ylabel=ylabel)
        ax.legend(loc="upper left", fontsize=8)
        text = ax.text(0.98, 0.03, "", transform=ax.transAxes, ha="right", va="bottom", fontsize=8)

        def redraw(d):
            pt.set_data([d["moved"][0]], [d["moved"][1]])
            for k, line in lines.items():
                line.set_ydata(d[f"{k}_line"])
            text.set_text(f"shift {d['shift']:+.0f}: slopes MSE {d['slope_mse']:.2f}, "
                          f"MAE {d['slope_mae']:.2f}, Huber {d['slope_huber']:.2f}")

        redraw(d)
        return redraw

    sliders = {"shift": float_slider("shift of the last point", shift, shift_range[0], shift_range[1], 1.0,
                                     readout_format=".0f")}
    return build_explorer("outlier and three fitted lines", update, sliders, setup, figsize=(7.0, 4.0), live=live)


# ---- week 03
def true_class_update(p: float) -> dict:
    """Week 03 explorer: cross-entropy -ln p for the true class's probability p, and its gradients.

    Returns ``p``, ``loss`` (nats), ``loss_bits``, ``dloss_dp`` (= -1/p) and ``dloss_dz``
    (= p - 1, the gradient with respect to the true class's logit, through softmax or sigmoid).
    """
    if not (np.isfinite(p) and 0.0 < p <= 1.0):
        raise ValueError(f"p (probability of the true class) must lie in (0, 1], got {p}")
    loss = -np.log(p) + 0.0  # + 0.0 turns -0.0 (at p = 1) into 0.0, so the text never shows "-0.000"
    return {"p": float(p), "loss": float(loss), "loss_bits": float(loss / np.log(2.0)),
            "dloss_dp": float(-1.0 / p), "dloss_dz": float(p - 1.0)}


def true_class_explorer(*, p: float = 0.5, live: bool = True) -> Explorer:
    """Week 03: a slider for p(true class): the loss -ln p and its gradients w.r.t. p and the logit."""
    grid = np.linspace(0.01, 1.0, 300)

    def setup(fig, d):
        ax_l, ax_g = fig.subplots(1, 2)
        ax_l.plot(grid, -np.log(grid), color=PALETTE["blue"], label="loss = −ln p")
        (dot_l,) = ax_l.plot([], [], "o", color=PALETTE["vermillion"], label="current p")
        ax_l.set_ylim(0, 4.8)
        style_axes(ax_l, title="Cross-entropy of one sample", xlabel="p = predicted probability of the true class",
                   ylabel="loss (nats)")
        ax_l.legend(fontsize=8, loc="upper right")
        ax_g.plot(grid, -1.0 / grid, color=PALETTE["orange"], label="d loss / d p = −1/p")
        ax_g.plot(grid, grid - 1.0, color=PALETTE["green"], ls="--", label="d loss / d logit = p − 1")
        (dot_p,) = ax_g.plot([], [], "o", color=PALETTE["orange"])
        (dot_z,) = ax_g.plot([], [], "s", color=PALETTE["green"])
        ax_g.axhline(0, color="grey", lw=0.8)
        ax_g.set_ylim(-10.5, 0.8)
        style_axes(ax_g, title="Its gradient", xlabel="p = predicted probability of the true class",
                   ylabel="gradient (nats per unit)")
        ax_g.legend(fontsize=8, loc="lower right")
        text = ax_l.text(0.35, 0.55, "", transform=ax_l.transAxes, fontsize=9)

        def redraw(d):
            dot_l.set_data([d["p"]], [d["loss"]])
            dot_p.set_data([d["p"]], [max(d["dloss_dp"], -10.4)])  # stays on the axes at tiny p
            dot_z.set_data([d["p"]], [d["dloss_dz"]])
            text.set_text(f"p = {d['p']:.2f}\nloss = {d['loss']:.3f} nats = {d['loss_bits']:.3f} bits\n"
                          f"d/dp = {d['dloss_dp']:.2f},  d/dlogit = {d['dloss_dz']:.2f}")

        redraw(d)
        return redraw

    sliders = {"p": float_slider("p(true class)", p, 0.01, 1.0, 0.01)}
    return build_explorer("loss and gradient against the probability of the true class", true_class_update,
                          sliders, setup, figsize=(8.5, 3.4), live=live)


def _check_target_np(target, n: int, name: str = "target") -> int:
    if isinstance(target, bool) or not isinstance(target, (int, np.integer)) or not 0 <= target < n:
        raise ValueError(f"{name} must be a class index in [0, {n - 1}], got {target!r}")
    return int(target)


def logit_gradient_update(z: float, logits, target: int, index: int) -> dict:
    """Week 03 explorer: set logit ``index`` of logits (C,) to ``z``; CE for class ``target`` and its gradient.

    Returns ``logits``, ``probs`` and ``grad`` = softmax - one_hot (each (C,)), ``loss`` in nats,
    ``p_target`` and ``z``.
    """
    base = _check_logits_np(logits)
    target = _check_target_np(target, base.size)
    index = _check_target_np(index, base.size, "index")
    if not np.isfinite(z):
        raise ValueError(f"z (the logit being moved) must be finite, got {z}")
    new = base.copy()
    new[index] = z
    p = softmax_np(new)
    shifted = new - new.max()
    loss = np.log(np.exp(shifted).sum()) - shifted[target]  # logsumexp(z) - z_target, stable
    grad = p.copy()
    grad[target] -= 1.0
    return {"z": float(z), "logits": new, "probs": p, "grad": grad, "loss": float(loss),
            "p_target": float(p[target])}


def logit_gradient_curve(zs, logits, target: int, index: int) -> np.ndarray:
    """Week 03: cross-entropy (K,) when logit ``index`` of logits (C,) takes each of the K values ``zs``."""
    base = _check_logits_np(logits)
    zs = np.asarray(zs, dtype=float).ravel()
    all_z = np.repeat(base[None, :], zs.size, axis=0)
    all_z[:, index] = zs
    m = all_z.max(axis=1, keepdims=True)
    return (m[:, 0] + np.log(np.exp(all_z - m).sum(axis=1))) - all_z[:, target]


def logit_gradient_explorer(logits, target: int, index: int | None = None, labels=None, *,
                            z_range: tuple[float, float] = (-6.0, 6.0), live: bool = True) -> Explorer:
    """Week 03: a slider over one logit of logits (C,): probabilities, CE and the gradient softmax − one-hot."""
    base = _check_logits_np(logits)
    target = _check_target_np(target, base.size)
    index = target if index is None else _check_target_np(index, base.size, "index")
    labels = list(labels) if labels is not None else [str(i) for i in range(base.size)]
    grid = np.linspace(z_range[0], z_range[1], 241)
    colors = [PALETTE["vermillion"] if k == target else PALETTE["sky"] for k in range(base.size)]

    def update(z):
        return logit_gradient_update(z, base, target, index)

    def setup(fig, d):
        ax_p, ax_g, ax_l = fig.subplots(1, 3)
        pbars = ax_p.bar(range(base.size), d["probs"], color=colors)
        ax_p.set_xticks(range(base.size), labels, fontsize=8)
        ax_p.set_ylim(0, 1.05)
        style_axes(ax_p, title="softmax(logits)", xlabel=f"class (true: {labels[target]}, red)", ylabel="probability")
        gbars = ax_g.bar(range(base.size), d["grad"], color=colors)
        ax_g.set_xticks(range(base.size), labels, fontsize=8)
        ax_g.axhline(0, color="grey", lw=0.8)
        ax_g.set_ylim(-1.05, 1.05)
        style_axes(ax_g, title="gradient = softmax − one-hot", xlabel="class", ylabel="d loss / d logit")
        ax_l.plot(grid, logit_gradient_curve(grid, base, target, index), color=PALETTE["blue"], label="cross-entropy")
        (dot,) = ax_l.plot([], [], "o", color=PALETTE["vermillion"], label="current logit")
        style_axes(ax_l, title="Loss as this logit moves", xlabel=f"logit of {labels[index]}", ylabel="loss (nats)")
        ax_l.legend(fontsize=8, loc="upper right")
        text = ax_l.text(0.04, 0.04, "", transform=ax_l.transAxes, fontsize=8)

        def redraw(d):
            for bar, p in zip(pbars, d["probs"], strict=True):
                bar.set_height(p)
            for bar, g in zip(gbars, d["grad"], strict=True):
                bar.set_height(g)
            dot.set_data([d["z"]], [d["loss"]])
            text.set_text(f"loss = {d['loss']:.3f}\np(true) = {d['p_target']:.3f}")

        redraw(d)
        return redraw

    sliders = {"z": float_slider(f"logit of {labels[index]}", float(np.clip(base[index], *z_range)),
                                 z_range[0], z_range[1], 0.1)}
    return build_explorer("cross-entropy and its gradient as one logit moves", update, sliders, setup,
                          figsize=(9.5, 3.3), live=live)


# ---- week 05
def lr_sweep(lrs, *, epochs: int = 15, batch_size: int = 64, hidden: int = 32, momentum: float = 0.0,
             seed: int = 0) -> dict:
    """Week 05: train the same small digits classifier once per learning rate; returns ``{lr: History}``.

    Every run starts from the same seeded weights and batch order (SGD, CrossEntropyLoss,
    64 -> ``hidden`` -> 10), so the curves differ only by the learning rate. Runs on the CPU.
    """
    import torch
    from torch import nn

    from course_utils.data import load_dataset, make_loaders
    from course_utils.devices import set_seed
    from course_utils.training import fit

    lrs = [float(lr) for lr in lrs]
    if not lrs or any(not np.isfinite(lr) or lr <= 0 for lr in lrs):
        raise ValueError(f"lrs must be a non-empty list of positive learning rates, got {lrs}")
    split = load_dataset("digits", seed=seed)
    runs = {}
    for lr in lrs:
        set_seed(seed)
        train, val, _ = make_loaders(split, batch_size, seed=seed)
        model = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        runs[lr] = fit(model, nn.CrossEntropyLoss(), opt, train, val, epochs, metric="accuracy", progress=False)
    return runs


def lr_update(log10_lr: float, runs: Mapping[float, Any]) -> dict:
    """Week 05 explorer: the precomputed run whose learning rate is nearest ``10**log10_lr``.

    ``runs``: ``{lr: History}`` (from :func:`lr_sweep`). Returns the selected run's
    per-epoch train/validation loss (E,) with non-finite values as NaN, its final
    validation accuracy and best epoch, and every run's final accuracy (R,) for the overview.
    """
    if not runs:
        raise ValueError("runs must hold at least one precomputed run")
    lrs = np.array(sorted(runs), dtype=float)
    lr = float(lrs[np.abs(np.log10(lrs) - log10_lr).argmin()])
    h = runs[lr]

    def clean(values):
        v = np.asarray(values, dtype=float)
        return np.where(np.isfinite(v), v, np.nan)

    train_loss, val_loss = clean(h.train_loss), clean(h.val_loss)
    return {
        "lr": lr, "epochs": np.arange(1, len(train_loss) + 1), "train_loss": train_loss, "val_loss": val_loss,
        "final_val_loss": float(val_loss[-1]), "final_val_acc": float(h.val_metric[-1]),
        "best_epoch": h.best_epoch(),
        # "learns": the validation loss ends clearly below where it started (chance level).
        "learns": bool(np.isfinite(val_loss[-1]) and val_loss[-1] < 0.8 * val_loss[0]),
        "all_lrs": lrs, "all_final_acc": np.array([runs[k].val_metric[-1] for k in lrs], dtype=float),
    }


def lr_explorer(runs: Mapping[float, Any], *, log10_lr: float = -1.0, live: bool = True) -> Explorer:
    """Week 05: a log10(learning rate) slider over precomputed runs; loss curves and final accuracy per lr."""
    lrs = np.array(sorted(runs), dtype=float)
    if len(lrs) < 2:
        raise ValueError("runs must hold at least two learning rates for the slider to move between")
    logs = np.log10(lrs)
    step = float(np.round(np.min(np.diff(logs)), 6))
    finite = np.concatenate([np.asarray(runs[k].train_loss + runs[k].val_loss, dtype=float) for k in lrs])
    finite = finite[np.isfinite(finite)]
    ylim = (max(finite.min() / 1.5, 1e-3), min(finite.max() * 1.5, 10.0))

    def update(log10_lr):
        return lr_update(log10_lr, runs)

    def setup(fig, d):
        ax_l, ax_a = fig.subplots(1, 2)
        for k in lrs:  # every run's validation loss, faint, for context
            ax_l.plot(d["epochs"], lr_update(np.log10(k), runs)["val_loss"], color="0.8", lw=1)
        (lt,) = ax_l.plot(d["epochs"], d["train_loss"], color=PALETTE["blue"], lw=2, label="train (selected lr)")
        (lv,) = ax_l.plot(d["epochs"], d["val_loss"], color=PALETTE["vermillion"], lw=2, ls="--",
                          label="validation (selected lr)")
        ax_l.plot([], [], color="0.8", label="validation, other lrs")
        ax_l.set_yscale("log")
        ax_l.set_ylim(*ylim)
        style_axes(ax_l, title="Loss curves for one learning rate", xlabel="epoch",
                   ylabel="cross-entropy (nats, log scale)")
        ax_l.legend(loc="lower left", fontsize=8, frameon=False)
        ax_a.plot(d["all_lrs"], d["all_final_acc"], marker="o", color=PALETTE["green"], label="all runs")
        (dot,) = ax_a.plot([d["lr"]], [d["final_val_acc"]], marker="o", ms=11, ls="none", mfc="none",
                           mec=PALETTE["vermillion"], mew=2, label="selected")
        ax_a.set_xscale("log")
        ax_a.set_ylim(0, 1.05)
        style_axes(ax_a, title="Validation accuracy after the last epoch", xlabel="learning rate (log scale)",
                   ylabel="validation accuracy", legend=True)
        text = ax_a.text(0.03, 0.95, "", transform=ax_a.transAxes, va="top", fontsize=9)

        def redraw(d):
            lt.set_ydata(d["train_loss"])
            lv.set_ydata(d["val_loss"])
            dot.set_data([d["lr"]], [d["final_val_acc"]])
            text.set_text(f"lr = {d['lr']:.3g}\nval. accuracy {d['final_val_acc']:.2f}")

        redraw(d)
        return redraw

    sliders = {"log10_lr": float_slider("log10(learning rate)", log10_lr, float(logs[0]), float(logs[-1]), step,
                                        readout_format=".1f")}
    return build_explorer("learning rate and the loss curves (precomputed runs)", update, sliders, setup,
                          figsize=(9.5, 3.4), live=live)
