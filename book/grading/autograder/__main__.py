"""``python -m book.grading.autograder``: write the Gradescope autograder zip."""

import sys

from book.grading.autograder import main

if __name__ == "__main__":
    sys.exit(main())
