"""Formulas rendered to SVG while the website is built, so pages load no MathJax.

Sphinx lets an extension supply the HTML for ``math`` and ``math_block`` nodes
(:meth:`sphinx.application.Sphinx.add_html_math_renderer`).  This one sends
each formula's TeX to one long-lived Node.js process running MathJax
(``render_math.js`` beside this file, with the ``mathjax-full`` package that
``npm ci`` installs from ``package.json``) and writes the SVG it returns into
the page.  A page then needs neither a 1 MB script nor web fonts, formulas
appear before any script runs, the SVG follows the text colour (dark mode),
and each formula carries hidden MathML for screen readers.

A formula MathJax cannot parse stops the build with its TeX and the error.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import threading
from pathlib import Path
from typing import Any

from docutils import nodes
from sphinx.errors import ExtensionError
from sphinx.util.math import get_node_equation_number

HERE = Path(__file__).resolve().parent
SCRIPT = HERE / "render_math.js"
RENDERER = "svg"
CSS_FILE = "mathsvg.css"


class MathRenderError(ExtensionError):
    """A formula MathJax could not typeset, or no Node.js/MathJax to typeset it."""


def _node_modules() -> Path | None:
    """The ``node_modules`` folder holding mathjax-full: beside the repository's package.json."""
    for folder in (HERE, *HERE.parents):
        candidate = folder / "node_modules" / "mathjax-full"
        if candidate.is_dir():
            return candidate.parent
    return None


