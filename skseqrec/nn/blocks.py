"""Transformer blocks. Each maps (B, L, d) -> (B, L, d) given a :class:`SequenceContext`."""

from __future__ import annotations

import torch
from torch import nn

from .attention import MultiHeadSelfAttention
from .context import SequenceContext

__all__ = ["FeedForward", "PreNormBlock"]


class FeedForward(nn.Module):
    """Position-wise FFN ``W2 dropout(act(W1 x))`` with a hidden size of ``mult * d``."""

    def __init__(self, d_model: int, mult: int = 4, dropout: float = 0.0, activation=nn.GELU):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_model, mult * d_model), activation(), nn.Dropout(dropout),
            nn.Linear(mult * d_model, d_model),
        )

    def forward(self, x):
        return self.net(x)


class PreNormBlock(nn.Module):
    """SASRec block as scikit-rec documents it: pre-norm attention and GELU FFN (4x).

    ``x = x + Dropout(MHA(LN(x)))``; ``x = x + Dropout(FFN(LN(x)))``.
    """

    def __init__(self, d_model: int, n_heads: int, dropout: float, ff_mult: int = 4):
        super().__init__()
        self.attn_norm = nn.LayerNorm(d_model)
        self.attention = MultiHeadSelfAttention(d_model, n_heads, dropout)
        self.ff_norm = nn.LayerNorm(d_model)
        self.feed_forward = FeedForward(d_model, ff_mult, dropout)
        self.dropout = nn.Dropout(dropout)

    def forward(self, x: torch.Tensor, context: SequenceContext) -> torch.Tensor:
        x = x + self.dropout(self.attention(self.attn_norm(x), context))
        return x + self.dropout(self.feed_forward(self.ff_norm(x)))
