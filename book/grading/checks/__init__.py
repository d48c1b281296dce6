"""Each chapter's graded exercises, one module per chapter (``ch01`` ... ``ch09``), loaded on demand."""