class TexToSvg:
    """One Node.js process turning TeX into ``<mjx-container>`` SVG markup.

    >>> renderer = TexToSvg()                     # doctest: +SKIP
    >>> renderer.render(r"h_t", display=False)     # doctest: +SKIP
    '<mjx-container class="MathJax" jax="SVG" ...><svg ...>...</svg>...</mjx-container>'
    """

    def __init__(self) -> None:
        node = shutil.which("node")
        modules = _node_modules()
        if node is None or modules is None:
            raise MathRenderError(
                "rendering the book's formulas needs Node.js and the npm packages of "
                "package.json (`make install` runs `npm ci`)"
            )
        env = dict(os.environ, NODE_PATH=str(modules))
        self._proc = subprocess.Popen(
            [node, str(SCRIPT)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            encoding="utf-8",
            env=env,
            bufsize=1,
        )
        self._lock = threading.Lock()
        self._node = node
        self._env = env

    def render(self, tex: str, *, display: bool) -> str:
        """The HTML of one formula; raises :class:`MathRenderError` on bad TeX."""
        request = json.dumps({"tex": tex, "display": display})
        with self._lock:
            assert self._proc.stdin is not None and self._proc.stdout is not None
            self._proc.stdin.write(request + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            raise MathRenderError("the MathJax process (node render_math.js) stopped unexpectedly")
        reply = json.loads(line)
        if "error" in reply:
            raise MathRenderError(f"MathJax cannot typeset {tex!r}: {reply['error']}")
        return reply["html"]

    def stylesheet(self) -> str:
        """The CSS the SVG containers need (sizes, hidden MathML)."""
        out = subprocess.run(
            [self._node, str(SCRIPT), "--css"],
            capture_output=True,
            text=True,
            env=self._env,
            check=True,
            timeout=60,
        )
        return out.stdout

    def close(self) -> None:
        if self._proc.poll() is None:
            assert self._proc.stdin is not None
            self._proc.stdin.close()
            self._proc.wait(timeout=30)


_renderer: TexToSvg | None = None


def renderer() -> TexToSvg:
    """The build's renderer, started on first use."""
    global _renderer
    if _renderer is None:
        _renderer = TexToSvg()
    return _renderer


def _render(self: Any, node: nodes.Element, tex: str, display: bool) -> str:
    try:
        return renderer().render(tex, display=display)
    except MathRenderError as err:
        raise MathRenderError(f"{node.source}:{node.line}: {err}") from None


def visit_math(self: Any, node: nodes.math) -> None:
    """Inline math: ``<span class="math">`` around the SVG."""
    self.body.append(self.starttag(node, "span", "", CLASS="math notranslate nohighlight"))
    self.body.append(_render(self, node, node.astext(), display=False))
    self.body.append("</span>")
    raise nodes.SkipNode


def display_tex(node: nodes.math_block) -> str:
    """The TeX of a display block, assembled as ``sphinx.ext.mathjax`` does."""
    if node["nowrap"]:
        return node.astext()
    parts = [part for part in node.astext().split("\n\n") if part.strip()]
    body = [rf"\begin{{split}}{p}\end{{split}}" if r"\\" in p else p for p in parts]
    if len(body) > 1:
        return r"\begin{align}\begin{aligned}" + r"\\".join(body) + r"\end{aligned}\end{align}"
    return body[0] if body else ""


def visit_displaymath(self: Any, node: nodes.math_block) -> None:
    """Display math: the equation number (if any), then the SVG, in ``<div class="math">``."""
    self.body.append(self.starttag(node, "div", CLASS="math notranslate nohighlight"))
    if node["number"] and not node["nowrap"]:
        number = get_node_equation_number(self, node)
        self.body.append(f'<span class="eqno">({number})')
        self.add_permalink_ref(node, "Link to this equation")
        self.body.append("</span>")
    self.body.append(_render(self, node, display_tex(node), display=True))
    self.body.append("</div>\n")
    raise nodes.SkipNode


_DEFS = re.compile(r"<defs>((?:<path id=\"MJX-\d+-[^\"]+\" d=\"[^\"]*\"></path>)*)</defs>")
_PATH = re.compile(r"<path id=\"MJX-\d+-([^\"]+)\" d=\"([^\"]*)\"></path>")
_HREF = re.compile(r"xlink:href=\"#MJX-\d+-([^\"]+)\"")
#: Attributes only MathJax's own scripts (menus, explorer) read; no page loads them.
_SCRIPT_ONLY = re.compile(r' data-(?:mml-node|c|mjx-texclass)="[^"]*"')


def share_glyphs(page: str) -> str:
    """Move every formula's glyph paths into one hidden ``<svg>`` at the top of the page.

    With MathJax's "local" font cache each SVG carries the paths of its own
    glyphs, so a page with many formulas repeats the same paths hundreds of
    times.  A glyph's id names its font variant and character (``MJX-12-TEX-I-1D44A``
    is italic W in formula 12), so the number can be dropped and each path kept
    once: Chapter 3's page shrinks from about 870 kB to about 510 kB.  The
    ``data-*`` attributes MathJax leaves for its own scripts go too.
    """
    glyphs: dict[str, str] = {}

    def collect(match: re.Match[str]) -> str:
        for name, path in _PATH.findall(match.group(1)):
            glyphs.setdefault(name, path)
        return ""

    page = _DEFS.sub(collect, page)
    if not glyphs:
        return page
    page = _SCRIPT_ONLY.sub("", page)
    page = _HREF.sub(lambda m: f'xlink:href="#MJX-{m.group(1)}"', page)
    paths = "".join(f'<path id="MJX-{name}" d="{d}"></path>' for name, d in sorted(glyphs.items()))
    sprite = (
        '<svg xmlns="http://www.w3.org/2000/svg" style="display:none" aria-hidden="true">'
        f"<defs>{paths}</defs></svg>"
    )
    body = re.search(r"<body[^>]*>", page)
    if body is None:
        return sprite + page
    return page[: body.end()] + sprite + page[body.end() :]


def _use_svg(app: Any, config: Any) -> None:
    config.html_math_renderer = RENDERER


def _add_css(app: Any) -> None:
    if app.builder.format == "html":
        app.add_css_file(CSS_FILE)


def _write_css(app: Any, exception: Exception | None) -> None:
    global _renderer
    if exception is not None or app.builder.format != "html":
        return
    static = Path(app.outdir) / "_static"
    static.mkdir(parents=True, exist_ok=True)
    (static / CSS_FILE).write_text(renderer().stylesheet(), encoding="utf-8")
    for page in Path(app.outdir).rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        if "MJX-" in text:
            page.write_text(share_glyphs(text), encoding="utf-8")
    renderer().close()
    _renderer = None


def setup(app: Any) -> None:
    """Register the SVG renderer and make it the HTML builder's math renderer."""
    app.add_html_math_renderer(RENDERER, (visit_math, None), (visit_displaymath, None))
    app.connect("config-inited", _use_svg)
    app.connect("builder-inited", _add_css)
    app.connect("build-finished", _write_css)
