"""The website's own build steps (book/site/), each on small inputs, and the student site."""

from __future__ import annotations

import io
import re
import shutil
import zipfile

import pytest
from helpers import ROOT
from PIL import Image

from book.site import a11y, bibliography, kit, markers, mathsvg, student, weight

NODE_READY = shutil.which("node") is not None and (ROOT / "node_modules" / "mathjax-full").is_dir()


def test_markers_are_stripped_and_nothing_else():
    code = "x = 1\n# NBVAL_IGNORE_OUTPUT\n    ### BEGIN SOLUTION 1.1\ny = 2  # NBVAL_ in a comment stays\n### END SOLUTION\n### STUB return ...\nz"
    assert markers.strip_markers(code) == "x = 1\ny = 2  # NBVAL_ in a comment stays\nz"


@pytest.mark.skipif(not NODE_READY, reason="Node.js or node_modules missing (make install)")
def test_tex_to_svg_and_errors():
    r = mathsvg.TexToSvg()
    try:
        inline = r.render(r"h_t = \tanh(a_t)", display=False)
        block = r.render(r"\begin{aligned} a &= b \\ c &= d \end{aligned}", display=True)
        assert inline.startswith("<mjx-container") and "<svg" in inline and "<math" in inline
        assert 'display="true"' in block
        with pytest.raises(mathsvg.MathRenderError, match="cannot typeset"):
            r.render(r"\frac{a}{", display=False)
        assert "mjx-container" in r.stylesheet()
    finally:
        r.close()


@pytest.mark.skipif(not NODE_READY, reason="Node.js or node_modules missing (make install)")
def test_glyphs_are_shared_once_per_page():
    r = mathsvg.TexToSvg()
    try:
        body = "".join(r.render(tex, display=False) for tex in ("W x", "W y", "W"))
    finally:
        r.close()
    page = f"<html><body>{body}</body></html>"
    shared = mathsvg.share_glyphs(page)
    ids = re.findall(r'<path id="([^"]+)"', shared)
    assert len(ids) == len(set(ids)) and len(ids) == 3  # W, x, y once each
    refs = set(re.findall(r'xlink:href="#([^"]+)"', shared))
    assert refs <= set(ids), "a formula refers to a glyph the page does not define"
    assert len(shared) < len(page) and "data-mml-node" not in shared
    assert shared.index('style="display:none"') < shared.index("<mjx-container")


def test_display_tex_is_assembled_like_sphinx():
    from docutils import nodes

    one = nodes.math_block("a = b", "a = b", nowrap=False, number=None)
    two_tex = "a = b\n\nc = d \\\\ e"
    two = nodes.math_block(two_tex, two_tex, nowrap=False, number=None)
    raw_tex = "\\begin{align} x \\end{align}"
    raw = nodes.math_block(raw_tex, raw_tex, nowrap=True, number=None)
    assert mathsvg.display_tex(one) == "a = b"
    assert mathsvg.display_tex(two).startswith(r"\begin{align}\begin{aligned}a = b\\\begin{split}")
    assert mathsvg.display_tex(raw) == "\\begin{align} x \\end{align}"


def test_icon_script_ttf_and_unused_icons_are_dropped():
    page = '<head><script defer src="../_static/scripts/fontawesome.js?digest=1"></script></head>'
    assert weight.drop_icon_script(page) == "<head></head>"
    css = 'src:url(a.woff2) format("woff2"),url(a.ttf) format("truetype")}'
    assert weight.drop_ttf_fallbacks(css) == 'src:url(a.woff2) format("woff2")}'
    rules = '.fa-bars:before,.fa-navicon:before{content:"\\f0c9"}.fa-moon:before{content:"x"}.x{y:z}'
    assert weight.drop_unused_icons(rules, {"fa-bars"}) == '.fa-bars:before{content:"\\f0c9"}.x{y:z}'


