"""python -m book.grade end to end: scores, formats, and every bad input."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
from helpers import ROOT

SOLUTION = ROOT / "tests" / "fixtures" / "00_solutions.ipynb"
EXERCISE = ROOT / "tests" / "fixtures" / "00_exercises.ipynb"


def grade(*args: str, timeout: int = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "book.grade", *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=timeout,
    )


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def learner_copy(tmp_path: Path, edits: dict[str, str], name: str = "00_fixture.ipynb") -> Path:
    """A copy of the exercise notebook where the cell holding each TODO marker is replaced."""
    nb = nbformat.read(EXERCISE, as_version=4)
    for marker, new_source in edits.items():
        cells = [c for c in nb.cells if marker in c.source]
        assert cells, marker
        cells[0].source = new_source
    out = tmp_path / name
    nbformat.write(nb, out)
    return out


def test_solutions_score_full_marks():
    before = digest(SOLUTION)
    r = grade(str(SOLUTION), "--format", "json")
    assert r.returncode == 0, r.stdout + r.stderr
    data = json.loads(r.stdout)
    assert data["points"] == data["max_points"] == 8
    (nb,) = data["notebooks"]
    assert nb["path"].endswith("00_solutions.ipynb")
    assert [e["id"] for e in nb["exercises"]] == ["0.1", "0.2", "0.3", "0.4"]
    assert all(e["status"] == "passed" for e in nb["exercises"])
    assert set(nb["exercises"][0]) == {"id", "status", "points", "max_points", "message"}
    assert digest(SOLUTION) == before


def test_unsolved_exercises_score_zero_table():
    before = digest(EXERCISE)
    r = grade(str(EXERCISE))
    assert r.returncode == 1
    assert "not attempted" in r.stdout
    assert "Total: 0/8 points" in r.stdout
    assert digest(EXERCISE) == before


def test_gradescope_layout():
    r = grade(str(EXERCISE), "--format", "gradescope")
    data = json.loads(r.stdout)
    assert data["score"] == 0 and data["max_score"] == 8
    assert len(data["tests"]) == 4
    for t in data["tests"]:
        assert {"name", "score", "max_score", "output"} <= set(t)
        assert "Exercise 0." in t["name"]


def test_hanging_cell_fails_only_its_exercise(tmp_path):
    step = "def rnn_step_forward(x, h_prev, W_xh, W_hh, b_h):\n    h = np.tanh(x @ W_xh + h_prev @ W_hh + b_h)\n    return h, None\n# TODO Exercise 0.1 done"
    hang = "def count_params(D, H, T, shared):\n    while True:\n        pass\n# Exercise 0.2"
    nb = learner_copy(tmp_path, {"TODO Exercise 0.1": step, "TODO Exercise 0.2": hang})
    before = digest(nb)
    r = grade(str(nb), "--timeout", "5", "--format", "json")
    assert r.returncode == 1, r.stderr
    ex = {e["id"]: e for e in json.loads(r.stdout)["notebooks"][0]["exercises"]}
    assert ex["0.1"]["status"] == "passed" and ex["0.1"]["points"] == 3
    assert ex["0.2"]["status"] == "timed out" and "timed out after 5 s" in ex["0.2"]["message"]
    assert ex["0.3"]["status"] == "not attempted"
    assert ex["0.4"]["status"] == "not attempted"
    assert digest(nb) == before


def test_top_level_hang_and_learner_exception(tmp_path):
    hang = "# Exercise 0.4\nanswer_0_4 = 'c'\nwhile True:\n    pass\ncheck('0.4', answer_0_4)"
    crash = "def final_state(x, h0, W_xh, W_hh, b_h):\n    return x.undefined_attribute\n# Exercise 0.3"
    nb = learner_copy(tmp_path, {"TODO Exercise 0.4": hang, "TODO Exercise 0.3": crash})
    r = grade(str(nb), "--timeout", "5", "--format", "json")
    assert r.returncode == 1
    ex = {e["id"]: e for e in json.loads(r.stdout)["notebooks"][0]["exercises"]}
    assert ex["0.3"]["status"] == "failed" and "AttributeError" in ex["0.3"]["message"]
    assert ex["0.4"]["status"] == "timed out"


def test_cell_error_before_check_is_reported(tmp_path):
    nb = learner_copy(tmp_path, {"TODO Exercise 0.2": "this is not python"})
    r = grade(str(nb), "--format", "json")
    ex = {e["id"]: e for e in json.loads(r.stdout)["notebooks"][0]["exercises"]}
    assert ex["0.2"]["status"] == "error" and "NameError" in ex["0.2"]["message"]
    assert ex["0.1"]["status"] == "not attempted"


def _assert_usage_error(r: subprocess.CompletedProcess, *words: str) -> None:
    assert r.returncode == 2, r.stdout + r.stderr
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""
    for w in words:
        assert w in lines[0]


def test_missing_file(tmp_path):
    _assert_usage_error(grade(str(tmp_path / "nope.ipynb")), "no such file")


def test_corrupt_json(tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text('{"cells": [ this is not json')
    _assert_usage_error(grade(str(bad)), "not a readable notebook")


def test_json_that_is_not_a_notebook(tmp_path):
    bad = tmp_path / "data.ipynb"
    bad.write_text('{"hello": 1}')
    _assert_usage_error(grade(str(bad)), "data.ipynb")


def test_binary_file(tmp_path):
    bad = tmp_path / "blob.ipynb"
    bad.write_bytes(bytes(range(256)) * 4)
    _assert_usage_error(grade(str(bad)), "blob.ipynb")


def test_not_an_ipynb(tmp_path):
    txt = tmp_path / "notes.txt"
    txt.write_text("hi")
    _assert_usage_error(grade(str(txt)), "not a notebook")


def test_folder(tmp_path):
    d = tmp_path / "dir.ipynb"
    d.mkdir()
    _assert_usage_error(grade(str(d)), "folder")


@pytest.mark.parametrize(
    "args",
    [
        ["--bogus", "x.ipynb"],
        [],
        ["--timeout", "0", "x.ipynb"],
        ["--format", "xml", "x.ipynb"],
        ["--memory", "0", "x.ipynb"],
        ["--processes", "-1", "x.ipynb"],
        ["--max-output", "0", "x.ipynb"],
        ["--jobs", "0", "x.ipynb"],
        ["--jobs", "two", "x.ipynb"],
    ],
)
def test_usage_errors(args):
    _assert_usage_error(grade(*args))


def test_one_bad_input_stops_before_grading(tmp_path):
    r = grade(str(EXERCISE), str(tmp_path / "missing.ipynb"))
    _assert_usage_error(r, "missing.ipynb")


def test_kernel_death_fails_only_its_exercise(tmp_path):
    step = "def rnn_step_forward(x, h_prev, W_xh, W_hh, b_h):\n    return np.tanh(x @ W_xh + h_prev @ W_hh + b_h), None"
    nb = learner_copy(tmp_path, {"TODO Exercise 0.1": step, "TODO Exercise 0.2": "import os\nos._exit(1)  # Exercise 0.2"})
    r = grade(str(nb), "--timeout", "20", "--format", "json")
    assert r.returncode == 1, r.stderr
    ex = {e["id"]: e for e in json.loads(r.stdout)["notebooks"][0]["exercises"]}
    assert ex["0.1"]["status"] == "passed"
    assert ex["0.2"]["status"] == "error" and "kernel died" in ex["0.2"]["message"]
    # the state was rebuilt after the restart: later exercises are still graded normally
    assert ex["0.3"]["status"] == "not attempted" and ex["0.4"]["status"] == "not attempted"


def test_gradebook_csv_and_notes(tmp_path):
    stub = learner_copy(tmp_path, {}, name="00_stub.ipynb")
    r = grade(str(EXERCISE), str(stub), "--format", "csv", "--jobs", "2")
    assert r.returncode == 1
    lines = r.stdout.splitlines()
    assert lines[0] == "path,points,max_points,0.1,0.2,0.3,0.4"
    assert lines[1] == f"{EXERCISE},0,8,0,0,0,0" and lines[2] == f"{stub},0,8,0,0,0,0"
    assert "only the visible cases ran" in r.stderr  # no secret: said in one line, on stderr


def test_chapter_option_overrides_the_notebook(tmp_path):
    other = tmp_path / "homework.ipynb"
    other.write_bytes(SOLUTION.read_bytes())
    r = grade(str(other), "--format", "json", "--chapter", "2")
    ids = [e["id"] for e in json.loads(r.stdout)["notebooks"][0]["exercises"]]
    assert ids[:4] == ["2.1", "2.2", "2.3", "2.4"]  # chapter 2's, never checked here: not run
