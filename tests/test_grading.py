"""book.grading: the one-line check, stubs, exceptions and the grader log."""

from __future__ import annotations

import json

import numpy as np
from helpers import grade_one, run_check

from book.grading import LOG_ENV, get_exercise, load_chapter
from book.nn import rnn_step_forward


def test_pass_line_shows_points():
    line = run_check("1.1", rnn_step_forward)
    assert line.startswith("[PASS] Exercise 1.1")
    assert "3/3 points" in line


def test_stub_is_not_attempted():
    def stub(*args):
        raise NotImplementedError("Exercise 1.1")

    for answer in (stub, ..., None):
        line = run_check("1.1", answer)
        assert "not attempted" in line and "0/3 points" in line


def test_learner_exception_is_reported_with_type_and_line():
    def broken(x, h_prev, W_xh, W_hh, b_h):
        a = x @ W_hh  # wrong shapes
        return a, None

    line = run_check("1.1", broken)
    assert line.startswith("[FAIL]")
    assert "raised ValueError" in line
    assert "line" in line and "in broken" in line


def test_wrong_shape_is_explained():
    line = run_check("1.1", lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + h @ Wh + b).T, None))
    assert "shape" in line and "transposed" in line


def test_nan_is_explained():
    line = run_check("1.1", lambda x, h, Wx, Wh, b: (np.full((x.shape[0], Wh.shape[0]), np.nan), None))
    assert "NaN" in line


def test_wrong_return_type_is_explained():
    line = run_check("1.3", lambda *a: "hello")
    assert "[FAIL]" in line


def test_unknown_exercise_is_one_line():
    assert "no exercise" in run_check("42.7", 1)
    assert "not an exercise id" in run_check("abc", 1)


def test_learner_cannot_change_the_cases():
    def mutating(x, h_prev, W_xh, W_hh, b_h):
        W_xh *= 0  # in-place change of an input
        return rnn_step_forward(x, h_prev, W_xh, W_hh, b_h)

    assert grade_one("1.1", mutating).status == "failed"
    assert grade_one("1.1", rnn_step_forward).status == "passed"


def test_results_are_logged_for_the_grader(tmp_path, monkeypatch):
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv(LOG_ENV, str(log))
    run_check("1.1", rnn_step_forward)
    run_check("1.4", "a")
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert [r["id"] for r in rows] == ["1.1", "1.4"]
    assert rows[0] == {"id": "1.1", "status": "passed", "points": 3.0, "max_points": 3.0, "message": ""}
    assert rows[1]["status"] == "failed" and rows[1]["points"] == 0


def test_registry_per_chapter():
    ids = [ex.id for ex in load_chapter(1)]
    assert ids == ["1.1", "1.2", "1.3", "1.4"]
    assert load_chapter(99) == []
    assert get_exercise("1.2").points == 2
