"""Week 05 benchmark: the course's digits model against scikit-learn, and fit() against a bare loop.

Run: ``python benchmarks/bench_training.py`` (under a minute on one CPU core). Prints, from one run
on the same seeded digits split (1079 train / 359 validation / 359 test images):

1. seconds of training until the course model (64 -> 128 ReLU -> 10 logits, SGD with momentum,
   batches of 64) first reaches 97 % test accuracy, against the seconds scikit-learn's
   ``MLPClassifier`` (default settings: 100 ReLU units, Adam) needs to reach its best test
   accuracy, epoch by epoch with ``partial_fit``; and the default ``MLPClassifier.fit`` for reference;
2. seconds for ``course_utils.training.fit`` (progress bar, history and accuracy on) against a bare
   five-line loop over the same epochs, with and without the same per-epoch validation pass.

Both libraries run on one CPU thread. Times are CPU seconds of this process
(``time.process_time``), which stay comparable on a machine shared with other jobs; part 2 also
prints wall-clock seconds. Test accuracy is measured after each epoch but its time is not counted.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import statistics
import time
import warnings

import numpy as np
import torch
from torch import nn

from course_utils.data import load_dataset, make_loaders
from course_utils.devices import set_seed
from course_utils.training import fit


class Clock:
    """Wall-clock and CPU seconds of a ``with`` block (CPU time ignores waiting for a busy machine)."""

    def __enter__(self):
        self.wall0, self.cpu0 = time.perf_counter(), time.process_time()
        return self

    def __exit__(self, *exc):
        self.wall, self.cpu = time.perf_counter() - self.wall0, time.process_time() - self.cpu0


def course_model() -> nn.Module:
    """The course's digits classifier (week 05): 64 pixels -> 128 ReLU -> 10 logits."""
    return nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))


def accuracy(model: nn.Module, X: torch.Tensor, y: torch.Tensor) -> float:
    model.eval()
    with torch.no_grad():
        acc = (model(X).argmax(1) == y).float().mean().item()
    model.train()
    return acc


def course_time_to(split, target: float, max_epochs: int, seed: int = 0) -> dict:
    """Train epoch by epoch; seconds of training until test accuracy >= target (None if never)."""
    set_seed(seed)
    train, _, _ = make_loaders(split, 64, seed=seed)
    model = course_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    spent, accs, reached = 0.0, [], None
    for epoch in range(1, max_epochs + 1):
        with Clock() as c:
            for X, y in train:
                loss = loss_fn(model(X), y)
                opt.zero_grad()
                loss.backward()
                opt.step()
        spent += c.cpu
        accs.append(accuracy(model, split.X_test, split.y_test))
        if reached is None and accs[-1] >= target:
            reached = {"epoch": epoch, "seconds": spent, "accuracy": accs[-1]}
    return {"reached": reached, "best": max(accs), "best_epoch": int(np.argmax(accs)) + 1, "seconds_all": spent}


def sklearn_time_to_best(split, max_epochs: int, seed: int = 0) -> dict:
    """MLPClassifier (defaults) one epoch per partial_fit; seconds until its best test accuracy."""
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    X, y = split.X_train.numpy(), split.y_train.numpy()
    Xt, yt = split.X_test.numpy(), split.y_test.numpy()
    clf = MLPClassifier(random_state=seed)
    classes = np.arange(10)
    spent, accs, times = 0.0, [], []
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for _ in range(max_epochs):
            with Clock() as c:
                clf.partial_fit(X, y, classes=classes)
            spent += c.cpu
            accs.append(clf.score(Xt, yt))
            times.append(spent)
    best = int(np.argmax(accs))
    return {"best": accs[best], "best_epoch": best + 1, "seconds": times[best]}


def sklearn_default_fit(split, seed: int = 0) -> dict:
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    clf = MLPClassifier(random_state=seed)
    with warnings.catch_warnings(), Clock() as c:
        warnings.simplefilter("ignore", ConvergenceWarning)
        clf.fit(split.X_train.numpy(), split.y_train.numpy())
    return {"seconds": c.cpu, "accuracy": clf.score(split.X_test.numpy(), split.y_test.numpy()), "iters": clf.n_iter_}


def bare_loop(split, epochs: int, *, validate: bool, seed: int = 0) -> Clock:
    """The five-line loop over ``epochs`` (optionally plus a validation-loss pass per epoch)."""
    set_seed(seed)
    train, val, _ = make_loaders(split, 64, seed=seed)
    model = course_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    loss_fn = nn.CrossEntropyLoss()
    with Clock() as c:
        _bare_epochs(model, opt, loss_fn, train, val if validate else None, epochs)
    return c


