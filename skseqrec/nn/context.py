"""Per-batch masks and positions shared by every block of an encoder."""

from __future__ import annotations

from dataclasses import dataclass

import torch

__all__ = ["SequenceContext"]


@dataclass
class SequenceContext:
    """What blocks need to know about a left-padded batch besides the hidden states.

    Attributes
    ----------
    valid : BoolTensor (B, L)
        True at real events, False at padding.
    attn_mask : BoolTensor (B, 1, L, L)
        True where query ``i`` may attend to key ``j``: real keys only, causal
        when asked. A query with no allowed key (a padding query of a causal,
        left-padded row) may attend to itself, so no row of the softmax is empty;
        its output is zeroed afterwards.
    positions_from_end : LongTensor (B, L)
        0 for the most recent event, 1 for the one before, ...; padding gets 0.
    positions_from_start : LongTensor (B, L)
        0 for the first real event of the row; padding gets 0.
    timestamps : Tensor (B, L) or None
        Event times when the model uses them (HSTU).

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import SequenceContext
    >>> context = SequenceContext.from_items(torch.tensor([[0, 4, 7], [3, 5, 9]]))
    >>> context.valid.tolist()
    [[False, True, True], [True, True, True]]
    >>> context.positions_from_end.tolist(), context.positions_from_start.tolist()
    ([[0, 1, 0], [2, 1, 0]], [[0, 0, 1], [0, 1, 2]])
    >>> context.attn_mask.shape
    torch.Size([2, 1, 3, 3])
    >>> context.attn_mask[0, 0].int().tolist()  # causal; the padding query sees itself only
    [[1, 0, 0], [0, 1, 0], [0, 1, 1]]
    """

    valid: torch.Tensor
    attn_mask: torch.Tensor
    positions_from_end: torch.Tensor
    positions_from_start: torch.Tensor
    timestamps: torch.Tensor | None = None

    @classmethod
    def from_items(
        cls, items: torch.Tensor, *, causal: bool = True, timestamps: torch.Tensor | None = None
    ) -> SequenceContext:
        """Build the context of a left-padded (B, L) item-code batch (0 = padding)."""
        valid = items != 0
        width = items.shape[1]
        keys = valid[:, None, None, :]
        eye = torch.eye(width, dtype=torch.bool, device=items.device)
        if causal:
            # left padding: a query sees a real key only if it is itself real, so "self or
            # (real key and not after me)" never leaves a row empty
            lower = torch.ones(width, width, dtype=torch.bool, device=items.device).tril()
            attn_mask = (keys & lower) | eye
        else:
            # a padding query may only see itself; real queries see every real key
            attn_mask = (keys & valid[:, None, :, None]) | eye
        n_valid = valid.sum(dim=1, keepdim=True)
        column = torch.arange(width, device=items.device)[None, :]
        # Left padding: the row's real events occupy the last n_valid columns.
        from_end = (width - 1 - column).expand_as(items)
        from_start = column - (width - n_valid)
        return cls(
            valid=valid,
            attn_mask=attn_mask,
            positions_from_end=torch.where(valid, from_end, 0),
            positions_from_start=torch.where(valid, from_start, 0),
            timestamps=timestamps,
        )
