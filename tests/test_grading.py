"""book.grading: the one-line check, stubs, exceptions, hidden cases, the student package, the wire."""

from __future__ import annotations

import base64
import io
import json
import subprocess
import sys

import numpy as np
import pytest
from helpers import ROOT, grade_one, run_check

from book.grading import Exercise, Result, get_exercise, hidden_rng, load_chapter
from book.nn import rnn_step_forward


def test_pass_line_shows_points():
    line = run_check("0.1", rnn_step_forward)
    assert line.startswith("[PASS] Exercise 0.1")
    assert "3/3 points" in line


def test_stub_is_not_attempted():
    def stub(*args):
        raise NotImplementedError("Exercise 0.1")

    for answer in (stub, ..., None):
        line = run_check("0.1", answer)
        assert "not attempted" in line and "0/3 points" in line


def test_learner_exception_is_reported_with_type_and_line():
    def broken(x, h_prev, W_xh, W_hh, b_h):
        a = x @ W_hh  # wrong shapes
        return a, None

    line = run_check("0.1", broken)
    assert line.startswith("[FAIL]")
    assert "raised ValueError" in line
    assert "line" in line and "in broken" in line


def test_wrong_shape_is_explained():
    line = run_check("0.1", lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + h @ Wh + b).T, None))
    assert "shape" in line and "transposed" in line


def test_nan_is_explained():
    line = run_check("0.1", lambda x, h, Wx, Wh, b: (np.full((x.shape[0], Wh.shape[0]), np.nan), None))
    assert "NaN" in line


def test_wrong_return_type_is_explained():
    line = run_check("0.3", lambda *a: "hello")
    assert "[FAIL]" in line


def test_unknown_exercise_is_one_line():
    assert "no exercise" in run_check("42.7", 1)
    assert "not an exercise id" in run_check("abc", 1)


def test_learner_cannot_change_the_cases():
    def mutating(x, h_prev, W_xh, W_hh, b_h):
        W_xh *= 0  # in-place change of an input
        return rnn_step_forward(x, h_prev, W_xh, W_hh, b_h)

    assert grade_one("0.1", mutating).status == "failed"
    assert grade_one("0.1", rnn_step_forward).status == "passed"


def test_check_is_feedback_only_and_writes_no_log(tmp_path, monkeypatch):
    """The grader reads nothing the notebook writes: check() keeps no log, even when asked."""
    log = tmp_path / "log.jsonl"
    monkeypatch.setenv("BOOK_GRADE_LOG", str(log))
    assert run_check("0.1", rnn_step_forward).startswith("[PASS]")
    assert not log.exists()


def test_points_are_capped_at_the_maximum():
    from book.grading import grader

    class Greedy(Exercise):
        def run(self, *answer, rng=None):
            return Result(self.id, self.title, "passed", 99.0, 99.0)

    ex = get_exercise("0.2")
    assert grader._run(Greedy(ex.id, ex.title, ex.points, lambda a: ""), [1]).points == ex.points == 2


def test_hidden_cases_differ_in_values_and_shapes():
    ex = get_exercise("0.1")
    assert ex.hidden and not get_exercise("0.4").hidden
    from book.grading.checks import ch00

    visible = [c.args[0].shape for c in ch00._step_cases()]
    hidden = [c.args[0].shape for c in ch00._step_cases(hidden_rng("s", "0.1"))]
    assert hidden != visible and hidden == [c.args[0].shape for c in ch00._step_cases(hidden_rng("s", "0.1"))]
    assert grade_one("0.1", rnn_step_forward).status == "passed"
    assert ex.run(rnn_step_forward, rng=hidden_rng("s", "0.1")).status == "passed"
    wrong = ex.run(lambda x, h, Wx, Wh, b: (np.tanh(x @ Wx + h @ Wh), None), rng=hidden_rng("s", "0.1"))
    assert wrong.status == "failed" and "bias" in wrong.message


def test_student_package_has_no_answers(tmp_path):
    """The kernel's copy of the package: stubs for book.nn and book.textgen, no checks."""
    from book.grading.sandbox import build_student_package

    pkg = build_student_package(tmp_path / "pkg")
    assert not (pkg / "book" / "grading" / "checks").exists()
    assert (pkg / "book" / "nn" / "gradcheck.py").read_text() == (ROOT / "book" / "nn" / "gradcheck.py").read_text()
    text = "\n".join(p.read_text() for p in (pkg / "book").rglob("*.py"))
    assert "np.tanh" not in text.replace((ROOT / "book" / "nn" / "gradcheck.py").read_text(), "")
    code = (
        "import book, book.nn, book.textgen\n"
        "from book.grading import check\n"
        "from book.nn import rnn_step_forward, numerical_gradient\n"
        "from book.nn.rnn import rnn_forward\n"
        "try:\n    rnn_step_forward(1, 2, 3, 4, 5)\nexcept RuntimeError as exc:\n    print(type(exc).__name__, exc)\n"
        "try:\n    import book.grading.checks.ch00\nexcept ImportError:\n    print('no checks')\n"
        "print(book.textgen.UNK, callable(numerical_gradient))\n"
    )
    env = {"PYTHONPATH": str(pkg), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert "ReferenceUnavailable book.nn.rnn.rnn_step_forward is one of the book's reference" in r.stdout
    assert "no checks" in r.stdout and "True" in r.stdout


def test_replies_from_the_kernel_are_parsed_strictly():
    from book.grading import kernel, remote

    arr = np.arange(6.0).reshape(2, 3)
    value = (arr, 3, 2.5, "c", [True, None], {"k": np.int64(4)})
    back = remote.decode(json.loads(json.dumps(kernel.encode(value))), None)
    assert isinstance(back, tuple) and (back[0] == arr).all() and back[1:4] == (3, 2.5, "c")
    assert back[4] == [True, None] and back[5] == {"k": 4}
    buf = io.BytesIO()
    np.save(buf, np.array([object()], dtype=object), allow_pickle=True)  # a pickle inside .npy
    pickled = {"t": "nd", "npy": base64.b64encode(buf.getvalue()).decode()}
    bad = [pickled, {"t": "nd", "npy": "not base64!"}, {"t": "int", "v": 3}, {"t": "float", "v": "x" * 99},
           {"t": "fn"}, {"t": "list", "v": "abc"}, {"t": "exec", "v": "print(1)"}, "text", None,
           {"t": "dict", "v": [[{"t": "list", "v": []}, {"t": "none"}]]}]
    for data in bad:
        with pytest.raises(remote.Malformed):
            remote.decode(data, None)


def test_objects_stay_in_the_kernel_as_handles():
    from book.grading import kernel

    data = kernel.encode((lambda x: x, object()))
    assert [d["t"] for d in data["v"]] == ["fn", "obj"]
    assert kernel.decode({"t": "ref", "ref": data["v"][0]["ref"]})(5) == 5
    kernel._handle({"op": "release"})
    assert not kernel._REFS


def test_registry_per_chapter():
    ids = [ex.id for ex in load_chapter(0)]
    assert ids == ["0.1", "0.2", "0.3", "0.4"]
    assert load_chapter(99) == []
    assert get_exercise("0.2").points == 2
