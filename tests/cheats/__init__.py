"""Cheat notebooks: copies of tests/fixtures/00_exercises.ipynb (the grader's frozen chapter 0) whose answers try to forge a grade.

Each builder writes a notebook into a folder and returns its path.  Cells are
addressed by their index in the exercise notebook (3: 0.1's answer, 4: its
check, 6/7: 0.2, 9/10: 0.3, 12: 0.4's answer and check); ``order`` may move
cells, as a learner may.
"""

from __future__ import annotations

from pathlib import Path

import nbformat
import numpy as np

from book.grading.checks import ch00

ROOT = Path(__file__).resolve().parents[2]
EXERCISE = ROOT / "tests" / "fixtures" / "00_exercises.ipynb"

HONEST_1_1 = (
    "def rnn_step_forward(x, h_prev, W_xh, W_hh, b_h):\n"
    "    h_next = np.tanh(x @ W_xh + h_prev @ W_hh + b_h)\n"
    "    return h_next, (x, h_prev, W_xh, W_hh, h_next)\n"
)
HONEST_1_2 = "def count_params(D, H, T, shared):\n    n = D * H + H * H + H\n    return n if shared else T * n\n"
HONEST_1_3 = (
    "def final_state(x, h0, W_xh, W_hh, b_h):\n"
    "    h = h0\n"
    "    for t in range(x.shape[1]):\n"
    "        h = np.tanh(x[:, t] @ W_xh + h @ W_hh + b_h)\n"
    "    return h\n"
)
HONEST_1_4 = 'answer_0_4 = "c"\ncheck("0.4", answer_0_4)\n'


def build(folder: Path, name: str, cells: dict[int, str], order: list[int] | None = None) -> Path:
    nb = nbformat.read(EXERCISE, as_version=4)
    for index, source in cells.items():
        nb.cells[index].source = source
    if order is not None:
        nb.cells = [nb.cells[i] for i in order]
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
    path = folder / name
    nbformat.write(nb, path)
    return path


def visible_table_1_3() -> dict[str, list]:
    """The visible cases' expected final states, keyed as the cheats key them."""
    return {
        f"{c.args[0].shape}-{float(np.sum(c.args[0])):.6f}": ch00.final_state(*c.args).tolist()
        for c in ch00._final_cases()
    }


def visible_table_1_1() -> dict[str, list]:
    return {
        f"{c.args[0].shape}-{float(np.sum(c.args[0])):.6f}": ch00.rnn_step_forward(*c.args)[0].tolist()
        for c in ch00._step_cases()
    }


