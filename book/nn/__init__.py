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
``scan``        linear recurrences: the loop, parallel and log-space scans,
                the reverse scan (Chapter 11)
``mingru``      minGRU and minLSTM, forward and backward (Chapter 11)
``attention``   dot-product and additive attention, forward and backward,
                with masks (Chapter 10)
``decoding``    greedy decoding and beam search (Chapter 10)
==============  =============================================================

``book.nn.dynamics`` also holds the stacked NumPy RNN/GRU and Adam used to
train many small models at once (Chapter 4).  The two ``measure`` helpers (``book.nn.bptt.measure``, ``book.nn.rtrl.measure``)
and ``book.nn.dynamics.sigmoid`` (the plain formula) stay in their modules.
"""

from book.nn.attention import (
    additive_attention_backward,
    additive_attention_forward,
    dot_attention_backward,
    dot_attention_forward,
)
from book.nn.bptt import (
    full_bptt,
    rnn_backward_truncated,
    tbptt_chunked,
)
from book.nn.decoding import (
    beam_search,
    greedy,
)
from book.nn.dynamics import (
    adam_init,
    adam_step,
    clip_by_global_norm,
    clip_by_value,
    clip_per_model,
    gated_rnn_states,
    global_norm,
    glorot_uniform,
    identity,
    inputs_for_preactivations,
    jacobian_norms,
    jacobian_products,
    orthogonal,
    random_recurrent,
    scale_to_spectral_radius,
    simple_rnn_states,
    spectral_radius,
    stacked_gru_backward,
    stacked_gru_forward,
    stacked_rnn_backward,
    stacked_rnn_forward,
    step_jacobian,
)
from book.nn.forecast import (
    fit_linear_ar,
    linear_ar_forecast,
    mae,
    make_windows,
    mase,
    mean_and_std,
    mean_interval,
    naive_scale,
    persistence_forecast,
    rmse,
    rolling_origins,
    seasonal_naive_forecast,
    split_bounds,
    standardize,
    time_split,
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
from book.nn.mingru import (
    mingru_backward,
    mingru_forward,
    mingru_sequential,
    mingru_step_forward,
    minlstm_backward,
    minlstm_forward,
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
from book.nn.scan import (
    combine,
    linear_scan,
    linear_scan_backward,
    log_space_scan,
    odd_even_scan,
    parallel_scan,
    scan_work,
)

__all__ = [
    "combine",
    "linear_scan",
    "linear_scan_backward",
    "log_space_scan",
    "odd_even_scan",
    "parallel_scan",
    "scan_work",
    "mingru_backward",
    "mingru_forward",
    "mingru_sequential",
    "mingru_step_forward",
    "minlstm_backward",
    "minlstm_forward",
    "adam_init",
    "adam_step",
    "additive_attention_backward",
    "additive_attention_forward",
    "beam_search",
    "bptt_cache_size",
    "check_gradients",
    "clip_by_global_norm",
    "clip_by_value",
    "clip_per_model",
    "count_params_bidirectional",
    "count_params_gru",
    "count_params_lstm",
    "count_params_simple_rnn",
    "dot_attention_backward",
    "dot_attention_forward",
    "fit_linear_ar",
    "full_bptt",
    "gated_rnn_states",
    "global_norm",
    "glorot_uniform",
    "greedy",
    "gru_backward",
    "gru_forward",
    "gru_step_backward",
    "gru_step_forward",
    "gru_step_forward_original",
    "identity",
    "inputs_for_preactivations",
    "jacobian_norms",
    "jacobian_products",
    "keras_simple_rnn_weights",
    "keras_weights",
    "linear_ar_forecast",
    "lstm_backward",
    "lstm_final_cell",
    "lstm_forward",
    "lstm_step_backward",
    "lstm_step_forward",
    "mae",
    "make_windows",
    "mase",
    "mean_and_std",
    "mean_interval",
    "naive_scale",
    "numerical_gradient",
    "orthogonal",
    "persistence_forecast",
    "random_recurrent",
    "rel_error",
    "rmse",
    "rnn_backward",
    "rnn_backward_truncated",
    "rnn_forward",
    "rnn_step_backward",
    "rnn_step_forward",
    "rolling_origins",
    "rtrl_contract",
    "rtrl_gradients",
    "rtrl_init",
    "rtrl_online",
    "rtrl_step_forward",
    "scale_to_spectral_radius",
    "seasonal_naive_forecast",
    "sensitivity_size",
    "sigmoid",
    "simple_rnn_states",
    "spectral_radius",
    "split_bounds",
    "stacked_gru_backward",
    "stacked_gru_forward",
    "stacked_rnn_backward",
    "stacked_rnn_forward",
    "standardize",
    "step_jacobian",
    "tbptt_chunked",
    "time_split",
]
