"""One source of truth: exercises/ is generated from solutions/, with no solution code in it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from helpers import ROOT

from book.grading import generate as exercises
from book.grading import load_chapter
from book.grading.notebooks import read_notebook

SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]*_*.ipynb"))


def test_there_are_solution_notebooks():
    assert SOLUTIONS, "no solution notebooks found"
    assert sorted(p.name for p in (ROOT / "exercises").glob("*.ipynb")) == [p.name for p in SOLUTIONS]


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_committed_exercise_matches_generated(solution: Path):
    problem = exercises.drift(solution, ROOT / "exercises" / solution.name)
    assert problem is None, f"{problem}: run `make exercises`"


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_no_solution_code_in_exercise(solution: Path):
    sol = read_notebook(solution)
    ex_text = "\n".join(c.source for c in read_notebook(ROOT / "exercises" / solution.name).cells)
    regions = [r for c in sol.cells if c.cell_type == "code" for r in exercises.solution_regions(c.source)]
    assert regions, f"{solution.name} has no marked solution regions"
    for ex_id, lines in regions:
        for line in lines:
            code = line.strip()
            if len(code) > 12 and not code.startswith("#"):
                assert code not in ex_text, f"solution line of {ex_id} leaked into the exercise: {code}"
    assert "### BEGIN SOLUTION" not in ex_text and "### END SOLUTION" not in ex_text


@pytest.mark.parametrize("solution", SOLUTIONS, ids=lambda p: p.name)
def test_every_registered_exercise_is_checked_and_solved(solution: Path):
    """The solution notebook checks every exercise of its chapter, and its stored outputs
    (which nbval proves fresh) show full marks; the exercise notebook shows zero."""
    chapter = exercises.chapter_number(solution)
    ids = [ex.id for ex in load_chapter(chapter)]
    assert len(ids) >= 3, f"chapter {chapter} has fewer than 3 graded exercises"
    sol_text = json.dumps(read_notebook(solution).cells)
    for ex_id in ids:
        assert f'check(\\"{ex_id}\\"' in sol_text, f"solutions/{solution.name} never checks {ex_id}"
    from helpers import stored_lines

    sol_lines = stored_lines(solution)
    ex_lines = stored_lines(ROOT / "exercises" / solution.name)
    for ex_id in ids:
        assert any(line.startswith(f"[PASS] Exercise {ex_id} ") for line in sol_lines), ex_id
        assert any(line.startswith(f"[TODO] Exercise {ex_id} ") for line in ex_lines), ex_id


def test_strip_solutions_keeps_indent_and_stub():
    src = "def f(x):\n    '''doc'''\n    ### BEGIN SOLUTION 9.1\n    return x + 1\n    ### END SOLUTION\n"
    out = exercises.strip_solutions(src)
    assert "return x + 1" not in out
    assert '    raise NotImplementedError("Exercise 9.1")' in out
    src = "### BEGIN SOLUTION 9.2\n### STUB answer = ...\nanswer = 3\n### END SOLUTION\ncheck('9.2', answer)"
    out = exercises.strip_solutions(src)
    assert "answer = ...\n" in out and "answer = 3" not in out and out.endswith("check('9.2', answer)")


@pytest.mark.parametrize(
    "src",
    ["### BEGIN SOLUTION\nx = 1\n", "x = 1\n### END SOLUTION\n", "### BEGIN SOLUTION\n### BEGIN SOLUTION\n"],
)
def test_malformed_markers_are_errors(src):
    with pytest.raises(exercises.MarkerError):
        exercises.strip_solutions(src)


def test_check_mode_reports_drift(tmp_path, monkeypatch):
    solution = SOLUTIONS[0]
    nb = read_notebook(ROOT / "exercises" / solution.name)
    nb.cells[-1].source += "\n# edited by hand"
    (tmp_path / solution.name).write_text(json.dumps(nb))
    monkeypatch.setattr(exercises, "EXERCISES", tmp_path)
    assert exercises.main(["--check", str(solution)]) == 1


@pytest.mark.parametrize("solution", sorted((ROOT / "solutions").glob("*.ipynb")), ids=lambda p: p.name)
def test_solution_and_exercise_pages_say_which_they_are(solution):
    """Solution pages are titled "Solutions: ...", warn that they give the answers away and link
    to their exercise page and chapter; exercise pages link to their chapter and solutions."""
    sol = read_notebook(solution).cells[0].source
    ex = read_notebook(ROOT / "exercises" / solution.name).cells[0].source
    name = solution.name
    assert sol.startswith("# Solutions: ") and "gives the answers away" in sol
    assert f"](../exercises/{name})" in sol and f"](../chapters/{name})" in sol
    assert ex.startswith("# Exercises: ") and "answers away" not in ex
    assert f"](../chapters/{name})" in ex and f"](../solutions/{name})" in ex
    assert sol.split("\n", 1)[0][len("# Solutions: ") :] == ex.split("\n", 1)[0][len("# Exercises: ") :]
