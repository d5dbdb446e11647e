"""Does each week-02 check pass a right answer and give the hint it promises for each typical mistake?"""

import math

import numpy as np
import pytest
import torch

from course_utils.checks.week02 import (
    CheckFailed,
    check_log_softmax,
    check_logsumexp,
    check_softmax_batch,
    check_softmax_vector,
    check_temperature_for,
    temperature_cases,
    temperature_reached,
)


# --------------------------------------------------------------------------- right answers
def good_softmax_vector(x):
    e = torch.exp(x - x.max())
    return e / e.sum()


def good_softmax(x, dim):
    e = torch.exp(x - x.amax(dim, keepdim=True))
    return e / e.sum(dim, keepdim=True)


def good_logsumexp(x, dim):
    m = x.amax(dim, keepdim=True)
    return (m + torch.log(torch.exp(x - m).sum(dim, keepdim=True))).squeeze(dim)


def good_log_softmax(x, dim):
    return x - good_logsumexp(x, dim).unsqueeze(dim)


def bisection(halvings):
    """A geometric bisection for the temperature that stops after ``halvings``."""
    def temperature_for(z, target):
        lo, hi = 1e-3, 1e3
        for _ in range(halvings):
            mid = math.sqrt(lo * hi)
            if torch.softmax(z.double() / mid, 0).max() > target:
                lo = mid
            else:
                hi = mid
        return math.sqrt(lo * hi)
    return temperature_for


good_temperature_for = bisection(200)


def hint_of(check, fn) -> str:
    with pytest.raises(CheckFailed) as info:
        check(fn)
    return str(info.value)


@pytest.mark.parametrize(
    "check, fn",
    [
        (check_softmax_vector, good_softmax_vector),
        (check_softmax_batch, good_softmax),
        (check_logsumexp, good_logsumexp),
        (check_log_softmax, good_log_softmax),
        (check_temperature_for, good_temperature_for),
    ],
)
def test_right_answer_passes_with_one_line(check, fn, capsys):
    check(fn)
    out = capsys.readouterr()
    assert out.out.startswith("✔") and out.out.count("\n") == 1 and out.err == ""


def test_stub_says_not_implemented():
    def stub(x, dim=0):
        raise NotImplementedError()

    for check in (check_softmax_vector, check_softmax_batch, check_logsumexp, check_log_softmax):
        assert "not implemented yet" in hint_of(check, stub)
    assert "not implemented yet" in hint_of(check_temperature_for, lambda z, t: stub(z))


# --------------------------------------------------------------------------- softmax mistakes
def test_naive_softmax_gets_the_subtract_the_max_hint():
    msg = hint_of(check_softmax_vector, lambda x: torch.exp(x) / torch.exp(x).sum())
    assert "large logits" in msg and "overflows" in msg and "subtract the max" in msg


def test_unnormalised_exp_is_named():
    assert "without dividing by the sum" in hint_of(check_softmax_vector, lambda x: torch.exp(x - x.max()))


def test_dividing_logits_by_their_sum_is_named():
    assert "exponentiate first" in hint_of(check_softmax_vector, lambda x: x / x.sum())


def test_sign_error_is_named():
    assert "exp(-x)" in hint_of(check_softmax_vector, lambda x: good_softmax_vector(-x))


def test_softmax_along_dim_0_on_a_batch_is_named():
    msg = hint_of(check_softmax_batch, lambda x, dim: good_softmax(x, 0))
    assert "sums to 1 along dim 0 instead of dim 1" in msg


def test_hardcoded_dim_1_fails_on_the_dim_0_case():
    msg = hint_of(check_softmax_batch, lambda x, dim: good_softmax(x, 1))
    assert "along dim=0" in msg and "along dim 1 instead of dim 0" in msg


def test_sum_over_whole_tensor_is_named():
    def whole(x, dim):
        e = torch.exp(x - x.amax(dim, keepdim=True))
        return e / e.sum()

    assert "whole tensor" in hint_of(check_softmax_batch, whole)


