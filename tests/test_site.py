"""The website, read as files: a strict (-W) build and what its pages contain.

The browser tests (tests/test_site_browser.py) open the same build in
headless Chromium.  This file checks what can be read from the HTML: no
request to another host, formulas already typeset, markers hidden, titles,
links, numbering, bibliography labels, page weight, the course kit.
"""

from __future__ import annotations

import html as html_lib
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT

SHARED_TOOLS = ROOT.parent / "shared" / "tools"


def toc_files() -> list[str]:
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]]
    for part in toc.get("parts", []):
        for ch in part.get("chapters", []):
            files.append(ch["file"])
            files += [s["file"] for s in ch.get("sections", [])]
    return files


def pages(site: Path) -> list[Path]:
    return sorted(p for p in site.rglob("*.html") if not p.relative_to(site).as_posix().startswith("_"))


def article(page: Path) -> str:
    text = page.read_text(encoding="utf-8")
    m = re.search(r'<article class="bd-article">(.*?)</article>', text, re.S)
    return m.group(1) if m else text


def test_every_notebook_is_in_the_toc():
    listed = set(toc_files())
    for folder in ("chapters", "exercises", "solutions"):
        for nb in (ROOT / folder).glob("*.ipynb"):
            assert f"{folder}/{nb.stem}" in listed, f"{folder}/{nb.name} is not in _toc.yml"


def test_every_toc_entry_has_a_page(site):
    for f in toc_files():
        assert (site / f"{f}.html").exists(), f"no page for {f}"


def test_no_page_loads_from_another_host(site):
    pattern = re.compile(r"<(script|link|img|iframe)\b[^>]*\b(src|href)=\"(https?:)?//", re.I)
    for page in site.rglob("*.html"):
        text = page.read_text(errors="replace")
        m = pattern.search(text)
        assert not m, f"{page.relative_to(site)} loads {m.group(0)}"


def test_formulas_are_typeset_when_the_site_is_built(site):
    """Every formula is SVG in the HTML: no page loads MathJax or shows raw TeX."""
    typeset = 0
    for page in pages(site):
        text = page.read_text(encoding="utf-8")
        name = page.relative_to(site)
        assert not re.search(r"<script[^>]+mathjax", text, re.I), f"{name} still loads MathJax"
        for m in re.finditer(r'<(span|div) class="math notranslate nohighlight"[^>]*>\s*(.{0,40})', text):
            assert m.group(2).startswith(("<mjx-container", '<span class="eqno">')), (
                f"{name}: a formula is not typeset: {m.group(2)!r}"
            )
            typeset += 1
        assert "merror" not in text, f"{name}: MathJax reported a TeX error"
    assert typeset > 500, f"only {typeset} formulas on the whole site"
    assert not (site / "_static" / "mathjax").exists(), "a MathJax copy is still shipped"


def test_markers_stay_out_of_the_pages(site):
    for page in pages(site):
        text = article(page)
        for marker in ("NBVAL_", "BEGIN SOLUTION", "END SOLUTION", "### STUB"):
            assert marker not in text, f"{page.relative_to(site)} shows {marker!r}"


def test_code_lines_fit_a_phone_column(site):
    """Code cells of the chapters wrap near 88 characters (wider lines scroll in their box)."""
    for page in sorted((site / "chapters").glob("*.html")):
        for block in re.findall(r'<div class="cell_input.*?<pre>(.*?)</pre>', page.read_text(), re.S):
            for line in html_lib.unescape(re.sub(r"<[^>]+>", "", block)).split("\n"):
                assert len(line) <= 90, f"{page.name}: code line of {len(line)} characters: {line[:60]!r}"


def test_solution_pages_say_what_they_are(site):
    for page in sorted((site / "solutions").glob("*.html")):
        h1 = re.search(r"<h1>(.*?)<a", page.read_text(), re.S)
        assert h1 and re.sub(r"<[^>]+>", "", h1.group(1)).strip().startswith("Solutions:"), page.name
        text = article(page)
        stem = page.stem
        assert f"../exercises/{stem}.html" in text, f"{page.name} does not link its exercises"
        assert f"../chapters/{stem}.html" in text, f"{page.name} does not link its chapter"
    sidebar = (site / "preface.html").read_text()
    part = sidebar.split(">Solutions<", 1)[1].split("</ul>", 1)[0]
    entries = re.findall(r'href="solutions/[^"]+">([^<]+)<', part)
    assert entries and all(e.startswith("Solutions") for e in entries), entries


def test_chapters_link_their_exercises(site):
    for nb in sorted((ROOT / "exercises").glob("*.ipynb")):
        chapter = site / "chapters" / f"{nb.stem}.html"
        assert f'href="../exercises/{nb.stem}.html' in article(chapter), f"{chapter.name}: no link to its exercises"


