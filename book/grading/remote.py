"""The grader's side of the kernel: run cells within limits, and call the learner's answers.

:class:`KernelSession` runs a notebook's cells one at a time in the sandboxed
kernel (:mod:`book.grading.sandbox`) with a time limit and an output cap per
cell; a cell that hangs is interrupted (the kernel restarted if it does not
come back), and a kernel that dies is restarted and the cells that had run
cleanly are replayed.

:meth:`KernelSession.request` sends one request to :mod:`book.grading.kernel`
as a short snippet whose only trusted output is one display message tagged
with a fresh nonce; it is parsed strictly (:func:`decode`), and anything
malformed, missing, duplicated, too large, late or flooded raises a
:class:`KernelTrouble`, which fails the exercise being graded.  The learner's
answers come back as :class:`RemoteFunction` handles: calling one sends the
arguments the grader chose (as data) and returns the learner's outputs (as
data), which the exercise's grading function compares with its reference in
this process.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import io
import json
import logging
import secrets
from dataclasses import dataclass
from typing import Any

import nbformat
import numpy as np
from nbclient import NotebookClient
from nbclient.exceptions import CellTimeoutError, DeadKernelError
from nbclient.util import ensure_async, run_sync

from book.grading.kernel import MIME

PROBE_TIMEOUT = 15
MAX_MESSAGE = 64 << 20  # bytes of one reply from the kernel
MAX_ARRAY = 50_000_000  # elements of one array in a reply
OUTPUT_TYPES = {"stream", "display_data", "execute_result", "error", "update_display_data"}


# --------------------------------------------------------------------------
# Trouble with the kernel: these end the grading of one exercise
# --------------------------------------------------------------------------
class KernelTrouble(BaseException):  # noqa: N818 - not an Exception: grading functions must not catch it
    """The kernel did not answer properly; ``status`` is the exercise's status, ``message`` why."""

    status = "error"

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class TimedOut(KernelTrouble):
    status = "timed out"


class Died(KernelTrouble):
    pass


class Flooded(KernelTrouble):
    status = "failed"


class Malformed(KernelTrouble):
    status = "failed"


class LearnerRaised(Exception):
    """The learner's function raised; ``info`` is the kernel's description of it."""

    def __init__(self, info: dict[str, str]):
        super().__init__(info["text"])
        self.type_name = info["type"]
        self.text = info["text"]
        self.reference = info.get("reference")


# --------------------------------------------------------------------------
# Values from the kernel
# --------------------------------------------------------------------------
class RemoteObject:
    """An object that stayed in the kernel: passed back to it as a handle."""

    def __init__(self, session: KernelSession, ref: int, type_name: str):
        self._session, self._ref, self.type_name = session, ref, type_name

    def __deepcopy__(self, memo: Any) -> RemoteObject:
        return self

    def __repr__(self) -> str:
        return f"<{self.type_name} in the learner's kernel>"


class RemoteFunction(RemoteObject):
    """The learner's function: calling it runs it in the kernel on these arguments."""

    def __init__(self, session: KernelSession, ref: int, type_name: str, reference: str | None = None):
        super().__init__(session, ref, type_name)
        self.book_reference = reference  # set when the answer is one of the book's stubs
        self._prefetched: dict[str, Any] = {}

    def prefetch(self, calls: list[tuple[Any, ...]]) -> None:
        """Run several calls in one request; :meth:`__call__` then answers them from here."""
        encoded = [[encode(a) for a in args] for args in calls]
        body = self._session.request({"op": "map", "ref": self._ref, "calls": encoded})
        results = body.get("results")
        if not isinstance(results, list) or len(results) != len(encoded):
            raise Malformed("the kernel's reply was malformed")
        for args, result in zip(encoded, results, strict=True):
            if isinstance(result, dict):
                self._prefetched.setdefault(json.dumps(args, sort_keys=True), result)

    def __call__(self, *args: Any) -> Any:
        encoded = [encode(a) for a in args]
        body = self._prefetched.pop(json.dumps(encoded, sort_keys=True), None)
        if body is None:
            body = self._session.request({"op": "call", "ref": self._ref, "args": encoded})
        if "raised" in body:
            info = body["raised"]
            if not (isinstance(info, dict) and isinstance(info.get("type"), str) and isinstance(info.get("text"), str)):
                raise Malformed("the kernel's reply was malformed")
            info = {k: _one_line(v) for k, v in info.items() if isinstance(v, str)}
            raise LearnerRaised(info)
        if "value" not in body:
            raise Malformed("the kernel's reply was malformed")
        return decode(body["value"], self._session)


