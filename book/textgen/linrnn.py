"""Linear recurrences as Keras layers, trained in the parallel form (Chapter 11).

:func:`scan` computes ``h_t = a_t * h_{t-1} + b_t`` in TensorFlow without a
loop over time: with a static length, the work-efficient odd-even scan of
:func:`book.nn.scan.odd_even_scan` (``2 log2 T`` levels, under ``2T``
combines); with a length known only when it runs, Hillis and Steele's scan in
a ``tf.while_loop`` over its ``log2 T`` levels.  Its gradient is written out:
the reverse scan of :func:`book.nn.scan.linear_scan_backward`, so training
keeps ``a``, ``b`` and ``h``, not every level of the forward scan.

Two layers use it:

* :class:`MinGRU`: ``z = sigmoid(x W_z + b_z)``, ``h~ = x W_h + b_h``,
  ``h_t = (1 - z_t) h_{t-1} + z_t h~_t`` (Feng et al. 2024), the weights in
  :func:`book.nn.mingru.mingru_forward`'s layout;
* :class:`LinearRecurrence`: ``h_t = a_t h_{t-1} + b_t`` with
  ``a_t = sigmoid(x W_a + c_a)`` in ``(0, 1)`` or, with ``signed=True``,
  ``a_t = tanh(x W_a + c_a)`` in ``(-1, 1)``, and ``b_t = x W_b + c_b``: the
  pair Chapter 11 compares on parity (Grazzi et al. 2024).
"""

from __future__ import annotations

from typing import Any

import keras
import tensorflow as tf

__all__ = ["scan", "MinGRU", "LinearRecurrence"]


def _odd_even(a: Any, b: Any, T: int) -> Any:
    """States from a zero state, static length ``T`` (``b`` already holds the initial state's part).

    Neighbours are paired by a reshape to (N, T/2, 2, H) (an odd ``T`` gets an
    identity map ``(1, 0)`` appended): TensorFlow copies whole rows for it,
    where strided slices ``a[:, 0::2]`` measured ten times slower on a CPU.
    """
    if T <= 1:
        return b
    if T % 2:
        a = tf.concat([a, tf.ones_like(a[:, :1])], axis=1)
        b = tf.concat([b, tf.zeros_like(b[:, :1])], axis=1)
    P, H = (T + 1) // 2, a.shape[-1]
    a2, b2 = tf.reshape(a, [-1, P, 2, H]), tf.reshape(b, [-1, P, 2, H])
    ae, ao, be, bo = a2[:, :, 0], a2[:, :, 1], b2[:, :, 0], b2[:, :, 1]
    odd = _odd_even(ae * ao, ao * be + bo, P)  # the state after each pair: positions 1, 3, 5, ...
    even = ae * tf.concat([tf.zeros_like(odd[:, :1]), odd[:, :-1]], axis=1) + be
    return tf.reshape(tf.stack([even, odd], axis=2), [-1, 2 * P, H])[:, :T]


def _hillis_steele(a: Any, b: Any) -> Any:
    """States from a zero state by ``ceil(log2 T)`` levels in a ``tf.while_loop`` (any length)."""
    T = tf.shape(a)[1]

    def level(step, A, B):
        pad = [[0, 0], [step, 0], [0, 0]]
        A_prev = tf.pad(A[:, : T - step], pad, constant_values=1.0)
        B_prev = tf.pad(B[:, : T - step], pad)
        return step * 2, A * A_prev, A * B_prev + B

    _, _, B = tf.while_loop(lambda step, *_: step < T, level, (tf.constant(1), a, b))
    return B


def _forward(a: Any, b: Any, h0: Any) -> Any:
    b = tf.concat([a[:, :1] * h0[:, None] + b[:, :1], b[:, 1:]], axis=1)
    T = a.shape[1]
    static = T is not None and a.shape[-1] is not None
    return _odd_even(a, b, T) if static else _hillis_steele(a, b)


@tf.custom_gradient
def _scan(a: Any, b: Any, h0: Any) -> Any:
    h = _forward(a, b, h0)

    def grad(dh):
        a_next = tf.concat([a[:, 1:], tf.zeros_like(a[:, :1])], axis=1)  # g_t = a_{t+1} g_{t+1} + dh_t
        g = tf.reverse(_forward(tf.reverse(a_next, [1]), tf.reverse(dh, [1]), tf.zeros_like(h0)), [1])
        h_prev = tf.concat([h0[:, None], h[:, :-1]], axis=1)
        return g * h_prev, g, a[:, 0] * g[:, 0]

    return h, grad


