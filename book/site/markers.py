"""Keep the notebooks' machine markers out of the rendered pages.

Code cells carry lines meant for tools, not readers: ``# NBVAL_IGNORE_OUTPUT``
(and nbval's other markers) tell the notebook tests what to compare, and the
solution notebooks' ``### BEGIN SOLUTION``, ``### END SOLUTION`` and
``### STUB ...`` lines tell :mod:`book.grading.generate` how to make the
exercise notebooks.  They stay in the notebooks; this transform drops them
from the code the website shows (the copy button copies what is shown).
"""

from __future__ import annotations

import re
from typing import Any

from docutils import nodes

MARKER = re.compile(
    r"^[ \t]*(?:# NBVAL_[A-Z_]+|### (?:BEGIN SOLUTION|END SOLUTION|STUB)\b.*)[ \t]*$"
)


def strip_markers(code: str) -> str:
    """``code`` without its marker lines (other lines untouched)."""
    return "\n".join(line for line in code.split("\n") if not MARKER.match(line))


def _in_cell_input(node: nodes.Node) -> bool:
    parent = node.parent
    return isinstance(parent, nodes.Element) and "cell_input" in parent.get("classes", [])


def _strip(app: Any, doctree: nodes.document) -> None:
    for block in list(doctree.findall(nodes.literal_block)):
        if not _in_cell_input(block):
            continue
        code = block.astext()
        kept = strip_markers(code)
        if kept != code:
            block.children = [nodes.Text(kept)]
            block.rawsource = kept


def setup(app: Any) -> None:
    """Strip marker lines from every notebook code cell as each page is read."""
    app.connect("doctree-read", _strip)
