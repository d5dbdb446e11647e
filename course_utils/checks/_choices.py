"""Multiple-choice answers (weeks 01, 03, 05, 06, 07): one letter, or a table of tasks and choices."""

from __future__ import annotations

from collections.abc import Mapping

from ._failed import CheckFailed


def _is_choice(value, choices) -> bool:
    """True when ``value`` is a string equal to one of ``choices`` (arrays, lists and odd objects are not)."""
    return isinstance(value, str) and any(value == c for c in choices)


def check_choice(answer, answers: Mapping[str, str | None], *, what: str = "answer") -> None:
    """One multiple-choice answer: ``answers`` maps each letter to None (right) or the hint for it."""
    if answer is None:  # the stub's placeholder
        raise CheckFailed(f"{what} is not answered yet: give one of {sorted(answers)} (a string)"[:300])
    if not _is_choice(answer, answers):
        raise CheckFailed(f"{what} must be one of {sorted(answers)} (a string), got {answer!r}"[:300])
    if answers[str(answer)] is not None:
        raise CheckFailed(f"{what} {answer!r} is not right yet.\n  Hint: {answers[str(answer)]}")


def check_choices(answers, key: Mapping, choices, hints: Mapping, *, what: str, default_hint: str = "") -> None:
    """Multiple-choice tables (weeks 01, 06): ``answers`` maps each task in ``key`` to one of ``choices``.

    ``hints`` maps (task, wrong choice) to a hint; the expected choice is never revealed. Like an
    ``answers == {...}`` test, a task that is not in ``key`` is refused.
    """
    if not isinstance(answers, dict):
        raise CheckFailed(f"{what} must be a dict mapping each task to one of the choices, got {type(answers).__name__}")
    missing = sorted(t for t in key if t not in answers)
    if missing:
        raise CheckFailed(f"{what} has no entry for {', '.join(missing)}")
    extra = [t for t in answers if t not in key]
    if extra:
        raise CheckFailed(f"{what} has an entry {extra[0]!r} that is not one of the tasks {sorted(key)}"[:300])
    choices = sorted(set(choices))
    for task, expected in key.items():
        got = answers[task]
        if got is None:  # the stub's placeholder
            raise CheckFailed(f"answers[{task!r}] is not answered yet: put one of the choices {choices} there"[:300])
        if not _is_choice(got, choices):
            raise CheckFailed(f"answers[{task!r}] = {got!r} is not one of the choices {choices} (spelling matters)"[:300])
        if got != expected:
            hint = hints.get((task, str(got)), default_hint)
            raise CheckFailed(f"answers[{task!r}] is not right yet." + (f"\n  Hint: {hint}" if hint else ""))
