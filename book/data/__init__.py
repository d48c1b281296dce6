"""Data sets the book uses, loaded offline and verified by checksum.

Everything here either ships inside this repository (``book/data/``) or inside
an installed package, is read through :mod:`importlib.resources` or the
package's own files, and is checked against a SHA-256 digest before use, so
every printed number is computed from exactly the same bytes.  Nothing is ever
downloaded.  Problems raise :class:`DataError` with a one-line message.

Text corpora
------------
``python-docs``
    The English reference text that CPython ships for ``help()`` (the
    ``pydoc_data.topics`` module of CPython 3.11.7: 79 topics joined in name
    order by blank lines; 466,274 bytes of UTF-8, 103 distinct characters),
    stored compressed in ``book/data/python_docs.txt.gz`` (Python Software
    Foundation licence).  :func:`extract_python_docs` rebuilds it from the
    running Python, whose version may give a slightly different text.
``stdlib-source``
    The source code of the 16 pure-Python standard-library modules in
    :data:`STDLIB_MODULES` (``bisect`` ... ``tokenize``) exactly as CPython
    3.11.7 ships them, joined in that order by blank lines (328,195 bytes of
    UTF-8), stored compressed in ``book/data/stdlib_source.txt.gz``.  It is
    the "code" class of Chapter 9's prose-versus-code task and, like the
    documentation, is part of CPython, distributed under the Python
    Software Foundation License (https://docs.python.org/3/license.html).
    Shipping it makes the chapter independent of the Python version that
    runs it; :func:`extract_stdlib_source` shows how the file was made.
"""

from __future__ import annotations

import gzip
import hashlib
import importlib
import importlib.resources
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType


class DataError(RuntimeError):
    """A data set is missing, corrupt or unusable (the message is one line)."""


@dataclass(frozen=True)
class CorpusSpec:
    """A text corpus shipped with the book."""

    name: str
    resource: str  # file name inside book/data/
    sha256: str  # of the decompressed UTF-8 bytes
    description: str


CORPORA: dict[str, CorpusSpec] = {
    "python-docs": CorpusSpec(
        "python-docs",
        "python_docs.txt.gz",
        "74d0773e08745aecb4918d358b4bfee396ba7d3e66575d55f09f366c7b5a6355",
        "CPython 3.11.7 help() topics (pydoc_data.topics), 466 kB of English technical prose",
    ),
    "stdlib-source": CorpusSpec(
        "stdlib-source",
        "stdlib_source.txt.gz",
        "686f2e579bf56a6ec4a3906d5c424bdd73a408b57e8080f691519be09161c184",
        "source of 16 pure-Python modules of the CPython 3.11.7 standard library, 328 kB of code",
    ),
}


def sha256(data: bytes) -> str:
    """Hex SHA-256 digest of ``data``."""
    return hashlib.sha256(data).hexdigest()


def verify(data: bytes, expected: str, what: str) -> bytes:
    """Return ``data`` if its SHA-256 is ``expected``; raise :class:`DataError` otherwise."""
    got = sha256(data)
    if got != expected:
        raise DataError(f"{what}: checksum mismatch (sha256 {got[:12]}..., expected {expected[:12]}...)")
    return data


def require(package: str, purpose: str) -> ModuleType:
    """Import ``package`` or raise :class:`DataError` naming it and how to install it."""
    try:
        return importlib.import_module(package)
    except ImportError:
        pip_name = package.replace("_", "-")
        raise DataError(
            f"{purpose} needs the package '{package}', which is not installed (pip install {pip_name})"
        ) from None


def _resource_bytes(name: str) -> bytes:
    return importlib.resources.files("book").joinpath("data", name).read_bytes()


def load_corpus(name_or_path: str | Path) -> str:
    """The text of a shipped corpus (by name) or of a UTF-8 text file (by path).

    Parameters
    ----------
    name_or_path : a key of :data:`CORPORA` (``"python-docs"``,
        ``"stdlib-source"``) or a file path.

    Raises
    ------
    DataError : unknown name, missing or empty file, a binary or non-UTF-8 file,
        or a shipped corpus whose checksum does not match.
    """
    key = str(name_or_path)
    if key in CORPORA:
        spec = CORPORA[key]
        try:
            raw = gzip.decompress(_resource_bytes(spec.resource))
        except (FileNotFoundError, OSError, EOFError) as exc:
            raise DataError(f"corpus '{key}': cannot read book/data/{spec.resource} ({exc})") from None
        return verify(raw, spec.sha256, f"corpus '{key}'").decode("utf-8")
    path = Path(key)
    if not path.exists():
        known = ", ".join(sorted(CORPORA))
        raise DataError(f"{key}: no such file, and not a corpus name (known corpora: {known})")
    if path.is_dir():
        raise DataError(f"{key}: is a folder, not a text file")
    raw = path.read_bytes()
    if not raw.strip():
        raise DataError(f"{key}: the file is empty")
    if b"\x00" in raw[:65536]:
        raise DataError(f"{key}: looks like a binary file (it contains NUL bytes), not text")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DataError(f"{key}: not UTF-8 text (invalid byte at position {exc.start})") from None


