"""Does course_utils.site draw every explorer at every slider position, as the notebook shows it, and small?"""

import base64
import io
import json

import numpy as np
import pytest
from PIL import Image

from course_utils import site
from course_utils.widgets import build_explorer, float_slider, huber_explorer, threshold_explorer
from course_utils.widgets._core import SITE_FRAMES_ENV


def line_explorer(*, slope=1.0, shift=0.0, two=True, live=False):
    """A small explorer: a line whose slope (and shift) the sliders set; the read-out names both."""
    def update(slope, shift=0.0):
        return {"x": np.array([0.0, 1.0]), "y": np.array([shift, shift + slope]), "slope": slope, "shift": shift}

    def setup(fig, d):
        ax = fig.add_subplot()
        (line,) = ax.plot(d["x"], d["y"])
        text = ax.text(0.05, 0.9, "", transform=ax.transAxes)
        ax.set_ylim(-3, 3)

        def redraw(d):
            line.set_ydata(d["y"])
            text.set_text(f"slope {d['slope']:.1f}, shift {d['shift']:.1f}")

        redraw(d)
        return redraw

    sliders = {"slope": float_slider("slope a", slope, -1.0, 1.0, 0.5)}
    if two:
        sliders["shift"] = float_slider("shift b", shift, -1.0, 1.0, 0.25)
    return build_explorer("a line", update, sliders, setup, figsize=(3.0, 2.0), live=live)


def test_positions_are_every_step_and_include_the_starting_value():
    positions, step = site.slider_positions(1.0, 0.05, 10.0, 0.05, site.MAX_STEPS)
    assert step == 0.05 and len(positions) == 200 and positions[0] == 0.05 and positions[-1] == 10.0
    assert 1.0 in positions


def test_a_capped_grid_takes_round_multiples_of_the_step_and_keeps_the_value():
    positions, step = site.slider_positions(3.7, -5.0, 5.0, 0.1, 11)
    assert step == 1.0 and 3.7 in positions and len(positions) <= 11
    assert all(-5.0 <= p <= 5.0 for p in positions)
    assert site.slider_positions(0.0, -5.0, 5.0, 0.1, 5) == ([-4.0, -2.0, 0.0, 2.0, 4.0], 2.0)


def test_positions_refuse_a_value_outside_the_range():
    with pytest.raises(ValueError, match="outside"):
        site.slider_positions(6.0, -5.0, 5.0, 0.1, 11)
    with pytest.raises(ValueError, match="step > 0"):
        site.slider_positions(0.0, -5.0, 5.0, 0.0, 11)


@pytest.mark.parametrize("n_sliders", [2, 3])
def test_several_sliders_share_a_capped_grid(n_sliders):
    sliders = {f"s{k}": float_slider(f"s{k}", 0.0, -5.0, 5.0, 0.01) for k in range(n_sliders)}
    axes = site.slider_grid(sliders)
    assert 60 <= int(np.prod([len(a["positions"]) for a in axes])) <= site.MAX_GRID
    assert all(len(a["positions"]) >= 3 for a in axes)


def test_a_short_slider_keeps_every_step_and_leaves_the_rest_to_the_long_one():
    axes = site.slider_grid({"a": float_slider("a", 0.0, -1.0, 1.0, 0.5), "b": float_slider("b", 0.0, -5, 5, 0.01)})
    assert len(axes[0]["positions"]) == 5 and 20 <= len(axes[1]["positions"]) <= 24


def test_slider_read_outs_use_the_sliders_format():
    axes = site.slider_grid({"T": float_slider("temperature T", 1.0, 0.5, 1.5, 0.5)})
    assert axes[0]["label"] == "temperature T" and axes[0]["labels"] == ["0.50", "1.00", "1.50"]


def test_frames_cover_the_grid_differ_and_name_what_the_figure_shows(tmp_path):
    exp = line_explorer(slope=0.5, shift=0.25)
    m = site.render_frames(exp, tmp_path)
    shape = [len(a["positions"]) for a in m["sliders"]]
    assert shape == [5, 9] and len(m["frames"]) == len(m["readouts"]) == 45
    assert len(set(m["frames"])) == len(m["files"]) == 45  # every position shows something else
    assert all((tmp_path / f).exists() for f in m["files"])
    start = m["readouts"][m["start"]]
    assert start == "slope 0.5, shift 0.2"  # f"{0.25:.1f}"
    assert len(set(m["readouts"])) >= 40
    assert json.loads((tmp_path / "manifest.json").read_text())["frames"] == m["frames"]
    assert exp.values() == {"slope": 0.5, "shift": 0.25} and exp.figure.axes[0].texts[0].get_text() == start


def test_a_grid_that_would_pass_the_budget_is_coarsened_to_fit(tmp_path):
    exp = line_explorer(two=False)
    every = site.render_frames(exp, tmp_path / "all")
    assert len(every["frames"]) == 5
    m = site.render_frames(exp, tmp_path / "fit", budget=int(3.5 * every["bytes"] / 5))
    assert m["sliders"][0]["positions"] == [-1.0, 0.0, 1.0] and len(m["frames"]) == 3
    assert m["readouts"][m["start"]].startswith("slope 1.0")