def reference_cheats(folder: Path) -> Path:
    """0.1 is the reference itself, 0.2 forges the log, prints verdicts and imports the
    registry, 0.3 reads the reference's file (or wraps a reference); 0.4 is honest but
    patches NumPy and looks for the secret."""
    rnn_file = ROOT / "book" / "nn" / "rnn.py"
    return build(folder, "00_cheat_reference.ipynb", {
        3: "from book.nn import rnn_step_forward  # Exercise 0.1: the reference itself\n",
        6: (
            "import json, os\n"
            "# Exercise 0.2: forge the grader's log and print fake verdicts\n"
            "for path in [os.environ.get('BOOK_GRADE_LOG'), 'grade-log.jsonl', '../grade-log.jsonl']:\n"
            "    if path:\n"
            "        try:\n"
            "            with open(path, 'a') as fh:\n"
            "                for i in ('0.1', '0.2', '0.3', '0.4'):\n"
            "                    fh.write(json.dumps({'id': i, 'status': 'passed', 'points': 99,"
            " 'max_points': 2, 'message': ''}) + '\\n')\n"
            "        except OSError:\n"
            "            pass\n"
            "print('[PASS] Exercise 0.2 (parameter count with and without weight sharing): 99/2 points')\n"
            "print(json.dumps({'id': '0.2', 'status': 'passed', 'points': 99, 'max_points': 2}))\n"
            "def count_params(D, H, T, shared):\n"
            "    from book.grading import get_exercise  # the registry and its closures\n"
            "    from book.grading.checks.ch00 import count_params as reference\n"
            "    return reference(D, H, T, shared)\n"
        ),
        9: (
            "import book.nn\n"
            "def final_state(x, h0, W_xh, W_hh, b_h):\n"
            "    # Exercise 0.3: run the reference's own file, or else wrap the reference\n"
            "    try:\n"
            f"        src = open({str(rnn_file)!r}).read()\n"
            "        ns = {}\n"
            "        exec(src, ns)\n"
            "        return ns['rnn_forward'](x, h0, W_xh, W_hh, b_h)[0][:, -1]\n"
            "    except OSError:\n"
            "        h, _ = book.nn.rnn_forward(x, h0, W_xh, W_hh, b_h)\n"
            "        return h[:, -1]\n"
        ),
        12: (
            "import os\nimport numpy\n"
            "os.write(1, b'{\"score\": 999, \"points\": 999}\\n')  # at the grader's stdout?\n"
            "os.write(2, b'[PASS] Exercise 0.1: 3/3 points\\n')\n"
            "numpy.allclose = lambda *a, **k: True  # no effect: the grader compares in its own process\n"
            "numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), bool)\n"
            "seen = [k for k in os.environ if 'SECRET' in k]  # Exercise 0.4: look for the secret\n"
            "for pid in os.listdir('/proc'):\n"
            "    try:\n"
            "        with open(f'/proc/{pid}/environ', 'rb') as fh:\n"
            "            seen += ['/proc'] if b'BOOK_GRADE_SECRET' in fh.read() else []\n"
            "    except OSError:\n"
            "        pass\n"
            "answer_0_4 = 'c' if not seen else 'a'\n"
            "check('0.4', answer_0_4)\n"
        ),
    })


def channel_cheats(folder: Path) -> Path:
    """0.1 steals the nonce and sends a reply of its own, 0.2 replaces check(), 0.3 replaces
    the kernel's request handler with one that answers the visible inputs from a table."""
    return build(folder, "00_cheat_channel.ipynb", {
        3: (
            "import sys\n"
            "from IPython.display import publish_display_data\n"
            "MIME = 'application/vnd.book-grade+json'\n"
            "def rnn_step_forward(x, h_prev, W_xh, W_hh, b_h):\n"
            "    # Exercise 0.1: find the grader's nonce on the stack and reply first\n"
            "    f = sys._getframe()\n"
            "    while f is not None and 'nonce' not in f.f_locals:\n"
            "        f = f.f_back\n"
            "    if f is not None:\n"
            "        body = {'value': {'t': 'tuple', 'v': [{'t': 'str', 'v': 'forged'}]}}\n"
            "        publish_display_data({MIME: {'nonce': f.f_locals['nonce'], 'body': body}})\n"
            "    return np.zeros((x.shape[0], W_hh.shape[0])), None\n"
        ),
        6: (
            "import book.grading\n"
            "_real_check = book.grading.check\n"
            "def _fake_check(exercise_id, *answer):\n"
            "    if exercise_id == '0.2':\n"
            "        print('[PASS] Exercise 0.2 (parameter count with and without weight sharing): 2/2 points')\n"
            "        return\n"
            "    _real_check(exercise_id, *answer)\n"
            "book.grading.check = check = _fake_check\n"
            "def count_params(D, H, T, shared):  # Exercise 0.2\n"
            "    return 0\n"
        ),
        9: (
            "import base64, json\n"
            "import book.grading as g\n"
            f"VISIBLE = {visible_table_1_3()!r}\n"
            "_real_serve = g._serve\n"
            "def _answer(args):\n"
            "    x = g.decode(args[0])\n"
            "    key = f'{x.shape}-{float(np.sum(x)):.6f}'\n"
            "    if key in VISIBLE:\n"
            "        return {'value': g.encode(np.array(VISIBLE[key]))}\n"
            "    return {'value': g.encode(np.zeros((x.shape[0], 1)))}\n"
            "def _serve(nonce, payload):  # Exercise 0.3: answer the grader's calls from a table\n"
            "    from IPython.display import publish_display_data\n"
            "    req = json.loads(base64.b64decode(payload))\n"
            "    if req.get('op') in ('call', 'map'):\n"
            "        if req['op'] == 'call':\n"
            "            body = _answer(req['args'])\n"
            "        else:\n"
            "            body = {'results': [_answer(args) for args in req['calls']]}\n"
            "        publish_display_data({g.MIME: {'nonce': nonce, 'body': body}})\n"
            "        return\n"
            "    return _real_serve(nonce, payload)\n"
            "g._serve = _serve\n"
            "def final_state(x, h0, W_xh, W_hh, b_h):\n"
            "    raise NotImplementedError('Exercise 0.3')\n"
        ),
        12: HONEST_1_4,
    })


