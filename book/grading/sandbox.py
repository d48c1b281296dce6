"""Where the learner's kernel runs while grading: a copy of the book without its answers.

The grader gives the learner's kernel a **student copy** of the ``book``
package, first on its ``PYTHONPATH``:

- kept as they are: ``book.setup`` (``book/__init__.py``,
  ``book/environment.py``), the data loaders ``book.data`` and the
  finite-difference helpers ``book.nn.gradcheck`` (the exercises suggest
  them; they answer nothing);
- every other function and class of ``book.nn`` and ``book.textgen``
  replaced by a stub of the same name that raises
  :class:`ReferenceUnavailable` when called, so ``from book.nn import
  rnn_step_forward`` still imports but an answer that is or wraps a
  reference scores 0, saying so;
- ``book.grading`` replaced by :mod:`book.grading.kernel`: ``check`` only
  hands answers to the grader; the exercises, their cases and their
  reference answers (``book/grading/checks``) are absent.

How far the real package is out of reach depends on who runs the grader
(:func:`isolation`):

- **root** (CI, Gradescope): the kernel runs as an unprivileged user of its
  own (one fresh uid per notebook, so its process limit is its own and a fork
  bomb can be cleaned up), with no access to the grader's environment.  Where
  the machine allows private mount namespaces the launcher also lays empty
  folders over the real package, the repository (solutions included) and the
  graded notebooks' folders.  Where it does not, file permissions must keep
  the real package unreadable (the Gradescope kit installs it in a folder
  only root can read); a check run as the kernel user says which.
- **not root** (a learner self-grading on a laptop): the kernel runs as you,
  with the student copy first on its path but the real files readable; one
  line says so.
"""

from __future__ import annotations

import ast
import json
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import textwrap
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import zmq
from jupyter_client.manager import AsyncKernelManager

PACKAGE = Path(__file__).resolve().parents[1]  # the real book package
LAUNCHER = Path(__file__).resolve().with_name("launcher.py")
KERNEL_SIDE = Path(__file__).resolve().with_name("kernel.py")
KEPT = ["__init__.py", "environment.py", "data", "nn/gradcheck.py"]
STUBBED = ["nn", "textgen"]
UID_RANGE = (200_000, 2_000_000_000)
SYSTEM = {"/", "/usr", "/etc", "/lib", "/lib64", "/bin", "/sbin", "/dev", "/proc", "/sys", "/var", "/opt",
          "/home", "/tmp", "/root", "/srv", "/mnt"}  # never laid empty for being a notebook's folder

UNAVAILABLE = '''\
"""Stubs for the book's reference implementations, which are not available while grading."""


class ReferenceUnavailable(RuntimeError):
    """Raised by a stub: the learner's answer used one of the book's reference implementations."""

    def __init__(self, reference):
        super().__init__(
            f"{reference} is one of the book's reference implementations; it is not available "
            "while grading: write your own"
        )
        self.reference = reference


def stub(reference):
    def unavailable(*args, **kwargs):
        raise ReferenceUnavailable(reference)

    unavailable.__name__ = unavailable.__qualname__ = reference.rsplit(".", 1)[1]
    unavailable.__module__ = reference.rsplit(".", 1)[0]
    unavailable.__book_reference__ = reference
    unavailable.__doc__ = f"Not available while grading: {reference} is a reference implementation."
    return unavailable
'''


# --------------------------------------------------------------------------
# The student copy of the package
# --------------------------------------------------------------------------
def stub_module(source: str, module: str) -> str:
    """A module with the public names of ``source``, every function and class a stub."""
    tree = ast.parse(source)
    lines = [f'"""Stub of {module}: its functions are not available while grading."""', "",
             "from book._unavailable import stub"]
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            lines.append(f"{node.name} = stub({module + '.' + node.name!r})")
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            if node.module.startswith(("book.nn", "book.textgen")):
                names = ", ".join(a.name + (f" as {a.asname}" if a.asname else "") for a in node.names)
                lines.append(f"from {node.module} import {names}")
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            if node.value is None or not all(isinstance(t, ast.Name) for t in targets):
                continue
            try:
                value = ast.literal_eval(node.value)
            except (ValueError, SyntaxError, TypeError):
                for t in targets:  # a computed constant: a stub too
                    if not t.id.startswith("_"):
                        lines.append(f"{t.id} = stub({module + '.' + t.id!r})")
                continue
            for t in targets:
                lines.append(f"{t.id} = {value!r}")
    return "\n".join(lines) + "\n"


