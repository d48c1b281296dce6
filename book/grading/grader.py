"""The notebook grader: ``python -m book.grade NOTEBOOK... [--timeout S] [--format F] ...``.

Each notebook is copied to a sandbox and executed there, one cell at a time,
in a kernel that cannot reach the book's reference answers
(:mod:`book.grading.sandbox`: a student copy of the package, an unprivileged
user of its own when the grader runs as root, limits on time, memory,
processes and output per cell); the learner's file is only read.

``check("N.M", answer)`` in that kernel only hands the answer to the grader.
Right after the cell that calls it, this process grades the exercise: it
calls the learner's answer on inputs it chose, sent as data, gets the
outputs back as data (:mod:`book.grading.remote`) and compares them with the
exercise's reference here, first on the visible cases and then, with a
secret (``--secret`` or ``BOOK_GRADE_SECRET``), on hidden cases drawn from
it.  An exercise scores its points only if both pass; nothing the learner's
code prints, writes or patches counts.  The exercises expected of a notebook
are those registered for its chapter (``--chapter``, else its metadata or
its ``NN_`` file name), so an exercise whose check never ran still appears,
with the reason: its cell timed out, raised an error, died, flooded its
output, or was never reached.

Exit status: 0 when every exercise passed, 1 when any did not, 2 for a usage
or input error (one line on standard error, no traceback).
"""

from __future__ import annotations

import argparse
import copy
import csv
import io
import json
import os
import re
import shutil
import sys
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat

from book.grading.core import (
    CHAPTER_KEY,
    ERROR,
    FAILED,
    NOT_RUN,
    PASSED,
    TIMED_OUT,
    Exercise,
    Result,
    get_exercise,
    hidden_rng,
    id_order,
    load_chapter,
)
from book.grading.notebooks import KERNEL_NAME, read_notebook
from book.grading.remote import (
    CappedClient,
    CellOutcome,
    KernelSession,
    KernelTrouble,
    Malformed,
    decode,
)
from book.grading.sandbox import (
    Limits,
    become_subreaper,
    build_student_package,
    isolation,
    kernel_env,
    kernel_manager_class,
    kill_strays,
    make_sandbox,
)

CHECK_CALL = re.compile(r"""check\(\s*["'](\d+[a-z]?\.\d+)["']""")
MENTION = re.compile(r"Exercise (\d+[a-z]?\.\d+)")
CHAPTER = re.compile(r"^(\d+[a-z]?)_")
SECRET_ENV = "BOOK_GRADE_SECRET"


class UsageError(Exception):
    """Bad command line or input: reported in one line, exit status 2."""


@dataclass
class Settings:
    """How to grade: limits, the secret of the hidden cases, isolation switches."""

    limits: Limits = field(default_factory=Limits)
    secret: str | None = None
    chapter: str | None = None
    relaxed: bool = False  # --no-isolation: the kernel runs as you, as on a laptop
    namespace: bool = True  # try private mount namespaces when root


@dataclass
class NotebookReport:
    path: str
    results: list[Result] = field(default_factory=list)
    hidden: dict[str, Result | None] = field(default_factory=dict)  # the hidden cases' own verdicts

    @property
    def points(self) -> float:
        return sum(r.points for r in self.results)

    @property
    def max_points(self) -> float:
        return sum(r.max_points for r in self.results)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "points": self.points,
            "max_points": self.max_points,
            "exercises": [r.to_dict() for r in self.results],
        }


def _chapter_key(text: str) -> str:
    """``--chapter`` value: a chapter number, optionally with a letter (``3``, ``9b``)."""
    key = text.strip().lstrip("0") or "0"
    if not CHAPTER_KEY.match(key):
        raise argparse.ArgumentTypeError(f"not a chapter: {text!r} (expected e.g. 3 or 9b)")
    return key