def extract_python_docs() -> str:
    """Rebuild the ``python-docs`` text from the running Python's ``pydoc_data.topics``."""
    topics = require("pydoc_data.topics", "the python-docs corpus").topics
    return "\n\n".join(topics[k] for k in sorted(topics)) + "\n"


# --------------------------------------------------------------------------
# Chapter 9: real series and texts that ship inside installed packages
# --------------------------------------------------------------------------
# Each file is read from the package's own folder (found without importing the
# package where importing it would be slow) and verified by SHA-256.

import numpy as np  # noqa: E402

SEATTLE_TEMPS_SHA256 = "c220666521ff4bec4ffb6f0d9acfdc5c1056564b1aad6f78d3b06aa0a0c8b085"
SEATTLE_WEATHER_SHA256 = "62f0609f787158128aa2bd102967173a4953122dd4f872bf1d502cae1037df0b"
GOOG_NPZ_SHA256 = "400917cf30e6b664f7b0da93d7c745860d3aa9008da8b7f160d2dd12e6a318b1"
EEG_DAT_SHA256 = "28656316df0004acfba7a5d98ab35f7314933a918636ec80f09604ad128b4417"
STOCKS_CSV_SHA256 = "ef6f3bf1a64d5c6c5de702ef154c3fae78fe9df83882ab6bb9c6638bec3cdf47"

#: Pure-Python standard-library modules whose source is the "code" class of
#: Chapter 9's prose-versus-code task (the ``stdlib-source`` corpus, their
#: text as in CPython 3.11.7).
STDLIB_MODULES: tuple[str, ...] = (
    "bisect",
    "calendar",
    "colorsys",
    "difflib",
    "fnmatch",
    "fractions",
    "glob",
    "graphlib",
    "heapq",
    "queue",
    "sched",
    "shlex",
    "statistics",
    "string",
    "textwrap",
    "tokenize",
)
STDLIB_SOURCE_SHA256 = CORPORA["stdlib-source"].sha256


def _package_folder(package: str, purpose: str) -> Path:
    """The folder of an installed package, found without importing it."""
    import importlib.util

    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None or not spec.submodule_search_locations:
        require(package, purpose)  # raises the one-line DataError naming the package
        raise DataError(f"{purpose}: cannot locate the files of the package '{package}'")
    return Path(list(spec.submodule_search_locations)[0])


def _read_verified(path: Path, expected: str, what: str, package: str) -> bytes:
    try:
        raw = path.read_bytes()
    except OSError:
        raise DataError(f"{what}: the file {path.name} is missing from the installed package '{package}'") from None
    return verify(raw, expected, what)


def load_seattle_temperatures() -> tuple[np.ndarray, np.ndarray]:
    """Hourly air temperature in Seattle through 2010, in degrees Celsius.

    From ``seattle-temps.csv`` in the ``vega_datasets`` package (0.9.0; NOAA
    data, MIT-licensed package), read with the :mod:`csv` module (the package
    itself, and pandas, are not imported).  The file has 8,759 hourly readings
    in degrees Fahrenheit with one hour missing; this loader puts them on the
    regular hourly grid of 2010 (8,760 hours) and fills the missing hour by
    linear interpolation between its neighbours.

    Returns
    -------
    times : (8760,) ``datetime64[h]``, 2010-01-01T00 to 2010-12-31T23.
    celsius : (8760,) float64.
    """
    import csv
    import io

    folder = _package_folder("vega_datasets", "the Seattle temperature data set")
    raw = _read_verified(
        folder / "_data" / "seattle-temps.csv", SEATTLE_TEMPS_SHA256, "seattle-temps.csv", "vega_datasets"
    )
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))[1:]
    stamps = np.array([r[0].replace("/", "-").replace(" ", "T") for r in rows], dtype="datetime64[h]")
    fahrenheit = np.array([float(r[1]) for r in rows])
    times = np.arange(np.datetime64("2010-01-01T00", "h"), np.datetime64("2011-01-01T00", "h"))
    hours = (stamps - times[0]).astype(np.int64)
    celsius = (np.interp(np.arange(times.size), hours, fahrenheit) - 32.0) * 5.0 / 9.0
    return times, celsius


