"""Does every explorer's update function give finite data over its slider's range and far beyond, and refuse NaN?

One row per (update function, slider) of ``course_utils.widgets``. The slider's range is read from
the explorer itself (built without widgets), so the test follows the notebooks' sliders. For each row:

* any value in the slider's range, or beyond it (to ±1e12 and ±1e300 where the function takes any
  real, down to 1e-300 where it takes positive values) gives data whose numbers are all finite;
* a value outside the function's domain (a temperature of 0, a probability of 1.5) is refused with a
  ValueError naming the slider;
* NaN and ±inf are refused with a ValueError (or TypeError) naming the slider — never drawn.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from course_utils import widgets as W
from course_utils.training import History

PROPERTY = settings(max_examples=30, deadline=None)
LOGITS = np.array([-1.0, 0.1, 0.032, 0.25, 9.0])
X = np.linspace(-2.0, 2.0, 40)
Y = (X + 0.3 * np.sin(7 * X) > 0).astype(float)
LR_RUNS = {lr: History(train_loss=[2.3, 1.0 / (1 + 10 * lr), 0.5], val_loss=[2.3, 1.2, 0.9], train_metric=[0.1, 0.5, 0.8],
                       val_metric=[0.1, 0.5, 0.7 + lr / 10]) for lr in (1e-3, 1e-2, 1e-1, 1.0)}
_c = np.linspace(-1.0, 1.0, 5)
SLICES = {s: {"coords": s * _c, "loss": 1.0 + s * (_c[:, None] ** 2 + _c[None, :] ** 2)} for s in (0.5, 1.0, 1.5)}
_rng = np.random.default_rng(0)
CAL_LOGITS = _rng.normal(size=(60, 3)) * 3
CAL_TARGETS = _rng.integers(0, 3, 60)


@dataclass(frozen=True)
class Row:
    """One slider of one explorer: ``update(value)`` with the other arguments fixed, and where it is defined."""

    name: str
    update: Callable[[float], dict]
    explorer: Callable[[], object]
    slider: str
    domain: tuple[float, float] = (-math.inf, math.inf)  # open interval of the values the function accepts
    closed: tuple[bool, bool] = (False, False)  # ... whether its ends belong to it
    may_be_none: frozenset = field(default_factory=frozenset)  # outputs that are None on purpose
    may_be_nan: str | None = None  # outputs under this key hold NaN on purpose
    smallest: float = 0.0  # a known gap: positive values below this one are not tried (see KNOWN_GAPS)


def _cal():
    import torch

    return torch.tensor(CAL_LOGITS, dtype=torch.float32), torch.tensor(CAL_TARGETS)


ROWS = [
    Row("threshold_update(w)", lambda v: W.threshold_update(v, 0.5, X, Y), lambda: W.threshold_explorer(X, Y, live=False),
        "w", may_be_none=frozenset({"boundary"})),
    Row("threshold_update(b)", lambda v: W.threshold_update(1.0, v, X, Y), lambda: W.threshold_explorer(X, Y, live=False),
        "b"),
    Row("threshold_update(threshold)", lambda v: W.threshold_update(1.0, 0.0, X, Y, threshold=v),
        lambda: W.threshold_explorer(X, Y, live=False), "threshold", domain=(0.0, 1.0)),
    Row("temperature_update", lambda v: W.temperature_update(v, LOGITS), lambda: W.temperature_explorer(LOGITS, live=False),
        "T", domain=(0.0, math.inf)),
    Row("one_logit_update", lambda v: W.one_logit_update(v, LOGITS, 4),
        lambda: W.one_logit_explorer(LOGITS, 4, live=False), "delta"),
    # p below the smallest normal float64 is refused: -1/p would overflow
    Row("true_class_update", W.true_class_update, lambda: W.true_class_explorer(live=False), "p",
        domain=(float(np.finfo(float).tiny), 1.0), closed=(True, True)),
    Row("logit_gradient_update", lambda v: W.logit_gradient_update(v, LOGITS, 1, 4),
        lambda: W.logit_gradient_explorer(LOGITS, 1, 4, live=False), "z"),
    Row("huber_update", W.huber_update, lambda: W.huber_explorer(live=False), "delta", domain=(0.0, math.inf)),
    Row("outlier_update", lambda v: W.outlier_update(v, X, 2 * X + 1), lambda: W.outlier_explorer(live=False), "shift"),
    Row("lr_update", lambda v: W.lr_update(v, LR_RUNS), lambda: W.lr_explorer(LR_RUNS, live=False), "log10_lr"),
    Row("landscape_update", lambda v: W.landscape_update(v, SLICES), lambda: W.landscape_explorer(SLICES, live=False),
        "scale"),
    Row("scoring_rule_update", W.scoring_rule_update, lambda: W.scoring_rule_explorer(live=False), "q",
        domain=(0.0, 1.0), closed=(True, True)),
    Row("recalibration_update", lambda v: W.recalibration_update(v, *_cal()),
        lambda: W.recalibration_explorer(*_cal(), 1.0, live=False), "T", domain=(W.week07.T_MIN, math.inf),
        closed=(True, False), may_be_nan="['bins']"),  # an empty bin has no confidence or accuracy: NaN, not drawn
]
IDS = [r.name for r in ROWS]

#: Update functions of the weeks' modules that do not refuse NaN/inf clearly yet (their modules' owners fix them):
#: these cases are expected to fail, and are reported as XPASS once fixed.


#: Values where an update function of a week's module is known to fail (their owners fix them): (row, value, why).
KNOWN_GAPS: list[tuple[str, float, str]] = []


@pytest.mark.parametrize("name, v, why", KNOWN_GAPS or [("none", 0.0, "")], ids=[g[0] for g in KNOWN_GAPS] or ["none"])
def test_known_gaps(name, v, why):
    if name == "none":
        return
    row = next(r for r in ROWS if r.name == name)
    try:
        data = row.update(v)
        ok = all(np.all(np.isfinite(x[~np.isnan(x)] if row.may_be_nan and row.may_be_nan in p else x))
                 for p, x in numbers(data))
    except (ValueError, TypeError):
        ok = False
    if not ok:
        pytest.xfail(why)


def test_every_update_function_has_a_row():
    updates = {n for n in W.__all__ if n.endswith("_update")}
    assert updates == {r.name.split("(")[0] for r in ROWS}


@functools.cache
def slider_range(row: Row) -> tuple[float, float]:
    exp = row.explorer()
    s = exp.sliders[row.slider if row.slider in exp.sliders else next(iter(exp.sliders))]
    return float(s.min), float(s.max)


def inside(row: Row, v: float) -> bool:
    (lo, hi), (lo_in, hi_in) = row.domain, row.closed
    return (lo < v or (lo_in and v == lo)) and (v < hi or (hi_in and v == hi))


def numbers(data, path="data"):
    """(path, value) for every number in an update's output (dicts, tuples, arrays, dataclasses)."""
    if isinstance(data, dict):
        for k, v in data.items():
            yield from numbers(v, f"{path}[{k!r}]")
    elif isinstance(data, (list, tuple)):
        for i, v in enumerate(data):
            yield from numbers(v, f"{path}[{i}]")
    elif isinstance(data, (bool, str)) or data is None:
        return
    elif isinstance(data, (int, float, np.number, np.ndarray)):
        yield path, np.asarray(data, dtype=float)
    elif hasattr(data, "__dataclass_fields__"):
        yield from numbers(vars(data), path)
    elif hasattr(data, "detach"):  # a tensor
        yield path, data.detach().double().numpy()


