"""Student-facing checks for the exercises' visible test cells, one module per week.

The machinery is in :mod:`course_utils.checks._core`; each ``weekNN`` module holds that week's
cases, diagnoses and ``check_*`` functions. Notebooks import from here:
``from course_utils.checks import check_nll``.
"""

from ._core import Case, CheckFailed, check_choice, check_choices, check_function, describe_difference, passed, silently
from ._parts import check_each, require
from ._rules import Rule, define_rule, rule
from .week01 import (
    check_logits_to_classes,
    check_output_choices,
    check_predict_binary,
    check_sigmoid,
    check_two_head_model,
)
from .week02 import (
    check_log_softmax,
    check_logsumexp,
    check_softmax_batch,
    check_softmax_vector,
    check_temperature_for,
    temperature_reached,
)
from .week03 import check_bce_with_logits, check_ce_gradient, check_cross_entropy, check_double_softmax_fix, check_nll
from .week03_labels import check_masked_cross_entropy, check_multilabel
from .week04 import (
    check_bug_shape,
    check_huber,
    check_loss_grad,
    check_mae,
    check_mse,
    check_rmse,
    check_safe_mse,
    refuses_mismatched_shapes,
)
from .week04_fitting import check_gd_line, check_loss_choice
from .week05 import check_digits_model, check_evaluate, check_fixed_train, check_loss_pairing, check_train_one_epoch
from .week06 import (
    check_comparison_report,
    check_hinge,
    check_multitask_loss,
    check_paired_t,
    check_pick_losses,
    check_poisson_nll,
    check_weighted_ce,
    hinge_without_loops,
)
from .week07 import (
    check_brier,
    check_confidence_and_correct,
    check_cost_threshold,
    check_ece,
    check_fit_temperature,
)
from .week07_report import check_calibration_report

__all__ = [
    "Case", "CheckFailed", "check_choice", "check_choices", "check_function", "describe_difference", "passed", "silently",
    "check_each", "require",
    "Rule", "define_rule", "rule",
    # week 01
    "check_output_choices", "check_sigmoid", "check_predict_binary", "check_logits_to_classes", "check_two_head_model",
    # week 02
    "check_softmax_vector", "check_softmax_batch", "check_logsumexp", "check_log_softmax", "check_temperature_for",
    "temperature_reached",
    # week 03
    "check_cross_entropy", "check_nll", "check_bce_with_logits", "check_ce_gradient", "check_double_softmax_fix",
    "check_multilabel", "check_masked_cross_entropy",
    # week 04
    "check_mae", "check_mse", "check_rmse", "check_huber", "check_loss_grad", "check_loss_choice", "check_bug_shape",
    "check_safe_mse", "check_gd_line", "refuses_mismatched_shapes",
    # week 05
    "check_loss_pairing", "check_train_one_epoch", "check_evaluate", "check_fixed_train", "check_digits_model",
    # week 06
    "check_pick_losses", "check_hinge", "check_weighted_ce", "check_poisson_nll", "check_multitask_loss",
    "check_paired_t", "check_comparison_report", "hinge_without_loops",
    # week 07
    "check_confidence_and_correct", "check_brier", "check_cost_threshold", "check_ece", "check_fit_temperature",
    "check_calibration_report",
]
