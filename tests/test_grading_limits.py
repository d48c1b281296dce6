"""Limits per cell: a memory bomb, a fork bomb, a flood of output and a dying kernel each fail
their own exercise with a clear message; the other exercises are still graded."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import cheats
import pytest
from helpers import ROOT
from test_grading_security import exercises, isolation_mode


def grade(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "BOOK_GRADE_SECRET"}
    return subprocess.run(
        [sys.executable, "-m", "book.grade", *args, "--format", "json"],
        capture_output=True, text=True, cwd=ROOT, env=env, timeout=600,
    )


def test_memory_bombs_and_output_flood(tmp_path):
    nb = cheats.bombs_memory_flood(tmp_path)
    r = grade(str(nb), "--memory", "1500", "--max-output", "1")
    assert r.returncode == 1, r.stderr
    ex = exercises(r)
    assert ex["0.2"]["points"] == 0 and "MemoryError" in ex["0.2"]["message"]  # when the grader called it
    assert ex["0.3"]["points"] == 0 and "out of memory (the limit is 1500 MB)" in ex["0.3"]["message"]
    assert ex["0.4"]["points"] == 0 and "more than 1 MB of output" in ex["0.4"]["message"]
    assert ex["0.1"]["status"] == "passed" and ex["0.1"]["points"] == 3  # graded after all of them


def test_fork_bomb_kernel_death_and_flood_during_a_call(tmp_path):
    if isolation_mode() == "relaxed" and os.geteuid() == 0:
        pytest.skip("root without an unprivileged kernel user: no process limit applies")
    nb = cheats.bombs_fork_death(tmp_path)
    r = grade(str(nb), "--processes", "64", "--timeout", "30")
    assert r.returncode == 1, r.stderr
    ex = exercises(r)
    assert ex["0.1"]["status"] == "error" and "kernel died while the grader called" in ex["0.1"]["message"]
    assert ex["0.2"]["points"] == 0 and "limit on processes" in ex["0.2"]["message"]
    assert ex["0.3"]["points"] == 0 and "more than 4 MB of output" in ex["0.3"]["message"]
    assert ex["0.4"]["status"] == "passed" and ex["0.4"]["points"] == 1
    assert json.loads(r.stdout)["points"] == 1


def test_nothing_is_left_running():
    """No process of a kernel's user (uids from 200000 up) is left once grading has ended."""
    left = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            uid = _uid(int(entry))
            if uid is not None and 200_000 <= uid < 2_000_000_000:
                left.append((int(entry), uid))
    assert not left


def _uid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/status") as fh:
            for line in fh:
                if line.startswith("Uid:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None
