"""The whole book as one PDF, through Jupyter Book's LaTeX builder (``make pdf``).

The book is built with ``--builder pdflatex`` (XeLaTeX under Jupyter Book's LaTeX
class) into a temporary folder, warnings as errors, and the PDF must hold the
whole book: every page of the table of contents (its title in the text), at least
as many embedded images as the pages have figures, the chapters numbered 1, 2, ...
as on the website, and no character that the fonts lack, no undefined reference.
A formula LaTeX cannot typeset stops the build, so a PDF at all means every
formula compiled.  It may not skip in CI; elsewhere it skips when TeX Live
(latexmk, xelatex) or poppler-utils (pdfinfo, pdftotext, pdfimages) is not
installed: ``make pdf-deps`` installs them on Debian.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from helpers import ROOT, in_ci

TOOLS = ("latexmk", "xelatex", "pdfinfo", "pdftotext", "pdfimages")
MISSING = [tool for tool in TOOLS if shutil.which(tool) is None]


@pytest.fixture(scope="module")
def latex_dir(tmp_path_factory) -> Path:
    if MISSING:
        message = f"not installed: {', '.join(MISSING)} (run `make pdf-deps` as root on Debian)"
        if in_ci():
            pytest.fail("the PDF test may not skip in CI; " + message)
        pytest.skip(message)
    out = tmp_path_factory.mktemp("pdf")
    jb = Path(sys.executable).parent / "jupyter-book"
    # latexmk quiet; TeX stops at the first error instead of waiting for input.
    env = dict(os.environ, LATEXMKOPTS="-silent",
               LATEXOPTS="-interaction=nonstopmode -halt-on-error")
    r = subprocess.run(
        [str(jb), "build", str(ROOT), "--builder", "pdflatex", "--warningiserror", "--keep-going",
         "--path-output", str(out)],
        capture_output=True,
        text=True,
        stdin=subprocess.DEVNULL,
        env=env,
        timeout=900,
    )
    latex = out / "_build" / "latex"
    log = latex / "book.log"
    tex_errors = ""
    if log.exists():  # a TeX error: its "! ..." line and the two after it
        lines = log.read_text(errors="replace").splitlines()
        tex_errors = "\n".join("\n".join(lines[i:i + 3]) for i, line in enumerate(lines)
                               if line.startswith("!"))
    assert r.returncode == 0 and (latex / "book.pdf").exists(), (
        "jupyter-book --builder pdflatex failed:\n"
        + r.stdout[-2000:] + r.stderr[-3000:] + "\n" + tex_errors
    )
    return latex


def toc_pages() -> list[tuple[str, bool, bool]]:
    """(file, numbered part?, top-level chapter?) for every page of _toc.yml, in order."""
    import yaml

    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    pages = [(toc["root"], False, False)]
    for part in toc.get("parts", []):
        numbered = bool(part.get("numbered"))
        for ch in part.get("chapters", []):
            pages.append((ch["file"], numbered, True))
            pages += [(s["file"], numbered, False) for s in ch.get("sections", [])]
    return pages


def markdown_and_outputs(name: str) -> tuple[str, list[dict]]:
    """A page's markdown text and the outputs of its code cells."""
    nb_path = ROOT / f"{name}.ipynb"
    if not nb_path.exists():
        return (ROOT / f"{name}.md").read_text(), []
    cells = json.loads(nb_path.read_text())["cells"]
    text = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    outputs = [o for c in cells if c["cell_type"] == "code" for o in c.get("outputs", [])]
    return text, outputs


def title(name: str) -> str:
    text, _ = markdown_and_outputs(name)
    m = re.search(r"^# (.+)$", text, re.M)
    assert m, f"{name} has no '# title'"
    return m.group(1).replace("`", "").strip()


def figure_count(name: str) -> int:
    """Images a page shows: image outputs plus markdown images and figure directives."""
    text, outputs = markdown_and_outputs(name)
    images = sum(
        1 for o in outputs if any(m.startswith("image/") for m in o.get("data", {}))
    )
    images += len(re.findall(r"!\[[^\]]*\]\(|^[:`]{3,}\{(?:figure|image)\}|<img\b", text, re.M))
    return images


def normalise(text: str) -> str:
    """Text as pdftotext gives it and as the sources spell it, made comparable."""
    text = unicodedata.normalize("NFKC", text)  # ligatures (fi, fl) back to letters
    text = text.translate(str.maketrans("“”‘’–—", "\"\"''--"))  # Sphinx's smart quotes
    return re.sub(r"\s+", " ", text)


def poppler(tool: str, *args: str) -> str:
    """What a poppler-utils tool prints."""
    return subprocess.run([tool, *args], capture_output=True, text=True, check=True).stdout


@pytest.fixture(scope="module")
def pdf_text(latex_dir) -> str:
    return normalise(poppler("pdftotext", str(latex_dir / "book.pdf"), "-"))


def test_page_count_and_size(latex_dir):
    info = poppler("pdfinfo", str(latex_dir / "book.pdf"))
    pages = int(re.search(r"^Pages:\s+(\d+)", info, re.M).group(1))
    n = len(toc_pages())
    assert 3 * n <= pages <= 40 * n, f"{pages} pages for {n} pages of the table of contents"
    size = (latex_dir / "book.pdf").stat().st_size
    assert size < 30e6, f"the PDF is {size / 1e6:.1f} MB"


def test_every_page_of_the_toc_is_in_the_pdf(pdf_text):
    missing = [f"{name}: {title(name)!r}" for name, _, _ in toc_pages()
               if normalise(title(name)) not in pdf_text]
    assert not missing, "titles not found in the PDF's text:\n" + "\n".join(missing)


def test_chapters_are_numbered_as_on_the_website(pdf_text):
    chapters = [name for name, numbered, top in toc_pages() if numbered and top]
    assert chapters
    for number, name in enumerate(chapters, start=1):
        head = normalise(f"Chapter {number}. {title(name)}")
        assert head in pdf_text, f"no running head {head!r} in the PDF"
    extra = f"Chapter {len(chapters) + 1}."
    assert extra not in pdf_text, f"{extra!r} in the PDF: only the chapters part is numbered"


def test_every_figure_is_embedded(latex_dir):
    listing = poppler("pdfimages", "-list", str(latex_dir / "book.pdf")).splitlines()[2:]
    embedded = sum(1 for row in listing if row.split()[2] == "image")  # not the soft masks
    figures = sum(figure_count(name) for name, _, _ in toc_pages())
    assert figures > 0
    assert embedded >= figures, f"{embedded} images in the PDF, {figures} figures in the pages"


def test_no_lost_character_or_undefined_reference(latex_dir):
    log = (latex_dir / "book.log").read_text(errors="replace")
    log = re.sub(r"(?m)^(.{79})\n", r"\1", log)  # TeX wraps its log at 79 characters
    lost = sorted(set(re.findall(r"Missing character: There is no (.+?) in font", log)))
    assert not lost, f"characters missing from the fonts (they vanish from the PDF): {lost}"
    undefined = re.findall(
        r"LaTeX Warning: There were undefined \w+|Hyper reference `[^']*' on page \d+ undefined",
        log,
    )
    assert not undefined, f"LaTeX, in book.log: {undefined}"
