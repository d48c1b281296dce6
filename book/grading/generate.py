"""Exercise notebooks from solution notebooks: one source of truth.

A solution notebook ``solutions/NN_topic.ipynb`` marks each reference answer::

    def rnn_step_forward(x, h_prev, W_xh, W_hh, b_h):
        \"\"\"...\"\"\"
        ### BEGIN SOLUTION 1.1
        h_next = np.tanh(x @ W_xh + h_prev @ W_hh + b_h)
        return h_next, (x, h_prev, W_xh, W_hh, h_next)
        ### END SOLUTION

``python -m book.exercises`` writes ``exercises/NN_topic.ipynb`` with each
region replaced by a stub at the same indentation::

        # TODO Exercise 1.1: your code here
        raise NotImplementedError("Exercise 1.1")

A region may give its own stub with ``### STUB`` lines (for answers that are
values, not functions); ``### STUB answer = ...`` becomes ``answer = ...``.
A first cell ``# Solutions: topic`` becomes ``# Exercises: topic`` with the
exercise page's own opening paragraph (:func:`exercise_intro`) in place of the
solutions page's; the paragraphs after it are kept.
The exercise notebook is then executed so its outputs are stored.  With
``--check`` nothing is written: the command exits 1 if a committed exercise
notebook differs from what it would generate.
"""

from __future__ import annotations

import argparse
import copy
import re
import sys
from pathlib import Path

import nbformat

from book.grading.notebooks import execute, read_notebook, write_notebook

ROOT = Path(__file__).resolve().parents[2]  # the repository
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"

BEGIN = re.compile(r"^(?P<indent>[ \t]*)### BEGIN SOLUTION(?:\s+(?P<id>\d+[a-z]?\.\d+))?\s*$")
END = re.compile(r"^[ \t]*### END SOLUTION\s*$")
STUB = re.compile(r"^[ \t]*### STUB ?(?P<code>.*)$")
CHAPTER = re.compile(r"^(\d+[a-z]?)_")


class MarkerError(ValueError):
    """A solution notebook's markers are malformed."""


def solution_regions(source: str) -> list[tuple[str, list[str]]]:
    """``[(exercise id, solution lines)]`` for each marked region of a cell's source."""
    regions, current, ex_id = [], None, ""
    for line in source.splitlines():
        m = BEGIN.match(line)
        if m:
            current, ex_id = [], m.group("id") or ""
        elif END.match(line):
            if current is not None:
                regions.append((ex_id, current))
            current = None
        elif current is not None and not STUB.match(line):
            current.append(line)
    return regions


def strip_solutions(source: str, where: str = "cell") -> str:
    """Replace every marked region of ``source`` by its stub."""
    out: list[str] = []
    inside = False
    indent, ex_id, stub = "", "", []
    for n, line in enumerate(source.splitlines(), start=1):
        m = BEGIN.match(line)
        if m:
            if inside:
                raise MarkerError(f"{where}, line {n}: BEGIN SOLUTION inside another region")
            inside, indent, ex_id, stub = True, m.group("indent"), m.group("id") or "", []
            continue
        if END.match(line):
            if not inside:
                raise MarkerError(f"{where}, line {n}: END SOLUTION without BEGIN")
            label = f"Exercise {ex_id}" if ex_id else "Exercise"
            out.append(f"{indent}# TODO {label}: your code here")
            if stub:
                out.extend(indent + s for s in stub)
            else:
                out.append(f'{indent}raise NotImplementedError("{label}")')
            inside = False
            continue
        if inside:
            s = STUB.match(line)
            if s:
                stub.append(s.group("code"))
            continue
        out.append(line)
    if inside:
        raise MarkerError(f"{where}: BEGIN SOLUTION without END")
    return "\n".join(out)


def chapter_number(path: Path) -> str | None:
    """The chapter key of a notebook file name: ``01_sequences.ipynb -> "1"``, ``09b_x.ipynb -> "9b"``."""
    m = CHAPTER.match(path.name)
    return (m.group(1).lstrip("0") or "0") if m else None


