"""Offline datasets as tensors and DataLoaders, with seeded splits (week 01 onwards).

Everything here comes from data that scikit-learn ships on disk or is generated
from a seed: nothing is downloaded.
"""

from __future__ import annotations

import csv
import gzip
import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch.utils.data import DataLoader, TensorDataset

DATASETS = ("digits", "diabetes", "breast_cancer")


@dataclass(frozen=True)
class Split:
    """Train/validation/test tensors. ``X_*``: (N, D) float32; ``y_*``: (N,)."""

    name: str
    X_train: torch.Tensor
    y_train: torch.Tensor
    X_val: torch.Tensor
    y_val: torch.Tensor
    X_test: torch.Tensor
    y_test: torch.Tensor
    feature_names: tuple[str, ...]
    target_names: tuple[str, ...]

    @property
    def n_features(self) -> int:
        return self.X_train.shape[1]

    def sizes(self) -> dict[str, int]:
        """Number of rows in each part."""
        return {"train": len(self.y_train), "val": len(self.y_val), "test": len(self.y_test)}


def _check_fraction(name: str, value: float) -> None:
    if not isinstance(value, (int, float)) or not 0.0 <= value < 1.0:
        raise ValueError(f"{name} must be a number in [0, 1), got {value!r}")


def _require_training_rows(name: str, y_train: np.ndarray, n: int, val_fraction: float, test_fraction: float) -> None:
    """Refuse a split whose training part is (almost) empty: too few rows to standardise, or a class missing."""
    n_train = len(y_train)
    n_classes = 10 if name == "digits" else 2 if name == "breast_cancer" else 1
    present = len(np.unique(y_train)) if n_classes > 1 else n_classes
    if n_train < 2 or present < n_classes:
        classes = f" holding {present} of the {n_classes} classes" if n_classes > 1 else ""
        raise ValueError(
            f"val_fraction + test_fraction = {val_fraction} + {test_fraction} leaves {n_train} of {n} {name} rows "
            f"for training{classes}; lower the fractions so that the training part keeps at least two rows"
            + (" and every class" if n_classes > 1 else "")
        )


_CELL_MEASURES = ("radius", "texture", "perimeter", "area", "smoothness", "compactness", "concavity",
                  "concave points", "symmetry", "fractal dimension")
# scikit-learn's names and order: "mean radius", ..., "radius error", ..., "worst radius", ...
BREAST_CANCER_FEATURES = (tuple(f"mean {m}" for m in _CELL_MEASURES) + tuple(f"{m} error" for m in _CELL_MEASURES)
                          + tuple(f"worst {m}" for m in _CELL_MEASURES))
DIABETES_FEATURES = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")


def _sklearn_data_file(filename: str) -> Path:
    """A data file scikit-learn ships (sklearn/datasets/data/), found without importing scikit-learn.

    Importing ``sklearn.datasets`` costs over a second (all of scikit-learn's base and SciPy's sparse
    module); every kernel that loads a dataset would pay it. The files are read here exactly as
    scikit-learn's loaders read them (tests/test_data.py compares the two).
    """
    spec = importlib.util.find_spec("sklearn")
    if spec is None or not spec.submodule_search_locations:
        raise ModuleNotFoundError("scikit-learn is needed for its bundled datasets: pip install scikit-learn")
    path = Path(next(iter(spec.submodule_search_locations))) / "datasets" / "data" / filename
    if not path.is_file():
        raise FileNotFoundError(f"scikit-learn's bundled data file {filename} is missing: expected {path}")
    return path


def _load_gz(filename: str, **kwargs) -> np.ndarray:
    with gzip.open(_sklearn_data_file(filename), mode="rt", encoding="utf-8") as fh:
        return np.loadtxt(fh, **kwargs)


def _raw(name: str):
    if name == "digits":
        data = _load_gz("digits.csv.gz", delimiter=",")
        X = data[:, :-1] / 16.0  # pixel intensities 0..16 -> 0..1
        y = data[:, -1].astype(np.int64)
        names = tuple(f"pixel_{row}_{col}" for row in range(8) for col in range(8))
        targets = tuple(str(t) for t in range(10))
    elif name == "diabetes":
        X = _load_gz("diabetes_data_raw.csv.gz")
        # scikit-learn's load_diabetes(scaled=True): each column centred, divided by its standard deviation
        # and by sqrt(n_samples)
        mean, std = np.nanmean(X, axis=0), np.nanstd(X, axis=0)  # both of the raw columns
        X -= mean
        X /= std
        X /= X.shape[0] ** 0.5
        y = _load_gz("diabetes_target.csv.gz").astype(np.float32)
        names, targets = DIABETES_FEATURES, ("disease progression after one year",)
    else:
        with _sklearn_data_file("breast_cancer.csv").open(encoding="utf-8") as fh:
            rows = list(csv.reader(fh))
        header, body = rows[0], rows[1:]
        X = np.asarray([r[:-1] for r in body], dtype=np.float64)
        # sklearn codes malignant as 0; we ask "is the tumour malignant?" so 1 = malignant.
        y = (1 - np.asarray([r[-1] for r in body], dtype=np.int64)).astype(np.float32)
        if header[2:] != ["malignant", "benign"] or X.shape != (int(header[0]), int(header[1])):
            raise ValueError(f"unexpected header in scikit-learn's breast_cancer.csv: {header}")
        names, targets = BREAST_CANCER_FEATURES, ("benign", "malignant")
    return np.asarray(X, dtype=np.float64), y, names, targets


