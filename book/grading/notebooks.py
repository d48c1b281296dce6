"""Executing notebooks and storing their outputs (``python -m book.notebooks PATH...``).

Authors run this after editing a chapter or a solution notebook, so that the
outputs committed with it are those of a fresh, top-to-bottom run; ``pytest
--nbval`` later re-executes every notebook and fails when a fresh run differs
from what is stored.  The kernel is the Python running this module.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import nbformat
from nbclient import NotebookClient

KERNEL_NAME = "python3"
DEFAULT_TIMEOUT = 300


def read_notebook(path: str | Path) -> nbformat.NotebookNode:
    """Read a notebook (format 4), raising ``ValueError`` with a one-line reason if it is not one."""
    path = Path(path)
    if not path.exists():
        raise ValueError(f"{path}: no such file")
    if path.is_dir():
        raise ValueError(f"{path}: is a folder, not a notebook")
    try:
        nb = nbformat.read(path, as_version=4)
    except UnicodeDecodeError:
        raise ValueError(f"{path}: not a text file") from None
    except Exception as exc:  # nbformat raises several types for bad JSON
        reason = " ".join(str(exc).split())[:120]
        raise ValueError(f"{path}: not a readable notebook ({reason})") from None
    if not isinstance(nb.get("cells"), list):
        raise ValueError(f"{path}: not a notebook (no list of cells)")
    return nb


def clean_metadata(nb: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """Drop per-run noise (execution timestamps, widget state) so re-runs diff cleanly."""
    nb.metadata.pop("widgets", None)
    nb.metadata.pop("jupytext", None)
    nb.metadata["kernelspec"] = {
        "display_name": "Python 3 (ipykernel)",
        "language": "python",
        "name": KERNEL_NAME,
    }
    for cell in nb.cells:
        cell.metadata.pop("execution", None)
        cell.metadata.pop("ExecuteTime", None)
    return nb


def execute(
    nb: nbformat.NotebookNode, cwd: str | Path, timeout: int = DEFAULT_TIMEOUT
) -> nbformat.NotebookNode:
    """Execute ``nb`` top to bottom in a fresh kernel with working folder ``cwd``; errors raise."""
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name=KERNEL_NAME,
        record_timing=False,
        resources={"metadata": {"path": str(cwd)}},
    )
    client.execute()
    return clean_metadata(nb)


def write_notebook(nb: nbformat.NotebookNode, path: str | Path) -> None:
    nbformat.validate(nb)
    Path(path).write_text(nbformat.writes(nb) + "\n", encoding="utf-8")


def execute_in_place(path: str | Path, timeout: int = DEFAULT_TIMEOUT) -> float:
    """Execute the notebook at ``path``, store its outputs, return the seconds it took."""
    path = Path(path)
    nb = read_notebook(path)
    start = time.perf_counter()
    execute(nb, path.parent, timeout)
    seconds = time.perf_counter() - start
    write_notebook(nb, path)
    return seconds


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m book.notebooks", description="Execute notebooks and store their outputs."
    )
    parser.add_argument("paths", nargs="+", help="notebooks to execute in place")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds per cell")
    args = parser.parse_args(argv)
    for p in args.paths:
        seconds = execute_in_place(p, args.timeout)
        print(f"{p}: executed in {seconds:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
