"""Week 01 checks: output layers, sigmoid, thresholds, argmax, a two-head model."""

from __future__ import annotations

import torch
from torch import nn

from ._core import Case, CheckFailed, as_tensor, call_student, check_choices, check_function, close, passed
from ._rules import define_rule

#: The acceptance rules of the week's function exercises (shared with the hidden tests).
SIGMOID = define_rule("sigmoid", grad=True)
PREDICT_BINARY = define_rule("predict_binary", dtype=torch.long)
LOGITS_TO_CLASSES = define_rule("logits_to_classes", dtype=torch.long)
TWO_HEAD = define_rule("TwoHeadNet", returns=("tensor", "tensor"), parts=("species logits", "height"), atol=1e-5,
                       rtol=1e-4)

_OUTPUT_TASKS = {
    "leaf_diseased": "1 logit + sigmoid",
    "iris_species": "C logits",
    "dose_response": "1 linear output",
}
_OUTPUT_CHOICES = ("C logits", "1 logit + sigmoid", "1 linear output")
#: Also right, with a note: two logits with softmax answer a yes/no question as well as one logit (lecture, week 01)
_ALSO_RIGHT = {
    ("leaf_diseased", "C logits"): "two logits with softmax (C = 2) answer a yes/no question as well as one logit "
    "does — softmax of (z, 0) is sigmoid(z) — but one logit + sigmoid is the usual choice: half the outputs, and "
    "BCEWithLogitsLoss",
}
_OUTPUT_HINTS = {
    ("leaf_diseased", "1 linear output"): "a yes/no answer needs a probability in [0, 1]; a bare linear output is "
    "unbounded — squash it with sigmoid",
    ("iris_species", "1 logit + sigmoid"): "one sigmoid output can only separate two classes; three species need one "
    "logit per class (softmax turns them into probabilities)",
    ("iris_species", "1 linear output"): "a single number cannot say which of three species; use one logit per class",
    ("dose_response", "1 logit + sigmoid"): "the response is a measured quantity, not a probability: a sigmoid would "
    "squash every prediction into (0, 1)",
    ("dose_response", "C logits"): "there are no classes here: a regression predicts one real number per sample",
}


def check_output_choices(answers) -> None:
    """Week 01: ``answers`` maps each task name to one of "C logits", "1 logit + sigmoid", "1 linear output"."""
    key, notes = dict(_OUTPUT_TASKS), []
    if isinstance(answers, dict):
        for (task, choice), note in _ALSO_RIGHT.items():
            if isinstance(answers.get(task), str) and answers[task] == choice:
                key[task] = choice
                notes.append(f"\n  Note on {task}: {note}")
    check_choices(answers, key, _OUTPUT_CHOICES, _OUTPUT_HINTS, what="answers")
    passed(f"output layers: all {len(_OUTPUT_TASKS)} tasks answered correctly" + "".join(notes))


def diagnose_sigmoid(got, case: Case, expected) -> str | None:
    """Week 01: name the usual sigmoid mistakes from the wrong output ``got`` for input ``case.args[0]``."""
    z = case.args[0].double()
    g = as_tensor(got)
    if g is None or g.shape != z.shape:
        return None
    g = g.double()
    if torch.allclose(g, 1 / (1 + torch.exp(z)), atol=1e-6, equal_nan=True):
        return "you computed 1 / (1 + exp(z)); the sigmoid has exp(-z) in the denominator"
    if torch.isnan(g).any():
        return "exp(z) / (1 + exp(z)) overflows to inf / inf = nan for large z; use 1 / (1 + exp(-z))"
    if z.numel() > 1 and torch.allclose(g, torch.exp(z) / torch.exp(z).sum(), atol=1e-6):
        return "you normalised over the batch (that is softmax); the sigmoid acts on each number separately"
    if torch.allclose(g, torch.exp(z), atol=1e-6) or torch.allclose(g, torch.exp(-z), atol=1e-6):
        return "the 1 + is missing: the sigmoid is 1 / (1 + exp(-z)), not 1 / exp(-z) or exp(-z)"
    return None