def test_global_max_shift_is_named():
    def global_max(x, dim):
        e = torch.exp(x - x.max())
        return e / e.sum(dim, keepdim=True)

    assert "max of the whole tensor" in hint_of(check_softmax_batch, global_max)


def test_naive_batch_softmax_overflows_on_the_large_case():
    msg = hint_of(check_softmax_batch, lambda x, dim: torch.exp(x) / torch.exp(x).sum(dim, keepdim=True))
    assert "large logits" in msg and "subtract the max" in msg


def test_missing_return_is_named():
    assert "return" in hint_of(check_softmax_vector, lambda x: None)


# --------------------------------------------------------------------------- logsumexp mistakes
def test_naive_logsumexp_overflow_is_named():
    msg = hint_of(check_logsumexp, lambda x, dim: torch.log(torch.exp(x).sum(dim)))
    assert "factor out the max" in msg


def test_forgetting_to_add_the_max_back_is_named():
    def forgot(x, dim):
        return torch.log(torch.exp(x - x.amax(dim, keepdim=True)).sum(dim))

    assert "forgot to add it back" in hint_of(check_logsumexp, forgot)


def test_keepdim_result_is_named():
    def kept(x, dim):
        m = x.amax(dim, keepdim=True)
        return m + torch.log(torch.exp(x - m).sum(dim, keepdim=True))

    assert "keeps the summed dimension" in hint_of(check_logsumexp, kept)


def test_logsumexp_wrong_dim_is_named():
    assert "along dim 0 instead of dim 1" in hint_of(check_logsumexp, lambda x, dim: good_logsumexp(x, 0))


def test_logsumexp_global_max_is_named():
    def global_max(x, dim):
        m = x.max()
        return m + torch.log(torch.exp(x - m).sum(dim))

    assert "max of the whole tensor" in hint_of(check_logsumexp, global_max)


# --------------------------------------------------------------------------- log_softmax mistakes
def test_log_of_softmax_underflow_is_named():
    msg = hint_of(check_log_softmax, lambda x, dim: torch.log(good_softmax(x, dim)))
    assert "log(0) = -inf" in msg and "logsumexp" in msg


def test_max_shift_without_log_sum_is_named():
    assert "not log(sum(exp" in hint_of(check_log_softmax, lambda x, dim: x - x.amax(dim, keepdim=True))


def test_returning_probabilities_is_named():
    assert "returned probabilities" in hint_of(check_log_softmax, good_softmax)


def test_log_softmax_wrong_dim_is_named():
    assert "along dim 0 instead of dim 1" in hint_of(check_log_softmax, lambda x, dim: good_log_softmax(x, 0))


# --------------------------------------------------------------------------- temperature mistakes
def test_reciprocal_temperature_is_named():
    assert "returned 1/T" in hint_of(check_temperature_for, lambda z, t: 1.0 / good_temperature_for(z, t))


def test_too_peaked_and_too_flat_hints():
    assert "larger T" in hint_of(check_temperature_for, lambda z, t: 0.5 * good_temperature_for(z, t))
    assert "smaller T" in hint_of(check_temperature_for, lambda z, t: 2.0 * good_temperature_for(z, t))


def test_non_number_and_non_positive_temperatures_are_refused():
    assert "expected a Python float, got the string '1.0'" in hint_of(check_temperature_for, lambda z, t: "1.0")
    assert "positive and finite" in hint_of(check_temperature_for, lambda z, t: -1.0)