def build_student_package(dest: Path) -> Path:
    """Write the student copy of ``book`` under ``dest`` (returns ``dest``, the path entry)."""
    book = dest / "book"
    book.mkdir(parents=True)
    (book / "_unavailable.py").write_text(UNAVAILABLE, encoding="utf-8")
    for sub in STUBBED:
        for src in sorted((PACKAGE / sub).glob("*.py")):
            rel = src.relative_to(PACKAGE)
            out = book / rel
            out.parent.mkdir(parents=True, exist_ok=True)
            module = "book." + ".".join(rel.with_suffix("").parts)
            module = module.removesuffix(".__init__")
            out.write_text(stub_module(src.read_text(encoding="utf-8"), module), encoding="utf-8")
    for rel in KEPT:
        src = PACKAGE / rel
        if src.is_dir():
            shutil.copytree(src, book / rel, dirs_exist_ok=True, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            (book / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, book / rel)
    (book / "grading").mkdir()
    shutil.copy2(KERNEL_SIDE, book / "grading" / "__init__.py")
    for path in [dest, *dest.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    return dest


# --------------------------------------------------------------------------
# Isolation
# --------------------------------------------------------------------------
@dataclass
class Isolation:
    """How the learner's kernel is kept from the references (see the module docstring)."""

    mode: str  # "namespace", "permissions" or "relaxed"
    note: str = ""  # one line for the instructor, empty when fully isolated
    hide: list[str] = field(default_factory=list)

    @property
    def switches_user(self) -> bool:
        return self.mode != "relaxed"


def book_checkouts() -> set[Path]:
    """Folders holding a copy of the book's package: this one, an editable install's, the
    repository around the virtual environment."""
    found = {PACKAGE.parent}
    try:
        from importlib.metadata import distribution

        url = json.loads(distribution("rnn-course-book").read_text("direct_url.json") or "{}").get("url", "")
        if url.startswith("file://"):
            found.add(Path(url[len("file://"):]))
    except Exception:  # noqa: BLE001 - not installed, or not from a folder
        pass
    around_venv = Path(sys.prefix).resolve().parent
    if (around_venv / "book" / "grading").is_dir():
        found.add(around_venv)
    return {p.resolve() for p in found}


def default_hidden(notebooks: list[Path]) -> list[str]:
    """Folders laid empty in the kernel's mount namespace."""
    hide = {str(PACKAGE)}
    for root in book_checkouts():
        hide |= {str(root), str(root / "book")}
    hide |= {str(Path(p).resolve().parent) for p in notebooks}
    return sorted(h for h in hide if h not in SYSTEM and len(Path(h).parts) > 2)


def exposed(sandbox_root: Path) -> list[str]:
    python = os.path.realpath(sys.executable)
    paths = {sys.prefix, os.path.realpath(sys.base_prefix), os.path.dirname(python), str(sandbox_root)}
    return sorted(os.path.realpath(p) for p in paths)


PROBE = textwrap.dedent(
    """
    import json, os, sys
    secret_paths = json.loads(sys.argv[1])
    readable = []
    for p in secret_paths:
        try:
            if os.path.isdir(p):
                if os.listdir(p):
                    readable.append(p)
            else:
                open(p, "rb").close()
                readable.append(p)
        except OSError:
            pass
    import numpy  # noqa: F401
    print(json.dumps({"readable": readable, "uid": os.getuid()}))
    """
)


def secret_files(notebooks: list[Path]) -> list[str]:
    """Files the kernel user must not be able to read: references, solutions, the notebooks."""
    out = []
    for root in book_checkouts() | {PACKAGE.parent}:
        out += [root / "book" / "nn" / "rnn.py", root / "book" / "grading" / "checks" / "ch01.py", root / "solutions"]
    out += [PACKAGE / "nn" / "rnn.py", PACKAGE.parent / "secret.txt"]
    out += [Path(p).resolve() for p in notebooks]
    return [str(p) for p in out if p.exists()]


def probe(isolation_mode: str, hide: list[str], workroot: Path, student_pkg: Path,
          secret: list[str]) -> dict[str, Any] | str:
    """Run a short script as the kernel would be run; its findings, or why it could not run."""
    uid = new_uid()
    box = Path(tempfile.mkdtemp(prefix="probe-", dir=workroot))
    box.chmod(0o711)
    os.chown(box, uid, uid)
    config = {
        "argv": [sys.executable, "-c", PROBE, json.dumps(secret)],
        "uid": uid,
        "gid": uid,
        "namespace": isolation_mode == "namespace",
        "hide": hide,
        "expose": exposed(workroot),
        "cwd": str(box),
        "env": kernel_env(box, student_pkg),
    }
    cfg = workroot / f"probe-{uid}.json"
    cfg.write_text(json.dumps(config), encoding="utf-8")
    try:
        r = subprocess.run([sys.executable, str(LAUNCHER), str(cfg)], capture_output=True, text=True, timeout=60)
    except subprocess.TimeoutExpired:
        return "the check as the kernel user timed out"
    finally:
        cfg.unlink(missing_ok=True)
        kill_user(uid)
        shutil.rmtree(box, ignore_errors=True)
    if r.returncode != 0:
        last = (r.stderr.strip().splitlines() or ["no message"])[-1]
        return " ".join(last.split())[:200]
    try:
        return json.loads(r.stdout.strip().splitlines()[-1])
    except (ValueError, IndexError):
        return "the check as the kernel user printed nothing readable"


_ISOLATION: dict[tuple, Isolation] = {}


def isolation(workroot: Path, student_pkg: Path, notebooks: list[Path], relaxed: bool = False,
              namespace: bool = True) -> Isolation:
    """Decide (once per process and setting) how to run learners' kernels."""
    hide = default_hidden(notebooks)
    secret = secret_files(notebooks)
    key = (relaxed, namespace, tuple(hide))
    if key in _ISOLATION:
        return _ISOLATION[key]
    if relaxed or os.geteuid() != 0:
        why = "--no-isolation was given" if relaxed else "not running as root"
        iso = Isolation("relaxed", f"note: {why}: the learner's kernel runs as you and could read the book's "
                        "reference files and your environment; fine for self-checking, not for grading others",
                        hide)
    else:
        found = probe("namespace", hide, workroot, student_pkg, secret) if namespace else "namespaces not tried"
        if isinstance(found, dict) and not found["readable"]:
            iso = Isolation("namespace", "", hide)
        else:
            plain = probe("permissions", hide, workroot, student_pkg, secret)
            if isinstance(plain, str):
                iso = Isolation("relaxed", f"note: the kernel cannot run as an unprivileged user ({plain}); "
                                "grading without isolation: the learner's code could read the references", hide)
            elif plain["readable"]:
                iso = Isolation("permissions", f"note: the kernel user can read {plain['readable'][0]} (no mount "
                                "namespaces here): make the book's files unreadable to other users to keep "
                                "the references out of the learner's reach", hide)
            else:
                iso = Isolation("permissions", "", hide)
    _ISOLATION[key] = iso
    return iso


def new_uid() -> int:
    """A fresh uid with no process and no account: the kernel's own user."""
    while True:
        uid = UID_RANGE[0] + secrets.randbelow(UID_RANGE[1] - UID_RANGE[0])
        if not processes_of(uid):
            return uid


def processes_of(uid: int) -> list[int]:
    pids = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status", encoding="ascii", errors="replace") as fh:
                for line in fh:
                    if line.startswith("Uid:"):
                        if int(line.split()[1]) == uid:
                            pids.append(int(entry))
                        break
        except (OSError, ValueError, IndexError):
            continue
    return pids


def descendants_of(pid: int) -> list[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as fh:
                ppid = int(fh.read().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(entry))
        except (OSError, ValueError, IndexError):
            continue
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def _is_zombie(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] == "Z"
    except (OSError, IndexError):
        return True


def become_subreaper() -> None:
    """Orphans of the kernels (a fork bomb's children) become this process's, to be reaped."""
    try:
        import ctypes

        ctypes.CDLL(None).prctl(36, 1, 0, 0, 0)  # PR_SET_CHILD_SUBREAPER
    except (OSError, AttributeError):  # pragma: no cover - not Linux
        pass


def reap(pids: list[int]) -> None:
    for p in pids:
        try:
            os.waitpid(p, os.WNOHANG)
        except (ChildProcessError, OSError):
            pass


def kill_user(uid: int, keep: int | None = None) -> int:
    """SIGKILL every live process of ``uid`` except ``keep``; the number killed."""
    killed: list[int] = []
    for _ in range(20):  # a fork bomb may still be forking while we kill
        pids = [p for p in processes_of(uid) if p != keep and not _is_zombie(p)]
        if not pids:
            break
        for p in pids:
            try:
                os.kill(p, signal.SIGKILL)
                killed.append(p)
            except OSError:
                pass
    reap(processes_of(uid))  # those already orphaned to us
    return len(killed)


def kill_strays(kernel_pid: int | None, uid: int | None) -> int:
    """Kill what the learner's kernel left running (a fork bomb's children)."""
    if uid is not None:
        return kill_user(uid, keep=kernel_pid)
    if kernel_pid is None:
        return 0
    killed = 0
    for p in descendants_of(kernel_pid):
        try:
            os.kill(p, signal.SIGKILL)
            killed += 1
        except OSError:
            pass
    return killed


def count_processes_of_me() -> int:
    return len(processes_of(os.getuid()))


# --------------------------------------------------------------------------
# One notebook's sandbox and kernel manager
# --------------------------------------------------------------------------
def kernel_env(workdir: Path, student_pkg: Path) -> dict[str, str]:
    """The kernel's whole environment: nothing of the grader's (its secret included)."""
    python_dir = os.path.dirname(sys.executable)
    env = {
        "PATH": f"{python_dir}:/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "IPYTHONDIR": str(workdir / ".ipython"),
        "MPLCONFIGDIR": str(workdir / ".matplotlib"),
        "JUPYTER_RUNTIME_DIR": str(workdir / ".jupyter"),
        "PYTHONPATH": str(student_pkg),
        "PYTHONNOUSERSITE": "1",
        "PYTHONDONTWRITEBYTECODE": "1",
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "OMP_NUM_THREADS": "1",
        "OPENBLAS_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        "TF_CPP_MIN_LOG_LEVEL": "3",
        "TF_ENABLE_ONEDNN_OPTS": "0",
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
        "JPY_PARENT_PID": str(os.getpid()),
    }
    if sys.prefix != sys.base_prefix:
        env["VIRTUAL_ENV"] = sys.prefix
    return env


@dataclass
class Limits:
    timeout: int = 60
    memory_mb: int = 4096
    nproc: int = 128
    output_mb: float = 4.0
    fsize_mb: int = 256


@dataclass
class Sandbox:
    """A notebook's folder, user and kernel launch configuration."""

    root: Path
    workdir: Path
    uid: int | None
    config_path: Path

    def cleanup(self) -> None:
        if self.uid is not None:
            kill_user(self.uid)
            reap(processes_of(self.uid))
        shutil.rmtree(self.root, ignore_errors=True)


def make_sandbox(workroot: Path, student_pkg: Path, iso: Isolation, limits: Limits) -> Sandbox:
    root = Path(tempfile.mkdtemp(prefix="nb-", dir=workroot))
    root.chmod(0o711)
    workdir = root / "work"
    workdir.mkdir()
    uid = new_uid() if iso.switches_user else None
    nproc: int | None = limits.nproc
    if uid is None:
        if os.geteuid() == 0:
            nproc = None  # root ignores the process limit; nothing to set
        else:  # the limit counts all of your processes: leave room for them
            nproc = count_processes_of_me() + limits.nproc
    if uid is not None:
        os.chown(workdir, uid, uid)
    workdir.chmod(0o700)
    conn = root / "kernel.json"
    config = {
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", str(conn)],
        "connection_dst": str(conn),
        "uid": uid,
        "gid": uid,
        "namespace": iso.mode == "namespace",
        "hide": iso.hide,
        "expose": exposed(workroot),
        "cwd": str(workdir),
        "env": kernel_env(workdir, student_pkg),
        "memory_mb": limits.memory_mb,
        "quiet": True,
        "nproc": nproc,
        "fsize_mb": limits.fsize_mb,
    }
    config_path = root / "launch.json"
    config_path.write_text(json.dumps(config), encoding="utf-8")
    config_path.chmod(0o600)
    return Sandbox(root, workdir, uid, config_path)


# Bytes of one message from the kernel: a larger one is dropped unread, so that no output can
# exhaust the grader's memory.  (Dropping it breaks that kernel's output channel: the
# notebook's later exercises then fail too, the price of such an attack, paid by its author.)
MAX_INBOUND = 512 << 20


class SandboxKernelManager(AsyncKernelManager):
    """A kernel manager that starts the kernel through :mod:`book.grading.launcher`, and
    whose clients refuse messages too large to be anything but an attack on the grader."""

    launch_config: str = ""

    def client(self, **kwargs: Any) -> Any:
        kc = super().client(**kwargs)
        kc.context.setsockopt(zmq.MAXMSGSIZE, MAX_INBOUND)
        return kc

    def format_kernel_cmd(self, extra_arguments: list[str] | None = None) -> list[str]:
        return [sys.executable, str(LAUNCHER), self.launch_config, self.connection_file]


def kernel_manager_class(sandbox: Sandbox) -> type[SandboxKernelManager]:
    return type("BookGradeKernelManager", (SandboxKernelManager,), {"launch_config": str(sandbox.config_path)})
