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
        # a boolean mask over codes 0..n_items (every write is True, so duplicate codes and
        # the order of writes cannot matter); column 0 is padding and is dropped
        hit = torch.zeros(
            (scores.shape[0], scores.shape[1] + 1), dtype=torch.bool, device=scores.device
        )
        hit.scatter_(1, exclude, True)
        scores.masked_fill_(hit[:, 1:], float("-inf"))
    return scores


def topk_items(scores: torch.Tensor, k: int):
    """Top-``k`` scores and item codes (1-based) per row, best first."""
    k = min(k, scores.shape[1])
    values, index = torch.topk(scores, k, dim=1)
    return values, index + 1
