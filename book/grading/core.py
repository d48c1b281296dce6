"""Exercise checking: ``check("1.2", answer)`` prints one line of feedback.

An exercise is registered once, in the chapter's ``book/grading/checks/chNN.py``, with
its points and a grading function.  In a notebook the learner calls
:func:`check` with the exercise id and their answer (a function, a number,
an array, or a multiple-choice letter).  It prints one line::

    [PASS] Exercise 1.2 (one RNN step): 2/2 points
    [FAIL] Exercise 1.2 (one RNN step): 0/2 points -- case 1 (N=2, D=3, H=4): h_next: largest relative error 0.41 at [0, 2] (expected 0.1375, got 0.2146); looks like the bias b_h is missing

A stub (an answer of ``...`` or ``None``, or a function that raises
``NotImplementedError``) prints ``not attempted`` and scores 0.  A learner's
exception is reported with its type, message and line; it never stops the
notebook.

This check is feedback only: it counts for nothing in a grade.  The grader
(:mod:`book.grading.grader`) runs the notebook in a kernel that has no
reference answers and imports :mod:`book.grading.kernel` as ``book.grading``
instead of this module; it calls the learner's answers on inputs it chooses
(the visible cases below, and hidden cases drawn from the instructor's
secret, see :func:`hidden_rng`) and judges them with the same grading
functions, in its own process.
"""

from __future__ import annotations

import copy
import hashlib
import importlib
import os
import re
import traceback
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

PASSED = "passed"
FAILED = "failed"
NOT_ATTEMPTED = "not attempted"
ERROR = "error"
TIMED_OUT = "timed out"
NOT_RUN = "not run"



class NotAttempted(Exception):
    """Raised inside a grading function when the answer is still a stub."""


class Mismatch(Exception):
    """Raised inside a grading function with a one-line explanation of a wrong answer."""


@dataclass(frozen=True)
class Result:
    """The outcome of checking one exercise."""

    id: str
    title: str
    status: str
    points: float
    max_points: float
    message: str = ""

    def line(self) -> str:
        """The one line printed in the notebook."""
        tag = {PASSED: "PASS", NOT_ATTEMPTED: "TODO"}.get(self.status, "FAIL")
        text = f"[{tag}] Exercise {self.id} ({self.title}): {_fmt_points(self.points)}/{_fmt_points(self.max_points)} points"
        if self.status == NOT_ATTEMPTED:
            text += " -- not attempted"
        if self.message:
            text += f" -- {self.message}"
        return text

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d.pop("title")
        return d


def _fmt_points(p: float) -> str:
    return f"{p:g}"


@dataclass
class Exercise:
    """A registered exercise: id like ``"1.2"``, a title, its points and a grader.

    ``grade(answer, *extra)`` returns a success message (often empty) or raises
    :class:`Mismatch` (wrong) or :class:`NotAttempted` (a stub).  With
    ``hidden=True`` it also accepts ``rng=``: a generator from which it draws
    hidden cases (other values and other shapes) instead of the visible ones.
    """

    id: str
    title: str
    points: float
    grade: Callable[..., str]
    answer: str = "function"  # what check() is given: "function", "value" or "choice"
    hint: str = field(default="")
    hidden: bool = False
    kind: str = ""  # what the learner does: one of KINDS
    stars: int = 0  # difficulty, 1 to 3
    minutes: int = 0  # a typical learner's time

    def label(self) -> str:
        """Difficulty, time and kind, as on the page and in the grader's table: ``★★☆, about 15 min, implement``."""
        return f"{'★' * self.stars}{'☆' * (3 - self.stars)}, about {self.minutes} min, {self.kind}"

    def run(self, answer: Any, *extra: Any, rng: np.random.Generator | None = None) -> Result:
        """Grade on the visible cases, or on hidden ones drawn from ``rng``."""
        if _is_stub(answer):
            return self._result(NOT_ATTEMPTED, 0)
        reference = getattr(answer, "book_reference", None)
        if isinstance(reference, str):  # the learner's answer is a stub of the book's own
            return self._result(FAILED, 0, reference_message(reference))
        try:
            if rng is not None:
                message = self.grade(answer, *extra, rng=rng) or ""
            else:
                message = self.grade(answer, *extra) or ""
        except NotAttempted:
            return self._result(NOT_ATTEMPTED, 0)
        except Mismatch as exc:
            return self._result(FAILED, 0, _one_line(str(exc)))
        except Exception as exc:  # a bug in the learner's code that escaped the grader
            return self._result(FAILED, 0, describe_exception(exc))
        return self._result(PASSED, self.points, message)

    def _result(self, status: str, points: float, message: str = "") -> Result:
        return Result(self.id, self.title, status, float(points), float(self.points), message)