def load_seattle_weather() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Daily weather observed in Seattle, 2012-01-01 to 2015-12-31 (1,461 days, none missing).

    From ``seattle-weather.csv`` in the ``vega_datasets`` package (0.9.0; NOAA
    data), read with the :mod:`csv` module (neither the package nor pandas is
    imported).

    Returns
    -------
    dates : (1461,) ``datetime64[D]``.
    columns : ``"temp_max"``, ``"temp_min"`` (degrees Celsius), ``"precipitation"``
        (mm), ``"wind"`` (m/s): (1461,) float64 each; ``"weather"``: (1461,) str
        (drizzle, fog, rain, snow or sun).
    """
    import csv
    import io

    folder = _package_folder("vega_datasets", "the Seattle weather data set")
    raw = _read_verified(
        folder / "_data" / "seattle-weather.csv", SEATTLE_WEATHER_SHA256, "seattle-weather.csv", "vega_datasets"
    )
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8"))))
    header, body = rows[0], rows[1:]
    dates = np.array([r[0].replace("/", "-") for r in body], dtype="datetime64[D]")
    columns: dict[str, np.ndarray] = {}
    for k, name in enumerate(header[1:], start=1):
        values = [r[k] for r in body]
        columns[name] = np.array(values) if name == "weather" else np.array(values, dtype=np.float64)
    return dates, columns


def _matplotlib_sample(name: str, expected: str, purpose: str) -> bytes:
    mpl = require("matplotlib", purpose)
    return _read_verified(Path(mpl.get_data_path()) / "sample_data" / name, expected, name, "matplotlib")


def load_goog_prices() -> tuple[np.ndarray, np.ndarray]:
    """Daily closing prices of Google (GOOG) on 1,047 trading days, 2004-08-19 to 2008-10-14.

    From ``goog.npz`` in matplotlib's sample data (a structured array; read
    with ``allow_pickle=False``).

    Returns
    -------
    dates : (1047,) ``datetime64[D]``; close : (1047,) float64, US dollars (adjusted close).
    """
    import io

    raw = _matplotlib_sample("goog.npz", GOOG_NPZ_SHA256, "the GOOG stock price data set")
    with np.load(io.BytesIO(raw), allow_pickle=False) as npz:
        table = npz["price_data"]
    return table["date"].astype("datetime64[D]"), table["adj_close"].astype(np.float64)


def load_monthly_stocks() -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Monthly prices of 10 US stocks and indices, 1990-2022, from matplotlib's ``Stocks.csv``.

    Only the first-of-month rows are kept (the file also has empty rows for
    other dates).  Prices a company did not yet have are NaN.

    Returns
    -------
    dates : (M,) ``datetime64[D]``; prices : ticker -> (M,) float64.
    """
    import csv
    import io

    raw = _matplotlib_sample("Stocks.csv", STOCKS_CSV_SHA256, "the monthly stock price data set")
    lines = [ln for ln in raw.decode("utf-8").splitlines() if not ln.startswith("#")]
    rows = list(csv.reader(io.StringIO("\n".join(lines))))
    header, body = rows[0], [r for r in rows[1:] if r[0].endswith("-01") and any(r[1:])]
    dates = np.array([r[0] for r in body], dtype="datetime64[D]")
    prices = {
        name: np.array([float(r[k]) if r[k] else np.nan for r in body]) for k, name in enumerate(header) if k > 0
    }
    return dates, prices


def load_eeg() -> np.ndarray:
    """A short multichannel EEG recording from matplotlib's sample data (``eeg.dat``).

    800 samples of 4 channels, stored as float64 and already standardised
    (each channel has mean about 0 and standard deviation about 1); laid out
    as matplotlib's own example that plots it reads it.

    Returns
    -------
    signals : (800, 4) float64, time first.
    """
    raw = _matplotlib_sample("eeg.dat", EEG_DAT_SHA256, "the EEG sample signal")
    return np.frombuffer(raw, dtype="<f8").reshape(800, 4).copy()


def _stdlib_texts(modules: tuple[str, ...]) -> list[bytes]:
    """The source files of ``modules`` in the running Python (used only by :func:`extract_stdlib_source`)."""
    import importlib.util

    texts = []
    for name in modules:
        spec = importlib.util.find_spec(name)
        if spec is None or not spec.origin or not spec.origin.endswith(".py"):
            raise DataError(f"stdlib source: the module '{name}' has no Python source file in this installation")
        texts.append(Path(spec.origin).read_bytes())
    return texts


def extract_stdlib_source() -> str:
    """Rebuild the ``stdlib-source`` text from the running Python's standard library.

    On CPython 3.11.7 this gives exactly the shipped corpus (that is how
    ``book/data/stdlib_source.txt.gz`` was made); other versions ship
    slightly different files.
    """
    return b"\n\n".join(_stdlib_texts(STDLIB_MODULES)).decode("utf-8")


def load_stdlib_source() -> str:
    """The source code of the :data:`STDLIB_MODULES`, joined in that order by blank lines.

    The text of CPython 3.11.7 (328,195 bytes of UTF-8), read from the
    shipped ``book/data/stdlib_source.txt.gz`` and checked by SHA-256
    (``load_corpus("stdlib-source")``): the same on every Python version,
    and the running Python's own standard library is never read.
    """
    return load_corpus("stdlib-source")