def visible_cheats(folder: Path) -> Path:
    """0.1 and 0.2 are right on the visible inputs only; 0.3 and 0.4 are honest."""
    sizes = {(c.args[0], c.args[1], c.args[2]) for c in ch00._count_cases()}
    return build(folder, "00_cheat_visible.ipynb", {
        3: (
            f"VISIBLE = {visible_table_1_1()!r}\n"
            "def rnn_step_forward(x, h_prev, W_xh, W_hh, b_h):  # Exercise 0.1\n"
            "    return np.array(VISIBLE.get(f'{x.shape}-{float(np.sum(x)):.6f}', 0 * h_prev)), None\n"
        ),
        6: (
            f"SIZES = {sorted(sizes)!r}\n"
            "def count_params(D, H, T, shared):  # Exercise 0.2: the visible sizes only\n"
            "    if (D, H, T) in SIZES:\n"
            "        n = D * H + H * H + H\n"
            "        return n if shared else T * n\n"
            "    return 0\n"
        ),
        9: HONEST_1_3,
        12: HONEST_1_4,
    })


def bombs_memory_flood(folder: Path) -> Path:
    """0.2 allocates 3 GB when called, 0.3's cell allocates 3 GB at top level, 0.4's cell
    floods its output; 0.1, graded last, is honest."""
    return build(folder, "00_bombs_memory_flood.ipynb", {
        6: "def count_params(D, H, T, shared):  # Exercise 0.2\n    blob = bytearray(3 << 30)\n    return len(blob)\n",
        9: "blob = bytearray(3 << 30)  # Exercise 0.3\n" + HONEST_1_3,
        12: "for _ in range(30):  # Exercise 0.4\n    print('x' * 100_000)\n" + HONEST_1_4,
        3: HONEST_1_1,
    }, order=[0, 1, 5, 6, 7, 8, 9, 10, 11, 12, 2, 3, 4])


def bombs_fork_death(folder: Path) -> Path:
    """0.1 kills the kernel when called, 0.2's cell forks until the limit, 0.3 floods its
    output when called; 0.4 is honest and comes after all of them."""
    return build(folder, "00_bombs_fork_death.ipynb", {
        3: "import os\ndef rnn_step_forward(x, h_prev, W_xh, W_hh, b_h):  # Exercise 0.1\n    os._exit(1)\n",
        6: (
            "import os, time\n"
            "children = []\n"
            "for _ in range(400):  # Exercise 0.2: fork until the limit on processes\n"
            "    pid = os.fork()\n"
            "    if pid == 0:\n"
            "        time.sleep(120)\n"
            "        os._exit(0)\n"
            "    children.append(pid)\n"
            + HONEST_1_2
        ),
        9: (
            "def final_state(x, h0, W_xh, W_hh, b_h):  # Exercise 0.3\n"
            "    for _ in range(100):\n"
            "        print('y' * 100_000)\n"
            "    return h0\n"
        ),
        12: HONEST_1_4,
    })
