"""Week 07 checks, exercise 6: a calibration report (T fitted on validation data, ECE before and after on the test set).

A report that calls the student's own ``expected_calibration_error`` or ``fit_temperature`` and fails because of
them is told which exercise to fix first.
"""

from __future__ import annotations

import torch

from course_utils import calibration as cal

from ._core import (
    Case,
    blaming_earlier_answers,
    clone,
    close,
    describe_difference,
    fail,
    finite,
    passed,
    require_callable,
)
from .week07 import ECE, FIT_TEMPERATURE, REPORT, _overconfident, check_ece, check_fit_temperature

_REPORT_KEYS = ("T", "probs", "ece_before", "ece_after")


def _report_ref(val_logits, val_y, test_logits, test_y) -> dict:
    T = cal.fit_temperature(val_logits, val_y)
    probs = cal.temperature_scale(test_logits, T)
    return {"T": T, "probs": probs, "ece_before": cal.expected_calibration_error(test_logits.double().softmax(1), test_y),
            "ece_after": cal.expected_calibration_error(probs, test_y)}


def _report_cases(val_logits=None, val_y=None, test_logits=None, test_y=None) -> list[Case]:
    zv, yv = _overconfident(3.0, n=800, c=6, seed=5)
    zt, yt = _overconfident(1.5, n=800, c=6, seed=6)
    cases = [Case("made-up logits, 3x too large on the validation set but 1.5x on the test set (so that the two "
                  "sets need different temperatures)",
                  (zv, yv, zt, yt))]
    if val_logits is not None:
        cases.append(Case("the digits network of this notebook", (val_logits, val_y, test_logits, test_y)))
    return cases


def verify_calibration_report(fn, args, *, case: Case | str | None = None) -> dict:
    """Week 07: run ``calibration_report(*args)`` and judge its report (the visible check and the hidden tests).

    ``args`` = (val_logits, val_y, test_logits, test_y). T (a float) within 1 % of the validation fit; probs
    (a tensor) softmax(test_logits / T) with every prediction unchanged; the two ECEs (floats) those of the test
    set at T = 1 and of probs. Returns the report.
    """
    name = REPORT.name
    zv, yv, zt, yt = args
    got = REPORT.call(fn, clone(tuple(args)), case=case)
    if not isinstance(got, dict) or any(k not in got for k in _REPORT_KEYS):
        keys = sorted(map(str, got)) if isinstance(got, dict) else type(got).__name__
        raise fail(name, f"expected a dict with keys {list(_REPORT_KEYS)}, got {keys}", case=case,
                   hint='return {"T": T, "probs": probs, "ece_before": ..., "ece_after": ...}')
    missing = [k for k in _REPORT_KEYS if got[k] is None]
    if missing:
        raise fail(name, f"the report's {missing[0]} is None", case=case, hint="compute every entry of the report")
    REPORT.accept(tuple(got[k] for k in _REPORT_KEYS), case=case)  # T and both ECEs floats, probs a tensor
    ref = _report_ref(*args)
    T = got["T"]
    if not close(T, ref["T"], atol=FIT_TEMPERATURE.atol, rtol=FIT_TEMPERATURE.rtol):
        T_test = cal.fit_temperature(zt, yt)
        if close(T, T_test, atol=FIT_TEMPERATURE.atol, rtol=FIT_TEMPERATURE.rtol):
            hint = ("T was fitted on the test set. Fit it on the validation logits; the test set only measures "
                    "the result (otherwise the reported ECE is optimistic)")
        elif close(T, 1 / ref["T"], atol=FIT_TEMPERATURE.atol, rtol=FIT_TEMPERATURE.rtol):
            hint = "you found 1/T: the logits are divided by T"
        else:
            hint = "fit T with fit_temperature(val_logits, val_y)"
        raise fail(name, f"T = {T!r} is not the temperature that minimises the validation NLL", case=case, hint=hint)
    p = got["probs"].detach().cpu()
    if p.shape != zt.shape:
        raise fail(name, f"probs must be the calibrated test probabilities, shape {tuple(zt.shape)}, got "
                         f"{tuple(p.shape)}", case=case, hint="probs = softmax(test_logits / T, dim=1)")
    if not finite(p) or not torch.equal(p.argmax(dim=1), zt.argmax(dim=1)):
        raise fail(name, "probs changes some of the network's predictions (its argmax)", case=case,
                   hint="temperature scaling must not change any prediction: divide every logit by the same "
                        "positive T and apply softmax over the classes (dim=1), not over the samples (dim=0)")
    problem = describe_difference(p.double(), cal.temperature_scale(zt, T), atol=1e-4, rtol=1e-3)  # the student's T
    if problem is not None:
        hint = ("these are the uncalibrated probabilities: divide the test logits by T first"
                if close(p, zt.double().softmax(1), atol=1e-4) else "probs = softmax(test_logits / T, dim=1)")
        raise fail(name, "probs: " + problem, case=case, hint=hint)
    before, after = got["ece_before"], got["ece_after"]
    after_ref = cal.expected_calibration_error(p.double(), yt)

    def same(a, b):
        return close(a, b, atol=ECE.atol, rtol=ECE.rtol)

    if not (same(before, ref["ece_before"]) and same(after, after_ref)):
        if same(before, after_ref) and same(after, ref["ece_before"]):
            hint = "ece_before and ece_after are swapped"
        elif same(before, cal.expected_calibration_error(zv.double().softmax(1), yv)):
            hint = "measure both ECEs on the test set (test_logits, test_y), not on the validation set"
        else:
            hint = ("ece_before: the test probabilities at T = 1, softmax(test_logits, dim=1); ece_after: your "
                    "probs; both with 15 equal-width bins against test_y")
        raise fail(name, f"ece_before = {before:.4f}, ece_after = {after:.4f} do not match the test set", case=case,
                   hint=hint)
    return got


def check_calibration_report(fn, val_logits=None, val_y=None, test_logits=None, test_y=None) -> None:
    """Week 07: ``calibration_report(val_logits, val_y, test_logits, test_y)`` → {"T", "probs", "ece_before", "ece_after"}."""
    require_callable(fn, REPORT.name)
    cases = _report_cases(val_logits, val_y, test_logits, test_y)
    earlier = [("expected_calibration_error", check_ece, "exercise 4"), ("fit_temperature", check_fit_temperature,
                                                                          "exercise 5")]
    with blaming_earlier_answers(fn, REPORT.name, earlier):
        for case in cases:
            verify_calibration_report(fn, case.args, case=case)
    passed(f"{REPORT.name}: T, calibrated probabilities and both ECEs match on all {len(cases)} cases")
