"""``python -m book.grade``: the notebook grader (the code is :mod:`book.grading.grader`)."""

import sys

from book.grading.grader import main

if __name__ == "__main__":
    sys.exit(main())
