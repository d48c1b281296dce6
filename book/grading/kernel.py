"""The learner's side of grading: what runs inside the kernel while a notebook is graded.

While ``python -m book.grade`` grades a notebook, the kernel imports a copy
of this file as ``book.grading`` (see :mod:`book.grading.sandbox`), so
``from book.grading import check`` gives the :func:`check` below.  It grades
nothing: it only hands the answer objects to the grader, which then calls
them on inputs it chose, through :func:`_serve`, and judges their outputs in
its own process.  Nothing here knows a reference answer, a case or a verdict,
so nothing the learner's code does to this module can raise a score: at worst
it changes which object is judged.

The wire format (shared with :mod:`book.grading.remote`) is JSON: numbers,
text, lists, tuples and dicts by value, NumPy arrays as base64 ``.npy`` files
written with ``allow_pickle=False``, and any other object (a function, a
cache of a custom class) as a handle ``{"t": "ref", "ref": k}`` into
``_REFS``, so it never leaves the kernel.  Never pickle.

This file must import nothing from the book: it is copied alone.
"""

from __future__ import annotations

import base64
import io
import json
import os
import traceback
from typing import Any

import numpy as np

MIME = "application/vnd.book-grade+json"
MAX_ITEMS = 200_000  # values encoded per message, beyond which the rest become handles
MAX_DEPTH = 40
MAX_TEXT = 100_000

_SUBMITTED: dict[str, tuple[Any, ...]] = {}
_REFS: dict[int, Any] = {}
_HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the book package copy


def check(exercise_id: str, answer: Any, *extra: Any) -> None:
    """While grading: hand ``answer`` (and ``extra``) to the grader, which judges it."""
    _SUBMITTED[str(exercise_id)] = (answer, *extra)
    print(f"[....] Exercise {exercise_id}: handed to the grader, which checks it outside this kernel")


# --------------------------------------------------------------------------
# Encoding (kernel -> grader) and decoding (grader -> kernel)
# --------------------------------------------------------------------------
class _Budget:
    def __init__(self) -> None:
        self.items = 0


def _ref(obj: Any) -> int:
    k = len(_REFS) + 1
    while k in _REFS:
        k += 1
    _REFS[k] = obj
    return k


def _npy(arr: np.ndarray) -> str:
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=False)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def encode(value: Any, budget: _Budget | None = None, depth: int = 0) -> dict[str, Any]:
    """``value`` as JSON-ready data; objects that are not plain data become handles."""
    budget = budget or _Budget()
    budget.items += 1
    t = type(value)
    if value is None:
        return {"t": "none"}
    if value is Ellipsis:
        return {"t": "ellipsis"}
    if value is NotImplemented:
        return {"t": "notimpl"}
    if t is bool:
        return {"t": "bool", "v": value}
    if t is int:
        return {"t": "int", "v": str(value)} if value.bit_length() < 4000 else _opaque(value)
    if t is float:
        return {"t": "float", "v": repr(value)}
    if t is str:
        return {"t": "str", "v": value} if len(value) <= MAX_TEXT else _opaque(value)
    if isinstance(value, np.generic) and value.dtype.kind in "biufc":
        return {"t": "npscalar", "npy": _npy(np.asarray(value))}
    if t is np.ndarray and value.dtype.kind in "biufc" and value.dtype.fields is None:
        budget.items += value.size // 64
        return {"t": "nd", "npy": _npy(value)}
    if isinstance(value, (tuple, list, dict)) and depth < MAX_DEPTH and budget.items < MAX_ITEMS:
        exact = t in (tuple, list, dict)
        if isinstance(value, dict):
            out: dict[str, Any] = {
                "t": "dict",
                "v": [[encode(k, budget, depth + 1), encode(v, budget, depth + 1)] for k, v in value.items()],
            }
        else:
            out = {"t": "tuple" if isinstance(value, tuple) else "list", "v": [encode(v, budget, depth + 1) for v in value]}
        if not exact:  # a namedtuple, a dict subclass...: the object itself stays here too
            out["ref"] = _ref(value)
            out["type"] = t.__name__
        return out
    return _opaque(value)


def _opaque(value: Any) -> dict[str, Any]:
    kind = "fn" if callable(value) else "obj"
    out = {"t": kind, "ref": _ref(value), "type": type(value).__name__[:80]}
    reference = getattr(value, "__book_reference__", None) if kind == "fn" else None
    if isinstance(reference, str):
        out["reference"] = reference[:200]
    return out


def decode(data: Any) -> Any:
    """A value sent by the grader (the inverse of the grader's encoder)."""
    t = data["t"]
    if t == "none":
        return None
    if t == "bool":
        return bool(data["v"])
    if t == "int":
        return int(data["v"])
    if t == "float":
        return float(data["v"])
    if t == "str":
        return str(data["v"])
    if t in ("nd", "npscalar"):
        arr = np.load(io.BytesIO(base64.b64decode(data["npy"])), allow_pickle=False)
        return arr[()] if t == "npscalar" else arr
    if t == "tuple":
        return tuple(decode(v) for v in data["v"])
    if t == "list":
        return [decode(v) for v in data["v"]]
    if t == "dict":
        return {decode(k): decode(v) for k, v in data["v"]}
    if t == "ref":
        return _REFS[int(data["ref"])]
    raise ValueError(f"cannot decode {t!r}")


def describe(exc: BaseException) -> dict[str, Any]:
    """An exception of the learner's code, in a few words, with its line."""
    frames = [f for f in traceback.extract_tb(exc.__traceback__) if not os.path.abspath(f.filename).startswith(_HERE)]
    where = f" (line {frames[-1].lineno}, in {frames[-1].name})" if frames else ""
    msg = " ".join(str(exc).split())
    if len(msg) > 160:
        msg = msg[:157] + "..."
    name = type(exc).__name__
    text = f"raised {name}: {msg}{where}" if msg else f"raised {name}{where}"
    out = {"type": name, "text": text}
    reference = getattr(exc, "reference", None)
    if isinstance(reference, str):
        out["reference"] = reference[:200]
    return out


# --------------------------------------------------------------------------
# The grader's requests
# --------------------------------------------------------------------------
def _handle(request: dict[str, Any]) -> dict[str, Any]:
    op = request["op"]
    if op == "answer":
        objects = _SUBMITTED.get(str(request["id"]))
        if objects is None:
            return {"found": False}
        budget = _Budget()
        return {"found": True, "values": [encode(o, budget) for o in objects]}
    if op == "call":
        return _call(_REFS[int(request["ref"])], request["args"])
    if op == "map":  # several calls in one request: the cases of one exercise
        fn = _REFS[int(request["ref"])]
        return {"results": [_call(fn, args) for args in request["calls"]]}
    if op == "release":
        _REFS.clear()
        return {}
    raise ValueError(f"unknown request {op!r}")


def _call(fn: Any, encoded_args: list[Any]) -> dict[str, Any]:
    args = [decode(a) for a in encoded_args]
    try:
        out = fn(*args)
    except KeyboardInterrupt:
        raise
    except BaseException as exc:  # noqa: BLE001 - SystemExit from the learner's code is an answer too
        return {"raised": describe(exc)}
    return {"value": encode(out)}


def _serve(nonce: str, payload: str) -> None:
    """Answer one request of the grader with one display message tagged with ``nonce``."""
    request = json.loads(base64.b64decode(payload))
    body = _handle(request)
    from IPython.display import publish_display_data

    publish_display_data({MIME: {"nonce": nonce, "body": body}})
