"""Does r4 print the same plain numbers whatever the tensor's device, grad or shape?"""

import pytest
import torch

from course_utils.printing import r4


def test_r4_rounds_flattens_and_drops_autograd():
    x = torch.tensor([[1.234567, -0.00004], [2.0, 3.99996]], requires_grad=True) * 1
    assert r4(x) == [1.2346, 0.0, 2.0, 4.0]
    assert r4(torch.tensor(0.123456)) == 0.1235
    assert r4(torch.tensor([1.5]), digits=0) == [2.0]


def test_r4_turns_negative_zero_into_zero():
    assert str(r4(torch.tensor([-0.00001]))) == "[0.0]"


@pytest.mark.parametrize("bad, words", [([1.0], "torch.Tensor"), (torch.ones(1), "digits")])
def test_r4_refuses_bad_input_by_name(bad, words):
    with pytest.raises((TypeError, ValueError), match=words):
        r4(bad) if words != "digits" else r4(bad, digits=-1)
