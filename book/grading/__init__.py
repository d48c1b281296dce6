"""Grading: the exercise checker, the notebook grader, and the exercise generator.

==================  ========================================================
``core``            ``check("1.2", answer)``: the one-line checker, the
                    exercise registry (:func:`register`, :func:`get_exercise`,
                    :func:`load_chapter`) and the helpers checks are built
                    from (:class:`Case`, :func:`function_exercise`, ...)
``checks/chNN.py``  chapter NN's exercises: reference answers, cases, the
                    wrong answers each one recognises
``grader``          ``python -m book.grade``: runs a notebook in a sandboxed
                    kernel and grades every exercise of its chapter by
                    calling the learner's answers from outside
``sandbox``,        the sandbox: a student copy of the package without
``launcher``        references, an unprivileged user, limits
``remote``,         the wire between grader and kernel: requests, replies
``kernel``          (data only, never pickle), cells within limits
``autograder``      ``make autograder``: the Gradescope kit
``generate``        ``python -m book.exercises``: exercise notebooks from
                    solution notebooks (one source of truth)
``notebooks``       ``python -m book.notebooks``: execute notebooks and store
                    their outputs
==================  ========================================================

Notebooks import the checker from here: ``from book.grading import check``.
"""

from book.grading.core import (
    ERROR,
    FAILED,
    NOT_ATTEMPTED,
    NOT_RUN,
    PASSED,
    TIMED_OUT,
    Case,
    Exercise,
    Mismatch,
    NotAttempted,
    Result,
    call_learner,
    chapter_of,
    check,
    check_choice,
    check_function_cases,
    check_value,
    choice_exercise,
    compare_array,
    describe_exception,
    draw_shapes,
    function_exercise,
    get_exercise,
    hidden_rng,
    load_chapter,
    register,
    select_outputs,
    value_exercise,
)

__all__ = [
    "ERROR",
    "FAILED",
    "NOT_ATTEMPTED",
    "NOT_RUN",
    "PASSED",
    "TIMED_OUT",
    "Case",
    "Exercise",
    "Mismatch",
    "NotAttempted",
    "Result",
    "call_learner",
    "chapter_of",
    "check",
    "check_choice",
    "check_function_cases",
    "check_value",
    "choice_exercise",
    "compare_array",
    "describe_exception",
    "draw_shapes",
    "function_exercise",
    "get_exercise",
    "hidden_rng",
    "load_chapter",
    "register",
    "select_outputs",
    "value_exercise",
]
