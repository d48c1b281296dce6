"""Every notebook executes in under 60 s, timed during this session's nbval run."""

from __future__ import annotations

import pytest
from helpers import ROOT, in_ci

BUDGET_SECONDS = 60.0
NOTEBOOKS = sorted(
    str(p.relative_to(ROOT)) for d in ("chapters", "solutions", "exercises") for p in (ROOT / d).glob("*.ipynb")
)


def test_every_notebook_under_budget(notebook_times):
    if not notebook_times:
        if in_ci():
            pytest.fail("no notebook was executed in this session; run the whole suite (make test)")
        pytest.skip("notebooks were not executed in this session (run `make test`)")
    timed = {str((ROOT / k).resolve().relative_to(ROOT)): v for k, v in notebook_times.items()}
    if in_ci():
        missing = [nb for nb in NOTEBOOKS if nb not in timed]
        assert not missing, f"not executed under nbval: {missing}"
    slow = {k: round(v, 1) for k, v in timed.items() if v >= BUDGET_SECONDS}
    assert not slow, f"notebooks over {BUDGET_SECONDS:.0f} s: {slow}"
