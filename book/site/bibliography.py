"""Bibliography labels that read like the citations in the text.

The chapters cite author-year (``bibtex_reference_style: author_year`` gives
"Hochreiter and Schmidhuber, 1997"), but pybtex's stock styles label the
bibliography's entries [1]-[33] or with alpha codes, so a reader cannot find
a citation in the list by its label.  This registers a pybtex style,
``authoryear`` (``bibtex_default_style`` in ``_config.yml``): the entries of
pybtex's ``plain`` style (sorted by author, then year), labelled the way the
text cites them: "Hochreiter, 1991", "Hochreiter and Schmidhuber, 1997",
"Bengio et al., 1994", with a, b, ... after the year when two would clash.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Iterator
from typing import Any

from pybtex.plugin import register_plugin
from pybtex.richtext import Text
from pybtex.style.formatting.plain import Style as PlainStyle
from pybtex.style.labels import BaseLabelStyle

STYLE = "authoryear"


def _surname(person: Any) -> str:
    """The von and last parts of a name, LaTeX decoded (``Sch{\\"a}fer`` -> Schäfer)."""
    parts = person.rich_prelast_names + person.rich_last_names
    return " ".join(part.render_as("text") for part in parts)


def author_year(entry: Any) -> str:
    """The label of one entry without its clash suffix, e.g. ``"Bengio et al., 1994"``."""
    people = entry.persons.get("author") or entry.persons.get("editor") or []
    names = [_surname(p) for p in people]
    if "others" in names:  # BibTeX's "and others": more authors than listed
        names = [n for n in names if n != "others"] + ["", ""]
    if not names:
        who = Text.from_latex(entry.fields.get("organization", entry.key)).render_as("text")
    elif len(names) == 1:
        who = names[0]
    elif len(names) == 2:
        who = f"{names[0]} and {names[1]}"
    else:
        who = f"{names[0]} et al."
    return f"{who}, {entry.fields.get('year', 'n.d.')}"


class AuthorYearLabels(BaseLabelStyle):
    """Author-year labels, made unique with a letter after the year."""

    def format_labels(self, sorted_entries: Iterable[Any]) -> Iterator[str]:
        entries = list(sorted_entries)
        labels = [author_year(e) for e in entries]
        counts = Counter(labels)
        seen: Counter[str] = Counter()
        for label in labels:
            if counts[label] > 1:
                yield f"{label}{chr(ord('a') + seen[label])}"
                seen[label] += 1
            else:
                yield label


class AuthorYearStyle(PlainStyle):
    """pybtex's ``plain`` entries with :class:`AuthorYearLabels`."""

    default_label_style = AuthorYearLabels


def register() -> None:
    """Make ``authoryear`` available to sphinxcontrib-bibtex (idempotent)."""
    register_plugin("pybtex.style.formatting", STYLE, AuthorYearStyle, force=True)
