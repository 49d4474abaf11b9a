"""Top-k over a catalogue with exclusions, in chunks of users and blocks of items.

A catalogue too large for one score matrix is scored a block of items at a time:
:func:`mask_scores` excludes items of a block by writing ``-inf`` at their positions (no
users x items mask), and :func:`topk_items` merges each block into the running top-k, so
the result is the exact top-k of the whole catalogue.
"""

from __future__ import annotations

import torch

__all__ = ["mask_scores", "topk_items"]


def mask_scores(
    scores: torch.Tensor,
    exclude: torch.Tensor | None = None,
    allowed: torch.Tensor | None = None,
    *,
    start: int = 0,
) -> torch.Tensor:
    """Set scores of excluded items (or of items outside ``allowed``) to -inf, in place.

    Parameters
    ----------
    scores : Tensor (B, m)
        Column ``j`` is item code ``start + j + 1``: the whole catalogue (``start=0``,
        ``m = n_items``) or one block of it.
    exclude : LongTensor (B, H) or None
        Item codes per row to exclude; 0 entries (padding/unknown) and codes outside the
        block are ignored, and a code may repeat.
    allowed : BoolTensor (m,) or None
        Candidates among the columns of ``scores``; the others get -inf.
    start : int, default=0
        Codes before the block (see ``scores``).

    Returns
    -------
    Tensor (B, m)
        ``scores`` itself.

    Examples
    --------
    >>> import torch
    >>> scores = torch.tensor([[0.1, 0.2, 0.3], [0.4, 0.5, 0.6]])
    >>> mask_scores(scores, exclude=torch.tensor([[1, 0], [3, 3]])).tolist()
    [[-inf, 0.2..., 0.3...], [0.4..., 0.5..., -inf]]
    >>> block = torch.tensor([[0.7, 0.8]])  # codes 4 and 5 of a larger catalogue
    >>> mask_scores(block, exclude=torch.tensor([[5, 1]]), start=3).tolist()
    [[0.7..., -inf]]
    """
    if allowed is not None:
        scores.masked_fill_(~allowed[None, :], float("-inf"))
    if exclude is not None and exclude.numel():
        # -inf written at (row, code) pairs of the block: every write is the same value,
        # so repeated codes and padding cannot leave an excluded item in (a scatter with
        # duplicate indices once let padding's write win over item 1's); no (B, m) mask
        inside = (exclude > start) & (exclude <= start + scores.shape[1])
        rows, slots = inside.nonzero(as_tuple=True)
        scores[rows, exclude[rows, slots] - (start + 1)] = float("-inf")
    return scores


def topk_items(
    scores: torch.Tensor,
    k: int,
    *,
    start: int = 0,
    previous: tuple[torch.Tensor, torch.Tensor] | None = None,
):
    """Top-``k`` scores and item codes per row, best first; exact over blocks of items.

    Parameters
    ----------
    scores : Tensor (B, m)
        Column ``j`` is item code ``start + j + 1``.
    k : int
        Items per row (at most ``m`` without ``previous``).
    start : int, default=0
        Codes before this block of the catalogue.
    previous : tuple of Tensors (B, k), default=None
        ``(values, codes)``: the top-k of the blocks seen so far (start with ``-inf`` and
        code 0). The result is the top-k of those and ``scores`` together: fed every
        block of a catalogue in turn, it is the catalogue's exact top-k. On CPU only
        the groups of 128 items that hold a score above the row's current k-th score
        are ranked (after the first blocks, few do).

    Returns
    -------
    values, codes : Tensors (B, k)
        Best first. With ``previous``, ties keep the entry seen first (a lower code
        from an earlier block); slots without an item keep ``-inf`` and code 0.

    Examples
    --------
    >>> import torch
    >>> scores = torch.tensor([[0.1, 0.9, 0.5, 0.3]])
    >>> values, codes = topk_items(scores, 2)
    >>> codes.tolist()
    [[2, 3]]
    >>> best = (torch.full((1, 2), -torch.inf), torch.zeros((1, 2), dtype=torch.long))
    >>> for begin in (0, 2):  # the same catalogue in two blocks of two items
    ...     best = topk_items(scores[:, begin : begin + 2], 2, start=begin, previous=best)
    >>> best[1].tolist()
    [[2, 3]]
    """
    if previous is None:
        k = min(k, scores.shape[1])
        values, index = torch.topk(scores, k, dim=1)
        return values, index + (start + 1)
    values, codes = previous
    k = values.shape[1]
    if scores.device.type == "cpu":
        return _merge_above(scores, start, values, codes)
    # on an accelerator a filter would cost a synchronisation per block: merge every row
    block_values, block_codes = topk_items(scores, min(k, scores.shape[1]), start=start)
    return _merge(values, codes, block_values, block_codes)