@pytest.mark.parametrize("wrap, words", [
    (torch.tensor, "got a 0-dim tensor"),
    (lambda T: torch.tensor([T]), "got a tensor of shape (1,)"),
    (np.float32, "got a NumPy float32"),
    (lambda T: [T], "got a list of 1"),
])
def test_a_temperature_that_is_not_a_python_float_is_refused_as_the_hidden_tests_do(wrap, words):
    """A Python float is asked for: a right T as a tensor or np.float32 gets the type and how to convert it."""
    msg = hint_of(check_temperature_for, lambda z, t: wrap(good_temperature_for(z, t)))
    assert words in msg and "Hint: return a plain Python float" in msg or "list" in words


def test_a_numpy_float64_temperature_is_a_float():
    check_temperature_for(lambda z, t: np.float64(good_temperature_for(z, t)))


# --------------------------------------------------------------------------- hints added with the stricter checks
def softmax_minus_min(x):
    e = torch.exp(x - x.min())
    return e / e.sum()


def softmax_batch_minus_min(x, dim):
    e = torch.exp(x - x.amin(dim, keepdim=True))
    return e / e.sum(dim, keepdim=True)


def softmax_vector_always_float32(x):
    x = x.float()
    e = torch.exp(x - x.max())
    return e / e.sum()


def softmax_batch_without_keepdim(x, dim):
    e = torch.exp(x - x.amax(dim))
    return e / e.sum(dim)


def logsumexp_keepdim_only_on_the_max(x, dim):
    m = x.amax(dim, keepdim=True)
    return m + torch.log(torch.exp(x - m).sum(dim))


def logsumexp_max_clamped_at_zero(x, dim):
    m = x.amax(dim, keepdim=True).clamp(min=0)
    return (m + torch.log(torch.exp(x - m).sum(dim, keepdim=True))).squeeze(dim)


def log_softmax_naive_logsumexp(x, dim):
    return x - torch.log(torch.exp(x).sum(dim, keepdim=True))


def log_softmax_adding_logsumexp(x, dim):
    return x + good_logsumexp(x, dim).unsqueeze(dim)


def log_softmax_without_unsqueeze(x, dim):
    return x - good_logsumexp(x, dim)


def test_subtracting_the_min_is_named_for_a_vector():
    """Does exp(x - min) get the 'subtract the max, not the minimum' hint rather than a generic overflow one?"""
    with pytest.raises(CheckFailed, match="you subtracted the minimum"):
        check_softmax_vector(softmax_minus_min)


def test_subtracting_the_min_is_named_for_a_batch():
    """Does the batched softmax name the min shift too (it overflows only on the large-logit case)?"""
    with pytest.raises(CheckFailed, match=r"large logits[\s\S]*you subtracted the minimum"):
        check_softmax_batch(softmax_batch_minus_min)


def test_converting_float64_to_float32_is_refused():
    """Does a softmax that is right in value but returns float32 for float64 logits fail with the dtype hint?"""
    with pytest.raises(CheckFailed, match=r"expected torch.float64[\s\S]*return the dtype you were given"):
        check_softmax_vector(softmax_vector_always_float32)


def test_float64_is_named_in_the_passing_line(capsys):
    """Does a right softmax pass the float64 case and say that float64 stays float64?"""
    check_softmax_vector(good_softmax_vector)
    assert "float64 stays float64" in capsys.readouterr().out


def test_missing_keepdim_in_batch_softmax_gets_the_keepdim_hint():
    """Does the broadcasting RuntimeError of a max without keepdim=True come back with the keepdim hint?"""
    with pytest.raises(CheckFailed, match=r"RuntimeError[\s\S]*Hint: the shapes do not line up[\s\S]*keepdim=True"):
        check_softmax_batch(softmax_batch_without_keepdim)


def test_logsumexp_broadcast_to_a_square_table_is_named():
    """Does m (N, 1) + sum (N,) -> (N, N) get the hint that names the broadcast and the fix?"""
    with pytest.raises(CheckFailed, match=r"shape \(4, 4\)[\s\S]*m kept dim 1 \(keepdim=True\) but the sum did not"):
        check_logsumexp(logsumexp_keepdim_only_on_the_max)