_REGISTRY: dict[str, Exercise] = {}

#: What an exercise asks the learner to do.
KINDS = ("implement", "derive", "debug", "experiment", "interpret")


def register(exercise: Exercise) -> Exercise:
    """Add an exercise to the registry (ids are unique; kind, stars and minutes are checked)."""
    if exercise.kind not in KINDS:
        raise ValueError(f"exercise {exercise.id}: kind {exercise.kind!r} is not one of {', '.join(KINDS)}")
    if exercise.stars not in (1, 2, 3):
        raise ValueError(f"exercise {exercise.id}: stars must be 1, 2 or 3, not {exercise.stars!r}")
    if not (isinstance(exercise.minutes, int) and 0 < exercise.minutes <= 120):
        raise ValueError(f"exercise {exercise.id}: minutes must be a whole number from 1 to 120")
    if exercise.id in _REGISTRY and _REGISTRY[exercise.id] is not exercise:
        raise ValueError(f"exercise {exercise.id} is registered twice")
    _REGISTRY[exercise.id] = exercise
    return exercise


CHAPTER_KEY = re.compile(r"^(\d+)([a-z]?)$")


def chapter_of(exercise_id: str) -> str:
    """The chapter an exercise id belongs to: ``"1.2" -> "1"``, ``"9b.3" -> "9b"``."""
    head, _, number = str(exercise_id).partition(".")
    if not CHAPTER_KEY.match(head) or not number.isdigit():
        raise KeyError(f"not an exercise id: {exercise_id!r} (expected e.g. '1.2' or '9b.3')")
    return head


def chapter_module(chapter: int | str) -> str:
    """The module of a chapter's exercises: ``1 -> book.grading.checks.ch01``, ``"9b" -> ...ch09b``."""
    m = CHAPTER_KEY.match(str(chapter))
    if not m:
        raise KeyError(f"not a chapter: {chapter!r} (expected e.g. 1 or '9b')")
    return f"book.grading.checks.ch{int(m.group(1)):02d}{m.group(2)}"


def id_order(exercise_id: str) -> tuple[int, str, int]:
    """Sort key: chapter number, its letter, then the exercise number."""
    head, _, number = exercise_id.partition(".")
    m = CHAPTER_KEY.match(head)
    assert m is not None
    return int(m.group(1)), m.group(2), int(number)


def load_chapter(chapter: int | str) -> list[Exercise]:
    """Import the chapter's ``checks`` module and return its exercises in id order ([] if none)."""
    module = chapter_module(chapter)
    try:
        importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if exc.name != module:
            raise
        return []
    key = str(chapter)
    found = [ex for ex in _REGISTRY.values() if chapter_of(ex.id) == key]
    return sorted(found, key=lambda ex: id_order(ex.id))


def get_exercise(exercise_id: str) -> Exercise:
    """The registered exercise with this id; ``KeyError`` with a clear message if none."""
    exercise_id = str(exercise_id)
    if exercise_id not in _REGISTRY:
        load_chapter(chapter_of(exercise_id))
    if exercise_id not in _REGISTRY:
        raise KeyError(f"no exercise {exercise_id!r}")
    return _REGISTRY[exercise_id]


def check(exercise_id: str, answer: Any, *extra: Any) -> None:
    """Check an answer and print one line of feedback (it counts for nothing in a grade).

    ``answer`` is what the exercise asks for: usually your function, otherwise
    a number, an array or a letter.  Some exercises take more than one object
    (for example a backward function together with its forward function); pass
    them after the first.
    """
    try:
        exercise = get_exercise(exercise_id)
    except KeyError as exc:
        print(f"[FAIL] check({exercise_id!r}, ...): {exc.args[0]}")
        return
    result = exercise.run(answer, *extra)
    print(result.line())


def hidden_rng(secret: str, exercise_id: str) -> np.random.Generator:
    """The generator of an exercise's hidden cases: a hash of the instructor's secret and the id."""
    digest = hashlib.sha256(f"book-grade\0{secret}\0{exercise_id}".encode()).digest()
    return np.random.default_rng(int.from_bytes(digest[:16], "little"))


