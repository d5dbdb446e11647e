"""Checks of several parts: every part of an exercise in one run, and follow-on failures that name the exercise
they come from (the student's log_softmax failing because their own logsumexp does)."""

from __future__ import annotations

import contextlib
import io
from collections.abc import Callable, Iterator, Sequence

from ._failed import CheckFailed

#: Failures that say there is nothing to judge yet: a stub, an unanswered choice, a time-out.
_UNANSWERED = ("is not implemented yet", "is not answered yet", "took longer than")


def _names_used(code) -> set[str]:
    """The global names a function's code (and the lambdas and comprehensions inside it) refers to."""
    names = set(code.co_names)
    for const in code.co_consts:
        if hasattr(const, "co_names"):
            names |= _names_used(const)
    return names


def broken_earlier_answer(fn: Callable, earlier: str, check: Callable, exercise: str) -> CheckFailed | None:
    """The failure of the student's own ``earlier`` function (found where ``fn`` was defined) under its ``check``,
    when ``fn`` calls it; None when ``fn`` does not use it or it passes. ``exercise`` names where it was written."""
    code, namespace = getattr(fn, "__code__", None), getattr(fn, "__globals__", None)
    if code is None or not isinstance(namespace, dict) or earlier not in _names_used(code):
        return None
    other = namespace.get(earlier)
    if not callable(other) or other is fn:
        return None
    try:
        silently(check, other)
    except CheckFailed as exc:
        return exc
    return None


@contextlib.contextmanager
def blaming_earlier_answers(fn: Callable, name: str, earlier: Sequence[tuple[str, Callable, str]]) -> Iterator[None]:
    """Around a check of ``fn``: when it fails and ``fn`` calls one of the student's ``earlier`` answers
    ``(function name, its check, "exercise N")`` that fails its own check, the hint names that exercise instead."""
    try:
        yield
    except CheckFailed as exc:
        for earlier_name, check, exercise in earlier:
            cause = broken_earlier_answer(fn, earlier_name, check, exercise)
            if cause is None:
                continue
            what = str(exc).partition("\n  Hint: ")[0]
            first = str(cause).splitlines()[0]
            hint = (f"this comes from {exercise}: your {name} calls your {earlier_name}, and its check fails "
                    f"(“{first}”) — fix {exercise} first, then run this check again")
            failed = CheckFailed(f"{what}\n  Hint: {hint}", hint=hint)
            failed.student_frames = exc.student_frames
            raise failed from None
        raise


def _unanswered(exc: CheckFailed) -> bool:
    """A stub ("is not implemented yet", "is not answered yet") or a hang: nothing to judge yet."""
    return any(m in str(exc) for m in _UNANSWERED)


def check_parts(name: str, parts: Sequence[tuple[str, Callable[[], None]]], *, separate: bool = False) -> None:
    """Run every part of one exercise's check, even after one fails, so that a run shows every mistake: one failing
    part raises its own :class:`CheckFailed`; several raise one that lists them (its hint is the first part's).

    The parts of one function stop at a stub or a time-out (the other parts would only say it again, or wait
    again). With ``separate=True`` the parts check separate answers (:func:`check_each`): every part runs, and
    only when every failing part is unanswered is that said once, by the first.
    """
    failures = []
    for label, part in parts:
        try:
            part()
        except CheckFailed as exc:
            if not separate and not failures and _unanswered(exc):
                raise
            failures.append((label, exc))
    if not failures:
        return
    if len(failures) == 1 or all(_unanswered(exc) for _, exc in failures):
        raise failures[0][1]
    lines = [f"{name}: {len(failures)} of {len(parts)} parts are not right yet"]
    for i, (label, exc) in enumerate(failures, 1):
        lines.append(f"({i}) {label}: " + str(exc).replace("\n", "\n    "))
    failed = CheckFailed("\n".join(lines), hint=failures[0][1].hint)
    failed.student_frames = failures[0][1].student_frames
    raise failed


def check_each(exercise: str, *checks: tuple[Callable, object]) -> None:
    """One exercise whose answers are checked one by one (week 04: ``mse`` and ``rmse``), reporting every answer
    that is not right yet in one run: ``check_each("exercise 2", (check_mse, mse), (check_rmse, rmse))``. Each
    ``(check, answer)`` pair may carry further arguments: ``(check_loss_grad, mae_grad, "mae")``."""
    if not isinstance(exercise, str) or not exercise:
        raise TypeError(f"exercise must name the exercise (a non-empty string), got {exercise!r}")
    parts = []
    for pair in checks:
        if not isinstance(pair, tuple) or len(pair) < 2 or not callable(pair[0]):
            raise TypeError(f"each check must be a tuple (check, answer, *arguments), got {pair!r}"[:200])
        check, *args = pair
        label = getattr(args[0], "__name__", None) or getattr(check, "__name__", "answer").removeprefix("check_")
        parts.append((label, lambda check=check, args=args: check(*args)))
    check_parts(exercise, parts, separate=True)


def require(condition: bool, problem: str, *, hint: str | None = None) -> None:
    """A hidden test's own condition, failing as a check does: "problem" and a hint, never a bare ``assert``."""
    if not isinstance(problem, str) or not problem:
        raise TypeError(f"problem must say what is wrong (a non-empty string), got {problem!r}")
    if not condition:
        raise CheckFailed(problem + (f"\n  Hint: {hint}" if hint else ""), hint=hint)


def silently(check: Callable, *args, **kwargs):
    """Run a check without its confirmation line (a caller that prints one line for several parts)."""
    with contextlib.redirect_stdout(io.StringIO()):
        return check(*args, **kwargs)
