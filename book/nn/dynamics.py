"""Gradient dynamics of recurrent networks: Jacobians through time, clipping, initialisers.

Row-vector layout, as in :mod:`book.nn.rnn`: one step is
``h_t = phi(x_t W_xh + h_{t-1} W_hh + b_h)``.  A small change ``dh_{t-1}``
(a row vector) moves the next state by ``dh_{t-1} @ J_t`` with the step Jacobian

.. math:: J_t = W_{hh}\\,\\mathrm{diag}(\\phi'(a_t)), \\qquad J_t[j, i] = \\partial h_t[i] / \\partial h_{t-1}[j],

so the effect of ``h_k`` on ``h_T`` is the product ``J_{k+1} J_{k+2} ... J_T``
(earliest factor on the left), and a gradient travels back as
``dL/dh_k = dL/dh_T @ (J_{k+1} ... J_T).T``, the same arithmetic as
:func:`book.nn.rnn.rnn_step_backward`.

Three cells are covered: the tanh RNN of :mod:`book.nn.rnn`, the same cell with
ReLU, and a *gated leaky* cell
``h_t = z_t * h_{t-1} + (1 - z_t) * tanh(x_t W_xh + h_{t-1} W_hh + b_h)`` whose
gate ``z_t = sigmoid(x_t W_xz + b_z)`` is read from the input only (a first look
at gating; LSTM and GRU gates also read the state).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from book.nn.rnn import rnn_forward

Array = np.ndarray

ACTIVATIONS = ("tanh", "relu")


# --------------------------------------------------------------------------
# Spectral radius and initialisers
# --------------------------------------------------------------------------
def spectral_radius(W: Array) -> float:
    """Largest absolute eigenvalue of a square matrix."""
    return float(np.max(np.abs(np.linalg.eigvals(W))))


def scale_to_spectral_radius(W: Array, rho: float) -> Array:
    """``W`` rescaled so that its spectral radius is ``rho`` (a new array)."""
    return W * (rho / spectral_radius(W))


def random_recurrent(H: int, rho: float, rng: np.random.Generator) -> Array:
    """A Gaussian ``(H, H)`` matrix rescaled to spectral radius ``rho``."""
    return scale_to_spectral_radius(rng.normal(size=(H, H)), rho)


def orthogonal(H: int, rng: np.random.Generator, gain: float = 1.0) -> Array:
    """A random orthogonal ``(H, H)`` matrix times ``gain`` (QR of a Gaussian, signs fixed).

    All its singular values equal ``gain``, so ``||v W|| = gain * ||v||`` for
    every row vector ``v``: with ``gain=1`` it neither shrinks nor stretches.
    """
    q, r = np.linalg.qr(rng.normal(size=(H, H)))
    q = q * np.sign(np.diag(r))  # make the distribution uniform (Haar)
    return gain * q


def identity(H: int, gain: float = 1.0) -> Array:
    """``gain * I``: the recurrent initialiser for ReLU RNNs of Le, Jaitly and Hinton (2015)."""
    return gain * np.eye(H)


# --------------------------------------------------------------------------
# Forward passes that also return the step derivatives phi'(a_t)
# --------------------------------------------------------------------------
def simple_rnn_states(
    x: Array, h0: Array, W_xh: Array, W_hh: Array, b_h: Array, activation: str = "tanh"
) -> tuple[Array, Array]:
    """Run a simple RNN and return its states and activation derivatives.

    Parameters
    ----------
    x : (N, T, D), h0 : (N, H), W_xh : (D, H), W_hh : (H, H), b_h : (H,)
    activation : ``"tanh"`` (as :func:`book.nn.rnn.rnn_forward`) or ``"relu"``.

    Returns
    -------
    h : (N, T, H) the states ``h_1 .. h_T``.
    gain : (N, T, H) ``phi'(a_t)``: ``1 - h_t**2`` for tanh, ``1[a_t > 0]`` for ReLU.
    """
    if activation == "tanh":
        h, _ = rnn_forward(x, h0, W_xh, W_hh, b_h)
        return h, 1.0 - h**2
    if activation != "relu":
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.empty((N, T, H))
    gain = np.empty((N, T, H))
    h_t = h0
    for t in range(T):
        a = x[:, t] @ W_xh + h_t @ W_hh + b_h
        h_t = np.maximum(a, 0.0)
        h[:, t] = h_t
        gain[:, t] = (a > 0).astype(float)
    return h, gain


def sigmoid(a: Array) -> Array:
    """The logistic function ``1 / (1 + exp(-a))``."""
    return 1.0 / (1.0 + np.exp(-a))


def gated_rnn_states(
    x: Array, h0: Array, W_xh: Array, W_hh: Array, b_h: Array, W_xz: Array, b_z: Array
) -> tuple[Array, Array, Array]:
    """Run the gated leaky cell ``h_t = z_t h_{t-1} + (1 - z_t) tanh(a_t)``.

    Parameters
    ----------
    x : (N, T, D), h0 : (N, H), W_xh : (D, H), W_hh : (H, H), b_h : (H,)
    W_xz : (D, H), b_z : (H,) the gate's weights; ``z_t = sigmoid(x_t W_xz + b_z)``.

    Returns
    -------
    h : (N, T, H) states; z : (N, T, H) gates; gain : (N, T, H) ``1 - tanh(a_t)**2``.
    """
    N, T, _ = x.shape
    H = h0.shape[1]
    h = np.empty((N, T, H))
    z = np.empty((N, T, H))
    gain = np.empty((N, T, H))
    h_t = h0
    for t in range(T):
        z_t = sigmoid(x[:, t] @ W_xz + b_z)
        c_t = np.tanh(x[:, t] @ W_xh + h_t @ W_hh + b_h)
        h_t = z_t * h_t + (1.0 - z_t) * c_t
        h[:, t], z[:, t], gain[:, t] = h_t, z_t, 1.0 - c_t**2
    return h, z, gain


# --------------------------------------------------------------------------
# Jacobians through time
# --------------------------------------------------------------------------
def step_jacobian(gain_t: Array, W_hh: Array, z_t: Array | None = None) -> Array:
    """The step Jacobian ``J_t`` with ``J_t[j, i] = d h_t[i] / d h_{t-1}[j]`` (row layout).

    Parameters
    ----------
    gain_t : (H,) ``phi'(a_t)`` of this step (``1 - h_t**2`` for tanh).
    W_hh : (H, H) recurrent weights.
    z_t : (H,) optional gate of the gated leaky cell; then
        ``J_t = diag(z_t) + W_hh diag((1 - z_t) * gain_t)``.

    Returns
    -------
    J : (H, H) ``W_hh diag(gain_t)``: column ``i`` of ``W_hh`` scaled by ``gain_t[i]``.
    """
    if z_t is None:
        return W_hh * gain_t[None, :]
    return np.diag(z_t) + W_hh * ((1.0 - z_t) * gain_t)[None, :]


def jacobian_products(gain: Array, W_hh: Array, z: Array | None = None) -> list[Array]:
    """``dh_T/dh_{T-l}`` for every lag ``l = 1 .. T`` of one sequence.

    Parameters
    ----------
    gain : (T, H) ``phi'(a_t)`` for ``t = 1 .. T`` (one sequence).
    W_hh : (H, H).
    z : (T, H) optional gates (gated leaky cell).

    Returns
    -------
    products : list of T arrays (H, H); ``products[l - 1] = J_{T-l+1} ... J_T``, whose
        entry ``[j, i]`` is ``d h_T[i] / d h_{T-l}[j]`` (``h_0`` for ``l = T``).
    """
    T, H = gain.shape
    P = np.eye(H)
    out = []
    for t in reversed(range(T)):  # t indexes h_{t+1}; prepend J_{t+1} on the left
        J = step_jacobian(gain[t], W_hh, None if z is None else z[t])
        P = J @ P
        out.append(P.copy())
    return out


def jacobian_norms(gain: Array, W_hh: Array, z: Array | None = None) -> Array:
    """Spectral norms ``||dh_T/dh_{T-l}||_2`` for ``l = 1 .. T`` (shape ``(T,)``).

    Arguments as for :func:`jacobian_products`.  The spectral norm is the
    largest factor by which the product can stretch a gradient row vector.
    """
    return np.array([np.linalg.norm(P, 2) for P in jacobian_products(gain, W_hh, z)])


# --------------------------------------------------------------------------
# Gradient clipping
# --------------------------------------------------------------------------
def global_norm(grads: Sequence[Array]) -> float:
    """``sqrt(sum of squares)`` over every entry of every array: the norm of all gradients at once."""
    return float(np.sqrt(sum(float(np.sum(np.square(g))) for g in grads)))


def clip_by_global_norm(grads: Sequence[Array], max_norm: float) -> tuple[list[Array], float]:
    """Norm clipping (Pascanu, Mikolov and Bengio 2013): rescale all gradients together.

    If the global norm ``n`` exceeds ``max_norm``, every array is multiplied by
    ``max_norm / n``; otherwise nothing changes.  The direction of the update is
    kept; only its length is capped.

    Returns
    -------
    clipped : new arrays, same shapes; norm : the global norm before clipping.
    """
    norm = global_norm(grads)
    scale = max_norm / norm if norm > max_norm else 1.0
    return [g * scale for g in grads], norm


def clip_by_value(grads: Sequence[Array], clip: float) -> list[Array]:
    """Value clipping: every entry clipped to ``[-clip, clip]`` (the direction may change)."""
    return [np.clip(g, -clip, clip) for g in grads]