def _bare_epochs(model, opt, loss_fn, train, val, epochs: int) -> None:
    for _ in range(epochs):
        model.train()
        for X, y in train:
            loss = loss_fn(model(X), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
        if val is not None:
            model.eval()
            with torch.no_grad():
                for X, y in val:
                    loss_fn(model(X), y)


def with_fit(split, epochs: int, seed: int = 0) -> Clock:
    """course_utils.training.fit with progress bar, history and accuracy."""
    set_seed(seed)
    train, val, _ = make_loaders(split, 64, seed=seed)
    model = course_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    # the bar is drawn into a buffer: its cost is measured, but it does not clutter the report
    with Clock() as c, contextlib.redirect_stdout(io.StringIO()):
        fit(model, nn.CrossEntropyLoss(), opt, train, val, epochs, metric="accuracy", progress=True)
    return c


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=30, help="epochs for fit() vs the bare loop (default 30)")
    parser.add_argument("--repeats", type=int, default=9, help="interleaved repeats (default 9)")
    args = parser.parse_args()

    from threadpoolctl import threadpool_limits

    torch.set_num_threads(1)
    split = load_dataset("digits", seed=0)
    print(f"digits split: {split.sizes()}; torch and scikit-learn on one CPU thread\n")

    with threadpool_limits(limits=1):
        sk = sklearn_time_to_best(split, max_epochs=200)
        sk_fit = sklearn_default_fit(split)
        course = course_time_to(split, 0.97, max_epochs=60)
        course_sk = course_time_to(split, sk["best"], max_epochs=60)
    print("1. time to accuracy (CPU seconds of training only; test accuracy checked after every epoch)")
    r = course["reached"]
    if r is None:
        print(f"   course model never reached 97 % test accuracy in 60 epochs (best {course['best']:.3f})")
    else:
        print(f"   course model: 97 % test accuracy after {r['epoch']} epochs, {r['seconds']:.2f} s "
              f"(accuracy then {r['accuracy']:.3f}; best within 60 epochs {course['best']:.3f} at epoch "
              f"{course['best_epoch']})")
    print(f"   MLPClassifier (partial_fit per epoch): best test accuracy {sk['best']:.3f} after {sk['best_epoch']} "
          f"epochs, {sk['seconds']:.2f} s")
    print(f"   MLPClassifier.fit (defaults, {sk_fit['iters']} iterations): {sk_fit['seconds']:.2f} s, "
          f"test accuracy {sk_fit['accuracy']:.3f}")
    if r is not None:
        print(f"   ratio course (to 97 %) / scikit-learn (to its best): {r['seconds'] / sk['seconds']:.2f}x")
    r2 = course_sk["reached"]
    if r2 is None:
        print(f"   course model never reached scikit-learn's best {sk['best']:.3f} in 60 epochs")
    else:
        print(f"   course model reaches scikit-learn's best ({sk['best']:.3f}) after {r2['epoch']} epochs, "
              f"{r2['seconds']:.2f} s: ratio {r2['seconds'] / sk['seconds']:.2f}x")

    names = ("bare loop (train only)", "bare loop + validation pass", "fit() with bar, history, accuracy")
    clocks = {k: [] for k in names}
    for _ in range(args.repeats):  # interleaved, so a busy moment hits all three alike
        clocks[names[0]].append(bare_loop(split, args.epochs, validate=False))
        clocks[names[1]].append(bare_loop(split, args.epochs, validate=True))
        clocks[names[2]].append(with_fit(split, args.epochs))
    print(f"\n2. {args.epochs} epochs, {args.repeats} interleaved repeats (a busy machine only ever adds time, "
          "so the minimum is the cleanest estimate)")
    stats = {}
    for k, cs in clocks.items():
        stats[k] = {"CPU min": min(c.cpu for c in cs), "CPU median": statistics.median(c.cpu for c in cs),
                    "wall min": min(c.wall for c in cs), "wall median": statistics.median(c.wall for c in cs)}
        print(f"   {k:36s} " + "   ".join(f"{m} {v:5.2f} s" for m, v in stats[k].items()))
    for base in names[:2]:
        ratios = "   ".join(f"{m} {stats[names[2]][m] / stats[base][m]:.2f}x" for m in stats[base])
        print(f"   ratio fit() / {base}: {ratios}")

if __name__ == "__main__":
    main()
