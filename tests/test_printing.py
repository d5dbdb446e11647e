"""Does r4 print the same plain numbers whatever the tensor's device, grad or shape?"""

import pytest
import torch

from course_utils.printing import max_diff, r4, sig


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


def test_sig_keeps_small_probabilities_visible():
    p = torch.tensor([4.537856e-05, 0.999533, -0.000467552, 123456.7])
    assert sig(p) == [4.5379e-05, 0.99953, -0.00046755, 123460.0]
    assert sig(torch.tensor(2.0 / 3.0), digits=2) == 0.67
    assert str(sig(torch.tensor([-1e-30]), digits=1)) == "[-1e-30]"


def test_sig_keeps_inf_and_nan_and_drops_negative_zero():
    out = sig(torch.tensor([float("inf"), float("-inf"), float("nan"), -0.0]))
    assert out[:2] == [float("inf"), float("-inf")] and out[2] != out[2] and str(out[3]) == "0.0"


def test_sig_hides_last_bit_noise():
    x = torch.tensor([1.0, 1.0, 1.0])
    noisy = x + torch.tensor([1.2e-7, -6e-8, 0.0])
    assert sig(noisy) == sig(x) == [1.0, 1.0, 1.0]


def test_max_diff_is_the_largest_absolute_difference_rounded():
    a = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
    assert max_diff(a, a + torch.tensor([[0.0, -0.25], [0.125, 0.0]])) == 0.25
    assert max_diff(a, a + 3e-8) == 0.0
    assert max_diff(torch.tensor([float("inf"), 1.0]), torch.tensor([float("inf"), 1.5]), digits=2) == 0.5
    assert max_diff(torch.ones(0), torch.ones(0)) == 0.0


@pytest.mark.parametrize("call, words", [
    (lambda: sig([1.0]), "t must be a torch.Tensor"),
    (lambda: sig(torch.ones(1), digits=0), "digits must be an int >= 1"),
    (lambda: max_diff(torch.ones(2), [1.0, 1.0]), "b must be a torch.Tensor"),
    (lambda: max_diff(torch.ones(2), torch.ones(3)), r"same shape, got \(2,\) and \(3,\)"),
    (lambda: max_diff(torch.ones(2), torch.ones(2), digits=1.5), "digits must be an int"),
])
def test_sig_and_max_diff_refuse_bad_input_by_name(call, words):
    with pytest.raises((TypeError, ValueError), match=words):
        call()
