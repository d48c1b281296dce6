"""A character-level vanilla RNN from scratch in NumPy, in the style of min-char-rnn (Chapter 8).

Built on :mod:`book.nn.rnn` (``rnn_forward`` / ``rnn_backward``): characters are
one-hot vectors, the hidden state is a tanh RNN, the output is a dense layer
giving logits, and the loss is the softmax cross-entropy of the next
character.  Training is plain truncated BPTT over contiguous chunks with the
state carried from chunk to chunk, element-wise gradient clipping and Adagrad,
as in Karpathy's ``min-char-rnn.py``.

Shapes: ``N`` streams (batch), ``T`` steps, ``V`` vocabulary size, ``H``
hidden units.  Parameters (a dict) use the layout of :mod:`book.nn.rnn`::

    W_xh (V, H), W_hh (H, H), b_h (H,), W_hy (H, V), b_y (V,)
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass, field

import numpy as np

from book.nn import rnn_backward, rnn_forward
from book.textgen.pipeline import EVAL_STREAMS, eval_streams, stream_batches

Array = np.ndarray
Params = dict[str, Array]
PARAM_NAMES = ("W_xh", "W_hh", "b_h", "W_hy", "b_y")


def init_params(V: int, H: int, rng: np.random.Generator, scale: float = 0.01) -> Params:
    """Small random weights (standard deviation ``scale``) and zero biases, as min-char-rnn."""
    return {
        "W_xh": rng.normal(scale=scale, size=(V, H)),
        "W_hh": rng.normal(scale=scale, size=(H, H)),
        "b_h": np.zeros(H),
        "W_hy": rng.normal(scale=scale, size=(H, V)),
        "b_y": np.zeros(V),
    }


def count_params(params: Params) -> int:
    return int(sum(p.size for p in params.values()))


def one_hot(ids: Array, V: int) -> Array:
    """(N, T) integer ids -> (N, T, V) float64 one-hot vectors."""
    return np.eye(V)[np.asarray(ids)]


def softmax_cross_entropy_forward(logits: Array, targets: Array) -> tuple[float, tuple[Array, Array]]:
    """Mean softmax cross-entropy over every position.

    Parameters
    ----------
    logits : (..., V) unnormalised scores.
    targets : (...) integer ids of the correct characters.

    Returns
    -------
    loss : mean over positions of ``-log softmax(logits)[target]`` (nats).
    cache : (probabilities (..., V), targets) for the backward pass.
    """
    shifted = logits - logits.max(axis=-1, keepdims=True)
    exp = np.exp(shifted)
    probs = exp / exp.sum(axis=-1, keepdims=True)
    logp = shifted - np.log(exp.sum(axis=-1, keepdims=True))
    picked = np.take_along_axis(logp, targets[..., None], axis=-1)[..., 0]
    return float(-picked.mean()), (probs, targets)


def softmax_cross_entropy_backward(cache: tuple[Array, Array]) -> Array:
    """Gradient of the mean loss with respect to the logits: ``(softmax - one_hot) / count``."""
    probs, targets = cache
    dlogits = probs.copy()
    np.put_along_axis(dlogits, targets[..., None], np.take_along_axis(dlogits, targets[..., None], -1) - 1.0, -1)
    return dlogits / targets.size


def forward(params: Params, x_ids: Array, y_ids: Array, h0: Array) -> tuple[float, tuple]:
    """Loss (mean nats per character) of the next-character predictions and the cache.

    x_ids, y_ids : (N, T) inputs and targets; h0 : (N, H).
    """
    V = params["W_xh"].shape[0]
    h, rnn_cache = rnn_forward(one_hot(x_ids, V), h0, params["W_xh"], params["W_hh"], params["b_h"])
    logits = h @ params["W_hy"] + params["b_y"]
    loss, ce_cache = softmax_cross_entropy_forward(logits, y_ids)
    return loss, (h, rnn_cache, ce_cache)


def backward(params: Params, cache: tuple) -> tuple[Params, Array]:
    """Gradients of :func:`forward`'s loss: (a dict like ``params``, dh0 (N, H))."""
    h, rnn_cache, ce_cache = cache
    dlogits = softmax_cross_entropy_backward(ce_cache)  # (N, T, V)
    H, V = params["W_hy"].shape
    grads = {
        "W_hy": h.reshape(-1, H).T @ dlogits.reshape(-1, V),
        "b_y": dlogits.reshape(-1, V).sum(axis=0),
    }
    dh = dlogits @ params["W_hy"].T
    _, dh0, grads["W_xh"], grads["W_hh"], grads["b_h"] = rnn_backward(dh, rnn_cache)
    return grads, dh0


def loss_and_grads(params: Params, x_ids: Array, y_ids: Array, h0: Array) -> tuple[float, Params, Array]:
    """``(loss, grads, h_last)``: one truncated-BPTT chunk; ``h_last`` (N, H) seeds the next chunk."""
    loss, cache = forward(params, x_ids, y_ids, h0)
    grads, _ = backward(params, cache)
    return loss, grads, cache[0][:, -1]


def clip_elementwise(grads: Params, limit: float = 5.0) -> Params:
    """Clip every gradient entry into ``[-limit, limit]`` (min-char-rnn's clipping)."""
    return {k: np.clip(g, -limit, limit) for k, g in grads.items()}