def test_logsumexp_underflow_of_very_negative_logits_is_named():
    """Does a logsumexp that only guards against overflow fail on [-1000, -1001] with the factor-out-the-max hint?"""
    with pytest.raises(CheckFailed, match=r"very negative logits[\s\S]*log\(0\) underflows[\s\S]*factor out the max"):
        check_logsumexp(logsumexp_max_clamped_at_zero)


def test_log_softmax_overflow_is_told_apart_from_underflow():
    """Does log(sum(exp(x))) get the overflow hint, not the log(softmax) underflow one?"""
    msg = hint_of(check_log_softmax, log_softmax_naive_logsumexp)
    assert "exp overflows for large logits" in msg and "use your logsumexp" in msg
    assert "log(0) = -inf" not in msg


def test_log_softmax_underflow_is_not_called_overflow():
    """Does log(softmax(x)) get the underflow hint, not the overflow one?"""
    msg = hint_of(check_log_softmax, lambda x, dim: torch.log(good_softmax(x, dim)))
    assert "underflows" in msg and "exp overflows" not in msg


def test_adding_logsumexp_is_named():
    """Does x + logsumexp(x) get the 'log_softmax subtracts it' hint?"""
    with pytest.raises(CheckFailed, match="you added logsumexp"):
        check_log_softmax(log_softmax_adding_logsumexp)


def test_missing_unsqueeze_gets_the_unsqueeze_hint():
    """Does x (N, C) - logsumexp (N,) come back with the hint to put the dimension back with unsqueeze?"""
    with pytest.raises(CheckFailed, match=r"RuntimeError[\s\S]*Hint: logsumexp\(x, dim\) has lost the dimension"):
        check_log_softmax(log_softmax_without_unsqueeze)


def test_raw_exp_without_max_or_sum_is_named():
    """Does plain exp(x) (no shift, no division) get the 'without dividing by the sum' hint on the first case?"""
    with pytest.raises(CheckFailed, match="without dividing by the sum"):
        check_softmax_vector(torch.exp)


def logsumexp_max_without_keepdim(x, dim):
    m = x.amax(dim)
    return m + torch.log(torch.exp(x - m).sum(dim))


def test_logsumexp_shape_error_gets_the_keepdim_hint():
    """Does a max taken without keepdim (a shape error on batches) come with the keepdim hint?"""
    with pytest.raises(CheckFailed, match="keepdim=True"):
        check_logsumexp(logsumexp_max_without_keepdim)


# --------------------------------------------------------------------------- odd answers (the rule shared with the hidden tests)
@pytest.mark.parametrize("check", [check_logsumexp, check_log_softmax, check_softmax_batch])
def test_a_missing_return_is_told_as_such_not_as_an_overflow(check):
    """Regression: `return` forgotten in logsumexp/log_softmax was told 'exp overflows'."""
    msg = hint_of(check, lambda x, dim: None)
    assert "returned None — did you forget the `return` statement?" in msg and "overflow" not in msg


def test_a_numpy_softmax_is_told_it_is_numpy_not_a_dtype_mismatch():
    """Regression: a NumPy array was told 'dtype float64, expected torch.float64'."""
    def numpy_softmax(x):
        e = np.exp(x.detach().numpy() - x.detach().numpy().max())
        return e / e.sum()

    msg = hint_of(check_softmax_vector, numpy_softmax)
    assert "got a NumPy array (dtype float32)" in msg and "stay in torch" in msg and "expected torch" not in msg


def softmax_vector_in_place(x):
    with torch.no_grad():
        x -= x.max()  # the right probabilities, and a changed x for the caller
    e = torch.exp(x)
    return e / e.sum()


