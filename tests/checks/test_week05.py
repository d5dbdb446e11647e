"""Do the week-05 checks pass right answers, and name the likely mistake in wrong ones?"""

import re

import numpy as np
import pytest
import torch
from torch import nn

from course_utils.checks.week05 import (
    CheckFailed,
    check_digits_model,
    check_evaluate,
    check_fixed_train,
    check_loss_pairing,
    check_train_one_epoch,
    train_variant,
)

pytestmark = pytest.mark.usefixtures("one_cpu_thread")


def not_implemented(*args, **kwargs):
    raise NotImplementedError()


# --------------------------------------------------------------------------- train_one_epoch
def make_train(*, zero_grad=True, train_mode=True, step=True, returns="mean"):
    """A student's train_one_epoch, correct by default, with one chosen mistake."""

    def train_one_epoch(model, loss_fn, optimizer, loader):
        if train_mode:
            model.train()
        dev = next(model.parameters()).device
        total, n, batch_losses = 0.0, 0, []
        for X, y in loader:
            X, y = X.to(dev), y.to(dev)
            loss = loss_fn(model(X), y)
            if zero_grad:
                optimizer.zero_grad()
            loss.backward()
            if step:
                optimizer.step()
            total += loss.item() * len(y)
            n += len(y)
            batch_losses.append(loss.item())
        return {"mean": total / n, "last": batch_losses[-1], "unweighted": sum(batch_losses) / len(batch_losses),
                "tensor": torch.tensor(total / n)}[returns]

    return train_one_epoch


def test_train_one_epoch_check_passes_a_correct_solution(capsys):
    check_train_one_epoch(make_train())
    captured = capsys.readouterr()
    assert captured.out.startswith("✔") and captured.out.count("\n") == 1 and captured.err == ""


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        ({"zero_grad": False}, "zero_grad"),
        ({"step": False}, "optimizer.step()"),
        ({"train_mode": False}, "model.train()"),
        ({"returns": "last"}, "last batch"),
        ({"returns": "unweighted"}, "weight each batch loss by its size"),
        ({"returns": "tensor"}, "plain Python float"),
    ],
)
def test_train_one_epoch_check_names_the_mistake(mistake, hint):
    with pytest.raises(CheckFailed, match="Hint") as info:
        check_train_one_epoch(make_train(**mistake))
    assert hint in str(info.value)


def test_checks_report_a_stub_as_not_implemented():
    for check in (check_train_one_epoch, check_evaluate, check_fixed_train):
        with pytest.raises(CheckFailed, match="not implemented yet"):
            check(not_implemented)
    with pytest.raises(CheckFailed, match="not implemented yet"):
        check_digits_model(not_implemented)


# --------------------------------------------------------------------------- evaluate
def make_evaluate(*, no_grad=True, eval_mode=True, restore=True, weighted=True):
    def evaluate(model, loss_fn, loader):
        if eval_mode:
            model.eval()
        total, correct, n, means = 0.0, 0, 0, []
        with torch.set_grad_enabled(not no_grad):
            for X, y in loader:
                out = model(X)
                total += loss_fn(out, y).item() * len(y)
                means.append(loss_fn(out, y).item())
                correct += (out.argmax(1) == y).sum().item()
                n += len(y)
        if restore:
            model.train()
        return (total / n if weighted else sum(means) / len(means)), correct / n

    return evaluate


def test_evaluate_check_passes_a_correct_solution(capsys):
    check_evaluate(make_evaluate())
    assert capsys.readouterr().out.startswith("✔")


@pytest.mark.parametrize(
    ("mistake", "hint"),
    [
        ({"no_grad": False}, "torch.no_grad()"),
        ({"eval_mode": False}, "model.eval()"),
        ({"restore": False}, "model.train()"),
        ({"weighted": False}, "weight each by its size"),
    ],
)
def test_evaluate_check_names_the_mistake(mistake, hint):
    with pytest.raises(CheckFailed, match="Hint") as info:
        check_evaluate(make_evaluate(**mistake))
    assert hint in str(info.value)


