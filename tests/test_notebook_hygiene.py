"""House rules every committed notebook follows (checked on the stored files)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from helpers import ROOT

NOTEBOOKS = sorted(p for d in ("chapters", "solutions", "exercises") for p in (ROOT / d).glob("*.ipynb"))
NOISE = re.compile(r"I0000 00:00|E0000 00:00|W0000 00:00|oneDNN custom operations|absl::InitializeLog|/tmp/|/work/|/root/|/home/")


def cells(path: Path) -> list[dict]:
    return json.loads(path.read_text())["cells"]


def source(cell: dict) -> str:
    s = cell["source"]
    return "".join(s) if isinstance(s, list) else s


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_setup_comes_first(nb: Path):
    code = [source(c) for c in cells(nb) if c["cell_type"] == "code"]
    assert code, "no code cells"
    text = "\n".join(code)
    assert "book.setup(" in code[0], "the first code cell must call book.setup()"
    first_setup = text.index("book.setup(")
    for lib in ("import tensorflow", "import keras", "from keras", "from tensorflow"):
        if lib in text:
            assert text.index(lib) > first_setup, f"{lib} before book.setup()"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_outputs_are_stored_and_clean(nb: Path):
    code = [c for c in cells(nb) if c["cell_type"] == "code"]
    assert all(c.get("execution_count") is not None for c in code), "unexecuted cells: run `make notebooks`"
    counts = [c["execution_count"] for c in code]
    assert counts == list(range(1, len(code) + 1)), "not executed top to bottom in one fresh run"
    for c in code:
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", f"stored error: {out.get('ename')}"
            assert not (out["output_type"] == "stream" and out.get("name") == "stderr"), (
                f"stored stderr: {''.join(out['text'])[:200]}"
            )
            m = NOISE.search(json.dumps(out))
            assert not m, f"stored output contains {m.group(0)!r}"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_ignored_outputs_are_guarded_by_an_assert(nb: Path):
    for c in cells(nb):
        s = source(c)
        if c["cell_type"] == "code" and "NBVAL_IGNORE_OUTPUT" in s:
            assert re.search(r"^\s*assert\b", s, re.M), f"NBVAL_IGNORE_OUTPUT without an assert:\n{s[:300]}"
        if c["cell_type"] == "code":
            assert "NBVAL_SKIP" not in s, "NBVAL_SKIP hides a cell from the tests"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_plots_end_with_show(nb: Path):
    for c in cells(nb):
        s = source(c).rstrip()
        if c["cell_type"] == "code" and ("plt.subplots" in s or "plt.figure" in s):
            # a figure is either shown (plt.show(), so nbval compares no trailing repr) or closed unshown
            assert "plt.show()" in s or "plt.close(" in s, f"a plot cell without plt.show():\n{s[:200]}"


def headings(markdown: str) -> list[str]:
    """The lines of ``markdown`` outside fenced code blocks (a ``# comment`` in a bash block is no title)."""
    lines, fenced = [], False
    for line in markdown.splitlines():
        if line.lstrip().startswith(("```", "~~~")):
            fenced = not fenced
        elif not fenced:
            lines.append(line)
    return lines


def test_one_title_per_notebook():
    for nb in NOTEBOOKS:
        md = [source(c) for c in cells(nb) if c["cell_type"] == "markdown"]
        titles = [line for m in md for line in headings(m) if line.startswith("# ")]
        assert len(titles) == 1, f"{nb.name}: expected one '# ' title, found {titles}"
