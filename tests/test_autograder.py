"""The Gradescope kit: ``make autograder``'s zip, unpacked and run in a temporary root."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers import ROOT

from book.grading import autograder


@pytest.fixture(scope="module")
def kit(tmp_path_factory) -> Path:
    """The zip, unpacked as Gradescope does: into source/, run_autograder copied to the root."""
    folder = tmp_path_factory.mktemp("autograder")
    zip_path = autograder.build(folder / "autograder.zip", secret="the course's secret")
    with zipfile.ZipFile(zip_path) as zf:
        names = zf.namelist()
        assert {"setup.sh", "run_autograder", "requirements-grade.txt", "constraints.txt", "secret.txt"} <= set(names)
        assert "book/grading/checks/ch00.py" in names and not any("__pycache__" in n for n in names)
        for info in zf.infolist():
            if info.filename in ("setup.sh", "run_autograder"):
                assert (info.external_attr >> 16) & 0o111, info.filename
    return zip_path


def run_in_root(kit: Path, root: Path, notebook: Path | None) -> tuple[dict, subprocess.CompletedProcess]:
    source = root / "source"
    with zipfile.ZipFile(kit) as zf:
        zf.extractall(source)
    shutil.copy2(source / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    if notebook is not None:
        shutil.copy2(notebook, root / "submission" / notebook.name)
    env = {k: v for k, v in os.environ.items() if k not in ("BOOK_GRADE_SECRET", "PYTHONPATH")}
    env["GRADESCOPE_ROOT"] = str(root)
    env["PATH"] = f"{Path(sys.executable).parent}:{env.get('PATH', '')}"  # python3 from PATH
    r = subprocess.run(["bash", str(root / "run_autograder")], capture_output=True, text=True, env=env,
                       cwd="/", timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads((root / "results" / "results.json").read_text()), r


def test_solution_scores_full_marks(kit, tmp_path):
    results, _ = run_in_root(kit, tmp_path, ROOT / "tests" / "fixtures" / "00_solutions.ipynb")
    assert results["score"] == 8
    visible = [t for t in results["tests"] if t["visibility"] == "visible"]
    hidden = [t for t in results["tests"] if t["visibility"] == "after_published"]
    assert len(visible) == 4 and len(hidden) == 3  # the choice exercise 0.4 has no hidden cases
    for t in results["tests"]:
        assert {"name", "score", "max_score", "output", "visibility"} <= set(t)
        assert t["status"] == "passed"
    assert sum(t["max_score"] for t in results["tests"]) == 8


def test_stub_notebook_scores_zero(kit, tmp_path):
    results, _ = run_in_root(kit, tmp_path, ROOT / "tests" / "fixtures" / "00_exercises.ipynb")
    assert results["score"] == 0
    assert all("not attempted" in t["output"] for t in results["tests"] if t["visibility"] == "visible")


def test_empty_submission_is_reported(kit, tmp_path):
    results, _ = run_in_root(kit, tmp_path, None)
    assert results["score"] == 0 and "no notebook" in results["tests"][0]["output"]


def test_setup_script_is_valid_bash(kit, tmp_path):
    with zipfile.ZipFile(kit) as zf:
        zf.extract("setup.sh", tmp_path)
    assert subprocess.run(["bash", "-n", str(tmp_path / "setup.sh")]).returncode == 0
