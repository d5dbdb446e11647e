"""Does the week-06 landscape explorer pick the right precomputed slice and redraw it in place, fast?"""

import time

import numpy as np
import pytest

from course_utils.widgets import Explorer, landscape_explorer, landscape_update


def _bowl_slices(scales=(0.5, 1.0, 1.5, 2.0), n=11):
    """Slices of the known bowl L(a, b) = 0.1 + a² + 2 b² (rows b, columns a)."""
    out = {}
    for s in scales:
        c = np.linspace(-s, s, n)
        a, b = np.meshgrid(c, c)
        out[s] = {"coords": c, "loss": 0.1 + a**2 + 2 * b**2}
    return out


def test_landscape_update_picks_the_nearest_slice_and_its_cross_sections():
    slices = _bowl_slices()
    d = landscape_update(1.1, slices)
    assert d["scale"] == 1.0 and d["extent"] == (-1.0, 1.0, -1.0, 1.0)
    c = np.linspace(-1, 1, 11)
    assert np.allclose(d["section_a"], 0.1 + c**2) and np.allclose(d["section_b"], 0.1 + 2 * c**2)
    assert d["centre_loss"] == pytest.approx(0.1)
    assert d["max_loss"] == pytest.approx(3.1) and d["edge_ratio"] == pytest.approx(31.0)
    assert np.allclose(d["log_loss"], np.log10(d["loss"]))
    # a wider slice reaches higher losses, and less of it stays within twice the centre's loss
    wide = landscape_update(2.0, slices)
    assert wide["max_loss"] > d["max_loss"] and wide["frac_within_2x"] < d["frac_within_2x"]


def test_landscape_update_rejects_bad_slices():
    with pytest.raises(ValueError, match="at least one"):
        landscape_update(1.0, {})
    with pytest.raises(ValueError, match="odd n"):
        landscape_update(1.0, {1.0: {"coords": np.zeros(4), "loss": np.ones((4, 4))}})
    with pytest.raises(ValueError, match="at least two half-widths"):
        landscape_explorer(_bowl_slices(scales=(1.0,)), live=False)
    with pytest.raises(ValueError, match="equally spaced"):
        landscape_explorer(_bowl_slices(scales=(0.1, 0.25, 0.5)), live=False)


def test_landscape_explorer_redraws_in_place_and_is_fast():
    exp = landscape_explorer(_bowl_slices(), scale=0.5, live=False)
    assert isinstance(exp, Explorer) and exp.describe().startswith("Explorer: loss landscape slice")
    ax_map, ax_cut = exp.figure.axes[:2]
    im, line = ax_map.images[0], ax_cut.lines[0]
    n_artists = len(ax_map.images) + len(ax_cut.lines) + len(ax_cut.texts)
    exp.figure.canvas.draw()
    times = []
    for s in (2.0, 1.0, 1.5, 0.5):
        t0 = time.perf_counter()
        data = exp.set(scale=s)
        exp.figure.canvas.draw()
        times.append(time.perf_counter() - t0)
        assert tuple(im.get_extent()) == (-s, s, -s, s)
        assert np.allclose(line.get_xdata(), np.linspace(-s, s, 11))
        assert im.get_clim() == pytest.approx((data["log_loss"].min(), data["log_loss"].max()))
    assert len(ax_map.images) + len(ax_cut.lines) + len(ax_cut.texts) == n_artists
    assert np.median(times) < 0.5  # a slider step only swaps precomputed arrays


def test_live_landscape_explorer_has_a_canvas_and_every_slider_step_shows_a_new_slice():
    exp = landscape_explorer(_bowl_slices())
    assert exp.canvas is not None and "course-explorer" in exp.widget._dom_classes
    slider = exp.sliders["scale"]
    assert slider.step == pytest.approx(0.5)
    seen = []
    for k in range(4):  # as a student pressing the arrow key from the left end
        slider.value = slider.min + k * slider.step
        seen.append(exp.data["scale"])
    assert seen == [0.5, 1.0, 1.5, 2.0]


def test_the_trained_model_is_labelled_beside_its_star_not_in_a_legend():
    """A legend inside the map drew a second star that read as a second point of the landscape."""
    exp = landscape_explorer(_bowl_slices(), scale=0.5, live=False)
    ax_map = exp.figure.axes[0]
    assert ax_map.get_legend() is None
    stars = [ln for ln in ax_map.lines if ln.get_marker() == "*"]
    assert len(stars) == 1 and list(stars[0].get_xdata()) == [0] and list(stars[0].get_ydata()) == [0]
    assert [t.get_text() for t in ax_map.texts] == ["trained model"]