def adagrad_update(params: Params, grads: Params, memory: Params, lr: float, eps: float = 1e-8) -> None:
    """In place: ``memory += g**2``; ``param -= lr * g / sqrt(memory + eps)``."""
    for k in params:
        memory[k] += grads[k] ** 2
        params[k] -= lr * grads[k] / np.sqrt(memory[k] + eps)


def heldout_nats(params: Params, ids: Array, streams: int | None = None) -> float:
    """Mean cross-entropy (nats/char) on contiguous text run as ``streams`` rows from a zero state.

    ``streams`` defaults to :data:`book.textgen.EVAL_STREAMS`, so that both
    kinds of model are scored the same way (on validation or on test text).
    """

    streams = EVAL_STREAMS if streams is None else streams
    return rows_nats(params, *eval_streams(ids, streams))


def rows_nats(params: Params, X: Array, Y: Array) -> float:
    """Mean cross-entropy (nats/char) of rows of inputs ``X`` and targets ``Y`` (S, L), each from a zero state."""
    loss, _ = forward(params, X, Y, np.zeros((X.shape[0], params["W_hh"].shape[0])))
    return loss


@dataclass
class CharRNNConfig:
    hidden: int = 128
    seq_len: int = 25
    batch_size: int = 1  # contiguous streams trained side by side (min-char-rnn: 1)
    learning_rate: float = 0.1
    clip: float = 5.0
    eval_every: int = 2000
    seed: int = 0


@dataclass
class CharRNNResult:
    params: Params  # the best by validation loss (the last if no validation text was given)
    val_nats: float  # the kept parameters' validation loss (inf without validation text)
    steps: int
    train_seconds: float
    chars_per_second: float
    losses: list[float] = field(default_factory=list)  # training loss per step
    history: list[dict[str, float]] = field(default_factory=list)


def train(
    train_ids: Array, V: int, config: CharRNNConfig, steps: int | None = None, seconds: float | None = None,
    validation_ids: Array | None = None,
) -> CharRNNResult:
    """Train the vanilla RNN for ``steps`` chunks or ``seconds`` of training time.

    The training text is cut into ``batch_size`` contiguous streams that are
    read ``seq_len`` characters at a time; the last state of one chunk is the
    first of the next, and the state is zeroed when a pass over the text ends.
    With ``validation_ids`` the validation loss is measured every
    ``eval_every`` steps (not counted in the time) and the best parameters
    are kept.
    """

    if (steps is None) == (seconds is None):
        raise ValueError("give exactly one of steps and seconds")
    rng = np.random.default_rng(config.seed)
    params = init_params(V, config.hidden, rng)
    memory = {k: np.zeros_like(p) for k, p in params.items()}
    X, Y = stream_batches(train_ids, config.batch_size, config.seq_len)
    h = np.zeros((config.batch_size, config.hidden))
    best, best_params, losses, history = math.inf, None, [], []
    t0, eval_time, step = time.perf_counter(), 0.0, 0

    def evaluate() -> None:
        nonlocal best, best_params, eval_time
        t = time.perf_counter()
        nats = heldout_nats(params, validation_ids)
        if nats < best:
            best, best_params = nats, {k: v.copy() for k, v in params.items()}
        eval_time += time.perf_counter() - t
        history.append({"step": step, "val_nats": nats})

    while True:
        elapsed = time.perf_counter() - t0 - eval_time
        if (steps is not None and step >= steps) or (seconds is not None and elapsed >= seconds):
            break
        k = step % len(X)
        if k == 0:
            h = np.zeros_like(h)
        loss, grads, h = loss_and_grads(params, X[k], Y[k], h)
        adagrad_update(params, clip_elementwise(grads, config.clip), memory, config.learning_rate)
        losses.append(loss)
        step += 1
        if validation_ids is not None and step % config.eval_every == 0:
            evaluate()
    train_seconds = time.perf_counter() - t0 - eval_time
    if validation_ids is not None and (not history or history[-1]["step"] != step):
        evaluate()
    return CharRNNResult(
        params=best_params if best_params is not None else params,
        val_nats=best,
        steps=step,
        train_seconds=train_seconds,
        chars_per_second=step * config.batch_size * config.seq_len / max(train_seconds, 1e-9),
        losses=losses,
        history=history,
    )


def sample(params: Params, prompt_ids: Array, length: int, temperature: float = 1.0, seed: int | None = 0) -> list[int]:
    """Ids of ``length`` characters sampled after reading ``prompt_ids``, one step each (state carried)."""
    rng = np.random.default_rng(seed)
    W_xh, W_hh, b_h, W_hy, b_y = (params[k] for k in PARAM_NAMES)
    h = np.zeros(W_hh.shape[0])
    for i in prompt_ids:
        h = np.tanh(W_xh[int(i)] + h @ W_hh + b_h)
    out = []
    for _ in range(length):
        logits = h @ W_hy + b_y
        if temperature <= 0:
            nxt = int(np.argmax(logits))
        else:
            z = logits / temperature
            p = np.exp(z - z.max())
            p /= p.sum()
            nxt = int(min(np.searchsorted(np.cumsum(p), rng.random(), side="right"), p.size - 1))
        out.append(nxt)
        h = np.tanh(W_xh[nxt] + h @ W_hh + b_h)
    return out