@pytest.mark.parametrize("check, answer, words", [
    (check_softmax_vector, softmax_vector_in_place, "changed its input `x` in place"),
    (check_softmax_vector, lambda x: good_softmax_vector(x.double()), "dtype torch.float64, expected torch.float32"),
    (check_softmax_vector, lambda x: good_softmax_vector(x).detach(), "detached"),
    (check_softmax_batch, lambda x, dim: good_softmax(x, dim).tolist(), "got a list"),
    (check_logsumexp, lambda x, dim: good_logsumexp(x, dim).detach(), "detached"),
    (check_log_softmax, lambda x, dim: (good_log_softmax(x, dim),), "got a tuple of 1"),
])
def test_odd_answers_are_refused_as_the_hidden_tests_refuse_them(check, answer, words):
    """Regression: in-place, float64, detached and wrapped answers passed the visible checks."""
    assert words in hint_of(check, answer)


@pytest.mark.parametrize("check, answer", [
    (check_softmax_vector, lambda x: torch.softmax(x, 0)),
    (check_softmax_batch, lambda x, dim: torch.exp(good_log_softmax(x, dim))),
    (check_logsumexp, lambda x, dim: torch.logsumexp(x, dim)),
    (check_log_softmax, lambda x, dim: torch.log_softmax(x, dim)),
])
def test_right_answers_by_another_route_pass(check, answer, capsys):
    check(answer)
    assert capsys.readouterr().out.startswith("✔")




@pytest.mark.parametrize("halvings", [10, 12, 13])
def test_a_search_stopped_too_early_is_called_close_without_a_direction(halvings):
    """Too few halvings give a T a fraction of a percent off: the hint says so, not 'a larger T spreads …'."""
    msg = hint_of(check_temperature_for, bisection(halvings))
    assert "close, but not within the tolerance" in msg and "halving" in msg, msg
    assert "larger T" not in msg and "smaller T" not in msg and "1/T" not in msg


def test_the_visible_tolerance_is_the_stated_absolute_one():
    """13 halvings miss the worked example's 0.9 by 1.5e-4: within 1e-4 + 1e-4 * 0.9, but not within 1e-4."""
    z = torch.tensor([-1.0, 0.1, 0.032, 0.25, 9.0])
    with pytest.raises(CheckFailed, match="the tolerance is 0.0001"):
        temperature_reached(bisection(13), z, 0.9)


def test_the_visible_check_has_a_target_far_above_t_1():
    """The hidden tests ask for T around 6; the visible check asks for one of that kind too."""
    assert any(good_temperature_for(z, t) > 5 for _, z, t in temperature_cases())


def test_the_hidden_tests_raise_the_explained_failure():
    """A missed hidden target raises the same CheckFailed as the visible check, never a bare AssertionError."""
    with pytest.raises(CheckFailed) as info:
        temperature_reached(lambda z, t: 0.5 * good_temperature_for(z, t), torch.tensor([3.0, 1.0, 0.0]), 0.5)
    assert "larger T" in str(info.value) and "on case: logits [3.0, 1.0, 0.0], target 0.5" in str(info.value)
    assert temperature_reached(good_temperature_for, torch.tensor([1.0, 0.0]), 0.75) == pytest.approx(1 / math.log(3))


# --------------------------------------------------------------------------- .item(): what the text says is what is checked
def softmax_shift_by_item(x):
    e = torch.exp(x - x.max().item())  # a constant shift: softmax and its gradient are unchanged
    return e / e.sum()


def softmax_rebuilt_by_item(x):
    e = torch.exp(x - x.max())
    return torch.stack([torch.tensor((v / e.sum()).item(), dtype=x.dtype) for v in e])


def test_the_max_taken_with_item_passes_as_the_text_says(capsys):
    check_softmax_vector(softmax_shift_by_item)
    assert capsys.readouterr().out.startswith("✔")


def test_a_result_taken_through_item_is_refused_with_the_gradient_hint():
    msg = hint_of(check_softmax_vector, softmax_rebuilt_by_item)
    assert ".item()" in msg and "cut the result off from the gradient" in msg, msg


