"""Accessibility fixes to the built pages, for what the theme and extensions emit.

axe-core (run by ``tests/test_site.py`` on every page) found, before these:

- the sidebar's expand buttons (``<summary>`` inside the chapter list) have
  no accessible name: each is named after its chapter;
- the bibliography marks its entries ``role="doc-biblioentry"`` (a deprecated
  role) inside ``role="list"``, a list without list items: entries become
  ``listitem``;
- every exercise and solution block of sphinx-exercise holds a
  ``<section id="exercise-content">``, so a chapter repeats the same id four
  times: each gets its block's own id (``ex-3-1-content``);
- the sidebar's logo and search sit outside any landmark: the primary sidebar
  is marked as a named ``navigation`` landmark.
"""

from __future__ import annotations

import html
import re
from pathlib import Path
from typing import Any

_TOGGLE = re.compile(
    r'(<a class="[^"]*reference internal[^"]*" href="[^"]*">(?P<title>.*?)</a>\s*<details[^>]*>\s*)<summary>'
)
_TAG = re.compile(r"<[^>]+>")
_BLOCK_CONTENT = re.compile(
    r'(<div class="(?:exercise|solution)[^"]*" id="(?P<id>[^"]+)">.*?<section id=")'
    r'(?:exercise|solution)-content(")',
    re.S,
)
_SIDEBAR = re.compile(r'<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar"')


def _label(match: re.Match[str]) -> str:
    title = " ".join(html.unescape(_TAG.sub("", match.group("title"))).split())
    label = html.escape(f"Sections of {title}", quote=True)
    return f'{match.group(1)}<summary aria-label="{label}">'


def fix_page(page: str) -> str:
    """One page's HTML with the four fixes above applied."""
    page = _TOGGLE.sub(_label, page)
    page = page.replace('role="doc-biblioentry"', 'role="listitem"')
    page = _BLOCK_CONTENT.sub(lambda m: f"{m.group(1)}{m.group('id')}-content{m.group(3)}", page)
    page = _SIDEBAR.sub(
        '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar" '
        'role="navigation" aria-label="Book contents"',
        page,
    )
    return page


def _fix_site(app: Any, exception: Exception | None) -> None:
    if exception is not None or app.builder.format != "html":
        return
    for path in Path(app.outdir).rglob("*.html"):
        text = path.read_text(encoding="utf-8")
        fixed = fix_page(text)
        if fixed != text:
            path.write_text(fixed, encoding="utf-8")


def setup(app: Any) -> None:
    """Fix every page once the HTML builder has written the site."""
    app.connect("build-finished", _fix_site)
