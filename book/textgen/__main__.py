"""``python -m book.textgen``: see :mod:`book.textgen.cli`."""

import sys

from book.textgen.cli import main

sys.exit(main())