def _metadata_chapter(key: str | None) -> int | str | None:
    """A chapter key as stored in notebook metadata: a number where it is one (``1``), else ``"9b"``."""
    return int(key) if key is not None and key.isdigit() else key


def exercise_intro(source_path: Path) -> str:
    """The opening paragraph of a generated exercise notebook, with links to its chapter and solutions."""
    name, chapter = source_path.name, chapter_number(source_path)
    return (
        f"The graded exercises of [Chapter {chapter}](../chapters/{name}). Each answer is a stub\n"
        "marked `# TODO Exercise N.M`: fill it in, then run the `check(...)` cell below it,\n"
        "which prints whether your answer is right, your points, and what went wrong if it\n"
        "is not. Unfinished exercises report \"not attempted\", so the notebook always runs\n"
        "top to bottom. To grade the whole notebook as an instructor would, run\n"
        f"`python -m book.grade exercises/{name}`. The reference answers are on the\n"
        f"[solutions page](../solutions/{name}): try the exercises first."
    )


def make_exercise(solution: nbformat.NotebookNode, source_path: Path) -> nbformat.NotebookNode:
    """The exercise notebook for a solution notebook, without outputs."""
    nb = copy.deepcopy(solution)
    for cell in nb.cells[:1]:
        if cell.cell_type == "markdown" and cell.source.startswith("# Solutions"):
            # title, the solutions page's own paragraph, then paragraphs both pages share
            title, _, *shared = cell.source.split("\n\n")
            intro = [exercise_intro(source_path), *shared]
            cell.source = "\n\n".join(["# Exercises" + title[len("# Solutions") :], *intro])
    for k, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            cell.source = strip_solutions(cell.source, f"{source_path.name}, cell {k}")
            cell.outputs = []
            cell.execution_count = None
        cell.metadata.pop("execution", None)
    nb.metadata["book"] = {
        "chapter": _metadata_chapter(chapter_number(source_path)),
        "generated_from": f"solutions/{source_path.name}",
    }
    return nb


def sources(nb: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source) for c in nb.cells]


def drift(solution_path: Path, exercise_path: Path) -> str | None:
    """Why the committed exercise notebook differs from the generated one (None if it does not)."""
    expected = make_exercise(read_notebook(solution_path), solution_path)
    if not exercise_path.exists():
        return f"{exercise_path} is missing"
    committed = read_notebook(exercise_path)
    if sources(committed) != sources(expected):
        for k, (a, b) in enumerate(zip(sources(committed), sources(expected), strict=False)):
            if a != b:
                return f"{exercise_path}: cell {k} differs from the generated one"
        return f"{exercise_path}: number of cells differs from the generated one"
    if committed.metadata.get("book") != expected.metadata.get("book"):
        return f"{exercise_path}: metadata 'book' differs from the generated one"
    return None


def generate(solution_path: Path, out_dir: Path = EXERCISES, run: bool = True) -> Path:
    nb = make_exercise(read_notebook(solution_path), solution_path)
    out = out_dir / solution_path.name
    if run:
        execute(nb, out_dir)
    write_notebook(nb, out)
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m book.exercises",
        description="Write exercises/NN_*.ipynb from solutions/NN_*.ipynb and execute them.",
    )
    parser.add_argument("solutions", nargs="*", type=Path, help="solution notebooks (default: all)")
    parser.add_argument("--check", action="store_true", help="only report drift; exit 1 if any")
    parser.add_argument("--no-execute", action="store_true", help="write without executing")
    args = parser.parse_args(argv)
    paths = args.solutions or sorted(SOLUTIONS.glob("[0-9][0-9]*_*.ipynb"))
    status = 0
    for path in paths:
        if args.check:
            problem = drift(path, EXERCISES / path.name)
            if problem:
                print(problem)
                status = 1
        else:
            out = generate(path, run=not args.no_execute)
            print(f"wrote {out.relative_to(ROOT)}")
    return status


if __name__ == "__main__":
    sys.exit(main())
