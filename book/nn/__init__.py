"""The book's mathematics: NumPy reference implementations, checked against Keras.

Every function a chapter derives lives here, with shapes in its docstring, and
is importable from ``book.nn`` itself (``from book.nn import rnn_forward,
lstm_backward``).  Layers come as CS231n-style pairs: ``*_forward`` returns
``(out, cache)`` and ``*_backward(dout, cache)`` the gradients.  Weights are in
Keras's layout (batch-first, ``kernel`` (D, H), ``recurrent_kernel`` (H, H)).

==============  =============================================================
``rnn``         the simple RNN step and sequence, forward and backward
                (Chapters 1-3), and RTRL's full gradient (Chapter 5)
``bptt``        truncated BPTT, both forms, and its cost (Chapter 3)
``dynamics``    Jacobian products, spectral radius, initialisations,
                gradient clipping (Chapter 4)
``rtrl``        the sensitivity recursion and online learning (Chapter 5)
``gated``       LSTM and GRU cells, forward and backward (Chapter 7)
``forecast``    windows, splits, baselines, linear AR and errors (Chapter 9)
``gradcheck``   centred finite differences and relative errors
==============  =============================================================

The two ``measure`` helpers (``book.nn.bptt.measure``, ``book.nn.rtrl.measure``)
and ``book.nn.dynamics.sigmoid`` (the plain formula) stay in their modules.
"""

from book.nn.bptt import (
    full_bptt,
    rnn_backward_truncated,
    tbptt_chunked,
)
from book.nn.dynamics import (
    clip_by_global_norm,
    clip_by_value,
    gated_rnn_states,
    global_norm,
    identity,
    jacobian_norms,
    jacobian_products,
    orthogonal,
    random_recurrent,
    scale_to_spectral_radius,
    simple_rnn_states,
    spectral_radius,
    step_jacobian,
)
from book.nn.gated import (
    count_params_bidirectional,
    count_params_gru,
    count_params_lstm,
    gru_backward,
    gru_forward,
    gru_step_backward,
    gru_step_forward,
    gru_step_forward_original,
    keras_weights,
    lstm_backward,
    lstm_final_cell,
    lstm_forward,
    lstm_step_backward,
    lstm_step_forward,
    sigmoid,
)
from book.nn.gradcheck import (
    check_gradients,
    numerical_gradient,
    rel_error,
)
from book.nn.rnn import (
    count_params_simple_rnn,
    keras_simple_rnn_weights,
    rnn_backward,
    rnn_forward,
    rnn_step_backward,
    rnn_step_forward,
    rtrl_gradients,
)
from book.nn.rtrl import (
    bptt_cache_size,
    rtrl_contract,
    rtrl_init,
    rtrl_online,
    rtrl_step_forward,
    sensitivity_size,
)

__all__ = [
    "bptt_cache_size",
    "check_gradients",
    "clip_by_global_norm",
    "clip_by_value",
    "count_params_bidirectional",
    "count_params_gru",
    "count_params_lstm",
    "count_params_simple_rnn",
    "full_bptt",
    "gated_rnn_states",
    "global_norm",
    "gru_backward",
    "gru_forward",
    "gru_step_backward",
    "gru_step_forward",
    "gru_step_forward_original",
    "identity",
    "jacobian_norms",
    "jacobian_products",
    "keras_simple_rnn_weights",
    "keras_weights",
    "lstm_backward",
    "lstm_final_cell",
    "lstm_forward",
    "lstm_step_backward",
    "lstm_step_forward",
    "numerical_gradient",
    "orthogonal",
    "random_recurrent",
    "rel_error",
    "rnn_backward",
    "rnn_backward_truncated",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "rtrl_contract",
    "rtrl_gradients",
    "rtrl_init",
    "rtrl_online",
    "rtrl_step_forward",
    "scale_to_spectral_radius",
    "sensitivity_size",
    "sigmoid",
    "simple_rnn_states",
    "spectral_radius",
    "step_jacobian",
    "tbptt_chunked",
]
