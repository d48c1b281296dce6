"""A GRU layer that trains faster than Keras's on a CPU (Chapter 8's text generator).

Keras runs a GRU without a GPU as a loop of its cell: every step multiplies
its input by the input weights, and automatic differentiation of that loop
adds two small weight-gradient products per step.  :class:`FastGRU` computes
the same function with the same weights, with three changes:

1. the batch is cut into ``splits`` groups of streams; their recurrences are
   independent, so TensorFlow runs them side by side, one per core;
2. each group's input projection ``x W + b`` for all ``T`` steps is one large
   product before its loop;
3. the backward pass is written out (the equations of Chapter 7,
   :func:`book.nn.gated.gru_backward`), and the recurrent weight gradient is one
   large product after the loop, ``H_prev^T dA``, instead of ``T`` small ones.

It is a subclass of :class:`keras.layers.GRU`: same weights, same state
handling (``stateful``, ``initial_state``), same saved format.  Whenever it
cannot take its own path (a GPU is visible, so cuDNN is faster; a mask;
dropout inside the layer; other activations; ``reset_after=False``;
``go_backwards``) it runs Keras's code unchanged.

It also adds what Keras's GRU lacks: **weight dropout** on the recurrent
kernel (DropConnect, Wan et al. 2013, as used on the recurrent weights of
Merity et al.'s AWD-LSTM, 2018).  In training, every batch multiplies ``U``
by a fresh random 0/1 mask (scaled to keep its expected value), the same
for all streams and steps, so the recurrence itself is regularised without
breaking the fast loop; the gradient reaches ``U`` through the mask.  With
weight dropout on, training takes the own path on a GPU too.

Gate order and layout follow Keras: ``kernel`` (D, 3H) and
``recurrent_kernel`` (H, 3H) hold the update gate z, the reset gate r and the
candidate n side by side; ``bias`` is (2, 3H), input bias then recurrent bias::

    z, r = sigmoid(x W_zr + b_zr + h U_zr + c_zr)
    n    = tanh(x W_n + b_n + r * (h U_n + c_n))
    h'   = z * h + (1 - z) * n
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf


def gru_sequence(gx: Any, h0: Any, U: Any, c: Any) -> Any:
    """The GRU recurrence over precomputed input projections, with a hand-written gradient.

    Parameters
    ----------
    gx : (T, N, 3H) ``x_t W + b`` for every step (time first).
    h0 : (N, H) initial state.
    U : (H, 3H) recurrent kernel.  c : (3H,) recurrent bias.

    Returns
    -------
    hs : (T, N, H) the state after every step.  Gradients flow to all four inputs.
    """

    @tf.custom_gradient
    def run(gx, h0, U, c):
        T, H = tf.shape(gx)[0], tf.shape(h0)[1]

        def step(t, h, hs, ghs):
            g = gx[t]
            gh = tf.matmul(h, U) + c
            zr = tf.sigmoid(g[:, : 2 * H] + gh[:, : 2 * H])
            z, r = zr[:, :H], zr[:, H:]
            n = tf.tanh(g[:, 2 * H:] + r * gh[:, 2 * H:])
            h = n + z * (h - n)
            return t + 1, h, hs.write(t, h), ghs.write(t, gh)

        _, _, hs, ghs = tf.while_loop(
            lambda t, *_: t < T, step,
            (0, h0, tf.TensorArray(gx.dtype, size=T), tf.TensorArray(gx.dtype, size=T)))
        hs, ghs = hs.stack(), ghs.stack()

        def grad(dhs):
            h_prev = tf.concat([h0[None], hs[:-1]], axis=0)  # (T, N, H)
            Ut = tf.transpose(U)

            def back(t, dh_next, dgh_all, dgx_all):
                dh = dhs[t] + dh_next
                g, gh, hp = gx[t], ghs[t], h_prev[t]
                zr = tf.sigmoid(g[:, : 2 * H] + gh[:, : 2 * H])
                z, r = zr[:, :H], zr[:, H:]
                gh_n = gh[:, 2 * H:]
                n = tf.tanh(g[:, 2 * H:] + r * gh_n)
                da_n = dh * (1 - z) * (1 - n * n)  # through n = tanh(a_n)
                da_zr = tf.concat([dh * (hp - n), da_n * gh_n], axis=1) * zr * (1 - zr)
                dgh = tf.concat([da_zr, da_n * r], axis=1)  # d(h U + c)
                return (t - 1, dh * z + tf.matmul(dgh, Ut), dgh_all.write(t, dgh),
                        dgx_all.write(t, tf.concat([da_zr, da_n], axis=1)))

            _, dh0, dgh, dgx = tf.while_loop(
                lambda t, *_: t >= 0, back,
                (T - 1, tf.zeros_like(h0), tf.TensorArray(gx.dtype, size=T), tf.TensorArray(gx.dtype, size=T)))
            dgh = tf.reshape(dgh.stack(), [-1, 3 * H])
            dU = tf.matmul(tf.reshape(h_prev, [-1, H]), dgh, transpose_a=True)  # one product for all steps
            return dgx.stack(), dh0, dU, tf.reduce_sum(dgh, axis=0)

        return hs, grad

    return run(gx, h0, U, c)


def _group_sizes(n: Any, splits: int) -> list[Any]:
    """Sizes of ``splits`` groups as equal as possible that add up to ``n`` (an int or a scalar tensor)."""
    return [(n + i) // splits for i in range(splits)]


@keras.saving.register_keras_serializable(package="book")
class FastGRU(keras.layers.GRU):
    """:class:`keras.layers.GRU` with a faster CPU path and weight dropout (see the module docstring).

    ``splits``: how many independent groups of streams to run side by side
    (default 2, for the 2-core machines this book is measured on; 1 turns it
    off).  ``weight_dropout``: in training, each batch drops this fraction of
    the entries of ``recurrent_kernel`` (one mask for every stream and step,
    the survivors scaled by ``1 / (1 - weight_dropout)``); at inference the
    layer is a plain GRU.  Everything else is :class:`keras.layers.GRU`'s.
    """

    def __init__(self, units: int, splits: int = 2, weight_dropout: float = 0.0, **kwargs: Any):
        if not 0 <= weight_dropout < 1:
            raise ValueError(f"FastGRU: weight_dropout must be in [0, 1), got {weight_dropout}")
        super().__init__(units, **kwargs)
        self.splits = int(splits)
        self.weight_dropout = float(weight_dropout)
        # only with weight dropout: a seed generator takes a draw from Keras's global seed, which would
        # otherwise change the initial weights of the layers built after this one
        self._weight_seed = keras.random.SeedGenerator(kwargs.get("seed")) if self.weight_dropout else None

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "splits": self.splits, "weight_dropout": self.weight_dropout}

    def _supported(self, mask: Any) -> bool:
        """Whether this call is one :func:`gru_sequence` computes (else Keras's code runs)."""
        cell = self.cell
        return (
            mask is None and not self.go_backwards and cell.reset_after and cell.use_bias
            and not cell.dropout and not cell.recurrent_dropout
            and cell.activation is keras.activations.tanh and cell.recurrent_activation is keras.activations.sigmoid
        )

    def _own_path(self, mask: Any, training: bool = False) -> bool:
        """Take the own path on a CPU, and wherever weight dropout is on (Keras's code has none)."""
        if training and self.weight_dropout:
            if not self._supported(mask):
                raise ValueError("FastGRU: weight_dropout needs the default GRU (tanh, sigmoid, reset_after, "
                                 "no mask, no go_backwards, no dropout inside the layer)")
            return True
        return self._supported(mask) and not tf.config.list_logical_devices("GPU")

    def inner_loop(self, sequences: Any, initial_state: Any, mask: Any, training: bool = False) -> Any:
        h0 = initial_state[0] if isinstance(initial_state, (list, tuple)) else initial_state
        if not self._own_path(mask[0] if isinstance(mask, (list, tuple)) else mask, training):
            return super().inner_loop(sequences, initial_state, mask, training=training)
        cell = self.cell
        W, U, b = (tf.convert_to_tensor(v) for v in (cell.kernel, cell.recurrent_kernel, cell.bias))
        if training and self.weight_dropout:
            U = keras.random.dropout(U, self.weight_dropout, seed=self._weight_seed)
        x = tf.transpose(sequences, [1, 0, 2])  # (T, N, D)
        splits = max(1, min(self.splits, sequences.shape[0] or self.splits))
        sizes = _group_sizes(sequences.shape[0] or tf.shape(x)[1], splits)
        groups = zip(tf.split(x, sizes, axis=1, num=splits), tf.split(h0, sizes, axis=0, num=splits), strict=True)
        # each group of streams: its own input projection (one product for all steps) and recurrence
        hs = [gru_sequence(tf.einsum("tnd,dk->tnk", xg, W) + b[0], hg, U, b[1]) for xg, hg in groups]
        hs = tf.concat(hs, axis=1) if splits > 1 else hs[0]
        last = hs[-1]
        return last, tf.transpose(hs, [1, 0, 2]), [last]
