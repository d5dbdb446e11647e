"""Does the shared check machinery pass right answers quietly and say how a wrong one differs?"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from course_utils.checks import Case, CheckFailed, check_function, describe_difference
from course_utils.checks._core import call_student, check_choice, close

# ---------------------------------------------------------------- the shared machinery


def test_describe_difference_none_when_equal():
    assert describe_difference(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-9])) is None


@pytest.mark.parametrize("got, expected, words", [
    (None, torch.tensor([1.0]), "return"),
    ([1.0], torch.tensor([1.0]), "expected a tensor"),
    (torch.ones(2, 3), torch.ones(3, 2), "shape (3, 2)"),
    (torch.tensor([1, 2]), torch.tensor([1.0, 2.0]), "floating-point"),
    (torch.tensor([1.0, 2.0]), torch.tensor([1, 2]), "integer"),
    (torch.tensor([float("nan"), 1.0]), torch.tensor([0.5, 1.0]), "NaN"),
    (torch.tensor([float("inf"), 1.0]), torch.tensor([0.5, 1.0]), "inf"),
    (torch.tensor([[1.0, 2.0], [3.0, 9.0]]), torch.tensor([[1.0, 2.0], [3.0, 4.0]]), "index (1, 1)"),
])
def test_describe_difference_says_how(got, expected, words):
    assert words in describe_difference(got, expected)


def test_check_function_passes_with_one_stdout_line_and_no_stderr(capsys):
    check_function(lambda x: x * 2, lambda x: x + x, [Case("a", (torch.ones(3),)), Case("b", (torch.zeros(1),))],
                   name="double")
    out, err = capsys.readouterr()
    assert out.count("\n") == 1 and "double" in out and "2 cases" in out
    assert err == ""


def test_check_function_reports_not_implemented():
    def stub(x):
        raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented yet"):
        check_function(stub, lambda x: x, [Case("a", (torch.ones(1),))])


def test_check_function_names_the_case_of_a_crash():
    with pytest.raises(CheckFailed, match="ZeroDivisionError.*\n.*case: tricky"):
        check_function(lambda x: 1 / 0, lambda x: x, [Case("tricky", (torch.ones(1),))])


def test_check_function_does_not_let_the_student_mutate_the_case():
    def sneaky(x):
        x.mul_(0)
        return x

    ref_inputs = []
    with pytest.raises(CheckFailed):
        check_function(sneaky, lambda x: ref_inputs.append(x.clone()) or x, [Case("a", (torch.ones(2),))])
    assert torch.equal(ref_inputs[0], torch.ones(2))


def test_check_function_rejects_a_called_function():
    with pytest.raises(CheckFailed, match="without calling it"):
        check_function(torch.ones(2), lambda x: x, [Case("a", (torch.ones(1),))])


def test_check_choice_never_reveals_the_expected_choice():
    with pytest.raises(CheckFailed) as info:
        check_choice("B", {"A": "A mixes up logits", "B": "B confuses logits and probabilities", "C": None})
    assert "'C'" not in str(info.value) and "B confuses" in str(info.value)


@pytest.mark.parametrize("answer", [["A"], {"A": 1}, None, 3])
def test_check_choice_refuses_odd_answers_with_the_choices(answer):
    with pytest.raises(CheckFailed, match=r"one of \['A', 'B'\]"):
        check_choice(answer, {"A": None, "B": "no"})


def test_error_hints_apply_to_errors_the_student_code_raises():
    def broken(x):
        raise RuntimeError("The size of tensor a (3) must match the size of tensor b (4)")

    with pytest.raises(CheckFailed) as info:
        check_function(broken, lambda x: x, [Case("a", (torch.ones(2),))], name="f",
                       error_hints={"must match the size": "use keepdim=True"})
    msg = str(info.value)
    assert "raised RuntimeError" in msg and "on case: a" in msg and "Hint: use keepdim=True" in msg


def test_a_case_hint_is_shown_when_no_diagnosis_names_the_mistake():
    cases = [Case("a batch of one", (torch.ones(1),), hint="squeeze only the last dimension")]
    with pytest.raises(CheckFailed, match="Hint: squeeze only the last dimension"):
        check_function(lambda x: x * 2, lambda x: x, cases, name="f")
    with pytest.raises(CheckFailed, match="Hint: the diagnosis wins"):
        check_function(lambda x: x * 2, lambda x: x, cases, name="f", diagnose=lambda g, c, e: "the diagnosis wins")


def test_a_student_function_that_runs_too_long_gets_a_hint_not_a_hang():
    def forever():
        while True:
            pass

    with pytest.raises(CheckFailed, match="took longer than 0.2 s"):
        call_student(forever, name="slow", time_limit=0.2)


@pytest.mark.parametrize("a, b, same", [
    (torch.tensor([1.0, 2.0]), [1.0, 2.0], False),       # a list is not a tensor: no verdict either way
    (torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0 + 1e-7]), True),
    (torch.tensor([1.0]), torch.tensor(1.0), False),      # shapes differ
    (torch.tensor(float("nan")), torch.tensor(float("nan")), False),  # NaN never agrees
    (0.5, 0.50001, True),
    (0.5, 0.6, False),
])
def test_close_is_the_one_tolerance_rule(a, b, same):
    assert close(a, b) is same


# ---------------------------------------------------------------- the acceptance rule (checks._rules)
from course_utils.checks import Rule, define_rule, rule  # noqa: E402
from course_utils.checks._core import check_choices  # noqa: E402

TENSOR = Rule("f", grad=True)


def good(x):
    return x * 2


@pytest.mark.parametrize("answer, words", [
    (lambda x: None, "returned None — did you forget the `return`"),
    (lambda x: (x * 2).detach().numpy(), "got a NumPy array (dtype float32)"),
    (lambda x: float((x * 2).detach().sum()), "got a Python float"),
    (lambda x: (x * 2).tolist(), "got a list of 3"),
    (lambda x: (x * 2,), "got a tuple of 1"),
    (lambda x: "0.53", "got the string '0.53'"),
    (lambda x: (x * 2).double(), "dtype torch.float64, expected torch.float32"),
    (lambda x: (x * 2)[None], "expected shape (3,), got shape (1, 3)"),
    (lambda x: (x * 2).detach(), "detached from the input"),
    (lambda x: x.detach() * 2 + 0 * x.sum(), "gradient differs"),
    (lambda x: x.mul_(2), "in-place operation"),
])
def test_a_tensor_rule_refuses_each_odd_answer_with_its_reason(answer, words):
    """Type, shape, dtype, gradient and untouched inputs: is each odd answer refused, saying why?"""
    with pytest.raises(CheckFailed) as info:
        TENSOR.verify(answer, (torch.tensor([1.0, 2.0, 3.0]),), good)
    assert words in str(info.value)


def test_an_input_changed_in_place_without_autograd_is_named():
    def sneaky(x):
        with torch.no_grad():
            x -= x.max()
        return good(x)

    with pytest.raises(CheckFailed, match="changed its input `x` in place"):
        Rule("f").verify(sneaky, (torch.tensor([1.0, 2.0]),), good)


def test_a_right_answer_by_another_route_passes_and_is_returned():
    got = TENSOR.verify(lambda x: x + x, (torch.tensor([1.0, 2.0]),), good)
    assert torch.equal(got.detach(), torch.tensor([2.0, 4.0])) and got.requires_grad


def test_a_rule_with_a_dtype_refuses_int32_and_bool_class_indices():
    r = Rule("classes", dtype=torch.long)
    r.verify(lambda x: x.argmax(1), (torch.eye(3),), torch.tensor([0, 1, 2]))
    for wrong, words in ((lambda x: x.argmax(1).int(), "torch.int32, expected torch.int64"),
                         (lambda x: x.argmax(1) > 0, "torch.bool")):
        with pytest.raises(CheckFailed, match=words):
            r.verify(wrong, (torch.eye(3),), torch.tensor([0, 1, 2]))


@pytest.mark.parametrize("value, words", [
    (torch.tensor(0.5), "got a 0-dim tensor"),
    (np.float32(0.5), "got a NumPy float32"),
    ("0.5", "got the string '0.5'"),
    (True, "got a Python bool"),
    ([0.5], "got a list of 1"),
])
def test_a_float_rule_wants_a_python_float(value, words):
    r = Rule("mean", returns="float")
    r.accept(0.5, 0.5)
    r.accept(np.float64(0.5), 0.5)  # a float subclass
    with pytest.raises(CheckFailed, match=re.escape(words)):
        r.accept(value, 0.5)


def test_a_tuple_rule_names_the_part_that_is_wrong():
    r = Rule("evaluate", returns=("float", "float"), parts=("the mean loss", "the accuracy"))
    r.accept((0.3, 0.9), (0.3, 0.9))
    for got, words in (([0.3, 0.9], "expected a tuple of 2 (the mean loss, the accuracy), got a list"),
                       ((0.3, None), "got None for the accuracy"),
                       ((torch.tensor(0.3), 0.9), "a Python float for the mean loss"),
                       ((0.3, 0.5), "for the accuracy")):
        with pytest.raises(CheckFailed, match=re.escape(words)):
            r.accept(got, (0.3, 0.9))


def test_rules_are_found_by_name_and_a_clash_is_refused():
    r = define_rule("test_core_example", returns="float")
    assert rule("test_core_example") is r and define_rule("test_core_example", returns="float") == r
    with pytest.raises(ValueError, match="different acceptance rules"):
        define_rule("test_core_example", returns="tensor")
    with pytest.raises(KeyError, match="no acceptance rule"):
        rule("no_such_exercise")


def test_check_function_with_a_rule_checks_values_before_gradients():
    """A wrong formula must be named by its values on a later case, not by its gradient on the first."""
    def diagnose(got, case, expected):
        return "named by the values"

    cases = [Case("equal at 0", (torch.tensor([0.0]),)), Case("differs", (torch.tensor([2.0]),))]
    with pytest.raises(CheckFailed, match="named by the values"):
        check_function(lambda x: x.detach() * 0 + torch.sigmoid(-x) * 0 + 0.5 + 0 * x, torch.sigmoid, cases,
                       diagnose=diagnose, rule=Rule("s", grad=True))


def test_a_student_timeout_inside_a_rule_is_a_hint():
    def slow(x):
        while True:
            pass

    with pytest.raises(CheckFailed, match="took longer than 0.2 s"):
        Rule("slow", time_limit=0.2).verify(slow, (torch.ones(1),), good)


def test_the_time_limit_leaves_an_enclosing_timer_running():
    """Regression: the check's alarm used to cancel an outer timer (a test runner's timeout, an outer limit)."""
    import signal

    fired = []
    old = signal.signal(signal.SIGALRM, lambda *a: fired.append(1))
    try:
        signal.setitimer(signal.ITIMER_REAL, 0.5)
        call_student(lambda: None, name="quick", time_limit=5)
        assert signal.getitimer(signal.ITIMER_REAL)[0] > 0
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, old)


def test_choice_tables_refuse_a_task_that_is_not_asked():
    """Regression: an extra key passed the visible check while `answers == {...}` in the hidden tests failed."""
    key = {"a": "x", "b": "y"}
    check_choices({"a": "x", "b": "y"}, key, ["x", "y"], {}, what="answers")
    with pytest.raises(CheckFailed, match="'c' that is not one of the tasks"):
        check_choices({"a": "x", "b": "y", "c": "x"}, key, ["x", "y"], {}, what="answers")


@pytest.mark.parametrize("value", [np.array(["x", "y"]), ["x"], {"x"}, None, torch.tensor([1, 2])])
def test_choice_tables_refuse_odd_values_with_a_hint_not_a_crash(value):
    """Regression: a NumPy array of choices raised 'truth value of an array is ambiguous'."""
    with pytest.raises(CheckFailed, match="not answered yet" if value is None else "not one of the choices"):
        check_choices({"a": value, "b": "y"}, {"a": "x", "b": "y"}, ["x", "y"], {}, what="answers")


# --------------------------------------------------------------------------- in place: the input or a temporary?
def _softmax_inplace_on_temporary(x):
    e = torch.exp(x - x.max())
    e /= e.sum()  # changes e, which exp saved for the gradient; x is untouched
    return e


def _softmax_inplace_on_input_without_grad(x):
    with torch.no_grad():
        x -= x.max()
    e = torch.exp(x)
    return e / e.sum()


def test_inplace_work_on_a_temporary_is_not_called_changing_the_input():
    from course_utils.checks import check_softmax_vector

    with pytest.raises(CheckFailed) as info:
        check_softmax_vector(_softmax_inplace_on_temporary)
    msg = str(info.value)
    assert "overwrote a tensor that autograd saved" in msg and "your input is fine" in msg, msg
    assert "changing the input" not in msg


def test_inplace_work_on_the_input_is_still_called_changing_the_input():
    from course_utils.checks import check_softmax_vector

    for answer in (_softmax_inplace_on_input_without_grad,):
        with pytest.raises(CheckFailed) as info:
            check_softmax_vector(answer)
        assert "changed its input `x` in place" in str(info.value) and "changing the input" in str(info.value)


def test_an_error_after_changing_the_input_names_the_change():
    """The caller's input changed, then the code raised: the change is what the student is told about."""
    from course_utils.checks import rule

    def breaks(x, dim):
        with torch.no_grad():
            x.zero_()
        raise ValueError("oops")

    with pytest.raises(CheckFailed, match="changed its input `x` in place"):
        rule("logsumexp").verify(breaks, (torch.ones(3), 0), torch.logsumexp)


