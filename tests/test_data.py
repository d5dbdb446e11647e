"""Are the bundled datasets split reproducibly, without overlap, with clear errors on bad arguments?"""

import numpy as np
import pytest
import torch
from sklearn import datasets

from course_utils.data import load_dataset, make_line_with_outliers, make_loaders


@pytest.mark.parametrize(
    "name, n_total, n_features, y_dtype",
    [("digits", 1797, 64, torch.int64), ("diabetes", 442, 10, torch.float32), ("breast_cancer", 569, 30, torch.float32)],
)
def test_shapes_dtypes_and_partition(name, n_total, n_features, y_dtype):
    s = load_dataset(name, val_fraction=0.2, test_fraction=0.2, seed=0)
    assert sum(s.sizes().values()) == n_total
    assert s.X_train.dtype == torch.float32 and s.y_train.dtype == y_dtype
    assert s.n_features == n_features
    assert s.sizes()["test"] == round(0.2 * n_total)
    # no row appears in two parts: compare rows as bytes
    rows = [set(map(bytes, part.numpy())) for part in (s.X_train, s.X_val, s.X_test)]
    assert not (rows[0] & rows[1]) and not (rows[0] & rows[2])


def test_same_seed_same_split_other_seed_other_split():
    a, b, c = (load_dataset("diabetes", seed=k) for k in (1, 1, 2))
    assert torch.equal(a.y_test, b.y_test)
    assert not torch.equal(a.y_test, c.y_test)


def test_standardised_with_training_statistics_only():
    s = load_dataset("breast_cancer", seed=0)
    assert torch.allclose(s.X_train.mean(0), torch.zeros(30), atol=1e-5)
    assert torch.allclose(s.X_train.std(0, unbiased=False), torch.ones(30), atol=1e-4)
    assert not torch.allclose(s.X_test.mean(0), torch.zeros(30), atol=1e-3)


def test_labels_match_sklearn():
    s = load_dataset("digits", standardize=False, test_fraction=0.1, val_fraction=0.1)
    raw = datasets.load_digits()
    labels = np.concatenate([s.y_train.numpy(), s.y_val.numpy(), s.y_test.numpy()])
    assert np.array_equal(np.sort(labels), np.sort(raw.target))
    assert float(s.X_train.max()) == 1.0 and float(s.X_train.min()) == 0.0
    bc = load_dataset("breast_cancer")
    malignant = int((datasets.load_breast_cancer().target == 0).sum())
    assert int(bc.y_train.sum() + bc.y_val.sum() + bc.y_test.sum()) == malignant


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"name": "mnist"}, "name must be one of"),
        ({"name": "digits", "val_fraction": -0.1}, "val_fraction"),
        ({"name": "digits", "test_fraction": 1.0}, "test_fraction"),
        ({"name": "digits", "val_fraction": 0.5, "test_fraction": 0.5}, "val_fraction \\+ test_fraction"),
    ],
)
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ValueError, match=match):
        load_dataset(**kwargs)


def test_loaders_cover_the_split_and_shuffle_reproducibly():
    s = load_dataset("digits", seed=0)
    first = [next(iter(make_loaders(s, 32, seed=5)[0]))[1] for _ in range(2)]
    assert torch.equal(first[0], first[1])
    train, val, test = make_loaders(s, 50)
    assert sum(len(y) for _, y in val) == s.sizes()["val"]
    with pytest.raises(ValueError, match="batch_size"):
        make_loaders(s, 0)


def test_line_with_outliers():
    x, y = make_line_with_outliers(20, slope=2.0, intercept=1.0, noise=0.0, n_outliers=3, outlier_shift=10.0)
    assert x.shape == y.shape == (20,)
    assert torch.allclose(y[:17], 2 * x[:17] + 1)
    assert torch.allclose(y[17:], 2 * x[17:] + 11)


@pytest.mark.parametrize("kwargs", [{"n": -5}, {"n": 1}, {"n": 5, "n_outliers": 6}, {"noise": -1.0}, {"n_outliers": -1}])
def test_line_with_outliers_bad_sizes(kwargs):
    with pytest.raises(ValueError, match="must"):
        make_line_with_outliers(**kwargs)


@pytest.mark.parametrize("kwargs, words", [
    ({"name": "diabetes", "val_fraction": 0.4995, "test_fraction": 0.4995}, "leaves 0 of 442 diabetes rows"),
    ({"name": "digits", "val_fraction": 0.5, "test_fraction": 0.4999}, "leaves 1 of 1797 digits rows"),
    ({"name": "breast_cancer", "val_fraction": 0.5, "test_fraction": 0.499}, "1 of the 2 classes"),
])
def test_a_split_without_training_rows_is_refused(kwargs, words):
    """Regression: such splits gave NaN features (mean of an empty slice) with only a RuntimeWarning."""
    with pytest.raises(ValueError, match=words):
        load_dataset(**kwargs)


def test_the_smallest_sensible_split_has_finite_features(recwarn):
    s = load_dataset("digits", val_fraction=0.45, test_fraction=0.45, standardize=True)
    assert len(np.unique(s.y_train.numpy())) == 10
    assert all(torch.isfinite(t).all() for t in (s.X_train, s.X_val, s.X_test))
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def _sklearn_raw(name):
    """What course_utils.data loaded through scikit-learn's own loaders before it read the files itself."""
    if name == "digits":
        b = datasets.load_digits()
        return b.data / 16.0, b.target.astype(np.int64), tuple(b.feature_names), tuple(str(t) for t in b.target_names)
    if name == "diabetes":
        b = datasets.load_diabetes()
        return b.data, b.target.astype(np.float32), tuple(b.feature_names), ("disease progression after one year",)
    b = datasets.load_breast_cancer()
    return b.data, (1 - b.target).astype(np.float32), tuple(b.feature_names), ("benign", "malignant")


@pytest.mark.parametrize("name", ["digits", "diabetes", "breast_cancer"])
def test_files_are_read_exactly_as_sklearn_loads_them(name):
    from course_utils.data import _raw

    X, y, features, targets = _raw(name)
    X_ref, y_ref, features_ref, targets_ref = _sklearn_raw(name)
    assert X.dtype == np.float64 and np.array_equal(X, X_ref), f"{name}: features differ from sklearn's loader"
    assert y.dtype == y_ref.dtype and np.array_equal(y, y_ref), f"{name}: targets differ from sklearn's loader"
    assert features == features_ref and targets == targets_ref


def test_loading_a_dataset_does_not_import_sklearn():
    """Every kernel that loads data would pay scikit-learn's import (over a second) otherwise."""
    import subprocess
    import sys

    code = ("import sys; from course_utils.data import load_dataset\n"
            "for n in ('digits', 'diabetes', 'breast_cancer'): load_dataset(n)\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0] in ('sklearn', 'scipy')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]", out
