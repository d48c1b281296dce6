"""Pytest set-up shared by the whole repository.

- nbval compares stdout and rich outputs; what a cell writes to stderr
  (library warnings, progress noise) is ignored.
- The wall-clock time of every notebook is summed during the nbval run (kernel
  start included) so that ``tests/test_notebook_times.py`` can hold each one
  under the budget without executing any notebook twice.  The times are also
  written to ``_build/notebook-times.json``.
"""

from __future__ import annotations

import json
import os
from collections import defaultdict
from pathlib import Path

import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TF_ENABLE_ONEDNN_OPTS", "0")

ROOT = Path(__file__).resolve().parent
NOTEBOOK_TIMES: dict[str, float] = defaultdict(float)
NOTEBOOK_FAILED: set[str] = set()


def _drop_stderr() -> None:
    import nbval.plugin as plugin

    original = plugin.transform_streams_for_comparison
    if getattr(original, "_drops_stderr", False):
        return

    def without_stderr(outputs):
        kept = [o for o in outputs if not (o.get("output_type") == "stream" and o.get("name") == "stderr")]
        return original(kept)

    without_stderr._drops_stderr = True  # type: ignore[attr-defined]
    plugin.transform_streams_for_comparison = without_stderr


_drop_stderr()


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    path, sep, _ = report.nodeid.partition(".ipynb::")
    if sep:
        NOTEBOOK_TIMES[path + ".ipynb"] += report.duration
        if report.failed:
            NOTEBOOK_FAILED.add(path + ".ipynb")


def pytest_sessionfinish(session: pytest.Session) -> None:
    if NOTEBOOK_TIMES:
        out = ROOT / "_build" / "notebook-times.json"
        out.parent.mkdir(exist_ok=True)
        out.write_text(json.dumps({k: round(v, 2) for k, v in sorted(NOTEBOOK_TIMES.items())}, indent=1) + "\n")


@pytest.fixture(scope="session")
def notebook_times() -> dict[str, float]:
    """Seconds each notebook took under nbval in this session (empty if none ran)."""
    return NOTEBOOK_TIMES
