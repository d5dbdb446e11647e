"""The training loop: one epoch of training, evaluation, and ``fit`` with a history (week 05).

The loop every PyTorch model is trained with, written once so that later weeks
can call it::

    for X, y in train_loader:
        output = model(X)              # forward
        loss = loss_fn(output, y)      # how wrong, one number
        optimizer.zero_grad()          # forget the previous batch's gradients
        loss.backward()                # d loss / d parameter for every parameter
        optimizer.step()               # move every parameter a little downhill

``fit`` repeats this for a number of epochs, evaluates on a validation loader
after each one (under ``torch.no_grad()`` and ``model.eval()``) and returns a
:class:`History` of per-epoch losses and metric values. Given the same
``set_seed`` before building the model and the loaders, two runs give the same
history. Mismatched outputs and targets (float one-hot targets for a loss that
wants class indices, ``(N, 1)`` outputs against ``(N,)`` targets, ...) raise a
:class:`LossTargetError` with a hint, instead of a deep torch traceback or a
silent broadcast.
"""

from __future__ import annotations

import math
import sys
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import NamedTuple

import torch
from torch import nn

from course_utils import losses

Metric = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

# Losses that compare outputs and targets element by element: shapes must agree exactly.
_ELEMENTWISE = (nn.MSELoss, nn.L1Loss, nn.HuberLoss, nn.SmoothL1Loss, nn.BCELoss, nn.BCEWithLogitsLoss)
# Losses whose targets are class indices (N,) of integer dtype (CrossEntropyLoss also takes probabilities).
_CLASS_INDEX = (nn.CrossEntropyLoss, nn.NLLLoss)


class LossTargetError(ValueError):
    """The loss function and the (output, target) pair do not fit together; the message has a hint."""


class EpochStats(NamedTuple):
    """Mean loss and mean metric (None without a metric) over one pass through a loader (week 05)."""

    loss: float
    metric: float | None


