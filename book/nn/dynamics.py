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

The last part trains *many small models at once*: ``S`` independent simple
RNNs (tanh or ReLU) or GRUs, each with a linear read-out of its last state,
stored as stacked weights with a leading model axis ``S`` and run on the same
inputs with batched matrix products.  The models share nothing but the data,
so one call does the work of ``S`` separate training runs (Chapter 4 uses it
for five seeds of five recipes on the adding problem).  Clipping and Adam act
on each model separately.
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


def glorot_uniform(shape: tuple[int, ...], rng: np.random.Generator) -> Array:
    """Keras's default ``kernel`` initialiser: uniform on ``[-l, l]``, ``l = sqrt(6 / (fan_in + fan_out))``.

    ``fan_in, fan_out = shape[-2], shape[-1]``; leading axes (a stack of
    models) are independent draws.  Returns an array of ``shape``.
    """
    limit = np.sqrt(6.0 / (shape[-2] + shape[-1]))
    return rng.uniform(-limit, limit, size=shape)


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
def inputs_for_preactivations(a: Array, W_hh: Array, h0: Array | None = None, activation: str = "tanh") -> Array:
    """Inputs that steer a simple RNN through chosen pre-activations.

    With ``W_xh = I`` and ``b_h = 0`` the pre-activation of step ``t`` is
    ``a_t = x_t + h_{t-1} W_hh``; choosing ``x_t = a_t - h_{t-1} W_hh`` (with
    ``h_{t-1} = phi(a_{t-1})``) makes it equal the target exactly.

    Parameters
    ----------
    a : (T, H) target pre-activations ``a_1 .. a_T``.
    W_hh : (H, H) recurrent weights.
    h0 : (H,) initial state (default zeros).
    activation : ``"tanh"`` or ``"relu"``.

    Returns
    -------
    x : (T, H) inputs; feed them as ``x[None]`` with ``W_xh = np.eye(H)`` and ``b_h = 0``.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {ACTIVATIONS}, got {activation!r}")
    phi = np.tanh if activation == "tanh" else (lambda v: np.maximum(v, 0.0))
    h = np.zeros(W_hh.shape[0]) if h0 is None else np.asarray(h0, dtype=float)
    x = np.empty_like(a, dtype=float)
    for t in range(a.shape[0]):
        x[t] = a[t] - h @ W_hh
        h = phi(a[t])
    return x


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


# --------------------------------------------------------------------------
# Many small models at once: stacked weights with a leading model axis S
# --------------------------------------------------------------------------
def _readout(h: Array, params: dict[str, Array]) -> Array:
    return np.einsum("snh,sh->sn", h, params["W_hy"]) + params["b_y"][:, None]


def stacked_rnn_forward(
    params: dict[str, Array], x: Array, relu: Array | None = None
) -> tuple[Array, tuple]:
    """``S`` independent simple RNNs read the same inputs; each predicts one number.

    Model ``s`` computes ``h_t = phi_s(x_t W_xh[s] + h_{t-1} W_hh[s] + b_h[s])``
    from ``h_0 = 0`` and predicts ``y_hat = h_T W_hy[s] + b_y[s]``.

    Parameters
    ----------
    params : ``W_xh`` (S, D, H), ``W_hh`` (S, H, H), ``b_h`` (S, H), ``W_hy`` (S, H), ``b_y`` (S,).
    x : (N, T, D) inputs, shared by all models.
    relu : (S,) bool, True where model ``s`` uses ReLU (default: all tanh).

    Returns
    -------
    pred : (S, N) predictions; cache : what :func:`stacked_rnn_backward` needs.
    """
    W_hh = params["W_hh"]
    S, H = params["b_h"].shape
    N, T, _ = x.shape
    mask = np.zeros(S, bool) if relu is None else np.asarray(relu, bool)
    # every step's input drive at once, rows ordered (t, n): (S, T, N, H)
    drive = (_time_major(x) @ params["W_xh"]).reshape(S, T, N, H) + params["b_h"][:, None, None]
    hs = np.zeros((S, T + 1, N, H))  # hs[:, t] = h_t, hs[:, 0] = h_0 = 0
    for t in range(T):
        a = drive[:, t] + hs[:, t] @ W_hh
        if not mask.any():
            hs[:, t + 1] = np.tanh(a)
        elif mask.all():
            hs[:, t + 1] = np.maximum(a, 0.0)
        else:
            hs[:, t + 1] = np.where(mask[:, None, None], np.maximum(a, 0.0), np.tanh(a))
    return _readout(hs[:, T], params), (x, params, hs, mask)


def _time_major(x: Array) -> Array:
    """(N, T, D) -> (T * N, D), rows ordered (t, n)."""
    return x.transpose(1, 0, 2).reshape(-1, x.shape[2])


def stacked_rnn_backward(dpred: Array, cache: tuple) -> dict[str, Array]:
    """Gradients of :func:`stacked_rnn_forward` (BPTT for every model at once).

    Parameters
    ----------
    dpred : (S, N) gradient of the loss with respect to each prediction.
    cache : from :func:`stacked_rnn_forward`.

    Returns
    -------
    grads : dict with the keys and shapes of ``params``.
    """
    x, params, hs, mask = cache
    S, T, N, H = hs.shape[0], hs.shape[1] - 1, *hs.shape[2:]
    # phi'(a_t) from h_t: 1 - h_t**2 for tanh, 1[h_t > 0] for ReLU; shape (S, T, N, H)
    gain = np.where(mask[:, None, None, None], hs[:, 1:] > 0, 1.0 - hs[:, 1:] ** 2)
    W_hhT = params["W_hh"].transpose(0, 2, 1)
    grads = {"W_hy": np.einsum("snh,sn->sh", hs[:, T], dpred), "b_y": dpred.sum(axis=1)}
    dh = dpred[:, :, None] * params["W_hy"][:, None, :]
    da = np.empty_like(gain)  # gradient on the pre-activation a_t
    for t in reversed(range(T)):
        da[:, t] = dh * gain[:, t]
        dh = da[:, t] @ W_hhT
    # sums over time and batch as single matrix products, rows ordered (t, n)
    da_f = da.reshape(S, T * N, H)
    h_prev_f = hs[:, :T].reshape(S, T * N, H)
    grads.update(
        W_xh=_time_major(x).T @ da_f,
        W_hh=h_prev_f.transpose(0, 2, 1) @ da_f,
        b_h=da_f.sum(axis=1),
    )
    return grads


def stacked_gru_forward(params: dict[str, Array], x: Array) -> tuple[Array, tuple]:
    """``S`` independent GRUs (Keras's ``reset_after=True`` form) read the same inputs.

    Model ``s`` is :func:`book.nn.gated.gru_step_forward` with weights
    ``W_x[s]``, ``W_h[s]``, ``b[s]``, run from ``h_0 = 0``, and predicts
    ``y_hat = h_T W_hy[s] + b_y[s]``.

    Parameters
    ----------
    params : ``W_x`` (S, D, 3H), ``W_h`` (S, H, 3H), ``b`` (S, 2, 3H) (columns ``z, r, h``),
        ``W_hy`` (S, H), ``b_y`` (S,).
    x : (N, T, D) inputs, shared by all models.

    Returns
    -------
    pred : (S, N) predictions; cache : what :func:`stacked_gru_backward` needs.
    """
    W_h, b = params["W_h"], params["b"]
    S, H = params["W_hy"].shape
    N, T, _ = x.shape
    mx = (_time_major(x) @ params["W_x"]).reshape(S, T, N, 3 * H) + b[:, None, None, 0]
    hs = np.zeros((S, T + 1, N, H))
    z, r, u_h, c = (np.empty((S, T, N, H)) for _ in range(4))
    for t in range(T):
        mh = hs[:, t] @ W_h + b[:, None, 1]
        zr = sigmoid(mx[:, t, :, : 2 * H] + mh[..., : 2 * H])
        z[:, t], r[:, t], u_h[:, t] = zr[..., :H], zr[..., H:], mh[..., 2 * H :]
        c[:, t] = np.tanh(mx[:, t, :, 2 * H :] + r[:, t] * u_h[:, t])
        hs[:, t + 1] = c[:, t] + z[:, t] * (hs[:, t] - c[:, t])  # z h_{t-1} + (1 - z) c
    return _readout(hs[:, T], params), (x, params, hs, z, r, u_h, c)


def stacked_gru_backward(dpred: Array, cache: tuple) -> dict[str, Array]:
    """Gradients of :func:`stacked_gru_forward` (BPTT for every model at once).

    Parameters
    ----------
    dpred : (S, N) gradient of the loss with respect to each prediction.
    cache : from :func:`stacked_gru_forward`.

    Returns
    -------
    grads : dict with the keys and shapes of ``params``.
    """
    x, params, hs, z, r, u_h, c = cache
    S, T, N, H = z.shape
    W_hT = params["W_h"].transpose(0, 2, 1)
    grads = {"W_hy": np.einsum("snh,sn->sh", hs[:, T], dpred), "b_y": dpred.sum(axis=1)}
    dh = dpred[:, :, None] * params["W_hy"][:, None, :]
    # local derivatives for all steps at once, shape (S, T, N, H)
    to_c = (1.0 - z) * (1.0 - c**2)  # dh_t -> candidate pre-activation
    to_z = (hs[:, :T] - c) * z * (1.0 - z)  # dh_t -> update-gate pre-activation
    to_r = u_h * r * (1.0 - r)  # candidate pre-activation -> reset-gate pre-activation
    dmh = np.empty((S, T, N, 3 * H))  # gradient on h_{t-1} W_h + b[1]
    da_c = np.empty((S, T, N, H))  # gradient on the candidate's pre-activation
    for t in reversed(range(T)):
        da_c[:, t] = dh * to_c[:, t]
        dmh[:, t, :, :H] = dh * to_z[:, t]
        dmh[:, t, :, H : 2 * H] = da_c[:, t] * to_r[:, t]
        dmh[:, t, :, 2 * H :] = da_c[:, t] * r[:, t]
        dh = dh * z[:, t] + dmh[:, t] @ W_hT
    dmx = dmh.copy()  # gradient on x_t W_x + b[0]: the same except the candidate block
    dmx[..., 2 * H :] = da_c
    dmh_f, dmx_f = dmh.reshape(S, T * N, 3 * H), dmx.reshape(S, T * N, 3 * H)
    grads.update(
        W_x=_time_major(x).T @ dmx_f,
        W_h=hs[:, :T].reshape(S, T * N, H).transpose(0, 2, 1) @ dmh_f,
        b=np.stack([dmx_f.sum(axis=1), dmh_f.sum(axis=1)], axis=1),
    )
    return grads


def clip_per_model(grads: dict[str, Array], max_norm: float | Array) -> tuple[dict[str, Array], Array]:
    """:func:`clip_by_global_norm` applied to each model of a stack on its own.

    Parameters
    ----------
    grads : dict of arrays whose first axis is the model axis ``S``.
    max_norm : scalar or (S,) thresholds; ``np.inf`` leaves a model unclipped.

    Returns
    -------
    clipped : dict, same shapes; norms : (S,) each model's global norm before clipping.
    """
    norms = np.sqrt(sum(np.sum(g.reshape(g.shape[0], -1) ** 2, axis=1) for g in grads.values()))
    with np.errstate(divide="ignore", invalid="ignore"):
        scale = np.where(norms > max_norm, max_norm / norms, 1.0)
    return {k: g * scale.reshape((-1,) + (1,) * (g.ndim - 1)) for k, g in grads.items()}, norms


def adam_init(params: dict[str, Array]) -> dict:
    """Zero first and second moments for :func:`adam_step` (same keys and shapes as ``params``)."""
    return {"t": 0, "m": {k: np.zeros_like(v) for k, v in params.items()},
            "v": {k: np.zeros_like(v) for k, v in params.items()}}


def adam_step(
    params: dict[str, Array], grads: dict[str, Array], state: dict, lr: float | Array,
    beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-7,
) -> None:
    """One Adam update (Kingma and Ba 2015, Keras's defaults), in place.

    Every entry moves by ``-lr * m_hat / (sqrt(v_hat) + eps)``, with ``m_hat``
    and ``v_hat`` the bias-corrected running means of the gradient and its
    square.  It acts entry by entry, so the models of a stack stay
    independent; ``lr`` is a number or one rate per model, shape (S,).
    """
    state["t"] += 1
    t = state["t"]
    lr = np.asarray(lr, dtype=float)
    for k, g in grads.items():
        rate = lr if lr.ndim == 0 else lr.reshape((-1,) + (1,) * (g.ndim - 1))
        state["m"][k] = beta1 * state["m"][k] + (1.0 - beta1) * g
        state["v"][k] = beta2 * state["v"][k] + (1.0 - beta2) * g**2
        m_hat = state["m"][k] / (1.0 - beta1**t)
        v_hat = state["v"][k] / (1.0 - beta2**t)
        params[k] -= rate * m_hat / (np.sqrt(v_hat) + eps)
