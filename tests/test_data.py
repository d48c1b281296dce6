"""book.data: shipped corpora verified by checksum, and every bad input a clear one-line DataError."""

from __future__ import annotations

import gzip

import pytest

from book import data
from book.data import DataError, load_corpus


def test_python_docs_corpus():
    text = load_corpus("python-docs")
    assert len(text) == 465_127
    assert len(set(text)) == 103
    assert "iterator" in text


def test_checksum_mismatch_is_detected(monkeypatch):
    monkeypatch.setattr(data, "_resource_bytes", lambda name: gzip.compress(b"tampered text"))
    with pytest.raises(DataError, match="checksum mismatch"):
        load_corpus("python-docs")


def test_learner_text_file(tmp_path):
    f = tmp_path / "mine.txt"
    f.write_text("héllo wörld\n", encoding="utf-8")
    assert load_corpus(f) == "héllo wörld\n"


@pytest.mark.parametrize(
    "content,match",
    [(b"", "empty"), (b"   \n", "empty"), (b"\x00\x01\x02binary", "binary"), (b"caf\xe9 latin-1", "not UTF-8")],
)
def test_bad_files(tmp_path, content, match):
    f = tmp_path / "bad.txt"
    f.write_bytes(content)
    with pytest.raises(DataError, match=match) as exc:
        load_corpus(f)
    assert "\n" not in str(exc.value)


def test_missing_and_folder(tmp_path):
    with pytest.raises(DataError, match="no such file.*known corpora: python-docs, stdlib-source"):
        load_corpus(tmp_path / "nope.txt")
    with pytest.raises(DataError, match="folder"):
        load_corpus(tmp_path)


def test_require_names_the_missing_package():
    with pytest.raises(DataError, match="needs the package 'no_such_pkg_xyz'.*pip install no-such-pkg-xyz"):
        data.require("no_such_pkg_xyz", "the demo data set")
    assert data.require("json", "x").dumps([]) == "[]"
