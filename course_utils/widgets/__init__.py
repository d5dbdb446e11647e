"""Slider explorers, one module per week; the shared machinery is in :mod:`course_utils.widgets._core`.

Each explorer is a pure ``*_update`` function (slider values → data to draw, unit-tested without a
browser) plus thin wiring (``*_explorer``: ipywidgets sliders and an ipympl canvas redrawn in place).
Notebooks import from here: ``from course_utils.widgets import temperature_explorer``.
"""

from ._core import Explorer, build_explorer, float_slider
from .week01 import threshold_explorer, threshold_update
from .week02 import one_logit_explorer, one_logit_update, temperature_curve, temperature_explorer, temperature_update
from .week03 import (
    logit_gradient_curve,
    logit_gradient_explorer,
    logit_gradient_update,
    true_class_explorer,
    true_class_update,
)
from .week04 import huber_explorer, huber_update, outlier_explorer, outlier_update
from .week05 import lr_explorer, lr_sweep, lr_update
from .week06 import landscape_explorer, landscape_update
from .week07 import (
    draw_reliability,
    plot_reliability_panels,
    recalibration_explorer,
    recalibration_update,
    scoring_rule_explorer,
    scoring_rule_update,
    temperature_scan,
    update_reliability,
)

__all__ = [
    "Explorer", "build_explorer", "float_slider",
    "threshold_explorer", "threshold_update",
    "temperature_explorer", "temperature_update", "temperature_curve", "one_logit_explorer", "one_logit_update",
    "true_class_explorer", "true_class_update", "logit_gradient_explorer", "logit_gradient_update",
    "logit_gradient_curve",
    "huber_explorer", "huber_update", "outlier_explorer", "outlier_update",
    "lr_explorer", "lr_update", "lr_sweep",
    "landscape_explorer", "landscape_update",
    "scoring_rule_explorer", "scoring_rule_update", "recalibration_explorer", "recalibration_update", "temperature_scan",
    "draw_reliability", "update_reliability", "plot_reliability_panels",
]