def draw_shapes(rng: np.random.Generator, n: int, **ranges: tuple[int, int]) -> list[tuple[int, ...]]:
    """``n`` tuples of sizes, each drawn from its inclusive range: ``draw_shapes(rng, 3, N=(1, 4), H=(2, 6))``."""
    return [tuple(int(rng.integers(lo, hi + 1)) for lo, hi in ranges.values()) for _ in range(n)]


def reference_message(reference: str) -> str:
    return (
        f"uses {reference}, one of the book's reference implementations, which is not available "
        "while grading: an answer that is or wraps a reference scores 0"
    )


# --------------------------------------------------------------------------
# Building blocks for grading functions
# --------------------------------------------------------------------------
def _is_stub(answer: Any) -> bool:
    return answer is None or answer is Ellipsis or answer is NotImplemented


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def describe_exception(exc: BaseException) -> str:
    """``"raised ValueError: msg (line 7, in rnn_step_forward)"`` for the learner's frame."""
    text = getattr(exc, "text", None)
    if getattr(exc, "type_name", None) and isinstance(text, str):  # described by the learner's kernel
        reference = getattr(exc, "reference", None)
        return reference_message(reference) if isinstance(reference, str) else text
    frames = traceback.extract_tb(exc.__traceback__)
    here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the book package
    own = [f for f in frames if not os.path.abspath(f.filename).startswith(here)]
    where = ""
    if own:
        f = own[-1]
        where = f" (line {f.lineno}, in {f.name})"
    msg = _one_line(str(exc))
    if len(msg) > 160:
        msg = msg[:157] + "..."
    return f"raised {type(exc).__name__}: {msg}{where}" if msg else f"raised {type(exc).__name__}{where}"


def call_learner(fn: Callable[..., Any], *args: Any) -> Any:
    """Call the learner's function on copies of ``args``; turn failures into verdicts."""
    try:
        return fn(*copy.deepcopy(args))
    except NotImplementedError as exc:
        raise NotAttempted() from exc
    except Exception as exc:
        if getattr(exc, "type_name", None) == "NotImplementedError":  # raised in the learner's kernel
            raise NotAttempted() from exc
        raise Mismatch(describe_exception(exc)) from exc


def _fmt(v: float) -> str:
    return f"{v:.4g}"


def compare_array(name: str, got: Any, expected: Any, rtol: float = 1e-6, atol: float = 1e-9) -> str | None:
    """``None`` if ``got`` matches ``expected``; otherwise why not, in a few words."""
    expected = np.asarray(expected)
    if got is None:
        return f"{name} is None; expected an array of shape {expected.shape}"
    try:
        got_arr = np.asarray(got, dtype=np.float64)
    except (TypeError, ValueError):
        return f"{name} is a {getattr(got, 'type_name', type(got).__name__)}, not numbers"
    if got_arr.shape != expected.shape:
        hint = ""
        if got_arr.ndim == expected.ndim and got_arr.shape == expected.shape[::-1]:
            hint = " (transposed?)"
        return f"{name} has shape {got_arr.shape}, expected {expected.shape}{hint}"
    if np.isnan(got_arr).any():
        return f"{name} contains NaN"
    if np.isinf(got_arr).any():
        return f"{name} contains inf"
    expected = expected.astype(np.float64)
    if np.allclose(got_arr, expected, rtol=rtol, atol=atol):
        return None
    return first_difference(name, got_arr, expected, rtol, atol)


