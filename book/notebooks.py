"""``python -m book.notebooks``: executing notebooks and storing their outputs (the code is :mod:`book.grading.notebooks`)."""

import sys

from book.grading.notebooks import main

if __name__ == "__main__":
    sys.exit(main())
