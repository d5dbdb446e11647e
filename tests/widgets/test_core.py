"""Does the explorer machinery redraw existing artists in place, show a static view and wire live sliders?"""

import subprocess
import sys

import numpy as np
import pytest

from course_utils.widgets import Explorer, threshold_explorer
from course_utils.widgets._core import require_finite, require_index, require_logits


def test_explorer_set_redraws_existing_artists():
    x = np.linspace(-2, 2, 41)
    y = (x > 0).astype(float)
    exp = threshold_explorer(x, y, w=1.0, b=0.0, live=False)
    assert isinstance(exp, Explorer)
    ax = exp.figure.axes[0]
    n_artists = len(ax.lines) + len(ax.collections)
    curve = ax.lines[0]
    before = np.array(curve.get_ydata()).copy()
    data = exp.set(b=2.0)
    assert exp.sliders["b"].value == 2.0
    assert len(ax.lines) + len(ax.collections) == n_artists  # nothing added: updated in place
    assert not np.allclose(curve.get_ydata(), before)
    assert data["boundary"] == pytest.approx(-2.0)
    with pytest.raises(KeyError, match="unknown slider"):
        exp.set(temperature=1.0)


def test_explorer_mimebundle_has_stable_text_and_static_png():
    exp = threshold_explorer(np.array([0.0, 1.0]), np.array([0.0, 1.0]), live=False)
    bundle = exp._repr_mimebundle_()
    assert bundle["text/plain"].startswith("Explorer: sigmoid threshold")
    assert "0x" not in bundle["text/plain"]
    assert bundle["image/png"].startswith("iVBOR")  # base64 of the PNG signature


def test_live_explorer_wires_sliders_to_a_canvas():
    exp = threshold_explorer(np.linspace(-1, 1, 11), (np.linspace(-1, 1, 11) > 0).astype(float))
    assert exp.canvas is not None and "course-explorer" in exp.widget._dom_classes
    # what a step changes is known before the first step, so the page's first draw caches the background
    assert exp._blitter is not None and exp._blitter.dynamic
    exp.canvas.draw()
    assert exp._blitter.background is not None
    exp.sliders["b"].value = 1.5  # as a student dragging the slider
    assert exp.data["boundary"] == pytest.approx(-1.5 / 2.0)
    assert "application/vnd.jupyter.widget-view+json" in exp._repr_mimebundle_()