def test_headings_are_numbered_once(site):
    for page in sorted((site / "chapters").glob("*.html")):
        for h in re.findall(r"<h[1-4]>(.*?)<a class=\"headerlink\"", page.read_text(), re.S):
            text = re.sub(r"<[^>]+>", "", h).strip()
            assert not re.match(r"^[\d.]+\s+\d+\.\s", text), f"{page.name}: heading numbered twice: {text!r}"


def test_bibliography_labels_read_as_the_citations(site):
    bib = (site / "bibliography.html").read_text()
    labels = set(re.findall(r'<span class="fn-bracket">\[</span>([^<]+)<span class="fn-bracket">\]', bib))
    assert labels and not any(label.isdigit() for label in labels), sorted(labels)[:5]
    cited = set()
    for page in site.rglob("*.html"):
        cited |= set(re.findall(r'href="[^"]*bibliography\.html#[^"]*" title="[^"]*">([^<]+)</a>', page.read_text()))
    assert len(cited) >= 10
    assert cited <= labels, f"citations with no matching label: {sorted(cited - labels)}"


def test_no_made_up_repository(site):
    text = (site / "chapters" / "03_bptt.html").read_text()
    assert "executablebooks" not in text and "repository-button" not in text


def test_notebooks_can_be_downloaded(site):
    for f in toc_files():
        if (ROOT / f"{f}.ipynb").exists():
            assert (site / "_sources" / f"{f}.ipynb").exists(), f"no .ipynb download for {f}"


def first_visit_bytes(site: Path, page: Path) -> int:
    """A page's HTML plus every local script, stylesheet, image and font it loads (as site_weight.py)."""
    seen: set[Path] = set()
    todo = [(page, ref) for ref in re.findall(r'<(?:script|img|link)[^>]+(?:src|href)="([^"#]+)"', page.read_text())]
    while todo:
        base, ref = todo.pop()
        if "://" in ref or ref.startswith("data:"):
            continue
        path = (base.parent / ref.split("?")[0]).resolve()
        if path in seen or not path.is_file() or path.suffix == ".html":
            continue
        seen.add(path)
        if path.suffix == ".css":
            todo += [(path, u) for u in re.findall(r"url\(['\"]?([^'\")]+)['\"]?\)", path.read_text(errors="replace"))]
    return page.stat().st_size + sum(p.stat().st_size for p in seen)


def test_site_and_pages_are_light(site):
    total = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
    assert total <= 15e6, f"the site is {total / 1e6:.1f} MB (limit 15)"
    for page in sorted((site / "chapters").glob("*.html")):
        weight = first_visit_bytes(site, page)
        assert weight <= 2.0e6, f"{page.name}: first visit {weight / 1e6:.2f} MB (limit 2.0)"


@pytest.mark.skipif(not (SHARED_TOOLS / "site_weight.py").exists(), reason="../shared/tools not beside the repo")
def test_site_weight_tool_passes(site):
    r = subprocess.run([sys.executable, str(SHARED_TOOLS / "site_weight.py")], cwd=site.parent.parent,
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr


def test_course_kit(site, tmp_path):
    """The kit holds the notebooks (outputs cleared), the package, the requirements and a README."""
    kit = site / "downloads" / "rnn-course-kit.zip"
    for page in ("preface.html", "chapters/03_bptt.html"):
        assert "rnn-course-kit.zip" in (site / page).read_text(), f"{page} does not link the kit"
    with zipfile.ZipFile(kit) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path)
    base = "rnn-course-kit/"
    for f in ("README.md", "requirements.txt", "constraints.txt", "pyproject.toml", "book/__init__.py",
              "book/nn/rnn.py", "book/data/python_docs.txt.gz", "chapters/01_sequences.ipynb",
              "exercises/01_sequences.ipynb", "solutions/01_sequences.ipynb"):
        assert base + f in names, f"the kit lacks {f}"
    assert not [n for n in names if "__pycache__" in n]
    readme = (tmp_path / base / "README.md").read_text()
    assert "pip install -r requirements.txt" in readme and "jupyter lab" in readme
    nb = json.loads((tmp_path / base / "chapters" / "03_bptt.ipynb").read_text())
    assert all(not c.get("outputs") for c in nb["cells"] if c["cell_type"] == "code")
    # The kit's own package is importable and complete enough to run a chapter's first cells.
    code = "import book, book.nn, book.data; book.setup(0, tensorflow=False); print(book.__file__)"
    r = subprocess.run([sys.executable, "-c", code], cwd=tmp_path / base, capture_output=True, text=True,
                       env={"PYTHONPATH": str(tmp_path / base), "PATH": "/usr/bin:/bin"}, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    assert str(tmp_path) in r.stdout, "the kit's package was not the one imported"