# --------------------------------------------------------------------------- the broken loop
def test_fixed_train_check_passes_the_reference_and_a_log_softmax_variant(capsys):
    def fixed_train(model, train_loader, val_loader, epochs, lr):
        return train_variant(model, train_loader, val_loader, epochs, lr)

    def fixed_with_nll(model, train_loader, val_loader, epochs, lr):
        # LogSoftmax + NLLLoss is an equally right pairing
        opt = torch.optim.SGD(model.parameters(), lr=lr)
        losses = []
        model.train()
        for _ in range(epochs):
            total, n = 0.0, 0
            for X, y in train_loader:
                loss = nn.NLLLoss()(torch.log_softmax(model(X), dim=1), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
                total, n = total + loss.item() * len(y), n + len(y)
            losses.append(total / n)
        model.eval()
        with torch.no_grad():
            correct = sum((model(X).argmax(1) == y).sum().item() for X, y in val_loader)
        model.train()
        return losses, correct / sum(len(y) for _, y in val_loader)

    check_fixed_train(fixed_train)
    check_fixed_train(fixed_with_nll)
    assert capsys.readouterr().out.count("✔") == 2


@pytest.mark.parametrize(
    ("bugs", "hints"),
    [
        ({"zero_grad": False}, ["zero_grad()"]),
        ({"pairing_ok": False}, ["CrossEntropyLoss"]),
        ({"zero_grad": False, "pairing_ok": False}, ["zero_grad()", "CrossEntropyLoss"]),
        ({"eval_ok": False}, ["model.eval()"]),
    ],
)
def test_fixed_train_check_says_which_bug_is_left(bugs, hints):
    def partly_fixed(model, train_loader, val_loader, epochs, lr):
        return train_variant(model, train_loader, val_loader, epochs, lr, **bugs)

    with pytest.raises(CheckFailed, match="Hint") as info:
        check_fixed_train(partly_fixed)
    assert all(h in str(info.value) for h in hints)


def test_train_variant_oracle_counts_accuracy_like_torch():
    """Is the reference's validation accuracy the plain fraction of argmax hits (eval mode)?"""
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(4, 3))
    X, y = torch.randn(30, 4), torch.randint(0, 3, (30,))
    loader = DataLoader(TensorDataset(X, y), batch_size=7)
    _, acc = train_variant(model, loader, loader, 1, 0.0)  # lr 0: weights unchanged
    assert acc == pytest.approx((model(X).argmax(1) == y).float().mean().item())


# --------------------------------------------------------------------------- multiple choice and the digits model
def test_loss_pairing_check():
    check_loss_pairing("B")
    with pytest.raises(CheckFailed, match="applies log-softmax itself"):
        check_loss_pairing("A")
    with pytest.raises(CheckFailed, match="one of"):
        check_loss_pairing("NLLLoss")


def test_digits_model_check_passes_a_good_model_and_rejects_a_weak_one():
    from course_utils.training import fit

    def good(train_loader, val_loader):
        model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
        fit(model, nn.CrossEntropyLoss(), torch.optim.Adam(model.parameters(), lr=1e-2), train_loader, val_loader, 15,
            progress=False)
        return model

    result = check_digits_model(good, min_val_accuracy=0.93)
    assert result["val_accuracy"] >= 0.93 and isinstance(result["model"], nn.Module)

    def untrained(train_loader, val_loader):
        return nn.Sequential(nn.Linear(64, 10))

    with pytest.raises(CheckFailed, match="below 0.95"):
        check_digits_model(untrained)
    with pytest.raises(CheckFailed, match=r"10 logits.*\(2, 3\)"):
        check_digits_model(lambda tr, va: nn.Linear(64, 3))
    with pytest.raises(CheckFailed, match="budget"):
        check_digits_model(good, time_budget_s=0.0)


# --------------------------------------------------------------------------- odd returns get hints, never tracebacks
@pytest.mark.parametrize("wrap, words", [
    (lambda v: (v,), "got a tuple of 1"),
    (lambda v: [v], "got a list of 1"),
    (lambda v: {"loss": v}, "got a dict of 1"),
    (lambda v: str(v), "got the string"),
    (lambda v: np.float32(v), "got a NumPy float32"),
])
def test_train_one_epoch_odd_returns_get_a_hint(wrap, words):
    """Regression: a tuple, list or dict crashed the check with float()'s TypeError; str and np.float32 passed."""
    right = make_train()
    with pytest.raises(CheckFailed, match=words):
        check_train_one_epoch(lambda *a: wrap(right(*a)))