# --------------------------------------------------------------------------- metrics
def accuracy(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Fraction of correct predictions (week 05): logits (N, C) vs indices (N,) or one-hot (N, C); 1 logit (N,) vs 0/1."""
    if output.dim() == 2 and output.shape[1] > 1:
        pred = output.argmax(dim=1)
        if target.dim() == 2:  # one-hot or probabilities
            target = target.argmax(dim=1)
        return (pred == target).float().mean()
    # One logit per sample: positive class when the logit is >= 0 (probability >= 0.5), the course's one rule.
    return ((output.reshape(-1) >= 0).float() == target.reshape(-1).float()).float().mean()


def mae(output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean absolute error of a regressor (week 05): output and target (N,) or (N, 1), one value per sample."""
    # A regressor's (N, 1) output against (N,) targets is the usual case here: flatten both on purpose,
    # then use the week-04 loss, which refuses any remaining shape mismatch.
    return losses.mae(output.reshape(-1), target.reshape(-1).to(output.dtype))


METRICS: dict[str, Metric] = {"accuracy": accuracy, "mae": mae}


def _resolve_metric(metric) -> tuple[Metric | None, str | None]:
    if metric is None:
        return None, None
    if isinstance(metric, str):
        if metric not in METRICS:
            raise ValueError(f"metric must be one of {sorted(METRICS)}, a function (output, target) -> number, or None; got {metric!r}")
        return METRICS[metric], metric
    if callable(metric):
        return metric, getattr(metric, "__name__", "metric")
    raise TypeError(f"metric must be a string, a function (output, target) -> number, or None; got {type(metric).__name__}")


# --------------------------------------------------------------------------- checking output/target pairs
def _shape(t: torch.Tensor) -> str:
    return f"shape {tuple(t.shape)} {str(t.dtype).replace('torch.', '')}"


def diagnose_loss_inputs(loss_fn, output: torch.Tensor, target: torch.Tensor, *, check_values: bool = True) -> str | None:
    """A hint if ``loss_fn(output, target)`` would fail or silently broadcast, else None (week 05).

    ``check_values=False`` skips the class-index range check, which reads the data (a GPU sync).
    """
    if isinstance(loss_fn, _CLASS_INDEX):
        name = type(loss_fn).__name__
        if output.dim() < 2:
            return (f"{name} expects one score per class, output (N, C); got output {_shape(output)}. "
                    "Does the last layer have C outputs (nn.Linear(hidden, C))?")
        if target.shape == output.shape and target.is_floating_point():
            if isinstance(loss_fn, nn.NLLLoss):
                return ("NLLLoss expects class indices (N,) of dtype long, but the targets look like float one-hot "
                        f"vectors ({_shape(target)}); pass target.argmax(dim=1) instead")
            return None  # CrossEntropyLoss accepts class probabilities of the output's shape
        if target.dim() != output.dim() - 1:
            return (f"{name} expects targets of shape (N,) holding class indices for output (N, C); got output "
                    f"{_shape(output)} and target {_shape(target)}")
        if target.is_floating_point():
            return (f"{name} expects integer class indices (dtype long), got target {_shape(target)}; "
                    "use target.long() (or, for a regression target, a regression loss such as MSELoss)")
        if check_values and target.numel() and (target.min() < 0 or target.max() >= output.shape[1]):
            return (f"class indices must lie in 0..{output.shape[1] - 1} for output with {output.shape[1]} classes; "
                    f"got targets from {int(target.min())} to {int(target.max())}")
        return None
    if isinstance(loss_fn, _ELEMENTWISE):
        name = type(loss_fn).__name__
        if output.shape != target.shape:
            hint = ""
            if output.dim() == target.dim() + 1 and output.shape[-1] == 1:
                hint = (" — (N, 1) against (N,) would broadcast to (N, N) and give a wrong loss; end the model with "
                        "nn.Flatten(0) or use output.squeeze(1)")
            elif output.dim() == 2 and target.dim() == 1 and output.shape[-1] > 1:
                hint = " — several outputs per sample but one target: a class-index target needs CrossEntropyLoss"
            return f"{name} compares element by element, so output and target need the same shape; got output {_shape(output)} and target {_shape(target)}{hint}"
        if not target.is_floating_point():
            return f"{name} needs floating-point targets, got target {_shape(target)}; use target.float()"
        return None
    return _broadcast_hint(loss_fn, output, target)


def _broadcast_hint(loss_fn, output, target) -> str | None:
    """Any other loss (a function, nn.PoissonNLLLoss, ...): refuse (N, 1) against (N,), which broadcasts to (N, N)."""
    if not (isinstance(output, torch.Tensor) and isinstance(target, torch.Tensor)) or output.shape == target.shape:
        return None
    a, b = (output, target) if output.dim() > target.dim() else (target, output)
    if a.dim() == b.dim() + 1 and a.shape[-1] == 1 and a.shape[:-1] == b.shape:
        name = getattr(loss_fn, "__name__", type(loss_fn).__name__)
        return (f"{name} got output {_shape(output)} and target {_shape(target)}: most losses compare them element "
                "by element, and (N, 1) against (N,) would broadcast to an (N, N) table of every output minus every "
                "target, a wrong loss without any error — end the model with nn.Flatten(0) (or use output.squeeze(1)), "
                "or give the targets the output's shape")
    return None


def compute_loss(loss_fn, output: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """``loss_fn(output, target)`` as a scalar, or a :class:`LossTargetError` with a hint (week 05)."""
    # Shapes and dtypes are checked on every batch (cheap); values only once the loss has failed.
    hint = diagnose_loss_inputs(loss_fn, output, target, check_values=False)
    if hint is not None:
        raise LossTargetError(hint)
    try:
        loss = loss_fn(output, target)
    except (RuntimeError, ValueError, IndexError, TypeError) as exc:
        hint = diagnose_loss_inputs(loss_fn, output, target)
        if hint is not None:
            raise LossTargetError(hint) from exc
        raise LossTargetError(
            f"{type(loss_fn).__name__} failed on output {_shape(output)} and target {_shape(target)}: {exc}\n"
            "Hint: class-index losses (CrossEntropyLoss, NLLLoss) want output (N, C) and long targets (N,); "
            "element-wise losses (MSELoss, BCEWithLogitsLoss) want float targets of the output's shape."
        ) from exc
    if not isinstance(loss, torch.Tensor) or loss.dim() != 0:
        shape = tuple(loss.shape) if isinstance(loss, torch.Tensor) else type(loss).__name__
        raise LossTargetError(f"loss_fn must return a single number (a 0-dim tensor), got {shape}; use reduction='mean'")
    return loss


# --------------------------------------------------------------------------- one pass through a loader
def _device_of(model: nn.Module, device) -> torch.device:
    if device is not None:
        return torch.device(device)
    p = next(model.parameters(), None)
    return p.device if p is not None else torch.device("cpu")


def _batches(loader: Iterable, name: str):
    n = 0
    for batch in loader:
        if not isinstance(batch, (tuple, list)) or len(batch) != 2:
            raise ValueError(f"{name} must yield (inputs, targets) pairs, got {type(batch).__name__}")
        n += 1
        yield batch
    if n == 0:
        raise ValueError(f"{name} yielded no batches; is the dataset empty?")


class _EpochMeans:
    """Collects each batch's mean loss/metric and size; averages them once per epoch (week 05).

    Appending to lists costs far less per batch than tensor arithmetic, and reading the
    numbers once at the end means a single GPU sync per epoch.
    """

    def __init__(self):
        self.losses: list[torch.Tensor] = []
        self.metrics: list = []
        self.sizes: list[int] = []

    def add(self, loss: torch.Tensor, metric, size: int) -> None:
        self.losses.append(loss.detach())
        if metric is not None:
            self.metrics.append(metric)
        self.sizes.append(size)

    def result(self) -> EpochStats:
        w = torch.tensor(self.sizes, dtype=torch.float64)
        loss = (torch.stack(self.losses).cpu().double() * w).sum().item() / w.sum().item()
        if not self.metrics:
            return EpochStats(loss, None)
        if all(isinstance(v, torch.Tensor) and v.dim() == 0 for v in self.metrics):
            m = torch.stack(self.metrics).detach().cpu().double()  # one copy for the whole epoch
        else:  # user metrics may return Python numbers
            m = torch.tensor([float(v) for v in self.metrics], dtype=torch.float64)
        return EpochStats(loss, (m * w).sum().item() / w.sum().item())


def train_one_epoch(model: nn.Module, loss_fn, optimizer: torch.optim.Optimizer, loader: Iterable, *,
                    metric=None, device=None) -> EpochStats:
    """One pass of forward, loss, zero_grad, backward, step over ``loader`` (week 05).

    ``loader`` yields ``(X, y)``, e.g. X (B, D) and y (B,). Returns the sample-weighted
    mean loss (and metric) over the epoch, measured on each batch before its step.
    """
    _check_parts(model, loss_fn, optimizer)
    if optimizer is None:
        raise TypeError("optimizer must be a torch.optim.Optimizer, got None")
    device = _device_of(model, device)
    metric_fn, _ = _resolve_metric(metric)
    model.train()
    means = _EpochMeans()
    for X, y in _batches(loader, "loader"):
        X, y = X.to(device), y.to(device)
        output = model(X)
        loss = compute_loss(loss_fn, output, y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        means.add(loss, metric_fn(output.detach(), y) if metric_fn is not None else None, len(y))
    return means.result()


@torch.no_grad()
def evaluate(model: nn.Module, loss_fn, loader: Iterable, *, metric=None, device=None) -> EpochStats:
    """Mean loss (and metric) over ``loader`` in eval mode without gradients (week 05); restores the mode."""
    _check_parts(model, loss_fn)
    device = _device_of(model, device)
    metric_fn, _ = _resolve_metric(metric)
    was_training = model.training
    model.eval()  # dropout off, batch-norm uses its running statistics
    try:
        means = _EpochMeans()
        for X, y in _batches(loader, "loader"):
            X, y = X.to(device), y.to(device)
            output = model(X)
            means.add(compute_loss(loss_fn, output, y), metric_fn(output, y) if metric_fn is not None else None, len(y))
    finally:
        model.train(was_training)
    return means.result()


# --------------------------------------------------------------------------- fit and its history
@dataclass
class History:
    """Per-epoch train/validation loss and metric recorded by :func:`fit` (week 05); epoch k is index k-1."""

    train_loss: list[float] = field(default_factory=list)
    val_loss: list[float] = field(default_factory=list)
    train_metric: list[float] = field(default_factory=list)
    val_metric: list[float] = field(default_factory=list)
    metric_name: str | None = None

    def __len__(self) -> int:
        return len(self.train_loss)

    @property
    def epochs(self) -> list[int]:
        """Epoch numbers 1..E, for plotting."""
        return list(range(1, len(self) + 1))

    def best_epoch(self) -> int:
        """The epoch (1-based) with the lowest validation loss: where to stop (week 05)."""
        losses = self.val_loss or self.train_loss
        if not losses:
            raise ValueError("the history is empty: train for at least one epoch first")
        finite = [v if math.isfinite(v) else math.inf for v in losses]
        return finite.index(min(finite)) + 1

    def as_dict(self) -> dict[str, list[float]]:
        """The recorded lists by name (e.g. for a DataFrame)."""
        return {k: list(getattr(self, k)) for k in ("train_loss", "val_loss", "train_metric", "val_metric")}

    def plot(self, *, mark_best: bool = True):
        """Loss and metric curves side by side (week 05); marks the best validation epoch. Returns the Figure."""
        from course_utils.plotting import PALETTE, plot_history

        fig = plot_history(self, metric_name=self.metric_name or "metric")
        if mark_best and self.val_loss:
            best = self.best_epoch()
            for ax in fig.axes:
                ax.axvline(best, color=PALETTE["black"], ls=":", lw=1, label=f"lowest val. loss (epoch {best})")
                ax.legend(frameon=False)
        return fig

    def __repr__(self) -> str:
        if not len(self):
            return "History(0 epochs)"
        parts = [f"train_loss={self.train_loss[-1]:.4f}"]
        if self.val_loss:
            parts.append(f"val_loss={self.val_loss[-1]:.4f}")
        if self.val_metric:
            parts.append(f"val_{self.metric_name}={self.val_metric[-1]:.4f}")
        return f"History({len(self)} epochs, last: {', '.join(parts)})"


def _check_parts(model, loss_fn, optimizer=None) -> None:
    """Clear errors for the usual mix-ups in the arguments of the week-05 loop functions."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    if isinstance(loss_fn, type):
        raise TypeError(f"loss_fn must be a loss object, not the class: write {loss_fn.__name__}() with brackets")
    if not callable(loss_fn):
        raise TypeError(f"loss_fn must be callable, e.g. nn.CrossEntropyLoss(), got {type(loss_fn).__name__}")
    if optimizer is not None and not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim.Optimizer (e.g. torch.optim.SGD(model.parameters(), lr=0.1)), "
                        f"got {type(optimizer).__name__}")


def _check_fit_args(model, loss_fn, optimizer, epochs) -> None:
    _check_parts(model, loss_fn, optimizer)
    if optimizer is None:
        raise TypeError("optimizer must be a torch.optim.Optimizer, got None")
    if isinstance(epochs, bool) or not isinstance(epochs, int) or epochs < 1:
        raise ValueError(f"epochs must be a positive int, got {epochs!r}")


def fit(model: nn.Module, loss_fn, optimizer: torch.optim.Optimizer, train_loader: Iterable,
        val_loader: Iterable | None, epochs: int, *, metric=None, progress: bool | str = True, device=None) -> History:
    """Train for ``epochs`` epochs, evaluating on ``val_loader`` after each; returns a :class:`History` (week 05).

    ``metric``: None, "accuracy", "mae" or a function ``(output, target) -> batch mean``.
    ``device``: where to train (the model is moved there); default: where the model's parameters are.
    ``progress``: True for a tqdm.auto bar over epochs (a widget in Jupyter, text on stdout elsewhere),
    "text" for the plain-text bar everywhere (in a notebook one output line redrawn in place, so a saved
    notebook holds just the finished bar), False for none.
    """
    _check_fit_args(model, loss_fn, optimizer, epochs)
    metric_fn, metric_name = _resolve_metric(metric)
    if device is not None:
        model.to(device)
    device = _device_of(model, device)
    history = History(metric_name=metric_name)
    bar = _progress(epochs, progress)
    for _ in bar:
        tr = train_one_epoch(model, loss_fn, optimizer, train_loader, metric=metric_fn, device=device)
        history.train_loss.append(tr.loss)
        if metric_fn is not None:
            history.train_metric.append(tr.metric)
        if val_loader is not None:
            va = evaluate(model, loss_fn, val_loader, metric=metric_fn, device=device)
            history.val_loss.append(va.loss)
            if metric_fn is not None:
                history.val_metric.append(va.metric)
        if progress:
            bar.set_postfix(_postfix(history), refresh=False)
    if progress:
        bar.close()
    return history


def _progress(epochs: int, progress):
    """A tqdm bar over epochs (tqdm.auto, or plain text for ``progress="text"``), or a range for False."""
    if progress not in (True, False, "text"):
        raise ValueError(f'progress must be True, False or "text", got {progress!r}')
    if not progress:
        return range(epochs)
    if progress == "text":
        from tqdm.std import tqdm
    else:
        from tqdm.auto import tqdm

    # stdout, not tqdm's default stderr: notebook graders treat anything on stderr as a failure.
    out = _DisplayLine() if progress == "text" and _in_kernel() else sys.stdout
    return tqdm(range(epochs), desc="epochs", unit="epoch", file=out, dynamic_ncols=progress is True)


def _in_kernel() -> bool:
    """True inside a Jupyter kernel (JupyterLab, nbclient), False in a plain Python or a terminal IPython."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    return getattr(shell, "kernel", None) is not None


class _DisplayLine:
    """A file for a text bar in a notebook: each refresh replaces one text output in place (update_display),
    so the live bar moves and the saved notebook keeps only its last state, not one chunk per refresh."""

    encoding = "utf-8"  # tqdm draws its Unicode blocks only for a UTF-8 file

    def __init__(self, display=None):
        if display is None:
            from IPython.display import display
        self._display, self._handle = display, None

    def write(self, text: str) -> int:
        line = text.rsplit("\r", 1)[-1].rstrip()  # tqdm writes "\r" + the whole bar on every refresh
        if line:
            data = {"text/plain": line}
            if self._handle is None:
                self._handle = self._display(data, raw=True, display_id=True)
            else:
                self._handle.update(data, raw=True)
        return len(text)


def _postfix(history: History) -> dict[str, str]:
    out = {"train_loss": f"{history.train_loss[-1]:.4f}"}
    if history.val_loss:
        out["val_loss"] = f"{history.val_loss[-1]:.4f}"
    if history.val_metric:
        out[f"val_{history.metric_name}"] = f"{history.val_metric[-1]:.4f}"
    return out


def lr_sweep(lrs, *, epochs: int = 15, batch_size: int = 64, hidden: int = 32, momentum: float = 0.0,
             seed: int = 0) -> dict:
    """Week 05: train the same small digits classifier once per learning rate; returns ``{lr: History}``.

    Every run starts from the same seeded weights and batch order (SGD, CrossEntropyLoss,
    64 -> ``hidden`` -> 10), so the curves differ only by the learning rate. Runs on the CPU.
    """
    from course_utils.data import load_dataset, make_loaders
    from course_utils.devices import set_seed

    lrs = [float(lr) for lr in lrs]
    if not lrs or any(not math.isfinite(lr) or lr <= 0 for lr in lrs):
        raise ValueError(f"lrs must be a non-empty list of positive learning rates, got {lrs}")
    split = load_dataset("digits", seed=seed)
    runs = {}
    for lr in lrs:
        set_seed(seed)
        train, val, _ = make_loaders(split, batch_size, seed=seed)
        model = nn.Sequential(nn.Linear(64, hidden), nn.ReLU(), nn.Linear(hidden, 10))
        opt = torch.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
        runs[lr] = fit(model, nn.CrossEntropyLoss(), opt, train, val, epochs, metric="accuracy", progress=False)
    return runs
