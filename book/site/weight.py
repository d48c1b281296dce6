"""Lighter pages: drop what the theme ships that these pages never need.

The theme (pydata-sphinx-theme, under sphinx-book-theme) draws its icons
twice over: its stylesheet carries the Font Awesome icon font, and every page
also loads ``fontawesome.js`` (1.5 MB), which swaps each icon for an SVG.
The stylesheet alone draws every icon, so the script is removed from the
pages and the site.  The icon font is also offered as TrueType, a fallback
for browsers without WOFF2 (every current browser has it), which tools that
follow ``url()``s count as part of every page; the fallback is removed.
The stylesheet names all 1,900 Font Awesome icons (86 kB); the rules for
icons that no page or script of the site uses are removed.  Last, the
figures: matplotlib writes 32-bit PNGs at twice their display size; a figure
of lines and text needs no more than 256 colours, so each copy in the site's
``_images`` is re-encoded with a 256-colour palette (without dithering) when
that is smaller, about a quarter of the bytes.  The notebooks keep the originals.

Run on the built HTML after Sphinx has written it (``build-finished``).
"""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from PIL import Image

_FA_SCRIPT = re.compile(r'<script[^>]*src="[^"]*_static/scripts/fontawesome\.js[^"]*"[^>]*></script>\s*')
_ICON_RULE = re.compile(r"((?:\.fa-[a-z0-9-]+:before,?)+)(\{content:[^}]*\})")
_ICON_NAME = re.compile(r"fa-[a-z0-9-]+")
_TTF_SOURCE = re.compile(r',\s*url\([^)]*\.ttf\)\s*format\(["\']truetype["\']\)')


def drop_icon_script(page: str) -> str:
    """The page without its ``<script src=".../fontawesome.js">``."""
    return _FA_SCRIPT.sub("", page)


def drop_ttf_fallbacks(css: str) -> str:
    """A stylesheet whose ``@font-face`` rules offer only their WOFF2 sources."""
    return _TTF_SOURCE.sub("", css)


def drop_unused_icons(css: str, used: set[str]) -> str:
    """A stylesheet keeping only the ``.fa-NAME:before`` rules of icon names in ``used``."""

    def keep(match: re.Match[str]) -> str:
        selectors = [s for s in match.group(1).split(",") if s and s[1:-7] in used]
        return ",".join(selectors) + match.group(2) if selectors else ""

    return _ICON_RULE.sub(keep, css)


def palette_png(data: bytes) -> bytes:
    """``data`` (a PNG) re-encoded with at most 256 colours, or unchanged if that is not smaller."""
    with Image.open(io.BytesIO(data)) as image:
        palette = image.convert("RGBA").quantize(
            colors=256, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
        )
        out = io.BytesIO()
        palette.save(out, "PNG", optimize=True)
    smaller = out.getvalue()
    return smaller if len(smaller) < len(data) else data


def lighten(outdir: Path) -> None:
    """Apply the edits to a built site in ``outdir`` and delete the files nothing loads."""
    used: set[str] = set()
    for page in outdir.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        lighter = drop_icon_script(text)
        used.update(_ICON_NAME.findall(lighter))
        if lighter != text:
            page.write_text(lighter, encoding="utf-8")
    static = outdir / "_static"
    for script in static.rglob("*.js"):
        if script.name != "fontawesome.js":
            used.update(_ICON_NAME.findall(script.read_text(encoding="utf-8", errors="replace")))
    for css in (static / "styles").glob("*.css"):
        text = css.read_text(encoding="utf-8")
        lighter = drop_unused_icons(drop_ttf_fallbacks(text), used)
        if lighter != text:
            css.write_text(lighter, encoding="utf-8")
    for png in (outdir / "_images").glob("*.png"):
        data = png.read_bytes()
        lighter_png = palette_png(data)
        if lighter_png is not data:
            png.write_bytes(lighter_png)
    maps = static.rglob("*.map")  # source maps, for debugging the theme's own sources
    unused = {*static.glob("scripts/fontawesome.js*"), *static.rglob("webfonts/*.ttf"), *maps}
    for path in unused:
        path.unlink()


def _lighten(app: Any, exception: Exception | None) -> None:
    if exception is None and app.builder.format == "html":
        lighten(Path(app.outdir))


def setup(app: Any) -> None:
    """Lighten the site once the HTML builder has written it."""
    app.connect("build-finished", _lighten)
