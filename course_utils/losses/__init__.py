"""From-scratch reference implementations of the functions the lectures derive.

Each function is written with elementary tensor operations so a student can read it line by line,
and each is tested against ``torch.nn.functional`` (values and gradients, float64) in ``tests/``.
Bad input raises an error that names the argument; nothing silently broadcasts or returns NaN.

One module per family: :mod:`.softmax` (week 02), :mod:`.classification` (week 03),
:mod:`.regression` (week 04), :mod:`.custom` (week 06); validation in :mod:`._validate`.
"""

from ._validate import (
    REDUCTIONS,
    reduce,
    require_class_scores,
    require_class_targets,
    require_class_weight,
    require_dim,
    require_float_tensor,
    require_log_probs,
    require_number,
    require_probabilities,
    require_reduction,
    require_same_shape,
)
from .classification import binary_cross_entropy, binary_cross_entropy_with_logits, cross_entropy, kl_div, nll_loss
from .custom import focal_loss, hinge, l2_penalty, multitask_loss, poisson_nll, squared_hinge
from .regression import gaussian_nll, huber, mae, mse, rmse
from .softmax import entropy, log_softmax, logsumexp, softmax, softmax_naive

__all__ = [
    "REDUCTIONS", "reduce", "require_class_scores", "require_class_targets", "require_class_weight", "require_dim",
    "require_float_tensor", "require_log_probs", "require_number", "require_probabilities", "require_reduction",
    "require_same_shape",
    "logsumexp", "softmax", "log_softmax", "softmax_naive", "entropy",
    "nll_loss", "cross_entropy", "binary_cross_entropy", "binary_cross_entropy_with_logits", "kl_div",
    "mae", "mse", "rmse", "huber", "gaussian_nll",
    "hinge", "squared_hinge", "focal_loss", "poisson_nll", "multitask_loss", "l2_penalty",
]
