"""Does the shared check machinery pass right answers quietly and say how a wrong one differs?"""

from __future__ import annotations

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
