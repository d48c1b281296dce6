"""The figures the chapters draw: ``graphs`` (folded and unrolled RNN graphs, Chapter 2) and ``sequence_types`` (the four input-output mappings, Chapter 6)."""
