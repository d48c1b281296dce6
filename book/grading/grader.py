"""The notebook grader: ``python -m book.grade NOTEBOOK... [--timeout S] [--format F]``.

Each notebook is copied to a temporary folder and executed there in a fresh
kernel, one cell at a time, with a time limit per cell; the learner's file is
only read.  Every ``check(...)`` call in the notebook appends its result to a
log that this process reads back.  The exercises expected of a notebook are
those registered for its chapter (from its metadata or its ``NN_`` file
name), so an exercise whose check never ran still appears, with the reason:
its cell timed out, raised an error, or was never reached.

Exit status: 0 when every exercise passed, 1 when any did not, 2 for a usage
or input error (one line on standard error, no traceback).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nbformat
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync

from book.grading.core import (
    ERROR,
    LOG_ENV,
    NOT_RUN,
    PASSED,
    TIMED_OUT,
    Result,
    get_exercise,
    load_chapter,
)
from book.grading.notebooks import KERNEL_NAME, read_notebook

CHECK_CALL = re.compile(r"""check\(\s*["'](\d+\.\d+)["']""")
MENTION = re.compile(r"Exercise (\d+\.\d+)")
CHAPTER = re.compile(r"^(\d+)_")
PROBE_TIMEOUT = 15


class UsageError(Exception):
    """Bad command line or input: reported in one line, exit status 2."""


@dataclass
class CellOutcome:
    index: int
    status: str  # "ok", "error", "timed out", "dead"
    message: str = ""


@dataclass
class NotebookReport:
    path: str
    results: list[Result] = field(default_factory=list)

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


def chapter_of_notebook(nb: nbformat.NotebookNode, path: Path) -> int | None:
    meta = nb.metadata.get("book", {})
    if isinstance(meta, dict) and isinstance(meta.get("chapter"), int):
        return meta["chapter"]
    m = CHAPTER.match(path.name)
    return int(m.group(1)) if m else None


def _error_message(cell: nbformat.NotebookNode) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            value = " ".join(str(out.get("evalue", "")).split())[:160]
            return f"{out.get('ename', 'Error')}: {value}" if value else out.get("ename", "Error")
    return ""


def run_notebook(nb: nbformat.NotebookNode, workdir: Path, timeout: int, log_path: Path) -> list[CellOutcome]:
    """Execute ``nb`` cell by cell in a fresh kernel; a hung cell is interrupted, not fatal."""
    env = dict(os.environ)
    env[LOG_ENV] = str(log_path)
    env.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    env.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        allow_errors=True,
        record_timing=False,
        interrupt_on_timeout=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    outcomes: list[CellOutcome] = []
    completed: list[int] = []  # cells that ran cleanly, replayed if the kernel must restart
    logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # stale polls after an interrupt
    with client.setup_kernel(env=env):
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError:
                outcomes.append(CellOutcome(index, "timed out", f"timed out after {timeout} s"))
                if not _recover(client, env, index):
                    _replay(client, completed)
                continue
            except DeadKernelError:
                outcomes.append(CellOutcome(index, "dead", "the kernel died while running this cell"))
                _restart(client, env)
                _replay(client, completed)
                continue
            message = _error_message(cell)
            outcomes.append(CellOutcome(index, "error" if message else "ok", message))
            if not message:
                completed.append(index)
    return outcomes


def _replay(client: NotebookClient, indices: list[int]) -> None:
    """Re-run cells that had run cleanly, to rebuild the state a restart lost."""
    for i in indices:
        try:
            client.execute_cell(client.nb.cells[i], i)
        except (CellTimeoutError, DeadKernelError):
            return


def _recover(client: NotebookClient, env: dict[str, str], index: int) -> bool:
    """Interrupt a hung cell; restart the kernel if it does not come back (then return False)."""
    assert client.km is not None
    _call(client.km.interrupt_kernel)
    probe = nbformat.v4.new_code_cell("pass")
    saved = client.timeout
    client.timeout = PROBE_TIMEOUT
    try:
        client.execute_cell(probe, index)  # outputs land on the hung cell, already recorded
        return True
    except (CellTimeoutError, DeadKernelError):
        _restart(client, env)
        return False
    finally:
        client.timeout = saved


def _restart(client: NotebookClient, env: dict[str, str]) -> None:
    assert client.km is not None and client.kc is not None
    _call(client.km.restart_kernel, now=True, env=env)
    _call(client.kc.wait_for_ready, timeout=60)


def _call(method: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a kernel-manager or client method that may be a coroutine, synchronously."""

    async def call() -> Any:
        return await ensure_async(method(*args, **kwargs))

    return run_sync(call)()


def _read_log(log_path: Path) -> dict[str, Result]:
    latest: dict[str, Result] = {}
    if not log_path.exists():
        return latest
    for line in log_path.read_text(encoding="utf-8").splitlines():
        try:
            d = json.loads(line)
            ex = get_exercise(d["id"])
            latest[d["id"]] = Result(
                d["id"], ex.title, d["status"], float(d["points"]), float(ex.points), d.get("message", "")
            )
        except (ValueError, KeyError, TypeError):
            continue
    return latest


def grade_notebook(path: Path, timeout: int) -> NotebookReport:
    """Execute a copy of the notebook at ``path`` and collect one result per exercise."""
    nb = read_notebook(path)
    chapter = chapter_of_notebook(nb, path)
    expected = [ex.id for ex in load_chapter(chapter)] if chapter is not None else []
    cell_of_check: dict[str, int] = {}
    mentions: dict[str, set[int]] = {}
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        for ex_id in CHECK_CALL.findall(cell.source):
            cell_of_check.setdefault(ex_id, index)
            mentions.setdefault(ex_id, set()).add(index)
        for ex_id in MENTION.findall(cell.source):
            mentions.setdefault(ex_id, set()).add(index)
    for ex_id in cell_of_check:
        if ex_id not in expected:
            try:
                get_exercise(ex_id)
                expected.append(ex_id)
            except KeyError:
                pass

    with tempfile.TemporaryDirectory(prefix="book-grade-") as tmp:
        workdir = Path(tmp)
        shutil.copy2(path, workdir / path.name)
        log_path = workdir / "grade-log.jsonl"
        outcomes = run_notebook(nb, workdir, timeout, log_path)
        logged = _read_log(log_path)

    by_cell = {o.index: o for o in outcomes}
    report = NotebookReport(str(path))
    for ex_id in expected:
        ex = get_exercise(ex_id)
        cells = sorted(mentions.get(ex_id, set()))
        hung = [by_cell[i] for i in cells if i in by_cell and by_cell[i].status in ("timed out", "dead")]
        if hung and (ex_id not in logged or logged[ex_id].status != PASSED):
            o = hung[0]
            status = TIMED_OUT if o.status == "timed out" else ERROR
            report.results.append(Result(ex_id, ex.title, status, 0.0, float(ex.points), f"cell {o.index}: {o.message}"))
        elif ex_id in logged:
            report.results.append(logged[ex_id])
        elif ex_id in cell_of_check and cell_of_check[ex_id] in by_cell:
            o = by_cell[cell_of_check[ex_id]]
            msg = f"cell {o.index} raised {o.message}" if o.message else "the check did not report"
            report.results.append(Result(ex_id, ex.title, ERROR, 0.0, float(ex.points), msg))
        else:
            msg = f'no check("{ex_id}", ...) call ran in this notebook'
            report.results.append(Result(ex_id, ex.title, NOT_RUN, 0.0, float(ex.points), msg))
    return report


# --------------------------------------------------------------------------
# Output formats
# --------------------------------------------------------------------------
def _pts(p: float) -> str:
    return f"{p:g}"


def format_table(reports: list[NotebookReport]) -> str:
    lines = []
    for rep in reports:
        lines.append(rep.path)
        rows = [("exercise", "status", "points", "max", "message")]
        rows += [(r.id, r.status, _pts(r.points), _pts(r.max_points), r.message) for r in rep.results]
        rows.append(("total", "", _pts(rep.points), _pts(rep.max_points), ""))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        for row in rows:
            cells = [row[0].ljust(widths[0]), row[1].ljust(widths[1]), row[2].rjust(widths[2]), row[3].rjust(widths[3])]
            lines.append(("  " + "  ".join(cells) + "  " + row[4]).rstrip())
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


def format_gradescope(reports: list[NotebookReport]) -> str:
    tests = []
    for rep in reports:
        name = Path(rep.path).name
        for r in rep.results:
            tests.append(
                {
                    "name": f"{name}: Exercise {r.id} ({r.title})",
                    "score": r.points,
                    "max_score": r.max_points,
                    "status": "passed" if r.status == PASSED else "failed",
                    "output": r.status + (f": {r.message}" if r.message else ""),
                    "visibility": "visible",
                }
            )
    return json.dumps(
        {
            "score": sum(r.points for r in reports),
            "max_score": sum(r.max_points for r in reports),
            "visibility": "visible",
            "tests": tests,
        },
        indent=2,
    )


FORMATS = {"table": format_table, "json": format_json, "gradescope": format_gradescope}


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
    args = parser.parse_args(argv)
    if args.timeout <= 0:
        raise UsageError("python -m book.grade: --timeout must be a positive number of seconds")
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
    try:
        reports = [grade_notebook(p, args.timeout) for p in notebooks]
    except Exception as exc:  # the kernel would not start, the disk is full, ...
        print(f"error: grading failed: {type(exc).__name__}: {' '.join(str(exc).split())[:200]}", file=sys.stderr)
        return 2
    print(FORMATS[args.format](reports))
    all_passed = all(r.status == PASSED for rep in reports for r in rep.results)
    return 0 if all_passed else 1


if __name__ == "__main__":
    sys.exit(main())
