"""Companion package of the executable course book on recurrent neural networks.

Chapters import their code from here, so nothing is written twice.  The
folders show what is what:

=================  ===========================================================
``book.nn``        the mathematics: NumPy reference layers (RNN, LSTM, GRU),
                   BPTT and truncated BPTT, RTRL, gradient dynamics,
                   forecasting baselines, finite-difference checks; every
                   reference function importable from ``book.nn`` itself
``book.grading``   ``check()`` and the exercise registry, the notebook
                   grader, the exercise generator, notebook execution, and
                   ``checks/chNN.py``: each chapter's graded exercises
``book.textgen``   the character-level text generator tool (Chapter 8), one
                   module per role, with ``python -m book.textgen``
``book.data``      shipped and packaged data sets verified by checksum,
                   and ``book.data.tasks``: seeded synthetic tasks
``book.figures``   the diagrams the chapters draw
``environment``    :func:`setup`: quiet TensorFlow, seeds, plot style
``site``           the Sphinx extension the website build loads
``grade``,         command-line entry points kept at the top:
``exercises``,     ``python -m book.grade``, ``python -m book.exercises``,
``notebooks``      ``python -m book.notebooks``
=================  ===========================================================

To add a chapter: write ``chapters/NN_topic.ipynb`` (start it with
``book.setup()``), put code it derives and later chapters reuse in
``book/nn/`` (export it from ``book/nn/__init__.py``), and list the page in
``_toc.yml``.  To add an exercise: register it in
``book/grading/checks/chNN.py``, add its reference answer between
``### BEGIN SOLUTION N.M`` / ``### END SOLUTION`` in ``solutions/NN_topic.ipynb``,
add the wrong answers it must reject to ``tests/test_exercises_NN.py``, and run
``make exercises``.

Call :func:`setup` first in every notebook; it keeps TensorFlow quiet and seeds everything.
"""

from book.environment import setup

__all__ = ["setup"]
__version__ = "0.1.0"