def values_for(row: Row):
    lo, hi = slider_range(row)
    span = hi - lo
    dlo, dhi = row.domain
    far = [-1e300, -1e12, -1e6, 1e6, 1e12, 1e300] + ([1e-300, 1e-12] if dlo == 0 else [])
    beyond = st.floats(max(lo - 100 * span, dlo), min(hi + 100 * span, dhi), allow_nan=False, allow_infinity=False)
    within = st.floats(lo, hi, allow_nan=False, allow_infinity=False)
    return st.one_of(within, beyond, st.sampled_from(far)).filter(lambda v: inside(row, v) and abs(v) >= row.smallest)


@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_finite_over_and_beyond_the_slider_range(row):
    @PROPERTY
    @given(values_for(row))
    def check(v):
        data = row.update(v)
        for path, x in numbers(data):
            if row.may_be_nan and row.may_be_nan in path:
                x = x[~np.isnan(x)]
            assert np.all(np.isfinite(x)), f"{row.name}({row.slider}={v!r}): {path} is not finite: {x}"
        for key in set(data) - row.may_be_none:
            assert data[key] is not None, f"{row.name}({row.slider}={v!r}): {key} is None"

    check()


def _refusal(row: Row, v) -> None:
    with pytest.raises((ValueError, TypeError)) as info:
        row.update(v)
    assert row.slider.split("_")[0] in str(info.value), f"{row.name}: the message does not name {row.slider}: {info.value}"


@pytest.mark.parametrize("v", [math.nan, math.inf, -math.inf], ids=["nan", "inf", "-inf"])
@pytest.mark.parametrize("row", ROWS, ids=IDS)
def test_nan_and_inf_slider_values_are_refused_naming_the_slider(row, v):
    _refusal(row, v)


@pytest.mark.parametrize("row", [r for r in ROWS if math.isfinite(r.domain[0]) or math.isfinite(r.domain[1])],
                         ids=[r.name for r in ROWS if math.isfinite(r.domain[0]) or math.isfinite(r.domain[1])])
def test_values_outside_the_domain_are_refused_naming_the_slider(row):
    lo, hi = row.domain
    outside = [v for v in (lo, lo - 1.0, hi, hi + 0.5) if math.isfinite(v) and not inside(row, v)]
    assert outside
    for v in outside:
        _refusal(row, v)