def test_palette_png_is_smaller_and_looks_the_same():
    image = Image.new("RGBA", (400, 200), "white")
    for x in range(400):
        image.putpixel((x, x // 2), (31, 119, 180, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    smaller = weight.palette_png(out.getvalue())
    assert len(smaller) <= len(out.getvalue())
    again = Image.open(io.BytesIO(smaller)).convert("RGBA")
    assert again.size == image.size and again.getpixel((100, 50)) == (31, 119, 180, 255)


def test_accessibility_fixes():
    page = (
        '<a class="reference internal" href="x.html">8. A <em>text</em> generator</a><details><summary><span>'
        '<div class="exercise admonition" id="ex-3-1"><p>t</p><section id="exercise-content">'
        '<div class="solution admonition" id="sol-3-1"><section id="solution-content">'
        '<div class="citation" role="doc-biblioentry">'
        '<div id="pst-primary-sidebar" class="bd-sidebar-primary bd-sidebar">'
    )
    fixed = a11y.fix_page(page)
    assert '<summary aria-label="Sections of 8. A text generator">' in fixed
    assert 'id="ex-3-1-content"' in fixed and 'id="sol-3-1-content"' in fixed
    assert "doc-biblioentry" not in fixed and 'role="listitem"' in fixed
    assert 'role="navigation" aria-label="Book contents"' in fixed


class _Entry:
    def __init__(self, authors: list[str], year: str, key: str = "k"):
        from pybtex.database import Person

        self.persons = {"author": [Person(a) for a in authors]}
        self.fields = {"year": year}
        self.key = key


def test_author_year_labels():
    assert bibliography.author_year(_Entry(["Hochreiter, Sepp"], "1991")) == "Hochreiter, 1991"
    two = _Entry(["Sch{\\\"a}fer, Anton", "Zimmermann, Hans"], "2006")
    assert bibliography.author_year(two) == "Schäfer and Zimmermann, 2006"
    assert bibliography.author_year(_Entry(["Bengio, Y.", "Simard, P.", "Frasconi, P."], "1994")) == "Bengio et al., 1994"
    assert bibliography.author_year(_Entry(["Amodei, Dario", "others"], "2016")) == "Amodei et al., 2016"
    labels = list(bibliography.AuthorYearLabels().format_labels(
        [_Entry(["Graves, A."], "2013"), _Entry(["Graves, A."], "2013"), _Entry(["Cho, K."], "2014")]
    ))
    assert labels == ["Graves, 2013a", "Graves, 2013b", "Cho, 2014"]


def test_repository_button_only_with_a_real_url():
    off = kit.repository_options({"repository_url": "https://github.com/executablebooks/jupyter-book"})
    assert off["use_repository_button"] is False and off["repository_url"] == ""
    assert kit.repository_options({})["use_repository_button"] is False
    on = kit.repository_options({"repository_url": " https://example.org/rnn-book "})
    assert on == {"repository_url": "https://example.org/rnn-book", "use_repository_button": True}


def test_kit_is_deterministic_and_can_leave_solutions_out(tmp_path):
    a, b, c = tmp_path / "a.zip", tmp_path / "b.zip", tmp_path / "c.zip"
    kit.write_kit(ROOT, a, solutions=True)
    kit.write_kit(ROOT, b, solutions=True)
    kit.write_kit(ROOT, c, solutions=False)
    assert a.read_bytes() == b.read_bytes()
    names = zipfile.ZipFile(c).namelist()
    assert not [n for n in names if "/solutions/" in n] and any("/exercises/" in n for n in names)
    assert a.stat().st_size < 5e6


def test_student_toc_and_config():
    toc = {"root": "preface", "parts": [
        {"caption": "Chapters", "chapters": [{"file": "chapters/01"}]},
        {"caption": "Solutions", "chapters": [{"file": "solutions/01"}]},
    ]}
    assert student.student_toc(toc)["parts"] == [toc["parts"][0]]
    config = student.student_config({"sphinx": {"config": {"numfig": True}}, "exclude_patterns": ["x"]})
    assert config["sphinx"]["config"] == {"numfig": True, "hide_solutions": True}
    assert config["exclude_patterns"] == ["x", "solutions/*"]


@pytest.mark.skipif(not NODE_READY, reason="Node.js or node_modules missing (make install)")
def test_student_site(tmp_path):
    """``make book-student``: no solution pages, blocks or links, and a kit without solutions."""
    html = student.build(ROOT, tmp_path / "student")
    assert (html / "chapters" / "01_sequences.html").exists()
    assert not (html / "solutions").exists()
    for page in html.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert 'class="solution' not in text, f"{page.name} shows a solution block"
        assert not re.search(r'href="[^"]*solutions/', text), f"{page.name} links a solution page"
    names = zipfile.ZipFile(html / "downloads" / "rnn-course-kit.zip").namelist()
    assert not [n for n in names if "/solutions/" in n]


def test_download_menu_links_the_kit_and_a_built_pdf(tmp_path):
    """Every page's download menu gains the kit, and the whole-book PDF once ``make pdf`` made it."""

    class App:
        outdir = str(tmp_path / "_build" / "html")

    def menu() -> list[str]:
        context = {
            "pathto": lambda name, resource=0: f"../{name}",
            "header_buttons": [{"label": "download-buttons", "buttons": []}],
        }
        kit._download_links(App(), "chapters/x", "page.html", context, None)
        return [b["url"] for b in context["header_buttons"][0]["buttons"]]

    assert menu() == ["../downloads/rnn-course-kit.zip"]
    (tmp_path / "_build" / "latex").mkdir(parents=True)
    (tmp_path / "_build" / "latex" / "book.pdf").write_bytes(b"%PDF-1.5")
    assert menu() == ["../downloads/rnn-course-kit.zip", "../downloads/book.pdf"]