def test_the_text_forbids_item_only_where_the_check_refuses_it():
    """The intro used to forbid `.item()` outright, yet a max taken with .item() keeps the gradient and passes."""
    import json
    from pathlib import Path

    nb = json.loads((Path(__file__).resolve().parents[2] / "solutions/week02/week02_exercises.ipynb").read_text())
    intro = "".join(nb["cells"][0]["source"])
    assert "no `.item()`" not in intro
    assert "harmless as the max you subtract, fatal as the result" in intro


# --------------------------------------------------------------------------- .squeeze() on a batch of one
def logsumexp_squeeze_all(x, dim):
    m = x.amax(dim, keepdim=True)
    return (m + torch.log(torch.exp(x - m).sum(dim, keepdim=True))).squeeze()


def test_squeeze_without_dim_on_a_batch_of_one_is_named():
    msg = hint_of(check_logsumexp, logsumexp_squeeze_all)
    assert "a batch of 1 sample" in msg and "expected shape (1,), got shape ()" in msg
    assert "squeeze only the summed dimension, .squeeze(dim)" in msg


def test_the_squeeze_hint_does_not_fire_for_other_shape_mistakes():
    """keepdim=True left in place keeps shape (N, 1): that has its own hint, not the squeeze one."""
    msg = hint_of(check_logsumexp, lambda x, dim: torch.logsumexp(x, dim, keepdim=True))
    assert ".squeeze(dim)" not in msg and "keeps the summed dimension" in msg


# --------------------------------------------------------------------------- follow-on failures
def test_a_log_softmax_failing_through_a_broken_logsumexp_names_exercise_3():
    """The student's log_softmax uses their logsumexp, which overflows: the hint says where the failure comes from
    instead of "use your logsumexp"."""
    namespace = {"torch": torch}
    exec("def logsumexp(x, dim):\n    return torch.log(torch.exp(x).sum(dim))\n\n"
         "def log_softmax(x, dim):\n    return x - logsumexp(x, dim).unsqueeze(dim)\n", namespace)
    msg = hint_of(check_log_softmax, namespace["log_softmax"])
    assert "this comes from exercise 3: your log_softmax calls your logsumexp, and its check fails" in msg, msg
    assert "use your logsumexp" not in msg


def test_a_raise_through_a_broken_logsumexp_names_exercise_3_and_keeps_the_students_lines():
    namespace = {"torch": torch}
    exec("def logsumexp(x, dim):\n    m = x.amax(dim, keepdim=True)\n"
         "    return (m + torch.log(torch.exp(x - m).sum(dim, keepdim=True))).squeeze()\n\n"
         "def log_softmax(x, dim):\n    return x - logsumexp(x, dim).unsqueeze(dim)\n", namespace)
    with pytest.raises(CheckFailed) as info:
        check_log_softmax(namespace["log_softmax"])
    assert "raised IndexError" in str(info.value) and "this comes from exercise 3" in str(info.value)
    assert info.value.student_frames


def test_a_right_logsumexp_is_not_blamed_for_a_wrong_log_softmax():
    namespace = {"torch": torch, "logsumexp": good_logsumexp}
    exec("def log_softmax(x, dim):\n    return x + logsumexp(x, dim).unsqueeze(dim)\n", namespace)
    msg = hint_of(check_log_softmax, namespace["log_softmax"])
    assert "exercise 3" not in msg and "you added logsumexp(x)" in msg


def test_a_log_softmax_that_does_not_call_logsumexp_is_judged_alone():
    namespace = {"torch": torch}
    exec("def logsumexp(x, dim):\n    return x.sum(dim)\n\n"
         "def log_softmax(x, dim):\n    return torch.log(torch.exp(x) / torch.exp(x).sum(dim, keepdim=True))\n", namespace)
    msg = hint_of(check_log_softmax, namespace["log_softmax"])
    assert "exercise 3" not in msg
