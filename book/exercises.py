"""``python -m book.exercises``: exercise notebooks from solution notebooks (the code is :mod:`book.grading.generate`)."""

import sys

from book.grading.generate import main

if __name__ == "__main__":
    sys.exit(main())
