"""Companion package of the executable course book on recurrent neural networks.

Chapters import their reference code from here, so nothing is written twice:

- :mod:`book.rnn` -- NumPy recurrent layers (forward and backward) in Keras's weight layout.
- :mod:`book.gradcheck` -- centred finite differences and relative errors.
- :mod:`book.grading` -- ``check(...)``, the one-line exercise checker used in notebooks.
- :mod:`book.grade` -- ``python -m book.grade``, the notebook grader.
- :mod:`book.exercises` -- ``python -m book.exercises``, exercise notebooks from solutions.
- :mod:`book.notebooks` -- executing notebooks and storing their outputs.
- :mod:`book.plotting` -- the figures the chapters draw.

Call :func:`setup` first in every notebook; it keeps TensorFlow quiet and seeds everything.
"""

from book.environment import setup

__all__ = ["setup"]
__version__ = "0.1.0"