def chapter_of_notebook(nb: nbformat.NotebookNode, path: Path) -> str | None:
    """The chapter key of a notebook (``"1"``, ``"9b"``): its metadata's ``book.chapter``, else its file name."""
    meta = nb.metadata.get("book", {})
    if isinstance(meta, dict) and isinstance(meta.get("chapter"), (int, str)) and str(meta["chapter"]).strip():
        return str(meta["chapter"]).strip().lstrip("0") or "0"
    m = CHAPTER.match(path.name)
    return (m.group(1).lstrip("0") or "0") if m else None


# --------------------------------------------------------------------------
# The shared, read-only student package (built once per process)
# --------------------------------------------------------------------------
_WORKROOT: dict[str, Path] = {}
_LOCK = threading.Lock()


def workroot() -> tuple[Path, Path]:
    """This process's sandbox folder and the student package in it."""
    with _LOCK:
        if "root" not in _WORKROOT:
            root = Path(tempfile.mkdtemp(prefix="book-grade-"))
            root.chmod(0o711)
            _WORKROOT["root"] = root
            _WORKROOT["pkg"] = build_student_package(root / "pkg")
            import atexit

            atexit.register(shutil.rmtree, root, True)
        return _WORKROOT["root"], _WORKROOT["pkg"]


# --------------------------------------------------------------------------
# Grading one exercise by calling the learner's answer from outside
# --------------------------------------------------------------------------
def _fail(ex: Exercise, status: str, message: str) -> Result:
    return Result(ex.id, ex.title, status, 0.0, float(ex.points), message)


def _run(ex: Exercise, values: list[Any], rng: Any = None) -> Result:
    try:
        r = ex.run(*values, rng=rng)
    except KernelTrouble as trouble:
        return _fail(ex, trouble.status, trouble.message)
    points = min(max(float(r.points), 0.0), float(ex.points)) if r.status == PASSED else 0.0
    return Result(r.id, r.title, r.status, points, float(ex.points), r.message)


def grade_exercise(session: KernelSession, ex: Exercise, secret: str | None) -> tuple[Result, Result | None] | None:
    """The exercise's result and its hidden cases' result; None if its check recorded nothing."""
    try:
        body = session.request({"op": "answer", "id": ex.id})
        if not body.get("found"):
            return None
        values = body.get("values")
        if not isinstance(values, list) or not values:
            raise Malformed("the kernel's reply was malformed")
        values = [decode(v, session) for v in values]
    except KernelTrouble as trouble:
        return _fail(ex, trouble.status, trouble.message), None
    visible = _run(ex, values)
    hidden = None
    if secret and ex.hidden and visible.status == PASSED:
        hidden = _run(ex, values, rng=hidden_rng(secret, ex.id))
    try:
        session.request({"op": "release"})
    except KernelTrouble:
        pass
    if hidden is not None and hidden.status != PASSED:
        status = hidden.status if hidden.status in (TIMED_OUT, ERROR) else FAILED
        return _fail(ex, status, f"hidden cases: {hidden.message or hidden.status}"), hidden
    return visible, hidden