# --------------------------------------------------------------------------- every failing part in one run
def test_every_failing_part_of_an_exercise_is_reported_in_one_run():
    """A hinge with a wrong value *and* a loop is told both, not one per run."""
    from course_utils.checks import check_hinge

    def looped_sum(s, y, margin=1.0):
        total = torch.zeros((), dtype=s.dtype)
        for i in range(len(s)):
            total = total + torch.clamp(margin - y[i] * s[i], min=0)
        return total  # the sum, not the mean

    with pytest.raises(CheckFailed) as info:
        check_hinge(looped_sum)
    msg = str(info.value)
    assert msg.startswith("hinge: 2 of 2 parts are not right yet"), msg
    assert "(1) the values:" in msg and "summed" in msg and "(2) no Python loops:" in msg
    assert info.value.hint == "you summed over the batch; the course's hinge averages (mean)"


def test_safe_mse_reports_a_wrong_value_and_a_vague_message_together():
    from course_utils.checks import check_safe_mse

    def safe_mse(out, target):
        if out.numel() != target.numel() or (out.dim() == 2 and out.shape[1] != 1):
            raise ValueError("bad shape")
        return ((out.reshape(-1) - target) ** 2).sum()

    with pytest.raises(CheckFailed) as info:
        check_safe_mse(safe_mse)
    msg = str(info.value)
    assert "2 of 2 parts" in msg and "the values" in msg and "does not name the shape" in msg, msg


