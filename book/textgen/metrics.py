"""Cross-entropy in nats, bits per character and perplexity, and the unigram baseline.
"""

from __future__ import annotations

import math

import numpy as np

Array = np.ndarray

LN2 = math.log(2.0)


def bits_per_char(nats: float) -> float:
    """Cross-entropy in bits per character from nats per character: ``nats / ln 2``."""
    return float(nats) / LN2


def perplexity(nats: float) -> float:
    """Perplexity ``exp(nats)``: the number of equally likely characters that gives the same loss."""
    return float(math.exp(nats))


def metrics(nats: float) -> dict[str, float]:
    """``{"nats": ..., "bpc": ..., "perplexity": ...}`` for a mean cross-entropy in nats."""
    return {"nats": float(nats), "bpc": bits_per_char(nats), "perplexity": perplexity(nats)}


def unigram_nats(train_ids: Array, eval_ids: Array, vocab_size: int, smoothing: float = 1.0) -> float:
    """Cross-entropy (nats/char) of ``eval_ids`` under the training character frequencies.

    Add-``smoothing`` counts keep characters unseen in training finite.
    """
    counts = np.bincount(np.asarray(train_ids), minlength=vocab_size).astype(np.float64) + smoothing
    logp = np.log(counts / counts.sum())
    return float(-logp[np.asarray(eval_ids)].mean())


def cross_entropy_nats(logits: Array, targets: Array) -> float:
    """Mean softmax cross-entropy (nats) of logits (..., V) against integer targets (...)."""
    logits = np.asarray(logits, dtype=np.float64)
    shifted = logits - logits.max(axis=-1, keepdims=True)
    logz = np.log(np.exp(shifted).sum(axis=-1))
    picked = np.take_along_axis(shifted, np.asarray(targets)[..., None], axis=-1)[..., 0]
    return float((logz - picked).mean())
