"""Week 05 checks: the loss pairing, train_one_epoch, evaluate, the broken loop, a digits model."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import torch

from ._core import (
    CheckFailed,
    blaming_earlier_answers,
    call_student,
    check_choice,
    close,
    describe_difference,
    fail,
    passed,
)
from ._rules import define_rule

#: The acceptance rules of the week's exercises (shared with the hidden tests).
TRAIN_ONE_EPOCH = define_rule("train_one_epoch", returns="float", atol=1e-5, rtol=1e-5)
EVALUATE = define_rule("evaluate", returns=("float", "float"), parts=("the mean loss", "the accuracy"), atol=1e-5,
                       rtol=1e-5)
FIXED_TRAIN = define_rule("fixed_train", returns=("floats", "float"), parts=("the epoch losses", "the accuracy"),
                          atol=1e-4, rtol=1e-4)
DIGITS_MODEL = define_rule("train_digits_model", returns="module")

LOSS_PAIRING_ANSWERS = {
    "A": ("CrossEntropyLoss expects raw logits and applies log-softmax itself; after a LogSoftmax layer it only "
          "gives the right number by accident (log-softmax of log-probabilities changes nothing)"),
    "B": None,
    "C": "MSELoss is for regression: it compares numbers on a continuous scale, not class indices",
    "D": "BCELoss is for yes/no questions with one probability per sample, not for C log-probabilities",
}


def check_loss_pairing(answer) -> None:
    """Week 05: which loss belongs after an nn.LogSoftmax(dim=1) output layer (multiple choice)."""
    check_choice(answer, LOSS_PAIRING_ANSWERS)
    passed("loss pairing: LogSoftmax outputs go with NLLLoss")


def _net(kind: str, seed: int = 0) -> torch.nn.Module:
    """A small seeded model for the week-05 checks: 'mlp' and 'dropout' (4 -> 3 logits), 'reg' (3 -> (N,))."""
    from torch import nn

    torch.manual_seed(seed)
    if kind == "mlp":
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 3))
    if kind == "dropout":
        return nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.3), nn.Linear(8, 3))
    return nn.Sequential(nn.Linear(3, 1), nn.Flatten(0))


def _loader(kind: str, n: int = 50, batch_size: int = 16, seed: int = 0):
    """Fixed-order batches (16, 16, 16, 2: the last one smaller) of a tiny data set for the week-05 checks."""
    from torch.utils.data import DataLoader, TensorDataset

    g = torch.Generator().manual_seed(seed)
    if kind == "reg":
        X = torch.randn(n, 3, generator=g)
        y = X @ torch.tensor([1.0, -2.0, 0.5]) + 0.1 * torch.randn(n, generator=g)
    else:
        X = torch.randn(n, 4, generator=g)
        y = torch.randint(0, 3, (n,), generator=g)
    return DataLoader(TensorDataset(X, y), batch_size=batch_size)


def _params(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def _same_params(a, b, atol: float = 1e-5) -> bool:
    return all(torch.allclose(x, y, atol=atol, rtol=1e-4) for x, y in zip(a, b, strict=True))


def _epoch(model, loss_fn, opt, loader, *, zero_grad: bool = True, pairing_ok: bool = True) -> list[tuple[float, int]]:
    """The reference epoch (with the broken loop's bugs as switches): (loss, batch size) of each batch."""
    out = []
    model.train()
    for X, y in loader:
        logits = model(X)
        loss = loss_fn(logits, y) if pairing_ok else loss_fn(torch.softmax(logits, dim=1), y)
        if zero_grad:
            opt.zero_grad()
        loss.backward()
        opt.step()
        out.append((loss.item(), len(y)))
    return out


def _setup(kind: str, *, start_eval: bool = False):
    """A fresh seeded (model, loss_fn, optimizer, loader) for the train_one_epoch cases."""
    from torch import nn

    model = _net(kind)
    if start_eval:
        model.eval()  # as an evaluation might have left it
    loss_fn = nn.MSELoss() if kind == "reg" else nn.CrossEntropyLoss()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loader = _loader(kind)
    torch.manual_seed(1)  # dropout masks
    return model, loss_fn, opt, loader


def _reference_epoch(kind: str, *, zero_grad: bool = True) -> tuple[list[torch.Tensor], list[tuple[float, int]]]:
    """Weights after the reference epoch and its batch losses (optionally without zero_grad)."""
    model, loss_fn, opt, loader = _setup(kind)
    batches = _epoch(model, loss_fn, opt, loader, zero_grad=zero_grad)
    return _params(model), batches


def diagnose_train_one_epoch(got_value, got_params, kind: str, *, params_ok: bool, start_eval: bool) -> str | None:
    """A hint naming the likely mistake in a student's train_one_epoch (week 05)."""
    if not params_ok:
        if _same_params(got_params, _params(_net(kind)), atol=0.0):
            return ("the weights did not change: call optimizer.step() after loss.backward() (and zero_grad before "
                    "backward, not between backward and step)")
        if _same_params(got_params, _reference_epoch(kind, zero_grad=False)[0]):
            return "gradients piled up across batches: call optimizer.zero_grad() before loss.backward()"
        if start_eval:
            return "the model was in eval mode when your function got it: call model.train() at the start"
        return None
    batches = _reference_epoch(kind)[1]
    if close(got_value, batches[-1][0]):
        return "you returned the last batch's loss: return the mean over the whole epoch"
    if close(got_value, sum(v for v, _ in batches) / len(batches)):
        return ("you averaged the batch losses with equal weights; the last batch is smaller — weight each "
                "batch loss by its size: sum(loss * len(y)) / number of samples")
    if close(got_value, sum(v * b for v, b in batches)):
        return "you returned the sum over samples: divide by the number of samples"
    if close(got_value, sum(v for v, _ in batches)):
        return "you returned the sum of the batch losses: return the mean per sample"
    return None


def check_train_one_epoch(fn: Callable) -> None:
    """Week 05: fn(model, loss_fn, optimizer, loader) -> mean loss per sample (float); checks weights and value."""
    name = TRAIN_ONE_EPOCH.name
    cases = [("classifier, SGD with momentum", "mlp", False), ("regressor with MSELoss", "reg", False),
             ("model with dropout handed over in eval mode", "dropout", True)]
    for label, kind, start_eval in cases:
        model, loss_fn, opt, loader = _setup(kind, start_eval=start_eval)
        got = TRAIN_ONE_EPOCH.call(fn, (model, loss_fn, opt, loader), case=label)
        TRAIN_ONE_EPOCH.accept(got, case=label)
        params = _params(model)
        ref_params, batches = _reference_epoch(kind)
        expected = sum(v * b for v, b in batches) / sum(b for _, b in batches)
        params_ok = _same_params(params, ref_params)
        problem = None if params_ok else "the weights after one epoch differ from the reference"
        if problem is None:
            problem = describe_difference(got, expected, atol=1e-5, rtol=1e-5)
        if problem is not None:
            hint = diagnose_train_one_epoch(got, params, kind, params_ok=params_ok, start_eval=start_eval)
            raise fail(name, problem, case=label, hint=hint)
    passed(f"{name}: weights and mean epoch loss match the reference on all {len(cases)} cases")


class Spy(torch.nn.Module):
    """Wraps a model and records, at every forward call, whether gradients were on and the training flag (week 05)."""

    def __init__(self, inner):
        super().__init__()
        self.inner = inner
        self.calls: list[tuple[bool, bool]] = []

    def forward(self, x):
        self.calls.append((torch.is_grad_enabled(), self.training))
        return self.inner(x)


def require_eval_forward(spy: Spy, name: str, *, skip: int = 0, no_grad: bool = True, case: str | None = None) -> None:
    """Week 05: the forward calls after the first ``skip`` ran in eval mode (and without gradients), and the model
    was handed back in training mode — the evaluation rule shared by the checks and the hidden tests."""
    calls = spy.calls[skip:]
    if not calls:
        raise fail(name, "the model was never called to evaluate it", case=case)
    if no_grad and any(grad for grad, _ in calls):
        raise fail(name, "gradients were being recorded during evaluation", case=case,
                   hint="wrap the loop in `with torch.no_grad():`")
    if any(training for _, training in calls):
        raise fail(name, "the model was in training mode during evaluation (dropout still on)", case=case,
                   hint="call model.eval() before the evaluation loop")
    if not spy.training:
        raise fail(name, "the model was left in eval mode", case=case,
                   hint="call model.train() before returning, so that training can continue")


def _ref_evaluate(model, loss_fn, loader) -> tuple[float, float]:
    """Reference mean loss and accuracy (eval mode, no gradients), from the whole data at once."""
    X = torch.cat([x for x, _ in loader])
    y = torch.cat([t for _, t in loader])
    was = model.training
    model.eval()
    with torch.no_grad():
        out = model(X)
        value = (loss_fn(out, y).item(), (out.argmax(1) == y).double().mean().item())
    model.train(was)
    return value


def _diagnose_evaluate(got: float, part: str, model, loader) -> str | None:
    """Hint for a wrong mean loss or accuracy: unweighted batch means, train-mode outputs, sums."""
    model.eval()
    with torch.no_grad():
        per_batch = [(torch.nn.functional.cross_entropy(model(X), y).item(),
                      (model(X).argmax(1) == y).double().mean().item(), len(y)) for X, y in loader]
    model.train()
    k = 0 if part == "mean loss" else 1
    if len(per_batch) > 1 and close(got, sum(b[k] for b in per_batch) / len(per_batch)):
        return "you averaged the batches with equal weights; the last batch is smaller — weight each by its size"
    if close(got, sum(b[k] * b[2] for b in per_batch)) or close(got, sum(b[k] for b in per_batch)):
        return "you returned a sum: divide by the number of samples"
    if part == "accuracy":
        return ("accuracy is the fraction of samples whose largest logit is the true class: "
                "(output.argmax(dim=1) == y), counted over all samples")
    return None


def check_evaluate(fn: Callable) -> None:
    """Week 05: fn(model, loss_fn, loader) -> (mean loss, accuracy), in eval mode, without gradients, back in train mode."""
    from torch import nn

    name = EVALUATE.name
    for label, kind, bs in (("classifier, batches of 16 (last one smaller)", "mlp", 16),
                            ("model with dropout, one batch", "dropout", 64)):
        model = Spy(_net(kind))
        model.train()
        loader = _loader(kind, batch_size=bs)
        expected = _ref_evaluate(model, nn.CrossEntropyLoss(), loader)
        model.calls.clear()
        got = EVALUATE.call(fn, (model, nn.CrossEntropyLoss(), loader), case=label)
        EVALUATE.accept(got, case=label)
        require_eval_forward(model, name, case=label)
        for part, g, e in (("mean loss", got[0], expected[0]), ("accuracy", got[1], expected[1])):
            problem = describe_difference(g, e, atol=1e-5, rtol=1e-5)
            if problem is not None:
                raise fail(name, f"{part}: {problem}", case=label, hint=_diagnose_evaluate(g, part, model, loader))
    passed(f"{name}: loss and accuracy match, computed in eval mode without gradients")


def train_variant(model, train_loader, val_loader, epochs: int, lr: float, *, zero_grad: bool = True,
                  pairing_ok: bool = True, eval_ok: bool = True):
    """Week 05 broken-loop exercise: the loop with any of its three bugs switched on (all off = the reference).

    Returns the per-epoch mean losses and the final validation accuracy, like ``broken_train``.
    """
    from torch import nn

    loss_fn = nn.CrossEntropyLoss() if pairing_ok else nn.NLLLoss()
    opt = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for _ in range(epochs):
        batches = _epoch(model, loss_fn, opt, train_loader, zero_grad=zero_grad, pairing_ok=pairing_ok)
        losses.append(sum(v * n for v, n in batches) / sum(n for _, n in batches))
    if eval_ok:
        model.eval()
    with torch.no_grad():
        correct = sum((model(X).argmax(1) == y).sum().item() for X, y in val_loader)
    model.train()
    return losses, correct / sum(len(y) for _, y in val_loader)


def _fixed_train_case(fn, **bugs):
    model = Spy(_net("dropout"))
    train, val = _loader("mlp", seed=0), _loader("mlp", n=40, seed=1)
    torch.manual_seed(1)
    out = fn(model, train, val, 3, 0.2, **bugs)
    return out, _params(model), model


def check_fixed_train(fn: Callable) -> None:
    """Week 05: the repaired loop must match the reference; hints say which of the three bugs is left."""
    name = FIXED_TRAIN.name
    got, params, spy = call_student(_fixed_train_case, (fn,), name=name)
    FIXED_TRAIN.accept(got)
    (exp_losses, exp_acc), ref_params, _ = _fixed_train_case(train_variant)
    losses, acc = got
    if not _same_params(params, ref_params, atol=1e-4):
        hints = []
        for bug, kwargs in (("zero_grad", {"zero_grad": False}), ("pairing", {"pairing_ok": False})):
            # which single bug, or both, reproduces the student's weights?
            if _same_params(params, _fixed_train_case(train_variant, **kwargs)[1], atol=1e-4):
                hints.append(bug)
        if _same_params(params, _fixed_train_case(train_variant, zero_grad=False, pairing_ok=False)[1], atol=1e-4):
            hints = ["zero_grad", "pairing"]
        text = {"zero_grad": "gradients still pile up: call optimizer.zero_grad() before loss.backward()",
                "pairing": ("the loss pairing is still wrong: NLLLoss got probabilities — pass the logits to "
                            "nn.CrossEntropyLoss (or log-probabilities to NLLLoss)")}
        hint = "; and ".join(text[h] for h in hints) or "compare your loop step by step with the five-step loop"
        raise fail(name, "the weights after training differ from the reference", hint=hint)
    problem = describe_difference(torch.tensor(losses, dtype=torch.float64), torch.tensor(exp_losses), atol=1e-4,
                                  rtol=1e-4)
    if problem is not None:
        raise fail(name, f"the per-epoch losses differ: {problem}",
                   hint="keep the sample-weighted mean per epoch, as broken_train computes it")
    # forward calls after the 3 epochs x 4 training batches are the evaluation: was dropout off?
    require_eval_forward(spy, name, skip=3 * 4, no_grad=False)
    if not close(acc, exp_acc, atol=1e-6, rtol=1e-6):
        raise fail(name, f"validation accuracy {acc:.4f}, expected {exp_acc:.4f}",
                   hint="count (output.argmax(dim=1) == y) over all validation samples and divide by their number")
    passed(f"{name}: the bugs are fixed (weights, losses and validation accuracy match the reference)")


def digits_model_outputs(model, X: torch.Tensor, name: str = "train_digits_model") -> torch.Tensor:
    """Week 05: the logits (N, 10) a returned digits model gives for images X (N, 64), in eval mode without
    gradients, or CheckFailed with a hint (the rule shared by the check and the hidden tests)."""
    DIGITS_MODEL.accept(model)
    params = list(model.parameters())
    if not params:
        raise CheckFailed(f"{name} returned a model without parameters: nothing was trained")
    if any(p.dtype != torch.float32 for p in params):
        raise CheckFailed(f"the model's parameters are {params[0].dtype}, the digits are float32\n  Hint: keep the "
                          "model in float32 (no .double())")
    model.eval()
    with torch.no_grad():
        out = call_student(model, (X.to(params[0].device),), name=f"the model returned by {name}")
    if not isinstance(out, torch.Tensor):
        raise CheckFailed(f"the model's forward must return the logits tensor, got {type(out).__name__}\n  Hint: "
                          "return the output of the last layer only (no tuple of extra values)")
    if tuple(out.shape) != (len(X), 10) or not out.is_floating_point():
        raise CheckFailed(f"the model must output 10 logits per image: for {len(X)} images expected shape "
                          f"({len(X)}, 10), got {tuple(out.shape)} ({out.dtype})")
    return out


def check_digits_model(fn: Callable, *, min_val_accuracy: float = 0.95, time_budget_s: float = 60.0,
                       seed: int = 0) -> dict:
    """Week 05: fn(train_loader, val_loader) -> trained model; must reach ``min_val_accuracy`` within the budget.

    Returns ``{"model", "val_accuracy", "seconds", "split"}`` so that further tests reuse the trained model.
    """
    import time

    from course_utils.data import load_dataset, make_loaders
    from course_utils.devices import set_seed
    from course_utils.training import evaluate

    name = DIGITS_MODEL.name
    split = load_dataset("digits", seed=seed)
    set_seed(seed)
    train, val, _ = make_loaders(split, batch_size=64, seed=seed)
    earlier = [("train_one_epoch", check_train_one_epoch, "exercise 2"), ("evaluate", check_evaluate, "exercise 3"),
               ("fixed_train", check_fixed_train, "exercise 4")]
    with blaming_earlier_answers(fn, name, earlier):  # a model trained with the student's own broken loop
        start = time.perf_counter()
        model = dataclasses.replace(DIGITS_MODEL, time_limit=max(time_budget_s * 2, 120.0)).call(fn, (train, val))
        seconds = time.perf_counter() - start
        digits_model_outputs(model, split.X_val[:2], name)
        acc = call_student(evaluate, (model, torch.nn.CrossEntropyLoss(), val), {"metric": "accuracy"},
                           name=f"evaluating the model returned by {name}").metric
        if seconds > time_budget_s:
            raise CheckFailed(f"{name} took longer than the budget of {time_budget_s:.0f} s\n  Hint: fewer epochs or "
                              "a smaller model; small models train fast on the CPU with batches of 32-128")
        if acc < min_val_accuracy:
            raise CheckFailed(f"validation accuracy {acc:.3f} is below {min_val_accuracy}\n  Hint: end in 10 logits "
                              "with nn.CrossEntropyLoss, train for more epochs, try Adam (lr 1e-3 to 1e-2) or SGD with "
                              "momentum 0.9 (lr 0.05 to 0.2), and keep the weights of the best validation epoch")
    passed(f"{name}: validation accuracy >= {min_val_accuracy} reached within {time_budget_s:.0f} s")
    return {"model": model, "val_accuracy": acc, "seconds": seconds, "split": split}