# --------------------------------------------------------------------------
# Grading one notebook
# --------------------------------------------------------------------------
def grade_notebook(path: Path, timeout: int | Settings = 60) -> NotebookReport:
    """Execute a copy of the notebook at ``path`` in a sandbox and grade every exercise."""
    settings = timeout if isinstance(timeout, Settings) else Settings(Limits(timeout=timeout))
    limits = settings.limits
    nb = read_notebook(path)
    chapter = settings.chapter if settings.chapter is not None else chapter_of_notebook(nb, path)
    expected = [ex.id for ex in load_chapter(chapter)] if chapter is not None else []
    cell_of_check: dict[str, int] = {}
    checks_in: dict[int, list[str]] = {}
    mentions: dict[str, set[int]] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for ex_id in CHECK_CALL.findall(cell.source):
            cell_of_check.setdefault(ex_id, index)
            mentions.setdefault(ex_id, set()).add(index)
            if ex_id not in checks_in.setdefault(index, []):
                checks_in[index].append(ex_id)
        for ex_id in MENTION.findall(cell.source):
            mentions.setdefault(ex_id, set()).add(index)
    for ex_id in cell_of_check:
        if ex_id not in expected:
            try:
                get_exercise(ex_id)
                expected.append(ex_id)
            except KeyError:
                pass

    root, pkg = workroot()
    become_subreaper()
    iso = isolation(root, pkg, [Path(path)], relaxed=settings.relaxed, namespace=settings.namespace)
    box = make_sandbox(root, pkg, iso, limits)
    graded: dict[str, tuple[Result, Result | None]] = {}
    outcomes: list[CellOutcome] = []
    try:
        shutil.copy2(path, box.workdir / Path(path).name)
        if box.uid is not None:
            os.chown(box.workdir / Path(path).name, box.uid, box.uid)
        run_nb = copy.deepcopy(nb)
        run_nb.cells.append(nbformat.v4.new_code_cell("pass"))  # where the grader's requests run
        env = kernel_env(box.workdir, pkg)
        client = CappedClient(
            run_nb,
            timeout=limits.timeout,
            kernel_name=KERNEL_NAME,
            kernel_manager_class=kernel_manager_class(box),
            allow_errors=True,
            record_timing=False,
            interrupt_on_timeout=False,
            startup_timeout=120,
            resources={"metadata": {"path": str(box.workdir)}},
        )
        client.output_cap = int(limits.output_mb * (1 << 20))

        def after_trouble() -> int:
            pid = getattr(getattr(client.km, "provisioner", None), "pid", None)
            return kill_strays(pid, box.uid)

        with client.setup_kernel(env=env):
            session = KernelSession(client, env, limits.timeout, limits.memory_mb, after_trouble)
            for index, cell in enumerate(nb.cells):
                if cell.cell_type != "code":
                    continue
                outcome = session.run_cell(index)
                outcomes.append(outcome)
                if outcome.status not in ("ok", "error"):
                    continue
                for ex_id in checks_in.get(index, []):  # a later check of the same exercise wins
                    if ex_id not in expected:
                        continue
                    found = grade_exercise(session, get_exercise(ex_id), settings.secret)
                    if found is not None:
                        graded[ex_id] = found
    finally:
        box.cleanup()

    by_cell = {o.index: o for o in outcomes}
    report = NotebookReport(str(path))
    trouble_status = {"timed out": TIMED_OUT, "dead": ERROR, "flood": FAILED}
    for ex_id in expected:
        ex = get_exercise(ex_id)
        cells = sorted(mentions.get(ex_id, set()))
        bad = [by_cell[i] for i in cells if i in by_cell and by_cell[i].status in trouble_status]
        result, hidden = graded.get(ex_id, (None, None))
        flood = [o for o in bad if o.status == "flood"]
        if flood:  # a flood fails its exercise even if the answer, judged later, was right
            o = flood[0]
            report.results.append(_fail(ex, FAILED, f"cell {o.index}: {o.message}"))
        elif result is not None and result.status == PASSED:
            report.results.append(result)
        elif bad:
            o = bad[0]
            report.results.append(_fail(ex, trouble_status[o.status], f"cell {o.index}: {o.message}"))
        elif result is not None:
            report.results.append(result)
        elif ex_id in cell_of_check and cell_of_check[ex_id] in by_cell:
            errors = [by_cell[i] for i in cells if i in by_cell and by_cell[i].status == "error"]
            o = errors[0] if errors else by_cell[cell_of_check[ex_id]]
            msg = f"cell {o.index} raised {o.message}" if o.message else "the check did not report"
            report.results.append(_fail(ex, ERROR, msg))
        else:
            report.results.append(_fail(ex, NOT_RUN, f'no check("{ex_id}", ...) call ran in this notebook'))
        report.hidden[ex_id] = hidden
    return report


def notes(settings: Settings, notebooks: list[Path]) -> list[str]:
    """One line each about what this grading run could not promise."""
    out = []
    root, pkg = workroot()
    iso = isolation(root, pkg, notebooks[:1], relaxed=settings.relaxed, namespace=settings.namespace)
    if iso.note:
        out.append(iso.note)
    if not settings.secret:
        out.append(f"note: no secret (--secret or {SECRET_ENV}): only the visible cases ran, "
                   "so an answer special-cased to them would pass")
    return out