def scan(a: Any, b: Any, h0: Any | None = None) -> Any:
    """``h_t = a_t * h_{t-1} + b_t`` for (N, T, H) tensors ``a``, ``b`` and an (N, H) ``h0`` (zeros if ``None``).

    No loop over time; differentiable (the gradient is a reverse scan).  An
    empty sequence (``T = 0``) returns an empty (N, 0, H) tensor.
    """
    a = tf.convert_to_tensor(a)
    b = tf.convert_to_tensor(b, dtype=a.dtype)
    if a.shape.rank != 3 or b.shape.rank != 3:
        raise ValueError(f"scan: a and b must be (N, T, H) tensors, got shapes {a.shape} and {b.shape}")
    h0 = tf.zeros_like(a[:, 0]) if h0 is None else tf.convert_to_tensor(h0, dtype=a.dtype)
    if a.shape[1] == 0:
        return b
    return _scan(a, b, h0)


class _Recurrence(keras.layers.Layer):
    """Shared parts: two (D, H) kernels and biases, ``return_sequences``, an optional initial state."""

    def __init__(self, units: int, return_sequences: bool = True, gate_bias: float = 0.0, **kwargs: Any):
        super().__init__(**kwargs)
        self.units = int(units)
        self.return_sequences = bool(return_sequences)
        self.gate_bias = float(gate_bias)

    def build(self, input_shape: Any) -> None:
        D, H = input_shape[-1], self.units
        glorot = keras.initializers.GlorotUniform
        self.kernels = [self.add_weight(shape=(D, H), initializer=glorot(), name=f"kernel_{k}") for k in "ab"]
        inits = [keras.initializers.Constant(self.gate_bias), "zeros"]
        self.biases = [self.add_weight(shape=(H,), initializer=i, name=f"bias_{k}") for i, k in zip(inits, "ab", strict=True)]

    def coefficients(self, x: Any) -> tuple[Any, Any]:  # pragma: no cover - each layer defines it
        raise NotImplementedError

    def call(self, x: Any, initial_state: Any = None) -> Any:
        a, b = self.coefficients(x)
        h = scan(a, b, initial_state)
        return h if self.return_sequences else h[:, -1]

    def compute_output_shape(self, input_shape: Any) -> Any:
        N, T = input_shape[0], input_shape[1]
        return (N, T, self.units) if self.return_sequences else (N, self.units)

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "units": self.units, "return_sequences": self.return_sequences,
                "gate_bias": self.gate_bias}


@keras.saving.register_keras_serializable(package="book")
class MinGRU(_Recurrence):
    """minGRU trained in the parallel form: weights ``[W_z, W_h, b_z, b_h]`` as :func:`book.nn.mingru_forward`.

    Input (N, T, D), output (N, T, units) (or the last state with
    ``return_sequences=False``).  ``initial_state``: an (N, units) tensor,
    zeros if not given.  ``signed=True`` lets the coefficient go negative:
    ``a_t = tanh(x_t W_z + b_z)`` in ``(-1, 1)`` and
    ``h_t = a_t h_{t-1} + (1 - |a_t|) h~_t`` (with ``signed=False``,
    ``a_t = 1 - z_t`` and ``1 - |a_t| = z_t``: the minGRU).
    """

    def __init__(self, units: int, signed: bool = False, **kwargs: Any):
        super().__init__(units, **kwargs)
        self.signed = bool(signed)

    def coefficients(self, x: Any) -> tuple[Any, Any]:
        k = tf.matmul(x, self.kernels[0]) + self.biases[0]
        h_tilde = tf.matmul(x, self.kernels[1]) + self.biases[1]
        if self.signed:
            a = tf.tanh(k)
            return a, (1.0 - tf.abs(a)) * h_tilde
        z = tf.sigmoid(k)
        return 1.0 - z, z * h_tilde

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "signed": self.signed}


@keras.saving.register_keras_serializable(package="book")
class LinearRecurrence(_Recurrence):
    """``h_t = a_t h_{t-1} + b_t``, ``a_t = sigmoid(x W_a + c_a)`` (or ``tanh`` with ``signed=True``), ``b_t = x W_b + c_b``.

    Unlike :class:`MinGRU`, the input ``b_t`` is not scaled down when ``|a_t|`` nears 1.
    """

    def __init__(self, units: int, signed: bool = False, **kwargs: Any):
        super().__init__(units, **kwargs)
        self.signed = bool(signed)

    def coefficients(self, x: Any) -> tuple[Any, Any]:
        k = tf.matmul(x, self.kernels[0]) + self.biases[0]
        a = tf.tanh(k) if self.signed else tf.sigmoid(k)
        return a, tf.matmul(x, self.kernels[1]) + self.biases[1]

    def get_config(self) -> dict[str, Any]:
        return {**super().get_config(), "signed": self.signed}