def check_sigmoid(fn) -> None:
    """Week 01: check a from-scratch ``sigmoid(z)`` (any shape → same shape, values in [0, 1])."""
    cases = [
        Case("z = tensor([-2.0, 0.5, 3.0])", (torch.tensor([-2.0, 0.5, 3.0]),)),
        Case("z = tensor([0.0])", (torch.tensor([0.0]),)),
        Case("a batch of shape (2, 3)", (torch.tensor([[-1.0, 0.0, 1.0], [2.0, -3.0, 4.0]]),)),
        Case("large values z = tensor([-100.0, 100.0])", (torch.tensor([-100.0, 100.0]),)),
        Case("float64 z (the result keeps its dtype)", (torch.tensor([-1.5, 0.0, 2.5], dtype=torch.float64),)),
    ]
    check_function(fn, torch.sigmoid, cases, diagnose=diagnose_sigmoid, rule=SIGMOID)


def _predict_binary_ref(logits, threshold=0.5):
    return (torch.sigmoid(logits) >= threshold).long()


def diagnose_predict_binary(got, case: Case, expected) -> str | None:
    """Week 01: name the usual thresholding mistakes (logits vs probabilities, > vs >=, probabilities returned)."""
    logits = case.args[0]
    threshold = case.kwargs.get("threshold", 0.5)
    g = as_tensor(got)
    if g is None or g.shape != logits.shape:
        return None
    if g.is_floating_point() and ((g > 0) & (g < 1)).any():
        return "you returned probabilities; compare them with the threshold to get 0/1 predictions"
    # most specific first: on some cases several mistakes give the same wrong answer
    if torch.equal(g.long(), (torch.sigmoid(logits) > threshold).long()):
        return "a probability exactly equal to the threshold should count as class 1: use >= rather than >"
    if threshold != 0.5 and torch.equal(g.long(), (torch.sigmoid(logits) >= 0.5).long()):
        return "you ignored the `threshold` argument and used 0.5"
    if torch.equal(g.long(), (logits >= threshold).long()):
        return "you compared the logits with the threshold; apply sigmoid first (the threshold is a probability)"
    return None


def check_predict_binary(fn) -> None:
    """Week 01: check ``predict_binary(logits, threshold=0.5)``: logits (N,) → 0/1 integer tensor (N,)."""
    cases = [
        Case("logits = tensor([-2.0, 0.3, 4.0])", (torch.tensor([-2.0, 0.3, 4.0]),)),
        Case("logits between 0 and 0.5, e.g. tensor([0.1, 0.4, -0.1])", (torch.tensor([0.1, 0.4, -0.1]),)),
        Case("a logit of exactly 0 (probability 0.5)", (torch.tensor([0.0, -1.0]),)),
        Case("threshold=0.9 with logits tensor([1.0, 2.5, 3.0])", (torch.tensor([1.0, 2.5, 3.0]),), {"threshold": 0.9}),
        Case("a batch of one", (torch.tensor([1.5]),)),
    ]
    check_function(fn, _predict_binary_ref, cases, diagnose=diagnose_predict_binary, rule=PREDICT_BINARY)


def diagnose_logits_to_classes(got, case: Case, expected) -> str | None:
    """Week 01: name the usual argmax mistakes (wrong dim, no dim, squeezed batch of one, softmax first)."""
    logits = case.args[0]
    g = as_tensor(got)
    if g is None:
        return None
    if g.dim() == 0:
        return "you took argmax over the whole batch (no dim, or a squeeze of a batch of one); use dim=1"
    if g.shape == (logits.shape[1],) and logits.shape[0] != logits.shape[1]:
        return "your result has one entry per class, not per sample: argmax over dim=1 (the classes), not dim=0"
    if g.shape == expected.shape and torch.equal(g.long(), logits.argmin(dim=1)):
        return "you took argmin; the predicted class has the largest logit"
    if g.shape == expected.shape and torch.equal(g.long(), logits.argmax(dim=0)):
        return "argmax over dim=0 picks a sample per class; the classes are along dim=1"
    return None