def test_the_starting_frame_is_the_static_view_the_notebook_saves(tmp_path):
    """Same size (the notebook's dpi) and the same pixels, give or take the palette."""
    x = np.linspace(-2, 2, 41)
    exp = threshold_explorer(x, (x > 0.3).astype(float), w=3.0, b=-1.0, live=False)
    saved = np.asarray(Image.open(io.BytesIO(base64.b64decode(exp._repr_mimebundle_()["image/png"]))).convert("RGB"))
    m = site.render_frames(exp, tmp_path, max_grid=8)
    frame = np.asarray(Image.open(tmp_path / m["files"][m["frames"][m["start"]]]).convert("RGB"))
    assert frame.shape == saved.shape == (m["height"], m["width"], 3) and m["dpi"] == exp.figure.dpi
    assert np.abs(frame.astype(int) - saved.astype(int)).max(axis=-1).mean() < 1.0


def test_drawing_only_the_touched_axes_gives_the_same_image_as_a_full_draw():
    exp = huber_explorer(live=False)
    canvas = site.FrameCanvas(exp.figure)
    for delta in (0.3, 3.0):
        exp.redraw(exp.update(delta=delta))
        fast, full = canvas.rgba(), canvas.rgba(full=True)
        assert site._close(fast, full)
    canvas.close()


def test_a_colour_missing_from_the_palette_gets_its_own_palette():
    blue = np.zeros((8, 8, 4), np.uint8)
    blue[..., 2] = blue[..., 3] = 255
    red = blue.copy()
    red[..., 0], red[..., 2] = 255, 0
    png = site.PaletteEncoder(site.palette_for([blue])).encode(red)
    assert np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))[0, 0].tolist() == [255, 0, 0]


def test_the_readout_is_the_text_that_changes_not_the_labels():
    per_frame = [["label", "loss 1.0", ""], ["label", "loss 0.5", "note"], ["label", "loss 0.5", ""]]
    assert site.readouts(per_frame) == ["loss 1.0", "loss 0.5\nnote", "loss 0.5"]
    assert site.readouts([["same"], ["same"]]) == ["", ""]


def test_palette_frames_keep_the_frequent_colours_exact_and_the_rest_close():
    x = np.linspace(-2, 2, 41)
    exp = threshold_explorer(x, (x > 0.3).astype(float), live=False)
    rgba = site.FrameCanvas(exp.figure).rgba()
    png = site.PaletteEncoder(site.palette_for([rgba])).encode(rgba)
    back = np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(int)
    err = np.abs(back - rgba[..., :3].astype(int)).max(axis=-1)
    assert back[0, 0].tolist() == [255, 255, 255] and (err == 0).mean() > 0.99 and err.max() <= 48


def test_the_page_gets_range_inputs_with_the_explorers_labels_values_and_steps(tmp_path):
    m = site.render_frames(line_explorer(slope=0.5, shift=0.25), tmp_path)
    html = site.explorer_html(m, "../_static/x/", "cse-1")
    assert '<label for="cse-1-0">slope a</label>' in html
    assert 'data-slider="slope" min="-1.0" max="1.0" step="0.5" value="0.5"' in html
    assert 'data-slider="shift" min="-1.0" max="1.0" step="0.25" value="0.25"' in html
    assert " name=" not in html  # a form field named like a slider ("q") would be taken over by the page's search
    assert f'src="../_static/x/{m["files"][m["frames"][m["start"]]]}"' in html
    payload = html.split('class="cse-data">')[1].split("</script>")[0]
    assert json.loads(payload)["readouts"] == m["readouts"] and "</" not in payload


def test_displaying_an_explorer_registers_it_only_while_the_site_is_built(monkeypatch):
    import IPython.display

    shown, updated = [], []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: shown.append(k["display_id"]))
    monkeypatch.setattr(IPython.display, "update_display", lambda b, **k: updated.append((k["display_id"], b)))
    monkeypatch.setattr(site, "_displayed", [])
    exp = line_explorer()
    monkeypatch.delenv(SITE_FRAMES_ENV, raising=False)
    exp._ipython_display_()
    assert site._displayed == [] and len(shown) == 1
    monkeypatch.setenv(SITE_FRAMES_ENV, "1")
    exp._ipython_display_()
    assert site._displayed == [exp] and shown[0] == shown[1]  # one display id per explorer


def test_moving_a_displayed_explorer_from_code_updates_its_saved_static_view(monkeypatch):
    """The saved PNG must show what the saved sliders show, also after a later set()."""
    import IPython.display

    updated = []
    monkeypatch.setattr(IPython.display, "display", lambda *a, **k: None)
    monkeypatch.setattr(IPython.display, "update_display", lambda b, **k: updated.append((k["display_id"], b)))
    exp = line_explorer()
    exp.set(slope=-1.0)
    assert updated == []  # not displayed: nothing to update
    exp._ipython_display_()
    before = exp._repr_mimebundle_()["image/png"]
    exp.set(slope=1.0)
    (display_id, bundle), = updated
    assert display_id == exp._display_id and bundle["text/plain"] == exp.describe()
    assert bundle["image/png"] != before


def test_write_registered_lists_every_display_and_draws_each_explorer_once(tmp_path, monkeypatch):
    a, b = line_explorer(two=False), line_explorer(slope=-0.5, two=False)
    monkeypatch.setattr(site, "_displayed", [a, b, a])
    assert site.write_registered(tmp_path) == [a.describe(), b.describe(), a.describe()]
    displays = json.loads((tmp_path / "explorers.json").read_text())
    assert [d["dir"] for d in displays] == ["0", "1", "0"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["0", "1", "explorers.json"]