# --------------------------------------------------------------------------
# Output formats
# --------------------------------------------------------------------------
def _pts(p: float) -> str:
    return f"{p:g}"


def _about(exercise_id: str) -> tuple[str, str, str]:
    """An exercise's kind, stars and minutes for the table (blank if it is not registered)."""
    try:
        ex = get_exercise(exercise_id)
    except KeyError:
        return "", "", ""
    return ex.kind, "★" * ex.stars + "☆" * (3 - ex.stars), str(ex.minutes)


def format_table(reports: list[NotebookReport]) -> str:
    lines = []
    for rep in reports:
        lines.append(rep.path)
        rows = [("exercise", "kind", "level", "min", "status", "points", "max", "message")]
        for r in rep.results:
            kind, level, minutes = _about(r.id)
            rows.append((r.id, kind, level, minutes, r.status, _pts(r.points), _pts(r.max_points), r.message))
        rows.append(("total", "", "", "", "", _pts(rep.points), _pts(rep.max_points), ""))
        widths = [max(len(row[i]) for row in rows) for i in range(7)]
        right = {3, 5, 6}
        for row in rows:
            cells = [row[i].rjust(widths[i]) if i in right else row[i].ljust(widths[i]) for i in range(7)]
            lines.append(("  " + "  ".join(cells) + "  " + row[7]).rstrip())
        lines.append("")
    total = sum(r.points for r in reports)
    max_total = sum(r.max_points for r in reports)
    lines.append(f"Total: {_pts(total)}/{_pts(max_total)} points")
    return "\n".join(lines)


def format_json(reports: list[NotebookReport]) -> str:
    return json.dumps(
        {
            "points": sum(r.points for r in reports),
            "max_points": sum(r.max_points for r in reports),
            "notebooks": [r.to_dict() for r in reports],
        },
        indent=2,
    )


def gradescope_results(reports: list[NotebookReport]) -> dict[str, Any]:
    """Gradescope's ``results.json``: one visible test per exercise, and one per exercise's
    hidden cases, shown after the grades are published.

    The top-level ``score`` is the grade: an exercise scores only if its hidden cases pass
    too.  The visible test of an exercise shows what its visible cases earned; the hidden
    test (worth 0 on its own) says whether the hidden cases held.
    """
    tests = []
    for rep in reports:
        name = Path(rep.path).name
        for r in rep.results:
            hidden = rep.hidden.get(r.id)
            shown = r
            if hidden is not None and hidden.status != PASSED:  # the visible cases had passed
                shown = Result(r.id, r.title, PASSED, r.max_points, r.max_points, "")
            tests.append(
                {
                    "name": f"{name}: Exercise {r.id} ({r.title})",
                    "score": shown.points,
                    "max_score": shown.max_points,
                    "status": "passed" if shown.status == PASSED else "failed",
                    "output": shown.status + (f": {shown.message}" if shown.message else ""),
                    "visibility": "visible",
                }
            )
            if hidden is not None:
                tests.append(
                    {
                        "name": f"{name}: Exercise {r.id} ({r.title}): hidden cases",
                        "score": 0.0,
                        "max_score": 0.0,
                        "status": "passed" if hidden.status == PASSED else "failed",
                        "output": (
                            "passed: the exercise's points stand"
                            if hidden.status == PASSED
                            else f"{hidden.status}: {hidden.message}; the exercise scores 0"
                        ),
                        "visibility": "after_published",
                    }
                )
    out: dict[str, Any] = {
        "score": sum(r.points for r in reports),
        "max_score": sum(r.max_points for r in reports),
        "visibility": "visible",
        "tests": tests,
    }
    if any(t["visibility"] == "after_published" for t in tests):
        out["output"] = ("Each exercise also runs hidden cases, shown once the grades are published; "
                         "it scores only if they pass too.")
    return out


def format_gradescope(reports: list[NotebookReport]) -> str:
    return json.dumps(gradescope_results(reports), indent=2)