def test_live_explorer_leaves_the_pyplot_backend_alone():
    """Does building a live explorer keep later plt.show() figures as static images?"""
    code = ("import matplotlib; matplotlib.use('agg'); import matplotlib.pyplot as plt; "
            "from course_utils.widgets import huber_explorer; huber_explorer(); print(matplotlib.get_backend())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True)
    assert out.stdout.strip() == "agg"


@pytest.mark.parametrize("bad, words", [(float("nan"), "finite"), (float("inf"), "finite"), ("a", "number")])
def test_slider_values_that_are_not_finite_numbers_are_refused_by_name(bad, words):
    with pytest.raises((ValueError, TypeError), match=f"T .*{words}"):
        require_finite(bad, "T")


def test_logits_and_index_validators_name_the_argument():
    with pytest.raises(ValueError, match="at least two classes"):
        require_logits([1.0])
    with pytest.raises(ValueError, match="finite"):
        require_logits([1.0, float("nan")])
    with pytest.raises(ValueError, match="target must be a class index in \\[0, 2\\]"):
        require_index(3, 3, "target")
    with pytest.raises(ValueError, match="index"):
        require_index(True, 3, "index")


# ---------------------------------------------------------------- blitting: only the axes' content is redrawn
def _pixels(canvas) -> np.ndarray:
    return np.asarray(canvas.buffer_rgba()).copy()


def _steps(exp, canvas, n=4):
    from course_utils.widgets._core import Blitter

    blitter = Blitter(exp.figure, canvas)
    canvas.draw()
    name, s = next(iter(exp.sliders.items()))
    for v in np.linspace(s.min, s.max, n + 1)[1:]:
        exp.redraw(exp.update(**dict(exp.values(), **{name: float(v)})))
        blitter.step()
    return blitter


def _full_draw(exp, canvas, blitter) -> np.ndarray:
    for a in blitter.dynamic:
        a.set_animated(False)
    blitter.dynamic = []
    canvas.draw()
    return _pixels(canvas)


def _recalibration():
    import torch

    from course_utils import widgets as w

    gen = torch.Generator().manual_seed(0)
    z = 4 * torch.randn(300, 10, generator=gen, dtype=torch.float64)
    return w.recalibration_explorer(z, torch.randint(0, 10, (300,), generator=gen), 2.0, T=1.0, live=False)


EXPLORERS = {
    "huber": lambda w: w.huber_explorer(live=False), "outlier": lambda w: w.outlier_explorer(live=False),
    "true_class": lambda w: w.true_class_explorer(live=False),
    "temperature": lambda w: w.temperature_explorer([2.0, 1.0, 0.2, -0.5, -1.0], live=False),
    "scoring_rule": lambda w: w.scoring_rule_explorer(live=False), "recalibration": lambda w: _recalibration(),
}


@pytest.mark.parametrize("make", sorted(EXPLORERS))
def test_a_blitted_step_looks_like_a_full_redraw(make):
    """Does drawing only the axes' content over the cached background (legends and unchanged texts from
    their layers) give the figure a full draw gives?"""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from course_utils import widgets as w

    exp = EXPLORERS[make](w)
    canvas = FigureCanvasAgg(exp.figure)
    blitter = _steps(exp, canvas)
    blitted = _pixels(canvas).astype(int)
    assert blitter.dynamic, "the step changed artists, so some must be animated"
    assert not any(type(a).__name__ in ("XAxis", "YAxis", "XTick", "YTick") for a in blitter.dynamic)
    full = _full_draw(exp, canvas, blitter).astype(int)
    differ = (np.abs(blitted - full) > 2).any(axis=2).mean()  # compositing a layer may round a channel by 1-2
    assert differ < 0.005, f"{differ:.2%} of the pixels differ from a full redraw"


def test_unchanged_legends_come_from_their_layer_and_a_changed_one_is_rendered_again():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from course_utils import widgets as w

    exp = w.huber_explorer(live=False)
    canvas = FigureCanvasAgg(exp.figure)
    blitter = _steps(exp, canvas)
    legends = [ax.legend_ for ax in exp.figure.axes if ax.legend_ is not None]
    assert legends and all(leg in blitter.layers for leg in legends)
    first = legends[0]
    first.get_texts()[0].set_text("a label changed by the step")
    exp.redraw(exp.update(**exp.values()))
    blitter.step()
    blitted = _pixels(canvas).astype(int)
    full = _full_draw(exp, canvas, blitter).astype(int)
    assert (np.abs(blitted - full) > 2).any(axis=2).mean() < 0.005, "the changed legend text is not shown"


def test_a_step_that_moves_the_axis_limits_redraws_the_whole_figure():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from course_utils.widgets import build_explorer, float_slider

    def setup(fig, d):
        ax = fig.add_subplot()
        (line,) = ax.plot([0, 1], [0, d["top"]])

        def redraw(d):
            line.set_ydata([0, d["top"]])
            ax.set_ylim(0, d["top"])

        return redraw

    exp = build_explorer("limits", lambda top: {"top": top}, {"top": float_slider("top", 1.0, 1.0, 10.0, 1.0)},
                         setup, live=False)
    canvas = FigureCanvasAgg(exp.figure)
    blitter = _steps(exp, canvas, n=3)
    assert blitter.limits[0][3] == pytest.approx(10.0)  # the cached background has the last step's axis
    assert (_pixels(canvas) == _full_draw(exp, canvas, blitter)).all()


def test_the_static_png_still_holds_the_animated_artists():
    import base64
    import io

    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from PIL import Image

    exp = threshold_explorer(np.linspace(-2, 2, 21), (np.linspace(-2, 2, 21) > 0).astype(float), live=False)
    canvas = FigureCanvasAgg(exp.figure)
    blitter = _steps(exp, canvas)
    png = np.asarray(Image.open(io.BytesIO(base64.b64decode(exp._repr_mimebundle_()["image/png"]))).convert("RGBA"))
    full = _full_draw(exp, canvas, blitter)
    assert png.shape == full.shape and (png != full).any(axis=2).mean() < 0.005


def _landscape():
    from course_utils import widgets as w

    rng = np.random.default_rng(0)
    slices = {s: {"coords": np.linspace(-s, s, 15), "loss": np.exp(rng.normal(size=(15, 15))) + 1}
              for s in (0.2, 0.4, 0.6, 0.8, 1.0)}
    return w.landscape_explorer(slices, scale=0.6, live=False)


def test_values_shown_before_get_their_frame_back_as_a_full_draw_would_draw_it():
    """Each slice moves the axis limits (a whole-figure draw); coming back to one puts its frame back."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from course_utils.widgets._core import Blitter

    exp = _landscape()
    canvas = FigureCanvasAgg(exp.figure)
    blitter = Blitter(exp.figure, canvas)
    canvas.draw()
    for scale in (0.2, 1.0, 0.2):
        exp.redraw(exp.update(scale=scale))
        blitter.step(key=(("scale", scale),))
    assert len(blitter.frames) == 2, "two distinct slider values, two frames"
    revisited = _pixels(canvas).astype(int)
    full = _full_draw(exp, canvas, blitter).astype(int)
    assert (np.abs(revisited - full) > 2).any(axis=2).mean() < 0.005


def test_the_frame_cache_keeps_only_the_last_frames():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from course_utils import widgets as w
    from course_utils.widgets._core import Blitter

    exp = w.huber_explorer(live=False)
    canvas = FigureCanvasAgg(exp.figure)
    blitter = Blitter(exp.figure, canvas)
    blitter.max_frames = 3
    canvas.draw()
    for delta in np.linspace(0.5, 3.0, 6):
        exp.redraw(exp.update(delta=float(delta)))
        blitter.step(key=(("delta", float(delta)),))
    assert [k[1][0][1] for k in blitter.frames] == pytest.approx(list(np.linspace(0.5, 3.0, 6)[-3:]))


def _limits_explorer():
    from course_utils.widgets import build_explorer, float_slider

    def setup(fig, d):
        ax = fig.add_subplot()
        (line,) = ax.plot([0, 1], [0, d["top"]], label="a line")
        ax.legend(loc="upper left")

        def redraw(d):
            line.set_ydata([0, d["top"]])
            ax.set_ylim(0, d["top"])

        return redraw

    return build_explorer("limits", lambda top: {"top": top}, {"top": float_slider("top", 1.0, 1.0, 10.0, 1.0)},
                          setup, live=False)


def test_a_full_draw_from_elsewhere_resets_the_limits_the_background_was_made_for():
    """A set() from code draws the whole figure at new limits; a later step back to the old limits must not
    paste that background under the old ticks."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from course_utils.widgets._core import Blitter

    exp = _limits_explorer()
    canvas = FigureCanvasAgg(exp.figure)
    blitter = Blitter(exp.figure, canvas)
    canvas.draw()
    for top, blit in ((5.0, True), (3.0, False), (5.0, True)):
        exp.redraw(exp.update(top=top))
        if blit:
            blitter.step()
        else:  # what Explorer.set does: no blit, the page draws the whole figure when it is ready
            blitter.invalidate()
            canvas.draw()
    assert (_pixels(canvas) == _full_draw(exp, canvas, blitter)).all()


def test_layers_sit_where_a_full_draw_puts_them_at_a_fractional_canvas_size():
    """At 110 % zoom the figure is 616 x 281.6 pixels; the canvas has 281 rows, and so must the layers."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from course_utils import widgets as w

    exp = w.huber_explorer(live=False)
    exp.figure.set_size_inches(7.0, 3.2)
    exp.figure.set_dpi(88)
    canvas = FigureCanvasAgg(exp.figure)
    blitter = _steps(exp, canvas)
    legends = [ax.legend_ for ax in exp.figure.axes if ax.legend_ is not None]
    assert legends and all(leg in blitter.layers for leg in legends)
    boxes = [leg.get_window_extent(canvas.get_renderer()) for leg in legends]
    blitted = _pixels(canvas).astype(int)
    full = _full_draw(exp, canvas, blitter).astype(int)
    height = full.shape[0]
    for box in boxes:  # every pixel of every legend, to within the rounding of compositing
        rows = slice(max(0, int(height - box.y1) - 1), min(height, int(height - box.y0) + 2))
        cols = slice(max(0, int(box.x0) - 1), int(box.x1) + 2)
        assert np.abs(blitted[rows, cols] - full[rows, cols]).max() <= 2


def test_an_artist_that_redraw_replaces_is_drawn_instead_of_the_old_one():
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    from course_utils.widgets import build_explorer, float_slider

    def setup(fig, d):
        ax = fig.add_subplot()
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 10)
        bars = [ax.bar([0.5], [d["h"]], width=0.3, color="C0")]

        def redraw(d):  # a new artist at every step, as a colour bar's mesh or a re-made bar chart
            bars.pop().remove()
            bars.append(ax.bar([0.5], [d["h"]], width=0.3, color="C0"))

        return redraw

    exp = build_explorer("bars", lambda s: {"h": 10.0 - s}, {"s": float_slider("s", 1.0, 1.0, 9.0, 1.0)}, setup,
                         live=False)
    canvas = FigureCanvasAgg(exp.figure)
    blitter = _steps(exp, canvas, n=3)  # the bar shrinks from 9 to 1: an old bar left drawn would stand out
    blitted = _pixels(canvas).astype(int)
    full = _full_draw(exp, canvas, blitter).astype(int)
    # the content is drawn over the grid and spines when blitted, under them in a full draw: a few pixels
    assert (np.abs(blitted - full) > 2).any(axis=2).mean() < 0.005
