"""The exercises as a whole (issue 16): how many, of which kinds, and what each page says about them.

Every chapter (1-11 and 9b) has at least six exercises and at least one
experiment, 66 or more in chapters 1-9 and 9b; each exercise's heading in its solution (and
so exercise) notebook shows its points, difficulty, minutes and kind exactly
as registered; no exercise's answer is printed above it; choice options are
of similar length.
"""

from __future__ import annotations

import re

import nbformat
import pytest
from helpers import ROOT

from book.grading import load_chapter

CHAPTERS = ["1", "2", "3", "4", "5", "6", "7", "8", "9", "9b", "10", "11"]
HEADING = re.compile(r"^## Exercise (?P<id>\d+[a-z]?\.\d+): .+ \((?P<about>[^()]*)\)\s*$", re.M)


def solution_notebook(chapter: str):
    number = re.match(r"\d+", chapter).group(0)
    suffix = chapter[len(number):]
    found = sorted((ROOT / "solutions").glob(f"{int(number):02d}{suffix}_*.ipynb"))
    assert found, f"no solutions notebook for chapter {chapter}"
    return nbformat.read(found[0], as_version=4)


def about(exercise) -> str:
    points = f"{exercise.points:g} point" + ("" if exercise.points == 1 else "s")
    return f"{points}, {exercise.label()}"


def test_at_least_six_per_chapter_and_66_in_all():
    counts = {c: len(load_chapter(c)) for c in CHAPTERS}
    short = {c: n for c, n in counts.items() if n < 6}
    assert not short, f"chapters with fewer than 6 exercises: {short}"
    assert sum(n for c, n in counts.items() if c not in ("10", "11")) >= 66, counts


def test_every_chapter_has_an_experiment():
    for chapter in CHAPTERS:
        kinds = {ex.kind for ex in load_chapter(chapter)}
        assert "experiment" in kinds, f"chapter {chapter} has no experiment ({sorted(kinds)})"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_headings_show_points_stars_minutes_and_kind(chapter):
    text = "\n".join(c.source for c in solution_notebook(chapter).cells if c.cell_type == "markdown")
    headings = {m.group("id"): m.group("about") for m in HEADING.finditer(text)}
    for ex in load_chapter(chapter):
        assert ex.id in headings, f"no '## Exercise {ex.id}: title (...)' heading"
        assert headings[ex.id] == about(ex), f"Exercise {ex.id}: heading says ({headings[ex.id]}), registry ({about(ex)})"


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_choice_options_are_of_similar_length(chapter):
    nb = solution_notebook(chapter)
    for ex in load_chapter(chapter):
        if ex.answer != "choice":
            continue
        cell = next(c for c in nb.cells if c.cell_type == "markdown" and f"Exercise {ex.id}:" in c.source)
        options = re.findall(r"^\s*[-*]?\s*\(([a-e])\)\s+(.+)$", cell.source, re.M)
        assert len(options) >= 3, f"Exercise {ex.id}: options not written as '(a) ...' lines"
        lengths = [len(text) for _, text in options]
        assert max(lengths) <= 1.8 * min(lengths), f"Exercise {ex.id}: option lengths {lengths}"
