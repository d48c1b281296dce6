"""The course kit: one zip with everything needed to run the book's notebooks.

The chapter pages ``import book``, so a downloaded notebook alone does not
run.  Every site build therefore writes ``downloads/rnn-course-kit.zip``: the
chapter, exercise and (on the full site) solution notebooks, the ``book``
package with its data, ``requirements.txt``, ``constraints.txt`` and
``pyproject.toml``, and a README giving the two set-up commands.  Notebooks go
in without their outputs (they are on the site; a learner makes their own),
which keeps the zip small.  The zip is deterministic: the same sources give
the same bytes.

Each page's download menu links the kit, and, when ``make pdf`` has built
the whole book as a PDF (``_build/latex/book.pdf``) before the site, that PDF too (copied to
``downloads/book.pdf``).  ``_config.yml`` may name a repository
(``repository: url:``); the theme's repository button is shown only then.
"""

from __future__ import annotations

import io
import shutil
import zipfile
from pathlib import Path
from typing import Any

import nbformat

KIT = "downloads/rnn-course-kit.zip"
PDF = "downloads/book.pdf"
#: Where ``make pdf`` leaves the PDF, beside the HTML output (``_build/latex`` next to ``_build/html``).
PDF_SOURCE = "latex/book.pdf"
#: Jupyter Book fills in its own repository when ``_config.yml`` names none.
PLACEHOLDER_REPOSITORIES = {"", "https://github.com/executablebooks/jupyter-book"}
TOP_FILES = ("requirements.txt", "constraints.txt", "pyproject.toml")
PACKAGE_SUFFIXES = {".py", ".gz", ".js", ".css", ".json", ".txt", ".sh", ".csv"}
_EPOCH = (2026, 1, 1, 0, 0, 0)

README = """\
# Recurrent Neural Networks, Properly: course kit

The notebooks of the book and the `book` package they import. Outputs are
cleared: run a notebook to see them (they match the website's).

## Set up (Python 3.10 or newer), then open the first chapter

    python3 -m venv .venv && .venv/bin/pip install -r requirements.txt
    .venv/bin/jupyter lab chapters/01_sequences.ipynb

## Folders

- `chapters/`: the book's chapters.
- `exercises/`: graded exercises; run each `check(...)` cell for feedback, or grade a
  whole notebook with `.venv/bin/python -m book.grade exercises/01_sequences.ipynb`.
{solutions}- `book/`: the package the notebooks import (NumPy reference code, data, grader).
"""


def _cleared(path: Path) -> bytes:
    nb = nbformat.read(path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    return nbformat.writes(nb).encode("utf-8") + b"\n"


def kit_files(root: Path, *, solutions: bool) -> dict[str, bytes]:
    """Name inside the zip -> bytes, for the book whose folder is ``root``."""
    files: dict[str, bytes] = {}
    folders = ["chapters", "exercises"] + (["solutions"] if solutions else [])
    for folder in folders:
        for nb in sorted((root / folder).glob("*.ipynb")):
            files[f"{folder}/{nb.name}"] = _cleared(nb)
    for path in sorted((root / "book").rglob("*")):
        if path.is_file() and path.suffix in PACKAGE_SUFFIXES and "__pycache__" not in path.parts:
            files[path.relative_to(root).as_posix()] = path.read_bytes()
    for name in TOP_FILES:
        if (root / name).exists():
            files[name] = (root / name).read_bytes()
    note = "- `solutions/`: worked answers (they give the exercises away).\n" if solutions else ""
    files["README.md"] = README.format(solutions=note).encode("utf-8")
    return files


def write_kit(root: Path, target: Path, *, solutions: bool) -> int:
    """Write the kit zip to ``target``; returns its size in bytes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=9) as zf:
        for name, data in kit_files(root, solutions=solutions).items():
            info = zipfile.ZipInfo(f"rnn-course-kit/{name}", date_time=_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o644 << 16
            zf.writestr(info, data)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(buffer.getvalue())
    return target.stat().st_size


def _solutions_included(app: Any) -> bool:
    return not bool(getattr(app.config, "hide_solutions", False))


def _pdf_source(app: Any) -> Path:
    return Path(app.outdir).parent / PDF_SOURCE


def _download_links(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    pathto = context["pathto"]
    for group in context.get("header_buttons", []):
        if group.get("label") != "download-buttons":
            continue
        group["buttons"].append(
            {
                "type": "link",
                "url": pathto(KIT, 1),
                "text": "course kit (.zip)",
                "tooltip": "Download the notebooks and the book package",
                "icon": "fas fa-file-zipper",
                "label": "download-kit-button",
            }
        )
        if _pdf_source(app).exists():
            group["buttons"].append(
                {
                    "type": "link",
                    "url": pathto(PDF, 1),
                    "text": "whole book (.pdf)",
                    "tooltip": "Download the whole book as one PDF",
                    "icon": "fas fa-book",
                    "label": "download-book-pdf-button",
                }
            )


def repository_options(options: dict[str, Any]) -> dict[str, Any]:
    """Theme options with the repository button on exactly when a real URL is set."""
    url = str(options.get("repository_url") or "").strip()
    if url in PLACEHOLDER_REPOSITORIES:
        return {**options, "repository_url": "", "use_repository_button": False}
    return {**options, "repository_url": url, "use_repository_button": True}


def _repository(app: Any, config: Any) -> None:
    config.html_theme_options = repository_options(dict(config.html_theme_options or {}))


def _write(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    out = Path(app.outdir)
    write_kit(Path(app.srcdir), out / KIT, solutions=_solutions_included(app))
    if _pdf_source(app).exists():
        (out / PDF).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(_pdf_source(app), out / PDF)


def setup(app: Any) -> None:
    """Kit and PDF links in every page's download menu; the kit written after the build."""
    app.connect("config-inited", _repository)
    app.connect("html-page-context", _download_links, priority=502)
    app.connect("build-finished", _write)
