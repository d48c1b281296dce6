"""Decoding an autoregressive model: greedy and beam search (Chapter 10).

A model is given as a function ``step(state, token) -> (log_probs, new_state)``:
it reads one token, returns the log-probabilities (V,) of the next token and
its new state.  Decoding starts with ``step(state, start)``.  A hypothesis is
the list of tokens emitted after ``start``; it is *finished* when its last
token is ``end`` (kept in the tokens) or when it holds ``max_len`` tokens.
Its score is its total log-probability, the sum of the log-probabilities of
its tokens.

``beam_search`` keeps the ``beam_width`` best candidates at each length;
candidates that finish leave the beam, which then shrinks, so at most
``beam_width`` finished hypotheses come back (Sutskever et al. 2014's form).
Width 1 is greedy decoding; a beam at least as wide as the number of possible
hypotheses prunes nothing and is exact.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

Array = np.ndarray
Step = Callable[[Any, int], tuple[Array, Any]]

__all__ = ["Tokens", "beam_search", "greedy", "length_normalized"]


class Tokens(tuple):
    """A hypothesis's token ids: a tuple of ints that also equals the list of the same ints."""

    def __eq__(self, other: object) -> bool:
        if isinstance(other, (list, tuple)):
            return tuple(self) == tuple(other)
        return NotImplemented

    def __ne__(self, other: object) -> bool:
        eq = self.__eq__(other)
        return eq if eq is NotImplemented else not eq

    __hash__ = tuple.__hash__


def _check_int(name: str, value: Any, low: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise TypeError(f"{name} must be an integer, got {type(value).__name__}")
    if value < low:
        raise ValueError(f"{name} must be at least {low}, got {value}")
    return int(value)


def _log_probs(step: Step, state: Any, token: int, end: int) -> tuple[Array, Any]:
    out = step(state, token)
    if not (isinstance(out, tuple) and len(out) == 2):
        raise ValueError("step(state, token) must return (log_probs, new_state)")
    lp, new_state = out
    lp = np.asarray(lp, dtype=np.float64)
    if lp.ndim != 1 or lp.shape[0] == 0:
        raise ValueError(f"step must return log_probs of shape (V,), got {lp.shape}")
    if not 0 <= end < lp.shape[0]:
        raise ValueError(f"end = {end} is not a token id of a vocabulary of V = {lp.shape[0]}")
    if np.isnan(lp).any():
        raise ValueError("step returned nan log-probabilities")
    return lp, new_state


def length_normalized(log_prob: float, n_tokens: int, alpha: float = 1.0) -> float:
    """The score ``log_prob / n_tokens ** alpha`` (alpha 0: the plain total; 1: per token)."""
    return float(log_prob) / float(n_tokens) ** alpha


def greedy(
    step: Step, state: Any, start: int, end: int, max_len: int
) -> tuple[Tokens, float]:
    """Greedy decoding: emit the most probable token at every step.

    Returns ``(tokens, log_prob)``: the tokens after ``start`` (ending in
    ``end`` unless ``max_len`` stopped it) and their total log-probability.
    Ties go to the smaller token id, as in ``np.argmax``.
    """
    start, end = _check_int("start", start, 0), _check_int("end", end, 0)
    max_len = _check_int("max_len", max_len, 1)
    tokens: list[int] = []
    total = 0.0
    lp, state = _log_probs(step, state, start, end)
    while True:
        token = int(np.argmax(lp))
        tokens.append(token)
        total += float(lp[token])
        if token == end or len(tokens) == max_len:
            return Tokens(tokens), total
        lp, state = _log_probs(step, state, token, end)


def beam_search(
    step: Step,
    state: Any,
    start: int,
    end: int,
    beam_width: int,
    max_len: int,
    *,
    length_norm: float = 0.0,
) -> list[tuple[Tokens, float]]:
    """Beam search over the hypotheses of ``step``'s model.

    Parameters
    ----------
    step : ``step(state, token) -> (log_probs (V,), new_state)``.
    state : the model's state before ``start`` (for example the encoder's).
    start, end : token ids; decoding begins with ``step(state, start)``, and
        a hypothesis that emits ``end`` is finished (``end`` stays in it).
    beam_width : how many candidates are kept at each length (>= 1).
    max_len : a hypothesis with this many tokens is finished (>= 1).
    length_norm : alpha >= 0.  With 0 (the default) hypotheses are ranked by
        total log-probability; otherwise the finished ones are ranked by
        ``log_prob / len(tokens) ** alpha``
        (:func:`length_normalized`), which favours longer outputs.

    Returns
    -------
    At most ``beam_width`` pairs ``(tokens, log_prob)``, best first;
    ``log_prob`` is always the plain total log-probability.  Among equal
    scores the hypothesis found first comes first (ties between tokens go to
    the smaller id, so width 1 gives exactly :func:`greedy`'s answer).
    """
    start, end = _check_int("start", start, 0), _check_int("end", end, 0)
    beam_width = _check_int("beam_width", beam_width, 1)
    max_len = _check_int("max_len", max_len, 1)
    if not np.isfinite(length_norm) or length_norm < 0:
        raise ValueError(f"length_norm must be a finite number >= 0, got {length_norm}")
    lp, state = _log_probs(step, state, start, end)
    # alive: (tokens, total log-prob, next-token log-probs, state after the last token)
    alive = [((), 0.0, lp, state)]
    finished: list[tuple[Tokens, float]] = []
    while alive:
        V = alive[0][2].shape[0]
        if any(a[2].shape[0] != V for a in alive):
            raise ValueError("step returned log_probs of different sizes V")
        scores = np.concatenate([a[1] + a[2] for a in alive])  # (len(alive) * V,)
        keep = beam_width - len(finished)
        order = np.argsort(-scores, kind="stable")[:keep]
        survivors = []
        for k in order:
            parent, token = divmod(int(k), V)
            tokens, _, _, parent_state = alive[parent]
            tokens = (*tokens, token)
            total = float(scores[k])
            if token == end or len(tokens) == max_len:
                finished.append((Tokens(tokens), total))
            else:
                survivors.append((tokens, total, parent_state))
        alive = []
        for tokens, total, parent_state in survivors:
            lp, new_state = _log_probs(step, parent_state, tokens[-1], end)
            alive.append((tokens, total, lp, new_state))
    # stable sort: equal scores keep the order in which they were found
    return sorted(
        finished, key=lambda f: -length_normalized(f[1], len(f[0]), length_norm)
    )
