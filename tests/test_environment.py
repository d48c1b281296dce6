"""book.environment.restartable: a compiled model restarted from a seed equals a fresh one."""

from __future__ import annotations

import numpy as np

import book
from book.environment import restartable


def _model():
    import keras

    model = keras.Sequential([keras.Input((4, 3)), keras.layers.GRU(5), keras.layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="mse")
    return model


def test_restart_gives_a_fresh_models_weights_and_optimizer():
    import keras

    book.setup(0)
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(16, 4, 3)), rng.normal(size=(16, 2))
    model = _model()
    restart = restartable(model)
    start = [v.numpy() for v in model.optimizer.variables]
    model.fit(x, y, epochs=2, verbose=0)
    assert model.optimizer.iterations.numpy() > 0
    restart(3)
    keras.utils.set_random_seed(3)
    fresh = _model()
    for a, b in zip(model.get_weights(), fresh.get_weights(), strict=True):
        assert np.array_equal(a, b)
    for v, v0 in zip(model.optimizer.variables, start, strict=True):
        assert np.array_equal(v.numpy(), v0)
    # training after a restart repeats itself exactly
    first = restart(7).fit(x, y, epochs=2, verbose=0, shuffle=False).history["loss"]
    again = restart(7).fit(x, y, epochs=2, verbose=0, shuffle=False).history["loss"]
    assert first == again
