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
    position_bias : RelativePositionBias or None
        Learned scalar per query-key offset, added to the attention logits (the mask still
        decides which keys are visible).

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import MultiHeadSelfAttention, SequenceContext
    >>> _ = torch.manual_seed(0)
    >>> attention = MultiHeadSelfAttention(d_model=8, n_heads=2)
    >>> context = SequenceContext.from_items(torch.tensor([[0, 3, 5], [2, 4, 1]]))
    >>> x = torch.randn(2, 3, 8)
    >>> attention(x, context).shape
    torch.Size([2, 3, 8])
    >>> last = attention(x, context, last_only=True)  # what inference needs
    >>> last.shape, torch.allclose(last, attention(x, context)[:, -1:], atol=1e-6)
    (torch.Size([2, 1, 8]), True)
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        dropout: float = 0.0,
        *,
        bias: bool = True,
        rotary: nn.Module | None = None,
        position_bias: nn.Module | None = None,
    ):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"hidden size {d_model} is not divisible by num_heads={n_heads}.")
        self.n_heads = n_heads
        self.dropout = dropout
        self.qkv = nn.Linear(d_model, 3 * d_model, bias=bias)
        self.out = nn.Linear(d_model, d_model, bias=bias)
        self.rotary = rotary
        self.position_bias = position_bias

    def forward(
        self,
        x: torch.Tensor,
        context: SequenceContext,
        keys: torch.Tensor | None = None,
        *,
        last_only: bool = False,
    ):
        """Attend over ``x`` (or, when given, queries from ``x`` and keys/values from ``keys``).

        ``last_only=True`` computes the output of the last position only (B, 1, d): what
        inference needs from the final block.
        """
        batch, width, d_model = x.shape
        keys = x if keys is None else keys
        queries = x[:, -1:] if last_only else x
        if queries is keys:
            q, k, v = self.qkv(x).chunk(3, dim=-1)
        else:
            w_q, w_kv = self.qkv.weight.split([d_model, 2 * d_model])
            b_q, b_kv = (
                (None, None)
                if self.qkv.bias is None
                else self.qkv.bias.split([d_model, 2 * d_model])
            )
            q = F.linear(queries, w_q, b_q)
            k, v = F.linear(keys, w_kv, b_kv).chunk(2, dim=-1)
        head = d_model // self.n_heads
        q = q.view(batch, queries.shape[1], self.n_heads, head).transpose(1, 2)
        k, v = (t.view(batch, width, self.n_heads, head).transpose(1, 2) for t in (k, v))
        mask = context.attn_mask
        if self.rotary is not None:
            positions = context.positions_from_start
            q = self.rotary(q, context, positions[:, -1:] if last_only else positions)
            k = self.rotary(k, context, positions)
        mask = mask[:, :, -1:] if last_only else mask
        if self.position_bias is not None:
            bias = self.position_bias(context)
            bias = bias[:, :, -1:] if last_only else bias
            mask = bias.to(q.dtype).masked_fill(~mask, float("-inf"))
        y = F.scaled_dot_product_attention(
            q,
            k,
            v,
            attn_mask=mask,
            dropout_p=self.dropout if self.training else 0.0,
        )
        return self.out(y.transpose(1, 2).reshape(batch, queries.shape[1], d_model))
