"""Is the week-01 threshold explorer's update function right (torch as the oracle)?"""

import numpy as np
import pytest
import torch

from course_utils.widgets import threshold_update


def test_threshold_update_probabilities_equal_torch_sigmoid_even_for_huge_logits():
    x = np.array([-3.0, 0.0, 3.0])
    d = threshold_update(w=400.0, b=0.0, x=x, y=np.array([0.0, 1.0, 1.0]))
    expected = torch.sigmoid(torch.tensor(400.0 * d["grid"])).numpy()
    assert np.allclose(d["p_grid"], expected, atol=1e-15) and np.all(np.isfinite(d["p_grid"]))


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