def check_logits_to_classes(fn) -> None:
    """Week 01: check ``logits_to_classes(logits)``: logits (N, C) → predicted class indices (N,), long."""
    cases = [
        Case("3 samples, 4 classes", (torch.tensor([[0.1, 2.0, -1.0, 0.3], [3.0, 0.0, 0.5, 1.0],
                                                    [-2.0, -1.0, -3.0, -0.5]]),)),
        Case("a square batch (3 samples, 3 classes)", (torch.tensor([[1.0, 5.0, 0.0], [4.0, 0.0, 2.0],
                                                                     [0.0, 3.0, 9.0]]),)),
        Case("a batch of one, shape (1, 5)", (torch.tensor([[0.0, 0.2, 7.0, -1.0, 0.1]]),)),
        Case("large logits", (torch.tensor([[1000.0, 1001.0], [-1000.0, -1002.0]]),)),
    ]
    check_function(fn, lambda x: x.argmax(dim=1), cases, diagnose=diagnose_logits_to_classes, rule=LOGITS_TO_CLASSES)


_DTYPE_HINTS = {"must have the same dtype": "keep the model in float32 (no .double()): the data are float32",
                "expected scalar type": "keep the model in float32 (no .double()): the data are float32"}


def _one_linear(net, attr: str, n_in: int, n_out: int) -> nn.Linear:
    """Week 01: the single nn.Linear(n_in, n_out) with a bias inside ``net.<attr>`` (itself or in a Sequential)."""
    part = getattr(net, attr, None)
    if not isinstance(part, nn.Module):
        raise CheckFailed(f"your model has no layer `{attr}` (got {type(part).__name__}): keep the names given in "
                          "the exercise")
    linears = [m for m in part.modules() if isinstance(m, nn.Linear)]
    if len(linears) != 1:
        raise CheckFailed(f"`{attr}` should hold exactly one nn.Linear layer, found {len(linears)}")
    lin = linears[0]
    if (lin.in_features, lin.out_features) != (n_in, n_out):
        raise CheckFailed(f"`{attr}` should be nn.Linear({n_in}, {n_out}) for these sizes, got "
                          f"nn.Linear({lin.in_features}, {lin.out_features})\n  Hint: build the layers from the "
                          "arguments n_features, n_hidden and n_species, not from fixed numbers")
    if lin.bias is None:
        raise CheckFailed(f"the nn.Linear in `{attr}` has no bias\n  Hint: keep nn.Linear's bias (do not pass "
                          "bias=False): every output needs its own offset")
    return lin


def two_head_layers(net, n_features: int, n_hidden: int, n_species: int) -> tuple[nn.Linear, nn.Linear, nn.Linear]:
    """Week 01: the trunk's, species head's and height head's nn.Linear layers of a TwoHeadNet, or CheckFailed."""
    if not isinstance(net, nn.Module):
        raise CheckFailed(f"TwoHeadNet({n_features}, {n_hidden}, {n_species}) should build an nn.Module, "
                          f"got {type(net).__name__}")
    layers = (_one_linear(net, "trunk", n_features, n_hidden), _one_linear(net, "species_head", n_hidden, n_species),
              _one_linear(net, "height_head", n_hidden, 1))
    want = sum(p.numel() for lin in layers for p in lin.parameters())
    got = sum(p.numel() for p in net.parameters())
    if got != want:
        raise CheckFailed(f"your model has {got} parameters, expected {want} (three Linear layers and nothing else)")
    return layers


