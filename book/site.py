"""A small Sphinx extension that keeps the website self-contained.

Jupyter Book 1 always loads ``sphinx-thebe``, which writes an inline script
declaring ``THEBE_JS_URL`` (an address on another host) into every page, and
under Sphinx 7 writes it twice, a JavaScript error on every page.  The book
offers no live-code launch (readers run the notebooks locally), so this
extension removes thebe's scripts from the pages.  It also gives the theme an
explicit colour mode, without which the theme logs an error on each page.
"""

from __future__ import annotations

from typing import Any


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


def _theme_mode(app: Any, config: Any) -> None:
    context = dict(config.html_context or {})
    context.setdefault("default_mode", "light")
    config.html_context = context


def setup(app: Any) -> dict[str, Any]:
    app.connect("config-inited", _theme_mode)
    app.connect("html-page-context", _drop_thebe, priority=900)
    return {"parallel_read_safe": True, "parallel_write_safe": True}