#: Items per group of :func:`_merge_above`'s filter.
_GROUP = 128


def _merge(values, codes, new_values, new_codes):
    """The best ``k = values.shape[1]`` of two sets per row, best first; ties keep the
    entries of ``values`` (the earlier blocks) first."""
    merged = torch.cat([values, new_values], dim=1)
    order = torch.sort(merged, dim=1, descending=True, stable=True).indices[:, : values.shape[1]]
    return merged.gather(1, order), torch.cat([codes, new_codes], dim=1).gather(1, order)


def _merge_above(scores, start, values, codes):
    """:func:`topk_items` with ``previous`` on CPU: only scores above a row's current
    k-th score can enter its top-k, and once the first blocks are seen few are.

    The maxima of groups of ``_GROUP`` items (one vectorised pass over the block) find
    the groups holding such scores; only those are copied and ranked, where a top-k of
    every row would copy all of them (a block's width may be no multiple of ``_GROUP``:
    its last items form one more group).
    """
    n_rows, width = scores.shape
    k = values.shape[1]
    n_full = width // _GROUP
    group_max = scores[:, : n_full * _GROUP].reshape(n_rows, n_full, _GROUP).amax(dim=2)
    if n_full * _GROUP < width:
        group_max = torch.cat([group_max, scores[:, n_full * _GROUP :].amax(dim=1)[:, None]], 1)
    hit_rows, hit_groups = (group_max > values[:, -1:]).nonzero(as_tuple=True)
    if not len(hit_rows):
        return values, codes
    if len(hit_rows) * 4 > group_max.numel():  # most groups (the first block): every row
        block_values, block_codes = topk_items(scores, min(k, width), start=start)
        return _merge(values, codes, block_values, block_codes)
    # the hit groups of each row side by side: (rows hit, most groups hit in a row, group)
    rows, slot_counts = torch.unique_consecutive(hit_rows, return_counts=True)
    row_of_hit = torch.repeat_interleave(torch.arange(len(rows)), slot_counts)
    first_hit = torch.cumsum(slot_counts, 0) - slot_counts
    slot = torch.arange(len(hit_rows)) - first_hit[row_of_hit]
    columns = hit_groups[:, None] * _GROUP + torch.arange(_GROUP)  # (hits, _GROUP)
    inside = columns < width  # the last group of a ragged block is short
    columns = columns.clamp_max(width - 1)
    hit_scores = scores[hit_rows[:, None], columns].masked_fill_(~inside, -torch.inf)
    candidates = torch.full((len(rows), int(slot_counts.max()), _GROUP), -torch.inf)
    candidate_codes = torch.zeros(candidates.shape, dtype=torch.int64)
    candidates[row_of_hit, slot] = hit_scores
    candidate_codes[row_of_hit, slot] = columns + (start + 1)
    candidates = candidates.reshape(len(rows), -1)
    top, index = torch.topk(candidates, min(k, candidates.shape[1]), dim=1)
    top_codes = candidate_codes.reshape(len(rows), -1).gather(1, index)
    merged_values, merged_codes = _merge(values[rows], codes[rows], top, top_codes)
    values, codes = values.clone(), codes.clone()
    values[rows], codes[rows] = merged_values, merged_codes
    return values, codes