def two_head_reference(layers, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Week 01: what a right TwoHeadNet with these layers returns for x (N, F): logits (N, C), height (N,)."""
    trunk, species, height = layers
    h = torch.relu(trunk(x))
    return species(h), height(h)[:, 0]


def _two_head_outputs(net, x: torch.Tensor, n_species: int, case: str | None):
    """Week 01: ``net(x)`` as a tuple of two tensors of shapes (N, C) and (N,), or CheckFailed with a hint."""
    out = TWO_HEAD.call(net, (x,), case=case, error_hints=_DTYPE_HINTS)
    TWO_HEAD.accept(out, case=case)
    logits, height = out
    n = x.shape[0]
    if logits.dtype != x.dtype or height.dtype != x.dtype:
        raise CheckFailed(f"the outputs have dtypes {logits.dtype} and {height.dtype}, the input {x.dtype}\n  Hint: "
                          "keep the model and its outputs in float32 (no .double())")
    if tuple(logits.shape) != (n, n_species):
        raise CheckFailed(f"species logits for a batch of {n} should have shape ({n}, {n_species}), "
                          f"got {tuple(logits.shape)}")
    if tuple(height.shape) != (n,):
        hint = ("use .squeeze(-1): a plain .squeeze() also drops the batch dimension of a batch of one" if n == 1
                else "the height head gives shape (N, 1); squeeze the last dimension")
        raise CheckFailed(f"height for a batch of {n} should have shape ({n},), got {tuple(height.shape)}\n"
                          f"  Hint: {hint}")
    return out


def _diagnose_two_head(got, case, expected) -> str:
    logits, height = (t.detach().double() for t in got)
    if close(logits, torch.softmax(expected[0].double(), dim=1)):
        return "return raw logits — no softmax or other activation after species_head"
    if close(height, torch.sigmoid(expected[1].double())) or close(height, torch.relu(expected[1].double())):
        return "a regression head is a plain Linear layer — no sigmoid or ReLU after it"
    return "the trunk is nn.Linear followed by nn.ReLU, and both heads read the trunk's output"


def two_head_forward(net, x: torch.Tensor, n_hidden: int, n_species: int, *, case: str | None = None):
    """Week 01: accept ``net(x)`` for x (N, F) against the reference forward of the model's own layers, gradient
    included (the rule shared by the check and the hidden tests); returns (logits, height)."""
    layers = two_head_layers(net, x.shape[1], n_hidden, n_species)
    logits, height = _two_head_outputs(net, x, n_species, case)
    with torch.no_grad():
        expected = two_head_reference(layers, x)
    TWO_HEAD.accept((logits.detach(), height.detach()), expected, case=case, diagnose=_diagnose_two_head)
    if not (logits.requires_grad and height.requires_grad):
        raise CheckFailed("the outputs carry no gradient, so the network could not be trained\n  Hint: no "
                          "torch.no_grad(), .detach() or .item() inside forward")
    return logits, height


def _set_head(head: nn.Linear, bias) -> None:
    with torch.no_grad():
        head.weight.zero_()
        head.bias.copy_(torch.as_tensor(bias, dtype=head.bias.dtype))


def check_two_head_model(cls) -> None:
    """Week 01: check ``TwoHeadNet(n_features, n_hidden, n_species)``: x (N, F) → (logits (N, C), height (N,))."""
    if isinstance(cls, nn.Module):
        raise CheckFailed("expected the class TwoHeadNet, got a model built from it\n  Hint: pass the class itself: "
                          "check_two_head_model(TwoHeadNet), without (...)")
    model = call_student(cls, (4, 8, 3), name="TwoHeadNet", error_hints=_DTYPE_HINTS)
    layers = two_head_layers(model, 4, 8, 3)
    g = torch.Generator().manual_seed(1)
    for n in (5, 1):
        _two_head_outputs(model, torch.randn(n, 4, generator=g), 3, f"a batch of {n}")
    _set_head(layers[1], [-1.0, 0.0, 2.0])
    _set_head(layers[2], [-3.5])
    logits, height = TWO_HEAD.call(model, (torch.randn(2, 4, generator=g),), error_hints=_DTYPE_HINTS)
    if not torch.allclose(logits.detach(), torch.tensor([[-1.0, 0.0, 2.0]] * 2), atol=1e-5):
        raise CheckFailed("with zero weights and bias [-1, 0, 2] the species head should output exactly these logits\n"
                          "  Hint: return raw logits — no softmax or other activation after species_head")
    if not torch.allclose(height.detach(), torch.tensor([-3.5, -3.5]), atol=1e-5):
        raise CheckFailed("with zero weights and bias -3.5 the height head should output -3.5\n"
                          "  Hint: a regression head is a plain Linear layer — no sigmoid or ReLU after it")
    two_head_forward(call_student(cls, (4, 8, 3), name="TwoHeadNet"), torch.randn(7, 4, generator=g), 8, 3,
                     case="a fresh model, a batch of 7")
    passed("TwoHeadNet: shapes for batches of 5 and 1, raw outputs of both heads and the whole forward are right")


def two_head_gradients(net) -> None:
    """Week 01 exercise 5 (hidden tests): after a backward pass through both heads, every parameter has a gradient."""
    missing = [name for name, p in net.named_parameters() if p.grad is None]
    if missing:
        raise CheckFailed(f"TwoHeadNet is not right yet: no gradient reaches {', '.join(missing)} after a backward "
                          "pass through both outputs\n  Hint: use every layer in forward, and keep the outputs "
                          "connected to them (no .detach(), .item() or torch.tensor(...) on the way)")
