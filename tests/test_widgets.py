"""Does the explorer wiring redraw in place, and is the week-01 update function right?"""

import numpy as np
import pytest
import torch

from course_utils.widgets import Explorer, sigmoid_np, threshold_explorer, threshold_update


def test_sigmoid_np_matches_torch_and_is_stable():
    z = np.array([-1000.0, -20.0, -1.0, 0.0, 1.0, 20.0, 1000.0])
    assert np.allclose(sigmoid_np(z), torch.sigmoid(torch.tensor(z)).numpy(), atol=1e-15)
    assert np.all(np.isfinite(sigmoid_np(z)))


def test_threshold_update_boundary_and_accuracy():
    x = np.array([-2.0, -1.0, 1.0, 2.0])
    y = np.array([0.0, 0.0, 1.0, 1.0])
    d = threshold_update(w=2.0, b=-1.0, x=x, y=y)
    assert d["boundary"] == pytest.approx(0.5)  # 2x - 1 = 0
    assert d["accuracy"] == 1.0 and d["n_positive"] == 2
    d = threshold_update(w=2.0, b=3.0, x=x, y=y)  # boundary at -1.5: the point at -1 becomes positive
    assert d["accuracy"] == 0.75
    assert threshold_update(w=0.0, b=0.0, x=x, y=y)["boundary"] is None
    # a stricter threshold moves the boundary to where sigmoid = 0.9: 2x - 1 = log 9
    assert threshold_update(2.0, -1.0, x, y, threshold=0.9)["boundary"] == pytest.approx((np.log(9) + 1) / 2)


def test_threshold_update_rejects_bad_input():
    with pytest.raises(ValueError, match="same length"):
        threshold_update(1.0, 0.0, np.zeros(3), np.zeros(4))
    with pytest.raises(ValueError, match="threshold"):
        threshold_update(1.0, 0.0, np.zeros(3), np.zeros(3), threshold=1.0)


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
    exp.sliders["b"].value = 1.5  # as a student dragging the slider
    assert exp.data["boundary"] == pytest.approx(-1.5 / 2.0)
    assert "application/vnd.jupyter.widget-view+json" in exp._repr_mimebundle_()
