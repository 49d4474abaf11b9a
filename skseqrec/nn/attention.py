"""Multi-head self-attention through one fused ``scaled_dot_product_attention`` call."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .context import SequenceContext

__all__ = ["MultiHeadSelfAttention"]


class MultiHeadSelfAttention(nn.Module):
    """Softmax self-attention with a boolean (causal + key-padding) mask.

    Parameters
    ----------
    d_model : int
    n_heads : int
        Must divide ``d_model``.
    dropout : float
        Attention-weight dropout (training only).
    bias : bool, default=True
    rotary : RotaryEmbedding or None
        Applied to queries and keys when given.
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        dropout: float = 0.0,
        *,
        bias: bool = True,
        rotary: nn.Module | None = None,
    ):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"hidden size {d_model} is not divisible by num_heads={n_heads}.")
        self.n_heads = n_heads
        self.dropout = dropout
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.out = nn.Linear(d_model, d_model, bias=bias)
        self.rotary = rotary

    def forward(self, x: torch.Tensor, context: SequenceContext, keys: torch.Tensor | None = None):
        """Attend over ``x`` (or, when given, queries from ``x`` and keys/values from ``keys``)."""
        batch, width, d_model = x.shape
        if keys is None:
            q, k, v = self.qkv(x).chunk(3, dim=-1)
        else:
            w_q, w_kv = self.qkv.weight.split([d_model, 2 * d_model])
            b_q, b_kv = (
                (None, None)
                if self.qkv.bias is None
                else self.qkv.bias.split([d_model, 2 * d_model])
            )
            q = F.linear(x, w_q, b_q)
            k, v = F.linear(keys, w_kv, b_kv).chunk(2, dim=-1)
        shape = (batch, width, self.n_heads, d_model // self.n_heads)
        q, k, v = (t.view(shape).transpose(1, 2) for t in (q, k, v))
        if self.rotary is not None:
            q, k = self.rotary(q, context), self.rotary(k, context)
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=context.attn_mask,
            dropout_p=self.dropout if self.training else 0.0,
        )
        return self.out(y.transpose(1, 2).reshape(batch, width, d_model))
