"""Do the week-01 checks pass correct answers quietly and name the mistake behind a wrong one?"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.checks import Case, CheckFailed
from course_utils.checks import week01 as checks

# ---------------------------------------------------------------- week 01: output layers

RIGHT = {"leaf_diseased": "1 logit + sigmoid", "iris_species": "C logits", "dose_response": "1 linear output"}


def test_output_choices_pass(capsys):
    checks.check_output_choices(dict(RIGHT))
    assert "3 tasks" in capsys.readouterr().out


def test_output_choices_accept_two_logits_for_a_yes_no_question_with_a_note(capsys):
    """Two logits with softmax answer a yes/no question as well as one (the lecture shows it): right, with a note."""
    checks.check_output_choices(dict(RIGHT, leaf_diseased="C logits"))
    out = capsys.readouterr().out
    assert out.startswith("✔ output layers: all 3 tasks") and "one logit + sigmoid is the usual choice" in out


def test_two_head_gradients_names_the_layer_without_a_gradient():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    net[1](torch.ones(1, 3)).sum().backward()
    with pytest.raises(CheckFailed, match=r"no gradient reaches 0\.weight, 0\.bias") as info:
        checks.two_head_gradients(net)
    assert "Hint: use every layer" in str(info.value)


@pytest.mark.parametrize("task, wrong, words", [
    ("leaf_diseased", "1 linear output", "unbounded"),
    ("iris_species", "1 logit + sigmoid", "two classes"),
    ("iris_species", "1 linear output", "one logit per class"),
    ("dose_response", "1 logit + sigmoid", "not a probability"),
    ("dose_response", "C logits", "no classes"),
])
def test_output_choices_hint_names_the_mistake(task, wrong, words):
    with pytest.raises(CheckFailed, match=re.escape(words)) as info:
        checks.check_output_choices(dict(RIGHT, **{task: wrong}))
    assert RIGHT[task] not in str(info.value)  # the hint does not give the answer away


@pytest.mark.parametrize("answers, words", [
    ({"leaf_diseased": "1 logit + sigmoid"}, "no entry for dose_response, iris_species"),
    (dict(RIGHT, iris_species="softmax"), "not one of the choices"),
    ([("leaf_diseased", "C logits")], "must be a dict"),
])
def test_output_choices_malformed(answers, words):
    with pytest.raises(CheckFailed, match=re.escape(words)):
        checks.check_output_choices(answers)


# ---------------------------------------------------------------- week 01: sigmoid


def test_sigmoid_check_passes_a_correct_one(capsys):
    checks.check_sigmoid(lambda z: 1 / (1 + torch.exp(-z)))
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("wrong, words", [
    (lambda z: 1 / (1 + torch.exp(z)), "exp(-z)"),
    (lambda z: torch.exp(z) / (1 + torch.exp(z)), "overflows"),
    (lambda z: torch.exp(z) / torch.exp(z).sum(), "softmax"),
    (lambda z: 1 / torch.exp(-z), "is missing: the sigmoid is 1 / "),
    (lambda z: torch.exp(-z), "is missing: the sigmoid is 1 / "),
    (lambda z: None, "return"),
    (lambda z: z.tolist(), "expected a torch tensor"),
])
def test_sigmoid_hint_names_the_mistake(wrong, words):
    with pytest.raises(CheckFailed, match=re.escape(words)):
        checks.check_sigmoid(wrong)


# ---------------------------------------------------------------- week 01: thresholded prediction


def test_predict_binary_check_passes_a_correct_one():
    checks.check_predict_binary(lambda logits, threshold=0.5: (torch.sigmoid(logits) >= threshold).long())


@pytest.mark.parametrize("wrong, words", [
    (lambda logits, threshold=0.5: (logits >= threshold).long(), "compared the logits"),
    (lambda logits, threshold=0.5: (torch.sigmoid(logits) > threshold).long(), ">="),
    (lambda logits, threshold=0.5: (torch.sigmoid(logits) >= 0.5).long(), "ignored the `threshold`"),
    (lambda logits, threshold=0.5: torch.sigmoid(logits), "returned probabilities"),
])
def test_predict_binary_hint_names_the_mistake(wrong, words):
    with pytest.raises(CheckFailed, match=re.escape(words)):
        checks.check_predict_binary(wrong)


# ---------------------------------------------------------------- week 01: class predictions


def test_logits_to_classes_check_passes_a_correct_one():
    checks.check_logits_to_classes(lambda logits: logits.argmax(dim=1))


@pytest.mark.parametrize("wrong, words", [
    (lambda logits: logits.argmax(dim=0), "dim=1"),
    (lambda logits: logits.argmax(), "whole batch"),
    (lambda logits: logits.argmax(dim=1).squeeze(), "squeeze"),
    (lambda logits: logits.argmin(dim=1), "argmin"),
    (lambda logits: torch.softmax(logits, dim=1), "shape"),
])
def test_logits_to_classes_hint_names_the_mistake(wrong, words):
    with pytest.raises(CheckFailed, match=re.escape(words)):
        checks.check_logits_to_classes(wrong)


def test_logits_to_classes_square_batch_catches_dim0():
    """On a square batch the shapes agree, so the hint must come from the values."""
    square = torch.tensor([[1.0, 5.0, 0.0], [4.0, 0.0, 2.0], [0.0, 3.0, 9.0]])
    got = square.argmax(dim=0)
    hint = checks.diagnose_logits_to_classes(got, Case("sq", (square,)), square.argmax(dim=1))
    assert "dim=0" in hint


# ---------------------------------------------------------------- week 01: two-head model


def make_net(species_act=None, height_act=None, squeeze="last", names=("trunk", "species_head", "height_head")):
    """A TwoHeadNet with a chosen mistake."""

    class Net(nn.Module):
        def __init__(self, n_features, n_hidden, n_species):
            super().__init__()
            setattr(self, names[0], nn.Sequential(nn.Linear(n_features, n_hidden), nn.ReLU()))
            setattr(self, names[1], nn.Linear(n_hidden, n_species))
            setattr(self, names[2], nn.Linear(n_hidden, 1))

        def forward(self, x):
            h = getattr(self, names[0])(x)
            logits, height = getattr(self, names[1])(h), getattr(self, names[2])(h)
            if species_act:
                logits = species_act(logits)
            if height_act:
                height = height_act(height)
            height = {"last": height.squeeze(-1), "all": height.squeeze(), "none": height}[squeeze]
            return logits, height

    return Net


def test_two_head_check_passes_a_correct_model(capsys):
    checks.check_two_head_model(make_net())
    assert "TwoHeadNet" in capsys.readouterr().out


@pytest.mark.parametrize("net, words", [
    (make_net(species_act=lambda t: t.softmax(dim=1)), "raw logits"),
    (make_net(height_act=torch.sigmoid), "plain Linear"),
    (make_net(squeeze="all"), "squeeze(-1)"),
    (make_net(squeeze="none"), "squeeze the last dimension"),
    (make_net(names=("body", "species_head", "height_head")), "`trunk`"),
])
def test_two_head_hint_names_the_mistake(net, words):
    with pytest.raises(CheckFailed, match=re.escape(words)):
        checks.check_two_head_model(net)


def test_two_head_stub_says_not_implemented():
    class Stub(nn.Module):
        def __init__(self, *args):
            super().__init__()
            raise NotImplementedError()

    with pytest.raises(CheckFailed, match="not implemented"):
        checks.check_two_head_model(Stub)



# ---------------------------------------------------------------- odd answers: the rule the hidden tests share


@pytest.mark.parametrize("answer, words", [
    (lambda z: 1 / (1 + torch.exp(-z.double())), "dtype torch.float64, expected torch.float32"),
    (lambda z: torch.sigmoid(z).detach(), "detached"),
    (lambda z: torch.from_numpy(torch.sigmoid(z).detach().numpy().copy()), "detached"),
    (lambda z: z.neg_().exp_().add_(1).reciprocal_(), "in-place"),
])
def test_sigmoid_odd_answers_are_refused(answer, words):
    """Regression: a float64, detached or input-overwriting sigmoid passed the visible check."""
    with pytest.raises(CheckFailed, match=words):
        checks.check_sigmoid(answer)


def test_sigmoid_by_another_route_passes():
    checks.check_sigmoid(lambda z: 0.5 * (1 + torch.tanh(z / 2)))


@pytest.mark.parametrize("answer, words", [
    (lambda logits, threshold=0.5: torch.sigmoid(logits) >= threshold, "torch.bool"),
    (lambda logits, threshold=0.5: (torch.sigmoid(logits) >= threshold).int(), "torch.int32"),
    (lambda logits, threshold=0.5: (torch.sigmoid(logits) >= threshold).long().numpy(), "NumPy array"),
])
def test_predict_binary_wants_long_predictions(answer, words):
    """Regression: bool and int32 predictions passed although the exercise asks for torch.long."""
    with pytest.raises(CheckFailed, match=words):
        checks.check_predict_binary(answer)


@pytest.mark.parametrize("answer, words", [
    (lambda logits: logits.argmax(dim=1).int(), "torch.int32"),
    (lambda logits: logits.max(dim=1), "got a tuple (max) of 2"),
    (lambda logits: logits.argmax(dim=1).tolist(), "got a list"),
])
def test_logits_to_classes_odd_answers(answer, words):
    with pytest.raises(CheckFailed, match=re.escape(words)):
        checks.check_logits_to_classes(answer)


def test_output_choices_refuse_an_array_and_an_extra_task_with_a_hint():
    """Regression: a NumPy array crashed the check; an extra key passed it while the hidden test failed."""
    with pytest.raises(CheckFailed, match="not one of the choices"):
        checks.check_output_choices(dict(RIGHT, leaf_diseased=np.array(["C logits", "1 linear output"])))
    with pytest.raises(CheckFailed, match="not one of the tasks"):
        checks.check_output_choices(dict(RIGHT, extra="C logits"))


class SequentialHeads(nn.Module):
    def __init__(self, n_features, n_hidden, n_species, *, bias=True, trunk_act=nn.ReLU):
        super().__init__()
        self.trunk = nn.Sequential(nn.Linear(n_features, n_hidden), trunk_act())
        self.species_head = nn.Sequential(nn.Linear(n_hidden, n_species, bias=bias))
        self.height_head = nn.Sequential(nn.Linear(n_hidden, 1, bias=bias))

    def forward(self, x):
        h = self.trunk(x)
        return self.species_head(h), self.height_head(h).squeeze(-1)


def test_two_head_heads_wrapped_in_sequential_pass():
    """Regression: a right model whose heads are nn.Sequential(nn.Linear) crashed the check (no .weight)."""
    checks.check_two_head_model(SequentialHeads)


@pytest.mark.parametrize("model, words", [
    (lambda *a: SequentialHeads(*a, bias=False), "has no bias"),  # used to crash on bias.copy_
    (SequentialHeads(4, 8, 3), "pass the class itself"),  # used to say "forward() takes 2 positional arguments"
    (lambda *a: SequentialHeads(*a).double(), "keep the model in float32"),
    (lambda *a: SequentialHeads(*a, trunk_act=nn.Tanh), "nn.Linear followed by nn.ReLU"),
    (lambda *a: 42, "should build an nn.Module"),
])
def test_two_head_odd_models_get_a_hint(model, words):
    with pytest.raises(CheckFailed, match=re.escape(words)):
        checks.check_two_head_model(model)


def test_two_head_forward_returning_a_list_or_dict_is_refused():
    class ListNet(SequentialHeads):
        def forward(self, x):
            return list(super().forward(x))

    class DictNet(SequentialHeads):
        def forward(self, x):
            logits, height = super().forward(x)
            return {"species": logits, "height": height}

    for net, words in ((ListNet, "got a list of 2"), (DictNet, "got a dict of 2")):
        with pytest.raises(CheckFailed, match=words):
            checks.check_two_head_model(net)


def test_two_head_helpers_are_the_hidden_tests_rule():
    """The hidden tests call two_head_forward on other sizes: a right model passes, a hard-coded one does not."""
    checks.two_head_forward(SequentialHeads(6, 16, 4), torch.randn(9, 6), 16, 4)

    class Fixed(SequentialHeads):
        def __init__(self, n_features, n_hidden, n_species):
            super().__init__(4, 8, 3)

    with pytest.raises(CheckFailed, match="build the layers from the arguments"):
        checks.two_head_forward(Fixed(6, 16, 4), torch.randn(9, 6), 16, 4)
