"""Grades the learner's code cannot forge: every cheated exercise scores 0, honest answers full marks.

Each cheat notebook (built by ``tests/cheats``) is graded with
``python -m book.grade`` as an instructor would, with a secret for the hidden
cases.  The three forgeries measured in issue 15 come first: importing the
reference, forging the grader's log (with 99 points on a 2-point exercise)
and reaching the reference answers through ``book.grading.get_exercise``.
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import cheats
import pytest
from helpers import ROOT

SECRET = "a secret only the instructor knows"
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]*_*.ipynb"))


def grade(*args: str, secret: str | None = SECRET, timeout: int = 600) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "BOOK_GRADE_SECRET"}
    if secret is not None:
        env["BOOK_GRADE_SECRET"] = secret
    return subprocess.run(
        [sys.executable, "-m", "book.grade", *args], capture_output=True, text=True, cwd=ROOT, env=env, timeout=timeout
    )


def exercises(r: subprocess.CompletedProcess) -> dict[str, dict]:
    data = json.loads(r.stdout)
    (nb,) = data["notebooks"]
    assert nb["points"] <= nb["max_points"]
    for e in nb["exercises"]:
        assert 0 <= e["points"] <= e["max_points"]
    return {e["id"]: e for e in nb["exercises"]}


def isolation_mode() -> str:
    """How this machine isolates the learner's kernel ("namespace", "permissions" or "relaxed")."""
    r = subprocess.run(
        [sys.executable, "-c", "from book.grading import grader; from book.grading.sandbox import isolation; "
         "from pathlib import Path; root, pkg = grader.workroot(); "
         "print(isolation(root, pkg, [Path('tests/fixtures/00_exercises.ipynb')]).mode)"],
        capture_output=True, text=True, cwd=ROOT, timeout=120,
    )
    return r.stdout.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def mode() -> str:
    return isolation_mode()


def test_reference_import_log_forgery_and_registry(tmp_path, mode):
    nb = cheats.reference_cheats(tmp_path)
    r = grade(str(nb), "--format", "json")
    assert r.returncode == 1, r.stderr
    json.loads(r.stdout)  # what the kernel wrote to file descriptor 1 did not reach our output
    ex = exercises(r)
    # 0.1 is the reference itself: 0, saying so
    assert ex["0.1"]["points"] == 0 and "reference" in ex["0.1"]["message"]
    # 0.2 forged the log (99 points), printed verdicts and imported the registry: 0
    assert ex["0.2"]["points"] == 0 and ex["0.2"]["status"] != "passed"
    # 0.3 read the reference's file or wrapped a reference: 0 where the files are out of reach
    if mode == "namespace":
        assert ex["0.3"]["points"] == 0 and "reference" in ex["0.3"]["message"]
    # 0.4 is honest although it patched NumPy; it also saw no secret in its environment
    assert ex["0.4"]["status"] == "passed" and ex["0.4"]["points"] == 1
    assert json.loads(r.stdout)["points"] == (1 if mode == "namespace" else ex["0.3"]["points"] + 1)


def test_forged_replies_patched_check_and_patched_handler(tmp_path):
    nb = cheats.channel_cheats(tmp_path)
    ex = exercises(grade(str(nb), "--format", "json"))
    assert ex["0.1"]["points"] == 0 and "forged" in ex["0.1"]["message"]  # two replies to one request
    assert ex["0.2"]["points"] == 0 and ex["0.2"]["status"] == "error"  # check() replaced: nothing handed over
    assert ex["0.3"]["points"] == 0 and "hidden" in ex["0.3"]["message"]  # right on the visible inputs only
    assert ex["0.4"]["points"] == 1