class RemoteTuple(tuple):
    _ref: int


class RemoteList(list):
    _ref: int


class RemoteDict(dict):
    _ref: int


def _one_line(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _array(data: Any) -> np.ndarray:
    if not isinstance(data, str):
        raise Malformed("an array in the kernel's reply was malformed")
    try:
        arr = np.load(io.BytesIO(base64.b64decode(data, validate=True)), allow_pickle=False)
    except (ValueError, OSError, binascii.Error, EOFError) as exc:
        raise Malformed(f"an array in the kernel's reply was malformed ({type(exc).__name__})") from None
    if not isinstance(arr, np.ndarray) or arr.dtype.kind not in "biufc" or arr.dtype.fields is not None:
        raise Malformed("an array in the kernel's reply has an unsupported type")
    if arr.size > MAX_ARRAY:
        raise Malformed("an array in the kernel's reply is too large")
    return arr


def decode(data: Any, session: KernelSession, depth: int = 0) -> Any:
    """A value from the kernel, checked strictly (anything unexpected is :class:`Malformed`)."""
    if depth > 64 or not isinstance(data, dict) or not isinstance(data.get("t"), str):
        raise Malformed("the kernel's reply was malformed")
    t, v = data["t"], data.get("v")
    if t == "none":
        return None
    if t == "ellipsis":
        return Ellipsis
    if t == "notimpl":
        return NotImplemented
    if t == "bool" and isinstance(v, bool):
        return v
    if t == "int" and isinstance(v, str) and len(v) < 5000:
        try:
            return int(v)
        except ValueError:
            pass
    if t == "float" and isinstance(v, str) and len(v) < 40:
        try:
            return float(v)
        except ValueError:
            pass
    if t == "str" and isinstance(v, str):
        return v
    if t == "nd":
        return _array(data.get("npy"))
    if t == "npscalar":
        arr = _array(data.get("npy"))
        if arr.ndim == 0:
            return arr[()]
    if t in ("tuple", "list", "dict") and isinstance(v, list):
        ref = data.get("ref")
        if ref is not None and not (isinstance(ref, int) and not isinstance(ref, bool)):
            raise Malformed("the kernel's reply was malformed")
        if t == "dict":
            if not all(isinstance(kv, list) and len(kv) == 2 for kv in v):
                raise Malformed("the kernel's reply was malformed")
            items = [(decode(k, session, depth + 1), decode(x, session, depth + 1)) for k, x in v]
            try:
                out: Any = (RemoteDict if ref else dict)(items)
            except TypeError:
                raise Malformed("a dict in the kernel's reply has unhashable keys") from None
        else:
            values = [decode(x, session, depth + 1) for x in v]
            cls = (RemoteTuple if ref else tuple) if t == "tuple" else (RemoteList if ref else list)
            out = cls(values)
        if ref:
            out._ref = ref
        return out
    if t in ("fn", "obj") and isinstance(data.get("ref"), int) and isinstance(data.get("type"), str):
        type_name = _one_line(data["type"], 80)
        if t == "fn":
            reference = data.get("reference")
            return RemoteFunction(session, data["ref"], type_name, reference if isinstance(reference, str) else None)
        return RemoteObject(session, data["ref"], type_name)
    raise Malformed("the kernel's reply was malformed")


def encode(value: Any) -> dict[str, Any]:
    """A value the grader sends to the kernel (its own data, or handles it got from there)."""
    ref = getattr(value, "_ref", None)
    if isinstance(value, (RemoteObject, RemoteTuple, RemoteList, RemoteDict)) and ref is not None:
        return {"t": "ref", "ref": ref}
    if value is None:
        return {"t": "none"}
    if isinstance(value, (bool, np.bool_)):
        return {"t": "bool", "v": bool(value)}
    if isinstance(value, (int, np.integer)) and not isinstance(value, np.ndarray):
        return {"t": "int", "v": str(int(value))}
    if isinstance(value, (float, np.floating)):
        return {"t": "float", "v": repr(float(value))}
    if isinstance(value, str):
        return {"t": "str", "v": value}
    if isinstance(value, np.ndarray):
        buf = io.BytesIO()
        np.save(buf, value, allow_pickle=False)
        return {"t": "nd", "npy": base64.b64encode(buf.getvalue()).decode("ascii")}
    if isinstance(value, tuple):
        return {"t": "tuple", "v": [encode(v) for v in value]}
    if isinstance(value, list):
        return {"t": "list", "v": [encode(v) for v in value]}
    if isinstance(value, dict):
        return {"t": "dict", "v": [[encode(k), encode(v)] for k, v in value.items()]}
    raise TypeError(f"the grader cannot send a {type(value).__name__} to the kernel")


# --------------------------------------------------------------------------
# Running cells and requests
# --------------------------------------------------------------------------
class CappedClient(NotebookClient):
    """A notebook client that counts each execution's output and stops it past a cap."""

    output_cap: int = 4 << 20

    def reset_output_count(self) -> None:
        self.output_bytes = 0
        self.reply_bytes = 0
        self.flooded = False

    def process_message(self, msg: dict[str, Any], cell: Any, cell_index: int) -> Any:
        if msg.get("msg_type") in OUTPUT_TYPES:
            content = msg.get("content", {})
            data = content.get("data") or {}
            size = len(str(content.get("text", ""))) + sum(len(str(v)) for k, v in data.items() if k != MIME)
            size += sum(len(str(t)) for t in content.get("traceback") or [])
            self.output_bytes = getattr(self, "output_bytes", 0) + size
            if MIME in data:  # a reply to the grader: its own, larger budget
                self.reply_bytes = getattr(self, "reply_bytes", 0) + len(json.dumps(data[MIME]))
            if self.output_bytes > self.output_cap or getattr(self, "reply_bytes", 0) > MAX_MESSAGE:
                if not getattr(self, "flooded", False):
                    self.flooded = True
                    self.pending_interrupt = asyncio.ensure_future(ensure_async(self.km.interrupt_kernel()))
                return None  # dropped: it is not stored
        return super().process_message(msg, cell, cell_index)


@dataclass
class CellOutcome:
    index: int
    status: str  # "ok", "error", "timed out", "dead", "flood"
    message: str = ""


def error_message(cell: nbformat.NotebookNode) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            value = " ".join(str(out.get("evalue", "")).split())[:160]
            return f"{out.get('ename', 'Error')}: {value}" if value else out.get("ename", "Error")
    return ""


def _call(method: Any, *args: Any, **kwargs: Any) -> Any:
    """Call a kernel-manager or client method that may be a coroutine, synchronously."""

    async def call() -> Any:
        return await ensure_async(method(*args, **kwargs))

    return run_sync(call)()


class KernelSession:
    """One running kernel for one notebook: cells, requests, recovery."""

    def __init__(self, client: CappedClient, env: dict[str, str], timeout: int, memory_mb: int | None,
                 after_trouble: Any = None):
        self.client = client
        self.env = env
        self.timeout = timeout
        self.memory_mb = memory_mb
        self.completed: list[int] = []  # cells that ran cleanly, replayed after a restart
        self.scratch = len(client.nb.cells) - 1  # the last cell: where requests run
        self.after_trouble = after_trouble or (lambda: 0)
        logging.getLogger("asyncio").setLevel(logging.CRITICAL)  # stale polls after an interrupt

    # -- cells -------------------------------------------------------------
    def run_cell(self, index: int) -> CellOutcome:
        try:
            return self._run_cell(index)
        except KernelTrouble as trouble:  # the kernel could not be brought back
            return CellOutcome(index, "dead", trouble.message)

    def _run_cell(self, index: int) -> CellOutcome:
        cell = self.client.nb.cells[index]
        self.client.reset_output_count()
        try:
            self.client.execute_cell(cell, index)
        except CellTimeoutError:
            self._after_hang(index)
            return CellOutcome(index, "timed out", f"timed out after {self.timeout} s")
        except DeadKernelError:
            self._after_death()
            return CellOutcome(index, "dead", self._death_message("while running this cell"))
        if self.client.flooded:
            self._trouble()
            return CellOutcome(index, "flood", self._flood_message())
        message = error_message(cell)
        if message:
            self._trouble()
            if message.startswith("MemoryError") and self.memory_mb:
                message = f"ran out of memory (the limit is {self.memory_mb} MB): {message}"
            elif message.startswith(("BlockingIOError", "OSError")) and "Resource temporarily unavailable" in message:
                message = f"hit the limit on processes: {message}"
            return CellOutcome(index, "error", message)
        self.completed.append(index)
        return CellOutcome(index, "ok")

    def _flood_message(self) -> str:
        return f"printed more than {self.client.output_cap / (1 << 20):g} MB of output; stopped"

    def _death_message(self, when: str) -> str:
        limit = f"; the memory limit is {self.memory_mb} MB" if self.memory_mb else ""
        return f"the kernel died {when} (it exited, crashed or ran out of memory{limit})"

    def _cancel_stale_pollers(self) -> None:
        """Cancel the output poller a timed-out execution left behind: it would swallow the
        next executions' output (nbclient does not cancel it)."""

        async def cancel() -> None:
            pending = getattr(self.client, "pending_interrupt", None)
            if pending is not None and not pending.done():
                pending.cancel()
            current = asyncio.current_task()
            for task in asyncio.all_tasks():
                coro = task.get_coro()
                if task is not current and getattr(coro, "__name__", "") in ("_async_poll_output_msg", "_async_poll_kernel_alive"):
                    task.cancel()
            await asyncio.sleep(0)

        run_sync(cancel)()

    def _trouble(self) -> None:
        """Kill what the kernel left running; after a fork bomb, restart it: the killed
        children stay zombies of the kernel, counted against its process limit, until it exits."""
        killed = self.after_trouble()
        if killed:
            self._restart()
            self._replay()
            self.after_trouble()

    def _after_hang(self, index: int) -> None:
        self._cancel_stale_pollers()
        if not self._recover(index):
            self._replay()
        self._trouble()

    def _after_death(self) -> None:
        self._cancel_stale_pollers()
        self.after_trouble()
        self._restart()
        self._replay()

    def _replay(self) -> None:
        """Re-run the cells that had run cleanly, to rebuild the state a restart lost."""
        for i in list(self.completed):
            self.client.reset_output_count()
            try:
                self.client.execute_cell(self.client.nb.cells[i], i)
            except (CellTimeoutError, DeadKernelError):
                return

    def _recover(self, index: int) -> bool:
        """Interrupt a hung execution; restart the kernel if it does not come back (then False)."""
        assert self.client.km is not None
        _call(self.client.km.interrupt_kernel)
        probe = nbformat.v4.new_code_cell("pass")
        saved = self.client.timeout
        self.client.timeout = PROBE_TIMEOUT
        try:
            self.client.execute_cell(probe, self.scratch)
            return True
        except (CellTimeoutError, DeadKernelError):
            self._cancel_stale_pollers()
            self._restart()
            return False
        finally:
            self.client.timeout = saved

    def _restart(self) -> None:
        km, kc = self.client.km, self.client.kc
        assert km is not None and kc is not None
        self._cancel_stale_pollers()
        try:
            _call(km.shutdown_kernel, now=True, restart=True)
            self.after_trouble()  # the old kernel's zombies are ours now: reaped, so they no longer count
            _call(km.start_kernel, **km._launch_args)
            _call(kc.wait_for_ready, timeout=60)
        except Exception as exc:  # noqa: BLE001 - reported as trouble, not as the learner's error
            raise Died(f"the kernel could not be restarted ({type(exc).__name__})") from None

    # -- requests to book.grading.kernel -------------------------------------
    def request(self, req: dict[str, Any]) -> dict[str, Any]:
        """Send one request; the reply's body, or :class:`KernelTrouble`."""
        nonce = secrets.token_hex(16)
        payload = base64.b64encode(json.dumps(req).encode()).decode("ascii")
        code = f'__import__("book.grading", fromlist=["_serve"])._serve({nonce!r}, {payload!r})'
        cell = nbformat.v4.new_code_cell(code)
        self.client.reset_output_count()
        try:
            self.client.execute_cell(cell, self.scratch, store_history=False)
        except CellTimeoutError:
            self._after_hang(self.scratch)
            raise TimedOut(f"timed out after {self.timeout} s") from None
        except DeadKernelError:
            self._after_death()
            raise Died(self._death_message("while the grader called your answer")) from None
        if self.client.flooded:
            self._trouble()
            raise Flooded(self._flood_message())
        replies = [
            out["data"][MIME]
            for out in cell.outputs
            if out.get("output_type") == "display_data" and MIME in out.get("data", {})
        ]
        replies = [r for r in replies if isinstance(r, dict) and r.get("nonce") == nonce]
        if len(replies) > 1:
            raise Malformed(f"the kernel sent {len(replies)} replies to one request of the grader: something forged one")
        if len(replies) != 1:
            message = error_message(cell)
            if message.startswith("MemoryError") and self.memory_mb:
                raise Malformed(f"ran out of memory (the limit is {self.memory_mb} MB) while the grader called your answer")
            if message.startswith("KeyboardInterrupt"):
                raise TimedOut(f"timed out after {self.timeout} s")
            why = f" ({message})" if message else ""
            raise Malformed(f"the grader got no usable reply from the kernel{why}")
        body = replies[0].get("body")
        if not isinstance(body, dict):
            raise Malformed("the kernel's reply was malformed")
        return body