def load_dataset(
    name: str,
    *,
    val_fraction: float = 0.2,
    test_fraction: float = 0.2,
    seed: int = 0,
    standardize: bool | None = None,
) -> Split:
    """Load a bundled dataset and split it reproducibly (week 01).

    ``name``: "digits" (10 classes, 8x8 images as 64 features in [0, 1], y long),
    "diabetes" (regression, 10 features, y float) or "breast_cancer" (binary,
    30 features, y float 0/1 with 1 = malignant). Features of diabetes and breast
    cancer are standardised with the *training* mean and std unless
    ``standardize=False``; digits are left in [0, 1] unless ``standardize=True``.
    """
    if name not in DATASETS:
        raise ValueError(f"name must be one of {DATASETS}, got {name!r}")
    _check_fraction("val_fraction", val_fraction)
    _check_fraction("test_fraction", test_fraction)
    if val_fraction + test_fraction >= 1.0:
        raise ValueError(
            "val_fraction + test_fraction must be < 1 so that training data remain, "
            f"got {val_fraction} + {test_fraction}"
        )
    X, y, feature_names, target_names = _raw(name)
    n = len(y)
    perm = np.random.default_rng(seed).permutation(n)
    n_test = int(round(test_fraction * n))
    n_val = int(round(val_fraction * n))
    test_idx, val_idx, train_idx = perm[:n_test], perm[n_test : n_test + n_val], perm[n_test + n_val :]
    _require_training_rows(name, y[train_idx], n, val_fraction, test_fraction)
    if standardize is None:
        standardize = name != "digits"
    if standardize:
        mean = X[train_idx].mean(axis=0)
        std = X[train_idx].std(axis=0)
        std[std == 0] = 1.0  # constant pixels in digits stay constant
        X = (X - mean) / std

    if not np.isfinite(X).all():  # cannot happen with enough training rows; never hand out NaN features
        raise ValueError(f"the {name} features are not all finite after standardising; check the split fractions")

    def part(idx):
        return torch.tensor(X[idx], dtype=torch.float32), torch.tensor(y[idx])

    return Split(name, *part(train_idx), *part(val_idx), *part(test_idx), feature_names, target_names)


def make_loaders(split: Split, batch_size: int = 64, *, seed: int = 0) -> tuple[DataLoader, DataLoader, DataLoader]:
    """Train (shuffled with a seeded generator), validation and test DataLoaders (week 05)."""
    if isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1:
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
    gen = torch.Generator().manual_seed(seed)
    train = DataLoader(TensorDataset(split.X_train, split.y_train), batch_size=batch_size, shuffle=True, generator=gen)
    val = DataLoader(TensorDataset(split.X_val, split.y_val), batch_size=batch_size)
    test = DataLoader(TensorDataset(split.X_test, split.y_test), batch_size=batch_size)
    return train, val, test


def make_line_with_outliers(
    n: int = 40,
    *,
    slope: float = 2.0,
    intercept: float = 1.0,
    noise: float = 0.5,
    n_outliers: int = 4,
    outlier_shift: float = 15.0,
    seed: int = 0,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Points on ``y = slope*x + intercept`` plus Gaussian noise, some pushed up (week 04).

    Returns ``x`` and ``y`` of shape (n,), float32, x evenly spaced in [0, 5].
    The last ``n_outliers`` points (largest x) get ``outlier_shift`` added to y,
    so the outliers pull a fitted line's right end upwards.
    """
    for arg, val in (("n", n), ("n_outliers", n_outliers)):
        if isinstance(val, bool) or not isinstance(val, int) or val < 0:
            raise ValueError(f"{arg} must be a non-negative int, got {val!r}")
    if n < 2:
        raise ValueError(f"n must be at least 2 to define a line, got {n}")
    if n_outliers > n:
        raise ValueError(f"n_outliers must be <= n ({n}), got {n_outliers}")
    if noise < 0:
        raise ValueError(f"noise must be >= 0, got {noise}")
    gen = torch.Generator().manual_seed(seed)
    x = torch.linspace(0.0, 5.0, n)
    y = slope * x + intercept + noise * torch.randn(n, generator=gen)
    if n_outliers:
        y[n - n_outliers :] += outlier_shift
    return x, y