def test_answers_special_cased_to_the_visible_inputs(tmp_path):
    nb = cheats.visible_cheats(tmp_path)
    without = grade(str(nb), "--format", "json", secret=None)
    assert "only the visible cases ran" in without.stderr
    assert json.loads(without.stdout)["points"] == 8  # what a secret is for
    ex = exercises(grade(str(nb), "--format", "json"))
    for ex_id in ("0.1", "0.2"):
        assert ex[ex_id]["points"] == 0 and ex[ex_id]["message"].startswith("hidden cases: ")
    assert ex["0.3"]["points"] == 2 and ex["0.4"]["points"] == 1


def test_hidden_cases_depend_on_the_secret_and_fail_without_showing_on_gradescope(tmp_path):
    nb = cheats.visible_cheats(tmp_path)
    data = json.loads(grade(str(nb), "--format", "gradescope").stdout)
    assert data["score"] == 3
    hidden = [t for t in data["tests"] if t["name"].endswith("hidden cases")]
    assert hidden and all(t["visibility"] == "after_published" and t["max_score"] == 0 for t in hidden)
    by_name = {t["name"].split(": ", 1)[1]: t for t in data["tests"]}
    assert by_name["Exercise 0.1 (one RNN step): hidden cases"]["status"] == "failed"
    assert by_name["Exercise 0.3 (the final hidden state of a sequence): hidden cases"]["status"] == "passed"
    from book.grading import hidden_rng

    a, b = hidden_rng("one", "0.1").random(3), hidden_rng("two", "0.1").random(3)
    assert (a == hidden_rng("one", "0.1").random(3)).all() and not (a == b).any()


def test_honest_solutions_full_marks_in_parallel_and_the_gradebook():
    """All solution notebooks with hidden cases, two at a time; the CSV gradebook."""
    start = time.perf_counter()
    r = grade(*map(str, SOLUTIONS), "--format", "csv", "--jobs", "2")
    seconds = time.perf_counter() - start
    assert r.returncode == 0, r.stdout + r.stderr
    rows = list(csv.DictReader(io.StringIO(r.stdout)))
    assert [row["path"] for row in rows] == [str(p) for p in SOLUTIONS]
    header = r.stdout.splitlines()[0].split(",")
    assert header[:3] == ["path", "points", "max_points"] and "1.1" in header and "9b.1" in header
    for row in rows:
        assert row["points"] == row["max_points"] and float(row["points"]) > 0
        chapter = re.match(r"(\d+[a-z]?)_", Path(row["path"]).name).group(1).lstrip("0")
        for key in header[3:]:
            assert (row[key] != "") == (key.split(".")[0] == chapter), (row["path"], key)
    print(f"graded {len(SOLUTIONS)} solution notebooks with --jobs 2 in {seconds:.1f} s")


def test_without_namespaces_the_grader_says_what_it_relies_on():
    """--no-namespace: only file permissions keep the references away; one line says how it
    stands (here the kernel user may not even run this Python, and grading goes on as you)."""
    r = grade(str(ROOT / "tests" / "fixtures" / "00_solutions.ipynb"), "--format", "json", "--no-namespace")
    assert r.returncode == 0 and json.loads(r.stdout)["points"] == 8
    notes = [line for line in r.stderr.splitlines() if line.startswith("note: ")]
    assert all("references" in line or "secret" in line for line in notes), notes


def test_relaxed_mode_still_stubs_the_references(tmp_path):
    """--no-isolation (what a learner gets on a laptop, not root): one line says so; the
    stub package still gives a reference-importing answer 0 (its files stay readable, and so
    would a secret in the grader's environment: self-grading has none)."""
    nb = cheats.reference_cheats(tmp_path)
    r = grade(str(nb), "--format", "json", "--no-isolation", secret=None)
    assert "the learner's kernel runs as you" in r.stderr
    ex = exercises(r)
    assert ex["0.1"]["points"] == 0 and "reference" in ex["0.1"]["message"]
    assert ex["0.2"]["points"] == 0 and ex["0.4"]["points"] == 1
    honest = grade(str(ROOT / "tests" / "fixtures" / "00_solutions.ipynb"), "--format", "json", "--no-isolation")
    assert honest.returncode == 0 and json.loads(honest.stdout)["points"] == 8
