"""Small utilities shared by the tests."""

from __future__ import annotations

import contextlib
import io
import json
import os
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def run_check(exercise_id: str, answer, *extra) -> str:
    """Call ``book.grading.check`` and return the one line it printed."""
    from book.grading import check

    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        check(exercise_id, answer, *extra)
    out = buf.getvalue().strip()
    assert "\n" not in out, f"check printed more than one line: {out!r}"
    return out


def grade_one(exercise_id: str, answer, *extra):
    """The :class:`book.grading.Result` for an answer, without printing."""
    from book.grading import get_exercise

    return get_exercise(exercise_id).run(answer, *extra)


def assert_rejected(exercise_id: str, answer, *keywords: str, extra=()) -> None:
    """The answer scores 0 and the message names the mistake (all keywords, case-insensitive)."""
    result = grade_one(exercise_id, answer, *extra)
    assert result.status == "failed", f"{exercise_id}: a wrong answer was accepted ({result.status})"
    assert result.points == 0
    for word in keywords:
        assert word.lower() in result.message.lower(), (
            f"{exercise_id}: message does not point at the mistake ({word!r}): {result.message}"
        )


def assert_accepted(exercise_id: str, answer, *extra) -> None:
    result = grade_one(exercise_id, answer, *extra)
    assert result.status == "passed", f"{exercise_id}: {result.message}"
    assert result.points == result.max_points > 0


def in_ci() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def stored_lines(nb_path: Path) -> list[str]:
    """Every line of stored stream output in a notebook."""
    nb = json.loads(nb_path.read_text())
    lines = []
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream":
                text = out["text"]
                lines += ("".join(text) if isinstance(text, list) else text).splitlines()
    return lines