def first_difference(name: str, got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> str:
    """Where ``got`` first leaves ``expected`` (in index order: batch, then time step, ...).

    The size of the error is given relative to the scale of the whole answer (its
    largest magnitude), so an entry that should be near zero does not make a small
    error look huge.
    """
    bad = ~np.isclose(got, expected, rtol=rtol, atol=atol)
    if expected.ndim == 0:
        return f"{name}: expected {_fmt(float(expected))}, got {_fmt(float(got))}"
    idx = tuple(int(i) for i in np.argwhere(bad)[0])
    scale = float(np.max(np.abs(expected))) or 1.0
    err = float(np.max(np.abs(got - expected)))
    count = int(bad.sum())
    return (
        f"{name} first differs at {list(idx)} (expected {_fmt(float(expected[idx]))}, got "
        f"{_fmt(float(got[idx]))}); {count} of {bad.size} entries differ, the largest error is "
        f"{_fmt(err / scale)} of the answer's scale {_fmt(scale)}"
    )


@dataclass
class Case:
    """One test input for a function exercise: a label and the positional arguments."""

    label: str
    args: tuple[Any, ...]


def check_function_cases(
    fn: Any,
    reference: Callable[..., Any],
    cases: Iterable[Case],
    outputs: Sequence[str],
    mistakes: Sequence[tuple[Callable[..., Any], str]] = (),
    rtol: float = 1e-6,
    atol: float = 1e-9,
) -> str:
    """Grade a learner's function against a reference on several cases.

    ``outputs`` names the values compared: if the reference returns a tuple,
    the first ``len(outputs)`` items are compared (a trailing cache is not);
    otherwise the single return value is.  ``mistakes`` pairs a plausible wrong
    implementation with a hint; when the learner's output matches one of them,
    the hint is added to the message.  Raises :class:`Mismatch` on the first
    failing case.
    """
    if not callable(fn):
        raise Mismatch(f"expected a function, got {type_name(fn)}")
    cases = list(cases)
    prefetch = getattr(fn, "prefetch", None)  # a function in the learner's kernel: one request for all cases
    if prefetch is not None:
        prefetch([copy.deepcopy(case.args) for case in cases])
    for k, case in enumerate(cases, start=1):
        expected = select_outputs(reference(*copy.deepcopy(case.args)), outputs, strict=True)
        got_raw = call_learner(fn, *case.args)
        try:
            got = select_outputs(got_raw, outputs, strict=False)
        except Mismatch as exc:
            raise Mismatch(f"case {k} ({case.label}): {exc}") from None
        for name, g, e in zip(outputs, got, expected, strict=True):
            problem = compare_array(name, g, e, rtol, atol)
            if problem:
                hint = _match_mistake(got, case, outputs, mistakes, rtol, atol)
                raise Mismatch(f"case {k} ({case.label}): {problem}{hint}")
    return ""


def type_name(value: Any) -> str:
    """The type of a value, or of the object it stands for in the learner's kernel."""
    return getattr(value, "type_name", None) or type(value).__name__


def select_outputs(out: Any, outputs: Sequence[str], strict: bool) -> list[Any]:
    if len(outputs) == 1 and not isinstance(out, tuple):
        return [out]
    if not isinstance(out, (tuple, list)):
        want = "(" + ", ".join(outputs) + ", ...)"
        raise Mismatch(f"returned a {type_name(out)}; expected a tuple {want}")
    if len(out) < len(outputs):
        raise Mismatch(f"returned {len(out)} values; expected at least {len(outputs)}: {', '.join(outputs)}")
    return list(out[: len(outputs)])


def _match_mistake(got, case, outputs, mistakes, rtol, atol) -> str:
    for wrong_fn, hint in mistakes:
        try:
            wrong = select_outputs(wrong_fn(*copy.deepcopy(case.args)), outputs, strict=True)
        except Exception:  # pragma: no cover - a mistake model that does not apply
            continue
        if all(compare_array(n, g, w, rtol, atol) is None for n, g, w in zip(outputs, got, wrong, strict=True)):
            return f"; {hint}"
    return ""


def check_value(
    got: Any,
    expected: Any,
    name: str = "your answer",
    rtol: float = 1e-6,
    atol: float = 1e-9,
    mistakes: Sequence[tuple[Any, str]] = (),
) -> str:
    """Grade a number or array answer; ``mistakes`` pairs plausible wrong values with hints."""
    if isinstance(got, (str, bytes)):
        raise Mismatch(f"{name} is text ({got!r}); expected a number")
    problem = compare_array(name, got, expected, rtol, atol)
    if problem:
        for wrong, hint in mistakes:
            if compare_array(name, got, wrong, rtol, atol) is None:
                raise Mismatch(f"{problem}; {hint}")
        raise Mismatch(problem)
    return ""


def check_choice(got: Any, correct: str, options: str, hints: dict[str, str] | None = None) -> str:
    """Grade a multiple-choice answer given as one letter (case-insensitive)."""
    if not isinstance(got, str) or got.strip().lower() not in options:
        raise Mismatch(f"answer with one letter out of {', '.join(options)}; got {got!r}")
    letter = got.strip().lower()
    if letter != correct:
        hint = (hints or {}).get(letter, "")
        raise Mismatch(f"({letter}) is not right" + (f": {hint}" if hint else ""))
    return ""


def function_exercise(
    id: str,
    title: str,
    points: float,
    reference: Callable[..., Any],
    cases: Callable[..., list[Case]],
    outputs: Sequence[str],
    mistakes: Sequence[tuple[Callable[..., Any], str]] = (),
    rtol: float = 1e-6,
    atol: float = 1e-9,
    *,
    kind: str = "implement",
    stars: int,
    minutes: int,
    given: Callable[..., Any] | None = None,
) -> Exercise:
    """Register an exercise whose answer is a function compared with ``reference``.

    ``cases()`` gives the visible cases; ``cases(rng)`` hidden ones drawn from ``rng``.
    ``kind`` is ``"implement"`` (write it) or ``"debug"`` (fix a given buggy version).
    For a debug exercise, ``given`` is the buggy function the notebook hands out: an
    answer that still computes what it computes on every case is "not attempted".
    """

    def grade(fn: Any, rng: np.random.Generator | None = None) -> str:
        drawn = cases() if rng is None else cases(rng)
        try:
            return check_function_cases(fn, reference, drawn, outputs, mistakes, rtol, atol)
        except Mismatch:
            if given is not None and _unchanged(fn, given, drawn, outputs, rtol, atol):
                raise NotAttempted from None
            raise

    exercise = Exercise(id, title, points, grade, answer="function", hidden=True, kind=kind, stars=stars, minutes=minutes)
    return register(exercise)


def debug_exercise(
    id: str,
    title: str,
    points: float,
    reference: Callable[..., Any],
    buggy: Callable[..., Any],
    cases: Callable[..., list[Case]],
    outputs: Sequence[str],
    mistakes: Sequence[tuple[Callable[..., Any], str]] = (),
    *,
    stars: int,
    minutes: int,
) -> Exercise:
    """A function exercise of kind ``"debug"`` whose stub is ``buggy``; see :func:`function_exercise`'s ``given``."""
    return function_exercise(
        id, title, points, reference, cases, outputs, mistakes, kind="debug", stars=stars, minutes=minutes, given=buggy
    )


def _unchanged(fn: Any, given: Callable[..., Any], cases: list[Case], outputs: Sequence[str], rtol: float, atol: float) -> bool:
    """Whether ``fn`` gives the buggy ``given`` function's outputs on every case."""
    for case in cases:
        try:
            got = select_outputs(call_learner(fn, *copy.deepcopy(case.args)), outputs, strict=False)
            bug = select_outputs(given(*copy.deepcopy(case.args)), outputs, strict=True)
        except Exception:
            return False
        if any(compare_array(n, g, b, rtol, atol) for n, g, b in zip(outputs, got, bug, strict=True)):
            return False
    return True


def value_exercise(
    id: str,
    title: str,
    points: float,
    expected: Any,
    mistakes: Sequence[tuple[Any, str]] = (),
    rtol: float = 1e-6,
    atol: float = 1e-9,
    name: str = "your answer",
    *,
    kind: str = "derive",
    stars: int,
    minutes: int,
) -> Exercise:
    """Register an exercise whose answer is a number or an array (usually derived on paper)."""

    def grade(got: Any) -> str:
        value = expected() if callable(expected) else expected
        return check_value(got, value, name, rtol, atol, mistakes)

    return register(Exercise(id, title, points, grade, answer="value", kind=kind, stars=stars, minutes=minutes))


def choice_exercise(
    id: str,
    title: str,
    points: float,
    correct: str,
    options: str = "abcd",
    hints: dict[str, str] | None = None,
    *,
    stars: int,
    minutes: int,
) -> Exercise:
    """Register a multiple-choice exercise answered with one letter (kind ``"interpret"``).

    A hint for a wrong letter explains the reasoning that rules it out; it must not
    name the right option, or trying letters in turn would find it.
    """

    def grade(got: Any) -> str:
        return check_choice(got, correct, options, hints)

    exercise = Exercise(id, title, points, grade, answer="choice", kind="interpret", stars=stars, minutes=minutes)
    return register(exercise)


def experiment_exercise(
    id: str,
    title: str,
    points: float,
    evaluate: Callable[..., str],
    *,
    stars: int,
    minutes: int,
) -> Exercise:
    """Register an experiment: the learner trains or measures something, the grader measures the result.

    ``evaluate(answer)`` (visible) and ``evaluate(answer, rng=rng)`` (hidden) run the
    learner's answer, usually a prediction function of a model trained in the notebook,
    on data the grader makes and the learner's code never saw, and return a message
    with the measured score, or raise :class:`Mismatch` when it misses the threshold.
    """

    def grade(answer: Any, rng: np.random.Generator | None = None) -> str:
        return evaluate(answer) if rng is None else evaluate(answer, rng=rng)

    exercise = Exercise(id, title, points, grade, answer="function", hidden=True, kind="experiment", stars=stars, minutes=minutes)
    return register(exercise)