def format_csv(reports: list[NotebookReport]) -> str:
    """A gradebook: one row per notebook, one column per exercise (its points)."""
    ids: list[str] = []
    for rep in reports:
        ids += [r.id for r in rep.results if r.id not in ids]
    ids.sort(key=id_order)
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(["path", "points", "max_points", *ids])
    for rep in reports:
        got = {r.id: _pts(r.points) for r in rep.results}
        writer.writerow([rep.path, _pts(rep.points), _pts(rep.max_points), *(got.get(i, "") for i in ids)])
    return buf.getvalue().rstrip("\n")


FORMATS = {"table": format_table, "json": format_json, "gradescope": format_gradescope, "csv": format_csv}


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # one line, exit 2, no usage dump
        raise UsageError(f"{self.prog}: {message} (see --help)")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = _Parser(
        prog="python -m book.grade",
        description="Grade exercise notebooks: execute a copy of each and report the checks.",
    )
    parser.add_argument("notebooks", nargs="+", type=Path, help="notebooks to grade (.ipynb)")
    parser.add_argument("--timeout", type=int, default=60, help="seconds allowed per cell (default 60)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="table", help="output format")
    parser.add_argument("--memory", type=int, default=4096, metavar="MB",
                        help="address space allowed to the kernel, in MB (default 4096)")
    parser.add_argument("--processes", type=int, default=128, metavar="N",
                        help="processes and threads allowed to the kernel (default 128)")
    parser.add_argument("--max-output", type=float, default=4.0, metavar="MB",
                        help="output one cell may print, in MB (default 4)")
    parser.add_argument("--secret", default=None,
                        help=f"secret the hidden cases are drawn from (default: ${SECRET_ENV}); "
                        "prefer the variable: a command line is visible to other users")
    parser.add_argument("--chapter", type=_chapter_key, default=None, help="grade as this chapter's notebook")
    parser.add_argument("--jobs", type=int, default=1, metavar="N", help="notebooks graded at once (default 1)")
    parser.add_argument("--no-isolation", action="store_true",
                        help="run the kernel as yourself, as when not root (for testing)")
    parser.add_argument("--no-namespace", action="store_true",
                        help="do not hide files with mount namespaces; rely on permissions (for testing)")
    args = parser.parse_args(argv)
    for name, value in [("--timeout", args.timeout), ("--memory", args.memory), ("--processes", args.processes),
                        ("--max-output", args.max_output), ("--jobs", args.jobs)]:
        if value <= 0:
            raise UsageError(f"python -m book.grade: {name} must be a positive number")
    if args.secret is None:
        args.secret = os.environ.get(SECRET_ENV) or None
    return args


def main(argv: list[str] | None = None) -> int:
    try:
        args = parse_args(argv)
        notebooks = []
        for path in args.notebooks:
            if path.suffix != ".ipynb":
                raise UsageError(f"{path}: not a notebook (expected a .ipynb file)")
            try:
                read_notebook(path)
            except ValueError as exc:
                raise UsageError(str(exc)) from None
            notebooks.append(path)
    except UsageError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    settings = Settings(
        Limits(timeout=args.timeout, memory_mb=args.memory, nproc=args.processes, output_mb=args.max_output),
        secret=args.secret,
        chapter=args.chapter,
        relaxed=args.no_isolation,
        namespace=not args.no_namespace,
    )
    try:
        for line in notes(settings, notebooks):
            print(line, file=sys.stderr)
        if args.jobs > 1 and len(notebooks) > 1:
            with ThreadPoolExecutor(max_workers=args.jobs) as pool:
                reports = list(pool.map(lambda p: grade_notebook(p, settings), notebooks))
        else:
            reports = [grade_notebook(p, settings) for p in notebooks]
    except Exception as exc:  # the kernel would not start, the disk is full, ...
        print(f"error: grading failed: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}", file=sys.stderr)
        return 2
    print(FORMATS[args.format](reports))
    all_passed = all(r.status == PASSED for rep in reports for r in rep.results)
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
