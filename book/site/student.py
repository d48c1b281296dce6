"""The student website: the book without its solutions (``make book-student``).

``python -m book.site.student [OUT]`` builds the site into ``OUT/html``
(default ``_build/student/html``) from the same sources as the full site,
with three differences: the table of contents loses its parts that list
``solutions/`` pages; sphinx-exercise's ``hide_solutions`` drops every
``{solution}`` block from the chapters; and links to solution pages become
plain text (:func:`unlink_solutions`).  The course kit of this site leaves the
solution notebooks out.  Warnings are errors, as for ``make book``.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

import yaml
from docutils import nodes
from sphinx import addnodes

SOLUTIONS = "solutions/"


def student_toc(toc: dict[str, Any]) -> dict[str, Any]:
    """``toc`` without the entries (and then empty parts) under ``solutions/``."""
    parts = []
    for part in toc.get("parts", []):
        chapters = [c for c in part.get("chapters", []) if not c["file"].startswith(SOLUTIONS)]
        if chapters:
            parts.append({**part, "chapters": chapters})
    return {**toc, "parts": parts}


def student_config(config: dict[str, Any]) -> dict[str, Any]:
    """``config`` with solutions hidden and solution sources excluded."""
    sphinx = dict(config.get("sphinx") or {})
    sphinx_config = {**(sphinx.get("config") or {}), "hide_solutions": True}
    sphinx["config"] = sphinx_config
    excluded = [*config.get("exclude_patterns", []), "solutions/*"]
    return {**config, "sphinx": sphinx, "exclude_patterns": excluded}


def unlink_solutions(app: Any, doctree: nodes.document) -> None:
    """On the student site, a link to a solution page becomes its text."""
    if not getattr(app.config, "hide_solutions", False):
        return
    for ref in list(doctree.findall(addnodes.pending_xref)):
        if SOLUTIONS in str(ref.get("reftarget", "")):
            ref.replace_self(nodes.inline("", "", *ref.children))


def build(root: Path, out: Path) -> Path:
    """Build the student site of the book in ``root`` into ``out / "html"``; returns that folder."""
    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    jupyter_book = Path(sys.executable).parent / "jupyter-book"
    with tempfile.TemporaryDirectory(prefix="student-") as tmp:
        tmp_path = Path(tmp)
        (tmp_path / "_toc.yml").write_text(yaml.safe_dump(student_toc(toc)), encoding="utf-8")
        (tmp_path / "_config.yml").write_text(yaml.safe_dump(student_config(config)), encoding="utf-8")
        run = subprocess.run(
            [
                str(jupyter_book), "build", str(root), "--warningiserror", "--keep-going", "--quiet",
                "--toc", str(tmp_path / "_toc.yml"), "--config", str(tmp_path / "_config.yml"),
                "--path-output", str(tmp_path / "site"),
            ],
            capture_output=True,
            text=True,
        )
        if run.returncode != 0:
            raise SystemExit("student site: jupyter-book build failed:\n" + run.stdout[-3000:] + run.stderr[-3000:])
        html = out / "html"
        if html.exists():
            shutil.rmtree(html)
        out.mkdir(parents=True, exist_ok=True)
        shutil.move(str(tmp_path / "site" / "_build" / "html"), str(html))
    return html


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m book.site.student", description=__doc__.split("\n")[0])
    parser.add_argument("out", nargs="?", default="_build/student", help="output folder (default _build/student)")
    args = parser.parse_args(argv)
    html = build(Path.cwd(), Path(args.out))
    print(f"The student website is in {html}/index.html")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
