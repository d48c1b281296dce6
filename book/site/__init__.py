"""The Sphinx extension of the website: self-contained, light pages.

Formulas are typeset to SVG while the site is built (:mod:`book.site.mathsvg`),
so no page loads MathJax.

Jupyter Book 1 always loads ``sphinx-thebe``, which writes an inline script
declaring ``THEBE_JS_URL`` (an address on another host) into every page, and
under Sphinx 7 writes it twice, a JavaScript error on every page.  The book
offers no live-code launch (readers run the notebooks locally), so this
extension removes thebe's scripts from the pages.  It also gives the theme an
explicit colour mode ("auto": the reader's system setting), without which the
theme logs an error on each page.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from book.site import a11y, bibliography, kit, markers, mathsvg, student, weight


def _drop_thebe(app: Any, pagename: str, templatename: str, context: dict, doctree: Any) -> None:
    scripts = context.get("script_files")
    if not scripts:
        return
    kept = []
    for js in scripts:
        filename = str(js.filename or "") if hasattr(js, "filename") else str(js)
        body = str(getattr(js, "attributes", {}).get("body", ""))
        if "sphinx-thebe" in filename or "THEBE_JS_URL" in body or "thebe@" in filename:
            continue
        kept.append(js)
    context["script_files"] = kept
    css = context.get("css_files") or []
    context["css_files"] = [c for c in css if "sphinx-thebe" not in str(getattr(c, "filename", c))]


def _theme_mode(app: Any, config: Any) -> None:
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "auto")
    config.html_context = context


STATIC = Path(__file__).resolve().parent / "static"


def _static_files(app: Any, config: Any) -> None:
    config.html_static_path = [*config.html_static_path, str(STATIC)]


def setup(app: Any) -> dict[str, Any]:
    bibliography.register()
    markers.setup(app)
    a11y.setup(app)
    mathsvg.setup(app)
    kit.setup(app)
    app.connect("doctree-read", student.unlink_solutions)
    weight.setup(app)
    app.connect("config-inited", _theme_mode)
    app.connect("config-inited", _static_files)
    app.add_css_file("book.css")
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
