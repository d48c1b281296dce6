"""One call that every notebook makes first: quiet, seeded, reproducible.

``setup()`` must run before TensorFlow is imported anywhere, because
TensorFlow reads its logging switches from the environment when its C++
runtime loads.  After it, TensorFlow prints nothing on import, Python, NumPy
and TensorFlow are seeded, TensorFlow's kernels are deterministic, and
matplotlib draws PNG figures of one size.  :func:`restartable` retrains one
compiled Keras model from several seeds, as if each were built anew.
"""

from __future__ import annotations

import os
import random
import warnings
from collections.abc import Callable
from typing import Any

import numpy as np

#: Environment switches read by TensorFlow's C++ runtime when it loads.
QUIET_ENV = {
    "TF_CPP_MIN_LOG_LEVEL": "3",  # C++ INFO, WARNING and ERROR lines
    "TF_ENABLE_ONEDNN_OPTS": "0",  # the oneDNN banner, and its reordered sums
    "GRPC_VERBOSITY": "ERROR",
    "ABSL_MIN_LOG_LEVEL": "3",
    "KERAS_BACKEND": "tensorflow",
}

#: Figure defaults shared by every page, so figures look alike and
#: re-executing a notebook gives images of the same size.
FIGURE_RC = {
    "figure.figsize": (7.0, 3.6),
    "figure.dpi": 96,
    "savefig.dpi": 96,
    "font.size": 10,
    "axes.grid": True,
    "grid.alpha": 0.3,
    "axes.spines.top": False,
    "axes.spines.right": False,
}


def quiet_tensorflow() -> None:
    """Set TensorFlow's logging switches in the environment (before it loads)."""
    for key, value in QUIET_ENV.items():
        os.environ.setdefault(key, value)


def seed_everything(seed: int = 0, *, tensorflow: bool = True) -> None:
    """Seed Python, NumPy and (if wanted) TensorFlow/Keras, with deterministic ops."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 - learners use the global generator too
    if tensorflow:
        quiet_tensorflow()
        import keras
        import tensorflow as tf

        keras.utils.set_random_seed(seed)
        try:
            tf.config.experimental.enable_op_determinism()
        except (AttributeError, RuntimeError):  # pragma: no cover - older TF
            pass
        tf.get_logger().setLevel("ERROR")


def configure_matplotlib() -> None:
    """Use the book's figure defaults; inside Jupyter, store figures as "retina" PNGs.

    A retina PNG has twice the pixels of the size it is shown at (the output's
    ``width``/``height`` metadata give the display size), so figures stay sharp on
    high-density screens.
    """
    import matplotlib

    matplotlib.rcParams.update(FIGURE_RC)
    try:  # inside IPython/Jupyter: PNG at twice the display resolution
        from IPython import get_ipython

        shell = get_ipython()
        if shell is not None:
            from matplotlib_inline.backend_inline import set_matplotlib_formats

            set_matplotlib_formats("retina")
    except ImportError:  # pragma: no cover - plain Python without IPython
        pass


def setup(seed: int = 0, *, tensorflow: bool = True) -> None:
    """Prepare a notebook or script: quiet TensorFlow, seed everything, style plots.

    Parameters
    ----------
    seed:
        Seed for Python's ``random``, NumPy's global generator and TensorFlow.
    tensorflow:
        Import and seed TensorFlow too (about 3 s); pages that use only NumPy
        can pass ``False``.  The logging switches are set either way, so a later
        ``import tensorflow`` is still silent.
    """
    quiet_tensorflow()
    warnings.filterwarnings("ignore", category=DeprecationWarning)
    warnings.filterwarnings("ignore", category=FutureWarning)
    seed_everything(seed, tensorflow=tensorflow)
    configure_matplotlib()


def restartable(model: Any) -> Callable[[int], Any]:
    """``restart(seed)`` for a compiled Keras model: train it again from a new seed, cheaply.

    ``restart(seed)`` gives ``model`` the weights a copy of it gets when built
    right after ``keras.utils.set_random_seed(seed)`` and puts its optimiser
    back to its untrained state (step count and moments), then returns the
    model.  Keras keeps the training graph it traced, so five seeds of a short
    run cost one graph build instead of five; the results are those of five
    freshly built models.
    """
    import keras

    model.optimizer.build(model.trainable_variables)
    fresh = [v.numpy() for v in model.optimizer.variables]

    def restart(seed: int) -> Any:
        keras.utils.set_random_seed(seed)
        model.set_weights(keras.models.clone_model(model).get_weights())
        for v, value in zip(model.optimizer.variables, fresh, strict=True):
            v.assign(value)
        return model

    return restart
