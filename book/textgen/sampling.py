"""Choosing the next character, and generating text with a carried state in NumPy.

:func:`sampling_distribution` / :func:`sample_index`: temperature, top-k and
nucleus (top-p) sampling.  :func:`find_cycle`: where a generated text ends in
a loop.  :class:`StepGenerator`: generation from a trained
Keras model's weights, one step per new character.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from book.nn import gru_step_forward, lstm_step_forward
from book.textgen.vocab import TextgenError

Array = np.ndarray


def sampling_distribution(
    logits: Array, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0
) -> Array:
    """The distribution a sampler draws the next character from, shape (V,).

    ``softmax(logits / temperature)``, then (``top_k > 0``) only the ``top_k``
    most likely characters are kept, then (``top_p < 1``) only the smallest
    set of most likely characters whose probability adds up to at least
    ``top_p`` (the nucleus); what is kept is renormalised.  ``temperature=0``
    means arg-max (greedy).  Ties are broken by the lower id.
    """
    logits = np.asarray(logits, dtype=np.float64).ravel()
    V = logits.size
    order = np.argsort(-logits, kind="stable")  # most likely first, ties by id
    if temperature <= 0:
        p = np.zeros(V)
        p[order[0]] = 1.0
        return p
    z = logits / temperature
    p = np.exp(z - z.max())
    p /= p.sum()
    keep = np.ones(V, dtype=bool)
    if top_k and top_k < V:
        keep[order[top_k:]] = False
    if top_p < 1.0:
        cum = np.cumsum(p[order] * keep[order]) / p[keep].sum()
        n = int(np.searchsorted(cum, top_p - 1e-12) + 1)  # smallest prefix with mass >= top_p
        keep[order[n:]] = False
    p = np.where(keep, p, 0.0)
    return p / p.sum()


def sample_index(
    logits: Array, rng: np.random.Generator, temperature: float = 1.0, top_k: int = 0, top_p: float = 1.0
) -> int:
    """Draw one id from :func:`sampling_distribution` (arg-max when ``temperature == 0``)."""
    p = sampling_distribution(logits, temperature, top_k, top_p)
    if temperature <= 0:
        return int(np.argmax(p))
    return int(np.searchsorted(np.cumsum(p), rng.random() * p.sum(), side="right").clip(0, p.size - 1))


def find_cycle(seq: Sequence[Any], min_length: int = 100) -> tuple[int, int] | None:
    """Where ``seq`` ends in a loop: ``(mu, lam)`` or ``None``.

    ``lam`` is the shortest period with which the end of ``seq`` repeats,
    ``seq[i] == seq[i + lam]`` for every ``i`` from ``mu`` on, over a tail
    ``seq[mu:]`` of at least ``min_length`` items and two periods; ``mu`` is
    where that tail starts.  A generator whose output ends in such a tail has
    been repeating the same ``lam`` characters for ``len(seq) - mu`` of them.
    """
    n = len(seq)
    for lam in range(1, n // 2 + 1):
        i = n - lam - 1
        while i >= 0 and seq[i] == seq[i + lam]:
            i -= 1
        if n - (i + 1) >= max(min_length, 2 * lam):
            return i + 1, lam
    return None


class StepGenerator:
    """One-character-at-a-time generator from a trained model's weights (NumPy).

    Holds the recurrent state of every layer between calls, so feeding one
    character costs one step of each layer.  Accepts the stateless or stateful
    Keras models of :func:`build_model` (dropout is inactive at generation).
    """

    def __init__(self, model: Any):
        self._gru, self._lstm = gru_step_forward, lstm_step_forward
        self.embedding: Array | None = None
        self.cells: list[tuple[str, tuple[Array, ...], str]] = []
        for layer in model.layers:
            kind = type(layer).__name__
            weights = tuple(np.asarray(w, dtype=np.float64) for w in layer.get_weights())
            if kind == "Embedding":
                self.embedding = weights[0]
            elif kind in ("GRU", "LSTM", "SimpleRNN"):
                act = getattr(layer, "activation", None)
                act_name = getattr(act, "__name__", "tanh")
                if kind == "GRU" and not getattr(layer, "reset_after", True):
                    raise TextgenError("only Keras's default GRU (reset_after=True) is supported")
                self.cells.append((kind, weights, act_name))
            elif kind == "Dense":
                self.W_y, self.b_y = weights
        if self.embedding is None or not self.cells:
            raise TextgenError("not a character model (needs an embedding, a recurrent layer and a dense layer)")
        self.vocab_size = self.embedding.shape[0]
        self.reset()

    def reset(self) -> None:
        """Back to the zero state."""
        self.state = []
        for kind, w, _ in self.cells:
            H = w[1].shape[0]
            self.state.append((np.zeros((1, H)), np.zeros((1, H))) if kind == "LSTM" else np.zeros((1, H)))

    def step(self, idx: int) -> Array:
        """Feed one id; return the logits (V,) for the next character and keep the new state."""
        x = self.embedding[idx][None]
        for k, (kind, w, act) in enumerate(self.cells):
            if kind == "GRU":
                x, _ = self._gru(x, self.state[k], *w)
                self.state[k] = x
            elif kind == "LSTM":
                h, c = self.state[k]
                x, c, _ = self._lstm(x, h, c, *w)
                self.state[k] = (x, c)
            else:
                a = x @ w[0] + self.state[k] @ w[1] + w[2]
                x = np.maximum(a, 0.0) if act == "relu" else np.tanh(a)
                self.state[k] = x
        return (x @ self.W_y + self.b_y)[0]

    def feed(self, ids: Sequence[int] | Array) -> Array:
        """Feed several ids in order; return the logits after the last (zeros if none)."""
        logits = np.zeros(self.vocab_size)
        for i in ids:
            logits = self.step(int(i))
        return logits

    def generate(
        self, prompt_ids: Sequence[int] | Array, length: int, temperature: float = 1.0, top_k: int = 0,
        top_p: float = 1.0, seed: int | None = 0, window: int | None = None,
    ) -> list[int]:
        """Ids of ``length`` new characters after ``prompt_ids``.

        With ``window=None`` the state is carried: the prompt is read once and
        every new character costs one step.  With ``window=W`` the state is
        reset and the last ``W`` characters re-run for every new character (how
        a fixed-window model such as the sources' generates): ``W`` steps each.
        """
        rng = np.random.default_rng(seed)
        history = [int(i) for i in prompt_ids]
        out: list[int] = []
        self.reset()
        logits = self.feed(history) if window is None else None
        for _ in range(length):
            if window is not None:
                self.reset()
                logits = self.feed(history[-window:])
            nxt = sample_index(logits, rng, temperature, top_k, top_p)
            out.append(nxt)
            history.append(nxt)
            if window is None:
                logits = self.step(nxt)
        return out
