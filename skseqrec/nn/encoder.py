"""Item-sequence encoder: embeddings + positions + a stack of blocks + tied output."""

from __future__ import annotations

import math

import torch
from torch import nn

from .context import SequenceContext
from .dropout import Dropout

__all__ = ["SequenceEncoder"]


class SequenceEncoder(nn.Module):
    """Encode left-padded item-code sequences into one hidden state per position.

    Parameters
    ----------
    n_items : int
        Catalogue size; codes are ``1..n_items``, 0 is padding.
    d_model : int
    blocks : list of nn.Module
        Each called as ``block(x, context)``.
    positional : nn.Module
        Called as ``positional(context)``; returns (B, L, d) or None.
    dropout : float
        Embedding dropout.
    final_norm : bool, default=True
        LayerNorm after the last block.
    scale_embeddings : bool, default=False
        Multiply item embeddings by sqrt(d) (original SASRec).
    causal : bool, default=True
    tied : bool, default=True
        Score with the input item table; otherwise a separate output table.
    """

    def __init__(
        self,
        n_items: int,
        d_model: int,
        blocks,
        positional: nn.Module,
        *,
        dropout: float = 0.0,
        final_norm: bool = True,
        scale_embeddings: bool = False,
        causal: bool = True,
        tied: bool = True,
    ):
        super().__init__()
        self.n_items = n_items
        self.d_model = d_model
        self.causal = causal
        self.scale = math.sqrt(d_model) if scale_embeddings else 1.0
        self.item_embedding = nn.Embedding(n_items + 1, d_model, padding_idx=0)
        self.output_embedding = None if tied else nn.Embedding(n_items + 1, d_model, padding_idx=0)
        self.positional = positional
        self.embedding_dropout = Dropout(dropout)
        self.blocks = nn.ModuleList(blocks)
        self.final_norm = nn.LayerNorm(d_model) if final_norm else nn.Identity()
        self.reset_parameters()

    def reset_parameters(self, std: float = 0.02) -> None:
        """Normal(0, ``std``) for every embedding and linear weight, zero biases.

        Adam moves each weight by about the learning rate per step whatever its scale, so
        small initial weights learn fast at lr 1e-3; the padding rows are set to zero.
        """
        for module in self.modules():
            if isinstance(module, (nn.Embedding, nn.Linear)):
                nn.init.normal_(module.weight, std=std)
                if isinstance(module, nn.Linear) and module.bias is not None:
                    nn.init.zeros_(module.bias)
        with torch.no_grad():
            for table in (self.item_embedding, self.output_embedding):
                if table is not None:
                    table.weight[0].zero_()

    def context(self, items: torch.Tensor, timestamps: torch.Tensor | None = None):
        return SequenceContext.from_items(items, causal=self.causal, timestamps=timestamps)

    def forward(self, items: torch.Tensor, timestamps: torch.Tensor | None = None) -> torch.Tensor:
        """Hidden states (B, L, d); rows of padding positions are zero."""
        context = self.context(items, timestamps)
        keep = context.valid.unsqueeze(-1).to(self.item_embedding.weight.dtype)
        x = self.item_embedding(items) * self.scale
        positions = self.positional(context)
        if positions is not None:
            x = x + positions
        x = self.embedding_dropout(x) * keep
        for block in self.blocks:
            x = block(x, context) * keep
        return self.final_norm(x) * keep

    def encode_last(self, items: torch.Tensor, timestamps: torch.Tensor | None = None):
        """Hidden state after the most recent event of each row (left padding), (B, d)."""
        return self.forward(items, timestamps)[:, -1]

    @property
    def output_weight(self) -> torch.Tensor:
        """Item vectors used for scoring, (n_items + 1, d); row 0 is padding."""
        table = self.item_embedding if self.output_embedding is None else self.output_embedding
        return table.weight

    def score_items(self, hidden: torch.Tensor, item_codes: torch.Tensor) -> torch.Tensor:
        """Scores of given items: per position (..., k) -> (..., k), or shared (k,) -> (..., k).

        Shared items (a 1-D tensor, e.g. negatives drawn once per batch) cost one matmul.
        """
        if item_codes.dim() == 1:
            return hidden @ self.output_weight[item_codes].T
        return (hidden.unsqueeze(-2) * self.output_weight[item_codes]).sum(-1)

    def score_all(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores of every catalogue item (codes 1..n_items), (..., n_items)."""
        return hidden @ self.output_weight[1:].T
