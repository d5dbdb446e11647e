"""Does the plotting module leave global matplotlib state alone and label what it draws?"""

import subprocess
import sys

import matplotlib as mpl
import numpy as np
import pytest

from course_utils import plotting


def test_import_changes_no_rcparams():
    code = (
        "import matplotlib as mpl; before = dict(mpl.rcParams); import course_utils.plotting, course_utils.widgets; "
        "changed = [k for k, v in mpl.rcParams.items() if before[k] != v]; print(changed)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.strip()
    assert out == "[]"


def test_style_applies_only_inside_the_context():
    default_cycle = mpl.rcParams["axes.prop_cycle"]
    with plotting.course_style():
        assert mpl.rcParams["axes.prop_cycle"].by_key()["color"][0] == plotting.PALETTE["blue"]
    assert mpl.rcParams["axes.prop_cycle"] == default_cycle


def test_palette_is_distinct_hex_colours():
    assert len(set(plotting.COLORS)) == len(plotting.COLORS) == 8
    assert all(c.startswith("#") and len(c) == 7 for c in plotting.COLORS)


def test_prob_bars_labels_and_heights():
    fig, (ax,) = plotting.new_figure()
    bars = plotting.prob_bars(ax, [0.2, 0.5, 0.3], ["leaf", "stem", "root"], highlight=1)
    assert [b.get_height() for b in bars] == [0.2, 0.5, 0.3]
    assert ax.get_xlabel() and ax.get_ylabel() and ax.get_title()
    assert [t.get_text() for t in ax.get_xticklabels()] == ["leaf", "stem", "root"]
    with pytest.raises(ValueError, match="labels must have one entry"):
        plotting.prob_bars(ax, [0.5, 0.5], ["a"])


def test_plot_history_draws_train_and_validation():
    hist = {"train_loss": [1.0, 0.5], "val_loss": [1.1, 0.7], "train_metric": [0.5, 0.8], "val_metric": [0.4, 0.7]}
    fig = plotting.plot_history(hist, metric_name="accuracy")
    left, right = fig.axes
    assert np.allclose(left.lines[1].get_ydata(), [1.1, 0.7])
    for ax in (left, right):  # train and validation differ in line style too, not in colour alone
        assert ax.lines[0].get_linestyle() != ax.lines[1].get_linestyle()
    assert right.get_ylabel() == "accuracy" and len(right.get_legend().get_texts()) == 2
    with pytest.raises(ValueError, match="no train_loss"):
        plotting.plot_history({"train_loss": []})