def test_a_single_failing_part_reads_as_before_and_a_stub_is_said_once():
    from course_utils.checks import check_hinge

    with pytest.raises(CheckFailed) as info:
        check_hinge(lambda s, y, margin=1.0: torch.clamp(margin - y * s, min=0).sum())
    assert str(info.value).startswith("hinge is not right yet")

    def stub(s, y, margin=1.0):
        raise NotImplementedError()

    with pytest.raises(CheckFailed) as info:
        check_hinge(stub)
    assert str(info.value) == "hinge is not implemented yet: replace `raise NotImplementedError` with your code"


# --------------------------------------------------------------------------- several answers in one check cell
def _mse_right(pred, target):
    return ((pred - target) ** 2).mean()


def _rmse_summed(pred, target):
    return ((pred - target) ** 2).sum().sqrt()


def _mae_stub(pred, target):
    raise NotImplementedError


def test_check_each_reports_every_answer_that_is_not_right_in_one_run(capsys):
    """Week 04 exercise 2's cell checks mse and rmse: a right mse is confirmed, a wrong rmse is still reported,
    and two wrong answers are both reported (before, the cell stopped at the first)."""
    from course_utils.checks import check_each, check_mae, check_mse, check_rmse

    with pytest.raises(CheckFailed) as info:
        check_each("exercise 2", (check_mse, _mse_right), (check_rmse, _rmse_summed))
    assert "✔ mse" in capsys.readouterr().out
    assert str(info.value).startswith("rmse is not right yet"), str(info.value)

    with pytest.raises(CheckFailed) as info:
        check_each("exercise 2", (check_mse, _rmse_summed), (check_rmse, _rmse_summed))
    msg = str(info.value)
    assert msg.startswith("exercise 2: 2 of 2 parts are not right yet"), msg
    assert "(1) _rmse_summed: mse is not right yet" in msg and "(2) _rmse_summed: rmse is not right yet" in msg

    # a stub among wrong answers is listed; when nothing is answered yet, that is said once
    with pytest.raises(CheckFailed) as info:
        check_each("exercise 1", (check_mae, _mae_stub), (check_mse, _rmse_summed))
    assert "2 of 2 parts" in str(info.value) and "not implemented yet" in str(info.value)
    with pytest.raises(CheckFailed) as info:
        check_each("exercise 1", (check_mae, _mae_stub), (check_mse, _mae_stub))
    assert str(info.value).startswith("mae is not implemented yet"), str(info.value)


def test_check_each_and_require_refuse_bad_arguments_by_name():
    from course_utils.checks import check_each, check_mse, require

    with pytest.raises(TypeError, match="exercise must name"):
        check_each("", (check_mse, _mse_right))
    with pytest.raises(TypeError, match="each check must be a tuple"):
        check_each("exercise 2", check_mse)
    with pytest.raises(TypeError, match="problem must say"):
        require(True, "")


def test_require_fails_as_a_check_does():
    from course_utils.checks import require

    require(1 < 2, "never shown")
    with pytest.raises(CheckFailed) as info:
        require(False, "the loss did not go down over 8 epochs", hint="call optimizer.step() after backward()")
    assert str(info.value) == ("the loss did not go down over 8 epochs\n  Hint: call optimizer.step() after "
                               "backward()")
    assert info.value.hint == "call optimizer.step() after backward()"
