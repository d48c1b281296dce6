"""The Gradescope kit: ``make autograder`` writes ``_build/autograder.zip``.

The zip holds what Gradescope's autograder format asks for:

=========================  ==================================================
``setup.sh``               installs Python and the grading requirements into
                           ``/autograder/venv`` and makes ``source/`` root-only
``run_autograder``         grades the notebook(s) in ``submission/`` with
                           ``python -m book.grade --format gradescope`` and
                           writes ``results/results.json``
``book/``                  the book's package (references and checks included:
                           only the grader, as root, reads them)
``secret.txt``             the secret the hidden cases are drawn from
                           (``$BOOK_GRADE_SECRET`` when set, else random)
``grade-options.txt``      extra grader options (``--chapter N`` ...)
``requirements-grade.txt`` what setup.sh installs, pinned by ``constraints.txt``
=========================  ==================================================

Gradescope unpacks the zip into ``/autograder/source`` and copies
``run_autograder`` to ``/autograder/run_autograder``.  ``run_autograder``
takes its root from ``$GRADESCOPE_ROOT`` (default
``/autograder``) and uses ``python3`` from ``PATH``, so a test can run it in
a temporary folder.
"""

from __future__ import annotations

import argparse
import os
import secrets
import stat
import zipfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
PACKAGE = HERE.parents[1]  # book/
REPO = PACKAGE.parent


def _add(zf: zipfile.ZipFile, path: Path, name: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
    info.compress_type = zipfile.ZIP_DEFLATED
    zf.writestr(info, path.read_bytes())


def _add_text(zf: zipfile.ZipFile, text: str, name: str) -> None:
    info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
    info.external_attr = (0o600 | stat.S_IFREG) << 16
    zf.writestr(info, text)


def build(out: Path, secret: str | None = None, options: list[str] | None = None) -> Path:
    """Write the autograder zip to ``out``; returns ``out``."""
    out.parent.mkdir(parents=True, exist_ok=True)
    secret = secret or os.environ.get("BOOK_GRADE_SECRET") or secrets.token_hex(16)
    with zipfile.ZipFile(out, "w") as zf:
        _add(zf, HERE / "setup.sh", "setup.sh", executable=True)
        _add(zf, HERE / "run_autograder", "run_autograder", executable=True)
        _add(zf, HERE / "requirements-grade.txt", "requirements-grade.txt")
        _add(zf, REPO / "constraints.txt", "constraints.txt")
        for path in sorted(PACKAGE.rglob("*")):
            if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc":
                _add(zf, path, path.relative_to(REPO).as_posix(), executable=os.access(path, os.X_OK))
        _add_text(zf, secret + "\n", "secret.txt")
        if options:
            _add_text(zf, " ".join(options) + "\n", "grade-options.txt")
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.grading.autograder", description=__doc__.split("\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "_build" / "autograder.zip")
    parser.add_argument("--chapter", type=int, default=None, help="grade every submission as this chapter")
    parser.add_argument("--timeout", type=int, default=None, help="seconds per cell")
    args = parser.parse_args(argv)
    options = []
    if args.chapter is not None:
        options += ["--chapter", str(args.chapter)]
    if args.timeout is not None:
        options += ["--timeout", str(args.timeout)]
    path = build(args.out, options=options)
    print(f"wrote {path} (upload it to Gradescope as a zip autograder)")
    return 0
