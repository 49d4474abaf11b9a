"""Top-k over a catalogue with exclusions, in chunks of users."""

from __future__ import annotations

import torch

__all__ = ["mask_scores", "topk_items"]


def mask_scores(
    scores: torch.Tensor, exclude: torch.Tensor | None = None, allowed: torch.Tensor | None = None
) -> torch.Tensor:
    """Set scores of excluded items (or of items outside ``allowed``) to -inf, in place.

    Parameters
    ----------
    scores : Tensor (B, n_items)
        Column ``j`` is item code ``j + 1``.
    exclude : LongTensor (B, H) or None
        Item codes per row to exclude; 0 entries (padding/unknown) are ignored.
    allowed : BoolTensor (n_items,) or None
    """
    if allowed is not None:
        scores.masked_fill_(~allowed[None, :], float("-inf"))
    if exclude is not None and exclude.numel():
        column = (exclude - 1).clamp_min(0)
        values = torch.where(exclude > 0, float("-inf"), scores.gather(1, column))
        scores.scatter_(1, column, values)
    return scores


def topk_items(scores: torch.Tensor, k: int):
    """Top-``k`` scores and item codes (1-based) per row, best first."""
    k = min(k, scores.shape[1])
    values, index = torch.topk(scores, k, dim=1)
    return values, index + 1
