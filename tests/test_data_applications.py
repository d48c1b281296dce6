"""book.data loaders of Chapter 9: checksums verified, a clear DataError when a package is missing, sane values."""

from __future__ import annotations

import gzip
import sys

import numpy as np
import pytest

from book import data
from book.data import DataError, load_corpus


def test_seattle_weather():
    dates, cols = data.load_seattle_weather()
    assert (
        dates.shape == (1461,)
        and dates[0] == np.datetime64("2012-01-01")
        and dates[-1] == np.datetime64("2015-12-31")
    )
    assert np.all(np.diff(dates).astype(int) == 1)
    assert set(cols) == {"precipitation", "temp_max", "temp_min", "wind", "weather"}
    assert np.all(cols["temp_max"] >= cols["temp_min"])
    assert -10 < cols["temp_min"].min() and cols["temp_max"].max() < 40
    assert set(cols["weather"]) == {"drizzle", "fog", "rain", "snow", "sun"}


def test_seattle_hourly_temperatures():
    times, celsius = data.load_seattle_temperatures()
    assert times.shape == celsius.shape == (8760,)
    assert np.all(np.diff(times).astype(int) == 1)
    assert np.all(np.isfinite(celsius)) and 0 < celsius.min() < celsius.max() < 30


def test_goog_prices():
    dates, close = data.load_goog_prices()
    assert dates.shape == close.shape == (1047,)
    assert dates[0] == np.datetime64("2004-08-19") and dates[-1] == np.datetime64("2008-10-14")
    assert np.all(np.diff(dates).astype(int) > 0) and np.all(close > 0)
    assert close[0] == pytest.approx(100.34)


def test_monthly_stocks():
    dates, prices = data.load_monthly_stocks()
    assert dates.shape == (390,) and dates[0] == np.datetime64("1990-01-01")
    assert len(prices) == 10 and "^GSPC" in prices
    assert all(p.shape == dates.shape for p in prices.values())
    assert np.all(np.isfinite(prices["IBM"])) and np.isnan(prices["AMZN"][0])


def test_eeg():
    x = data.load_eeg()
    assert x.shape == (800, 4) and x.dtype == np.float64
    assert np.allclose(x.std(axis=0), 1.0, atol=0.01)


def test_stdlib_source():
    text = data.load_stdlib_source()
    assert len(text) == 328_125 and len(text.encode("utf-8")) == 328_195
    assert "def bisect_left(" in text and "class Fraction(" in text
    assert text == load_corpus("stdlib-source")


def test_stdlib_source_never_reads_the_running_pythons_stdlib(monkeypatch):
    """The corpus comes from book/data/ on any Python: no stdlib file is looked up or opened."""
    import importlib.util
    import io
    from pathlib import Path

    def no_lookup(name, *args, **kwargs):
        raise AssertionError(f"looked up the module {name}")

    opened = []
    real_open = io.open

    def recording_open(file, *args, **kwargs):
        opened.append(Path(file).resolve())
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(importlib.util, "find_spec", no_lookup)
    monkeypatch.setattr(io, "open", recording_open)
    text = data.load_stdlib_source()
    monkeypatch.undo()
    assert text.startswith('"""Bisection algorithms."""')
    shipped = Path(data.__file__).resolve().parent
    assert opened and all(p.parent == shipped for p in opened), opened


@pytest.mark.skipif(
    sys.version_info[:3] != (3, 11, 7), reason="the shipped text is CPython 3.11.7's files"
)
def test_stdlib_source_matches_cpython_3_11_7():
    assert data.extract_stdlib_source() == data.load_stdlib_source()


def test_stdlib_source_mismatch_is_clear(monkeypatch):
    monkeypatch.setattr(data, "_resource_bytes", lambda name: gzip.compress(b"def f():\n    pass\n"))
    with pytest.raises(DataError, match="corpus 'stdlib-source': checksum mismatch") as exc:
        data.load_stdlib_source()
    assert "\n" not in str(exc.value)


def test_missing_stdlib_module_is_clear(monkeypatch):
    monkeypatch.setattr(data, "STDLIB_MODULES", ("no_such_module_xyz",))
    with pytest.raises(DataError, match="'no_such_module_xyz' has no Python source file") as exc:
        data.extract_stdlib_source()
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("loader", [data.load_seattle_weather, data.load_seattle_temperatures])
def test_missing_vega_datasets_is_named(monkeypatch, loader):
    monkeypatch.setitem(sys.modules, "vega_datasets", None)  # as if not installed
    with pytest.raises(
        DataError, match="needs the package 'vega_datasets'.*pip install vega-datasets"
    ) as exc:
        loader()
    assert "\n" not in str(exc.value)


@pytest.mark.parametrize("loader", [data.load_goog_prices, data.load_monthly_stocks, data.load_eeg])
def test_missing_matplotlib_is_named(monkeypatch, loader):
    real_require = data.require

    def require(package, purpose):
        if package == "matplotlib":
            return real_require("matplotlib_is_not_installed_here", purpose)
        return real_require(package, purpose)

    monkeypatch.setattr(data, "require", require)
    with pytest.raises(DataError, match="needs the package"):
        loader()


@pytest.mark.parametrize(
    "loader,name",
    [
        (data.load_seattle_weather, "seattle-weather.csv"),
        (data.load_seattle_temperatures, "seattle-temps.csv"),
        (data.load_goog_prices, "goog.npz"),
        (data.load_monthly_stocks, "Stocks.csv"),
        (data.load_eeg, "eeg.dat"),
    ],
)
def test_checksums_are_verified(monkeypatch, loader, name):
    monkeypatch.setattr(
        data,
        "_read_verified",
        lambda path, expected, what, package: data.verify(b"tampered", expected, what),
    )
    with pytest.raises(DataError, match=f"{name}: checksum mismatch"):
        loader()


def test_missing_file_in_package(monkeypatch, tmp_path):
    monkeypatch.setattr(data, "_package_folder", lambda package, purpose: tmp_path)
    with pytest.raises(
        DataError, match="seattle-weather.csv is missing from the installed package 'vega_datasets'"
    ):
        data.load_seattle_weather()
