"""Negative samplers: which items a position's positive is contrasted with."""

from __future__ import annotations

import torch

__all__ = ["in_batch_negatives", "sampling_log_q", "shared_negatives", "uniform_negatives"]


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


def in_batch_negatives(targets, valid, n_negatives: int, *, generator=None) -> torch.Tensor:
    """``n_negatives`` items drawn from the batch's own positives, shape (n_negatives,).

    Positions are drawn uniformly, so an item comes up in proportion to how often it is a
    target in the batch: popularity sampling without a popularity table. Shared by the
    whole batch (one matmul). Correct the bias with :func:`sampling_log_q`.
    """
    pool = targets[valid]
    if len(pool) == 0:
        return targets.new_zeros(0)
    device = generator.device if generator is not None else targets.device
    index = torch.randint(len(pool), (n_negatives,), generator=generator, device=device)
    return pool[index.to(pool.device)]


def sampling_log_q(item_codes, popularity, n_in_batch: int, n_uniform: int) -> torch.Tensor:
    """Log of the expected number of times each item is drawn as a negative.

    ``E[count_j] = n_in_batch * popularity[j] + n_uniform / n_items`` for ``n_in_batch``
    draws from the in-batch (popularity) distribution and ``n_uniform`` uniform draws.

    Parameters
    ----------
    item_codes : LongTensor
    popularity : Tensor (n_items + 1,)
        Probability of each code as a training target (row 0 unused), summing to 1.
    n_in_batch, n_uniform : int

    Examples
    --------
    >>> pop = torch.tensor([0.0, 0.75, 0.25])
    >>> sampling_log_q(torch.tensor([1, 2]), pop, 4, 2).exp().tolist()
    [4.0, 2.0]
    """
    n_items = len(popularity) - 1
    expected = n_in_batch * popularity[item_codes] + n_uniform / n_items
    return torch.log(expected.clamp_min(1e-12))
