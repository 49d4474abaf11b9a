"""Negative samplers: which items a position's positive is contrasted with."""

from __future__ import annotations

import torch

__all__ = ["shared_negatives", "uniform_negatives"]


def uniform_negatives(
    shape, n_items: int, *, generator: torch.Generator | None = None, device=None
) -> torch.Tensor:
    """Item codes drawn uniformly from ``1..n_items`` (positives not excluded)."""
    if device is None and generator is not None:
        device = generator.device
    return torch.randint(1, n_items + 1, tuple(shape), generator=generator, device=device)


def shared_negatives(n_negatives: int, n_items: int, *, generator=None, device=None):
    """One set of uniform negatives for the whole batch, shape (n_negatives,).

    Scoring them against every position is one matmul ``hidden @ W[negatives].T``; this is
    what makes sampled softmax cheap compared with per-position negatives.
    """
    return uniform_negatives((n_negatives,), n_items, generator=generator, device=device)
