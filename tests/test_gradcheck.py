import numpy as np
import pytest

from book.nn import check_gradients, numerical_gradient, rel_error


def test_rel_error_scale_free_and_zero():
    a = np.array([1.0, 2.0, 3.0])
    assert rel_error(a, a) == 0.0
    assert rel_error(np.zeros(3), np.zeros(3)) == 0.0
    assert rel_error(a, 1.01 * a) == pytest.approx(rel_error(1e6 * a, 1.01e6 * a))
    assert rel_error(a, -a) == pytest.approx(1.0)
    with pytest.raises(ValueError):
        rel_error(a, a[:2])


def test_numerical_gradient_of_known_function():
    rng = np.random.default_rng(0)
    A = rng.normal(size=(3, 3))
    x = rng.normal(size=3)
    num = numerical_gradient(lambda: x @ A @ x, x)
    assert rel_error(num, (A + A.T) @ x) < 1e-9
    assert np.all(x == x)  # restored


def test_check_gradients_flags_a_wrong_gradient():
    x = np.array([0.3, -1.2])
    errors = check_gradients(lambda: np.sum(np.sin(x)), {"x": x}, {"x": np.cos(x)})
    assert errors["x"] < 1e-9
    errors = check_gradients(lambda: np.sum(np.sin(x)), {"x": x}, {"x": -np.cos(x)})
    assert errors["x"] > 0.5


def test_numerical_gradient_refuses_float32():
    with pytest.raises(TypeError):
        numerical_gradient(lambda: 0.0, np.zeros(2, dtype=np.float32))
