"""Measured numbers in chapter prose come from the computation (glued or printed).

The project's checker ``../shared/tools/prose_numbers.py`` counts numbers still typed
into chapters' markdown cells (decimals, powers of ten, grouped counts outside math
and code) and exits 1 above its limit of 40.  The few that may stay are set-up
constants (a chosen spectral radius, a tolerance), not results.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOL = ROOT.parent / "shared" / "tools" / "prose_numbers.py"


@pytest.mark.skipif(not TOOL.is_file(), reason="../shared/tools/prose_numbers.py is not beside this checkout")
def test_few_numbers_are_typed_into_prose():
    p = subprocess.run([sys.executable, str(TOOL)], cwd=ROOT, capture_output=True, text=True, timeout=60)
    summary = p.stdout.strip().splitlines()[-1] if p.stdout.strip() else p.stderr
    assert p.returncode == 0, summary
