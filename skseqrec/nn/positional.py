"""Positional schemes. Padding never receives a position."""

from __future__ import annotations

import torch
from torch import nn

from .context import SequenceContext

__all__ = ["LearnablePositionalEmbedding", "NoPositionalEmbedding"]


class LearnablePositionalEmbedding(nn.Module):
    """Learnable absolute positions, counted from the end or from the start of the sequence.

    Parameters
    ----------
    max_len : int
    d_model : int
    from_end : bool, default=True
        ``True``: position 0 is the most recent event (with left padding this is what the
        original SASRec's fixed-width positions amount to; eSASRec's inverse positions).
        ``False``: position 0 is the user's first event in the window.
    """

    def __init__(self, max_len: int, d_model: int, *, from_end: bool = True):
        super().__init__()
        self.from_end = from_end
        self.embedding = nn.Embedding(max_len, d_model)

    def forward(self, context: SequenceContext) -> torch.Tensor:
        positions = context.positions_from_end if self.from_end else context.positions_from_start
        return self.embedding(positions) * context.valid.unsqueeze(-1)


class NoPositionalEmbedding(nn.Module):
    """No absolute position (for relative schemes such as RoPE)."""

    def forward(self, context: SequenceContext):
        return None
