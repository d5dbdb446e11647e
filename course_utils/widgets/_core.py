"""The explorer machinery every week shares: a pure update function plus thin ipywidgets/ipympl wiring.

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
  viewers (GitHub, HTML export) a PNG of the state its sliders show (a later
  ``set`` updates it), and gives nbval a stable one-line text description to compare.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from matplotlib.figure import Figure

from course_utils.plotting import course_style

Redraw = Callable[[dict], None]
# Set while the static course site is built (scripts/build_site.py): displayed explorers are registered.
SITE_FRAMES_ENV = "COURSE_SITE_FRAMES"


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
    _blitter: Any = field(default=None, repr=False)
    _display_id: str | None = field(default=None, repr=False)

    def values(self) -> dict[str, Any]:
        return {name: s.value for name, s in self.sliders.items()}

    def refresh(self, *, blit: bool = False) -> dict:
        """Recompute from the current slider values and redraw the artists in place.

        ``blit`` (a slider moved in a live page) redraws only what changed, at once; otherwise the
        page is asked to redraw when it is ready (a ``set`` from code may run before the page has
        drawn the canvas at all).
        """
        self.data = self.update(**self.values())
        self.redraw(self.data)
        if self.canvas is None:
            return self.data
        if blit:
            if self._blitter is None:
                self._blitter = Blitter(self.figure, self.canvas)
            self._blitter.step(key=tuple(self.values().items()))
        else:
            if self._blitter is not None:
                self._blitter.invalidate()
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
        data = self.refresh()
        if self._display_id is not None:
            # The saved static view (PNG) must show what the saved sliders show, also after a later set().
            from IPython.display import update_display

            update_display(self._repr_mimebundle_(), raw=True, display_id=self._display_id)
        return data

    def describe(self) -> str:
        parts = ", ".join(f"{n} in [{s.min:g}, {s.max:g}]" for n, s in self.sliders.items())
        return f"Explorer: {self.title} (sliders: {parts})"

    def _ipython_display_(self):
        """Display with an id, so that ``set`` can update the static view shown above."""
        import uuid

        from IPython.display import display

        self._display_id = self._display_id or uuid.uuid4().hex
        display(self._repr_mimebundle_(), raw=True, display_id=self._display_id)
        if os.environ.get(SITE_FRAMES_ENV):  # the static site is being built: it renders this explorer's frames
            from course_utils.site import register

            register(self)

    def _repr_mimebundle_(self, include=None, exclude=None, **kwargs):
        bundle = {"text/plain": self.describe()}
        if self.widget is not None:
            bundle.update({k: v for k, v in _widget_bundle(self.widget).items() if k != "text/plain"})
        bundle["image/png"] = _png(self.figure)
        return bundle


class Blitter:
    """Per slider step, re-render only the axes' content; ticks, labels and titles are a cached background.

    When ``redraw`` touches an artist of an axes (matplotlib marks it stale), everything drawn inside
    that axes (lines, patches, texts, its legend) becomes *animated*: a full draw leaves it out and
    caches the background, and each later step restores that background, draws the content in z-order
    and blits. When a step changes axis limits or ticks, touches a new axes, replaces an artist, or
    the canvas changes size, the whole figure is drawn once more. Saved images (``savefig``) still
    contain every artist, in the usual order.

    A step given a ``key`` (the slider values) keeps the finished frame; when the sliders come back
    to values shown before, that frame is put back as it is (``update`` is pure and ``redraw`` sets
    every artist from its data, so the same values give the same picture). The last ``max_frames``
    frames (at most ``max_frame_bytes``) are kept: dragging back and forth over a slider with few
    positions (the week-06 slice) then costs a copy, not a whole-figure draw.

    A legend, or a plain text, that a step leaves unchanged is rendered once into a transparent
    layer of its own, and later steps composite that layer where it belongs: laying out a legend
    costs more than drawing the curves under it. It is rendered again when it changes; a full draw
    renders every layer afresh. A legend placed "best" moves with the data and is drawn anew.
    """

    def __init__(self, figure: Figure, canvas):
        from matplotlib.axis import Axis
        from matplotlib.spines import Spine

        self.figure, self.canvas = figure, canvas
        # Ticks are re-positioned (so marked stale) by every draw, and spines never move.
        self._frame = (Axis, Spine)
        self.dynamic: list = []
        self._live_axes: set = set()
        self.background = None
        self._size: tuple[int, int] | None = None  # the canvas pixels the background and layers were made for
        self.layers: dict = {}  # legend or text -> (row, column, RGBA pixels) of its own rendering
        self.frames: OrderedDict = OrderedDict()  # key -> (frame, limits), the last one used last
        self.limits = self._limits()
        canvas.mpl_connect("draw_event", self._on_draw)

    max_frames = 16  # finished frames kept ...
    max_frame_bytes = 32 * 2**20  # ... and at most this many bytes of them (720 x 288 RGBA pixels is 0.8 MB)

    def _limits(self) -> list[tuple]:
        return [tuple(ax.viewLim.bounds) + tuple(ax.get_xticks()) + tuple(ax.get_yticks()) for ax in self.figure.axes]

    def _canvas_size(self) -> tuple[int, int]:
        renderer = self.canvas.get_renderer()
        return int(renderer.width), int(renderer.height)

    def _content(self, ax) -> list:
        """What is drawn inside ``ax`` (its legend too), in the order the axes draws it (by z-order)."""
        from matplotlib.legend import Legend

        inner = [a for a in ax.get_children() if a is not ax.patch and not isinstance(a, (*self._frame, Legend))
                 and a not in (ax.title, ax._left_title, ax._right_title)]
        legend = [ax.legend_] if ax.legend_ is not None else []
        return sorted(inner + legend, key=lambda a: a.get_zorder())  # stable: ties keep the axes' own order

    def _touched_axes(self) -> list:
        return [ax for ax in self.figure.axes if ax not in self._live_axes
                and any(a.stale for a in self._content(ax) + [ax.title])]

    def invalidate(self) -> None:
        """The figure was changed outside a slider step (``Explorer.set``): the next step draws it whole."""
        self.background = None
        self.layers.clear()

    def _on_draw(self, event) -> None:
        if self.canvas.is_saving():
            return
        size = self._canvas_size()
        if size != self._size:  # a new pixel ratio (browser zoom): earlier frames have the old size
            self.frames.clear()
        self.background, self._size, self.limits = self.canvas.copy_from_bbox(self.figure.bbox), size, self._limits()
        self.layers.clear()  # limits or layout may have changed: layers are rendered afresh when next needed
        for a in self.dynamic:
            self.figure.draw_artist(a)

    def _draw(self, artist) -> None:
        """Draw ``artist`` on the canvas: a legend or plain text that has not changed from its cached layer."""
        from matplotlib.legend import Legend
        from matplotlib.text import Text

        # plain texts only: an annotation can move with its target without being marked as changed
        layered = type(artist) is Text or (isinstance(artist, Legend) and artist._loc != 0)
        changed = layered and _stale(artist)
        if not layered or not artist.get_visible() or (changed and type(artist) is Text):
            self.layers.pop(artist, None)  # a text that changes at every step is cheaper drawn than layered
            self.figure.draw_artist(artist)
            return
        if changed or artist not in self.layers:
            self.layers[artist] = _render_alone(artist, self.figure, self._canvas_size())
        _composite(self.canvas.get_renderer(), *self.layers[artist])

    def step(self, key=None) -> None:
        """Show the figure after ``redraw`` has updated its artists (for slider values ``key``, if given)."""
        if key is not None:
            key = (self._canvas_size(), key)
        if key is not None and key in self.frames:
            self.frames.move_to_end(key)
            frame, limits = self.frames[key]
            if limits != self.limits:  # the cached background belongs to other axis limits
                self.invalidate()
            self.canvas.restore_region(frame)
            self.canvas.blit(self.figure.bbox)
            return
        self._step()
        if key is not None and self.max_frames > 0:
            self.frames[key] = (self.canvas.copy_from_bbox(self.figure.bbox), self.limits)
            per_frame = 4 * key[0][0] * key[0][1]
            while len(self.frames) > max(0, min(self.max_frames, self.max_frame_bytes // max(per_frame, 1))):
                self.frames.popitem(last=False)

    def prepare(self) -> bool:
        """Animate the content of every axes ``redraw`` has touched; True if what is animated changed.

        Called once when a live explorer is built (after a ``redraw`` of its first state), so that the
        page's first draw already caches the background and the first slider step is a blit; then at
        every step, which also notices artists that ``redraw`` replaced (a new colour-bar mesh).
        """
        for ax in self._touched_axes():
            self._live_axes.add(ax)
        wanted = [a for ax in self.figure.axes if ax in self._live_axes for a in self._content(ax) + [ax.title]]
        if len(wanted) == len(self.dynamic) and all(x is y for x, y in zip(wanted, self.dynamic, strict=True)):
            return False
        for a in wanted:
            a.set_animated(True)
        self.dynamic = wanted
        return True

    def _step(self) -> None:
        changed, limits = self.prepare(), self._limits()
        if changed or limits != self.limits or self.background is None or self._size != self._canvas_size():
            self.canvas.draw()  # the background without the animated artists, then them on top (_on_draw)
            return
        self.canvas.restore_region(self.background)
        for a in self.dynamic:
            self._draw(a)
        self.canvas.blit(self.figure.bbox)


def _stale(artist) -> bool:
    """Has ``artist`` or anything inside it (a legend's texts and handles) changed since it was drawn?"""
    return artist.stale or any(_stale(child) for child in artist.get_children())


def _mark_drawn(artist) -> None:
    artist.stale = False
    for child in artist.get_children():
        _mark_drawn(child)


def _render_alone(artist, figure: Figure, size: tuple[int, int]) -> tuple[int, int, np.ndarray]:
    """``artist`` drawn by itself on a transparent canvas of ``size`` pixels: (top row, left column, RGBA)."""
    from matplotlib.backends.backend_agg import RendererAgg

    renderer = RendererAgg(size[0], size[1], figure.dpi)
    artist.draw(renderer)
    _mark_drawn(artist)  # parts it did not draw (an empty title, hidden handles) must not count as changes
    pixels = np.asarray(renderer.buffer_rgba())
    rows, cols = np.nonzero(pixels[..., 3].any(axis=1))[0], np.nonzero(pixels[..., 3].any(axis=0))[0]
    if not len(rows):
        return 0, 0, pixels[:0, :0].copy()
    return int(rows[0]), int(cols[0]), pixels[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1].copy()


def _composite(renderer, top: int, left: int, layer: np.ndarray) -> None:
    """Lay ``layer`` (straight-alpha RGBA, as Agg renders) over the renderer's pixels at (top, left)."""
    if not layer.size:
        return
    dst = np.asarray(renderer.buffer_rgba())[top:top + layer.shape[0], left:left + layer.shape[1]]
    layer = layer[:dst.shape[0], :dst.shape[1]]
    a_src = layer[..., 3:4] / 255.0
    a_dst = dst[..., 3:4] / 255.0
    a_out = a_src + a_dst * (1.0 - a_src)
    rgb = (layer[..., :3] * a_src + dst[..., :3] * a_dst * (1.0 - a_src)) / np.where(a_out > 0, a_out, 1.0)
    dst[..., :3] = np.rint(rgb).astype(np.uint8)
    dst[..., 3:4] = np.rint(a_out * 255.0).astype(np.uint8)


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
    """A FloatSlider that updates the figure continuously while it is dragged (and per key press)."""
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
    if exp.canvas is not None:
        exp._blitter = Blitter(fig, exp.canvas)
        with course_style():
            redraw(data)  # marks what a step changes, so the first draw in the page caches the background
        exp._blitter.prepare()

    def on_change(change):
        if not getattr(change["owner"], "_course_hold", False):
            with course_style():
                exp.refresh(blit=True)

    for s in exp.sliders.values():
        s.observe(on_change, names="value")
    controls = w.VBox(list(exp.sliders.values()))
    children = [controls] + ([exp.canvas] if exp.canvas is not None else [])
    exp.widget = w.VBox(children, layout=w.Layout(align_items="flex-start"))
    exp.widget.add_class("course-explorer")
    return exp


def require_logits(logits) -> np.ndarray:
    """Logits (C,) with C >= 2 finite values, as a float64 NumPy array (weeks 02, 03, 07)."""
    z = np.asarray(logits, dtype=float).ravel()
    if z.size < 2:
        raise ValueError(f"logits must hold at least two classes, got {z.size}")
    if not np.all(np.isfinite(z)):
        raise ValueError("logits must be finite (no NaN or inf)")
    return z


def require_index(value, n: int, name: str) -> int:
    """An int class index in [0, n) (weeks 02, 03)."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 0 <= value < n:
        raise ValueError(f"{name} must be a class index in [0, {n - 1}], got {value!r}")
    return int(value)


def require_finite(value, name: str) -> float:
    """A finite slider value as a float: NaN and inf are refused, naming the slider."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number, got {type(value).__name__}") from None
    if not np.isfinite(v):
        raise ValueError(f"{name} must be a finite number, got {value!r}")
    return v

