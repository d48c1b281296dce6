"""Characters to integer ids and back (Chapter 8's vocabulary).

Id 0 is :data:`UNK`, the unknown-character symbol, so text with characters
never seen in training still encodes; :class:`TextgenError` is the one-line
error every part of the tool raises for a bad input.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

Array = np.ndarray


#: Printed for (and encoding) characters that are not in the vocabulary.
UNK = "\ufffd"


class TextgenError(ValueError):
    """A problem with the learner's input; the message is one line."""



@dataclass(frozen=True)
class Vocabulary:
    """Characters <-> ids.  ``chars[0]`` is :data:`UNK`, the unknown-character symbol."""

    chars: tuple[str, ...]

    @classmethod
    def from_text(cls, text: str) -> Vocabulary:
        """The sorted distinct characters of ``text``, after :data:`UNK` at id 0."""
        return cls((UNK, *sorted(set(text) - {UNK})))

    @property
    def size(self) -> int:
        return len(self.chars)

    def __len__(self) -> int:
        return len(self.chars)

    @property
    def index(self) -> dict[str, int]:
        return {c: i for i, c in enumerate(self.chars)}

    def missing(self, text: str) -> list[str]:
        """The distinct characters of ``text`` that the vocabulary lacks, sorted."""
        known = set(self.chars[1:])
        return sorted(set(text) - known)

    def encode(self, text: str, strict: bool = False) -> Array:
        """Ids of the characters of ``text``, shape ``(len(text),)``, int32.

        Unknown characters map to id 0 (:data:`UNK`); with ``strict=True`` they
        raise :class:`TextgenError` naming them instead.
        """
        if strict:
            bad = self.missing(text)
            if bad:
                raise TextgenError(describe_missing(bad))
        index = self.index
        return np.fromiter((index.get(c, 0) for c in text), dtype=np.int32, count=len(text))

    def decode(self, ids: Sequence[int] | Array) -> str:
        """The text of a sequence of ids."""
        return "".join(self.chars[int(i)] for i in ids)

    def to_json(self) -> str:
        return json.dumps({"unknown": UNK, "chars": list(self.chars)}, ensure_ascii=True)

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        data = json.loads(text)
        chars = tuple(data["chars"])
        if not chars or chars[0] != UNK or not all(isinstance(c, str) and len(c) == 1 for c in chars):
            raise TextgenError("not a vocabulary file")
        return cls(chars)


def describe_missing(chars: Sequence[str]) -> str:
    """``"the vocabulary lacks 2 characters of the prompt: 'é' (U+00E9), '☃' (U+2603)"``."""
    shown = ", ".join(f"{c!r} (U+{ord(c):04X})" for c in chars[:10])
    more = f" and {len(chars) - 10} more" if len(chars) > 10 else ""
    n = len(chars)
    return f"the vocabulary lacks {n} character{'s' if n > 1 else ''} of the prompt: {shown}{more}"