@pytest.mark.parametrize("wrap, words", [
    (lambda r: (r[0], None), "got None for the accuracy"),
    (lambda r: (None, r[1]), "got None for the mean loss"),
    (lambda r: list(r), "got a list of 2"),
    (lambda r: (r[0], torch.tensor(r[1])), "a Python float for the accuracy"),
    (lambda r: (np.float32(r[0]), r[1]), "NumPy float32"),
])
def test_evaluate_odd_returns_get_a_hint(wrap, words):
    """Regression: (loss, None) crashed the check; NumPy numbers passed it."""
    right = make_evaluate()
    with pytest.raises(CheckFailed, match=re.escape(words)):
        check_evaluate(lambda *a: wrap(right(*a)))


@pytest.mark.parametrize("wrap, words", [
    (lambda r: (r[0], None), "got None for the accuracy"),
    (lambda r: (None, r[1]), "got None for the epoch losses"),
    (lambda r: (torch.tensor(r[0]), r[1]), "a list of Python floats for the epoch losses, got a tensor"),
    (lambda r: [r[0], r[1]], "got a list of 2"),
])
def test_fixed_train_odd_returns_get_a_hint(wrap, words):
    """Regression: a tuple holding None crashed the check (float(None), iterating None)."""
    def fixed(model, train_loader, val_loader, epochs, lr):
        return wrap(train_variant(model, train_loader, val_loader, epochs, lr))

    with pytest.raises(CheckFailed, match=re.escape(words)):
        check_fixed_train(fixed)


class TupleForward(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Linear(64, 10)

    def forward(self, x):
        logits = self.net(x)
        return logits, logits.softmax(1)


@pytest.mark.parametrize("model, words", [
    (lambda: nn.Linear(64, 10).double(), "keep the model in float32"),  # used to crash: float vs double
    (TupleForward, "no tuple of extra values"),  # used to crash: tuple has no .shape
    (lambda: nn.Sequential(nn.Flatten()), "without parameters"),  # used to crash: StopIteration
    (lambda: (nn.Linear(64, 10), 0.97), "expected an nn.Module, got a tuple of 2"),
])
def test_digits_model_odd_models_get_a_hint(model, words):
    with pytest.raises(CheckFailed, match=re.escape(words)):
        check_digits_model(lambda tr, va: model())


def test_evaluate_without_no_grad_is_refused_by_the_shared_rule():
    """The hidden tests use the same Spy rule: a forward with gradients on is refused there too."""
    from course_utils.checks.week05 import Spy, require_eval_forward

    spy = Spy(nn.Linear(4, 3))
    spy.train()
    make_evaluate(no_grad=False)(spy, nn.CrossEntropyLoss(), [(torch.randn(5, 4), torch.tensor([0, 1, 2, 0, 1]))])
    with pytest.raises(CheckFailed, match="torch.no_grad"):
        require_eval_forward(spy, "evaluate")


def test_a_digits_model_failing_through_a_broken_train_one_epoch_names_exercise_2():
    """train_digits_model trains with the student's own train_one_epoch, which never steps the optimiser: the model
    stays at chance, and the hint sends the student to exercise 2, not to "more epochs"."""
    namespace = {"torch": torch, "nn": torch.nn}
    exec('''
def train_one_epoch(model, loss_fn, optimizer, loader):
    model.train()
    total, n = 0.0, 0
    for X, y in loader:
        optimizer.zero_grad()
        loss = loss_fn(model(X), y)
        loss.backward()  # no optimizer.step()
        total += loss.item() * len(y)
        n += len(y)
    return total / n

def train_digits_model(train_loader, val_loader):
    torch.manual_seed(0)
    model = nn.Sequential(nn.Flatten(), nn.Linear(64, 10))
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(3):
        train_one_epoch(model, nn.CrossEntropyLoss(), opt, train_loader)
    return model
''', namespace)
    with pytest.raises(CheckFailed) as info:
        check_digits_model(namespace["train_digits_model"], time_budget_s=60)
    msg = str(info.value)
    assert msg.startswith("validation accuracy"), msg
    assert "this comes from exercise 2: your train_digits_model calls your train_one_epoch" in msg, msg
