"""Transformer blocks. Each maps (B, L, d) -> (B, L, d) given a :class:`SequenceContext`."""

from __future__ import annotations

import torch
from torch import nn

from .attention import MultiHeadSelfAttention
from .context import SequenceContext
from .dropout import Dropout

__all__ = [
    "ACTIVATIONS",
    "FeedForward",
    "LiGRBlock",
    "PostNormBlock",
    "PreNormBlock",
    "SwiGLU",
    "feed_forward",
]

#: Feed-forward activations by name ("swiglu" is a gated unit without biases).
ACTIVATIONS = {"gelu": nn.GELU, "relu": nn.ReLU, "swiglu": None}


class FeedForward(nn.Module):
    """Position-wise FFN ``W2 dropout(act(W1 x))`` with a hidden size of ``mult * d``.

    Examples
    --------
    >>> import torch
    >>> from torch import nn
    >>> from skseqrec.nn import FeedForward
    >>> ffn = FeedForward(8, mult=2, activation=nn.ReLU)
    >>> ffn(torch.randn(2, 5, 8)).shape
    torch.Size([2, 5, 8])
    >>> ffn.net[0]
    Linear(in_features=8, out_features=16, bias=True)
    """

    def __init__(self, d_model: int, mult: int = 4, dropout: float = 0.0, activation=nn.GELU):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(d_model, mult * d_model),
            activation(),
            Dropout(dropout),
            nn.Linear(mult * d_model, d_model),
        )

    def forward(self, x):
        return self.net(x)


def feed_forward(d_model: int, mult: int, dropout: float, activation: str) -> nn.Module:
    """The position-wise feed-forward for an activation name (see ``ACTIVATIONS``)."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation must be one of {sorted(ACTIVATIONS)}, got {activation!r}.")
    if activation == "swiglu":
        return SwiGLU(d_model, mult, dropout)
    return FeedForward(d_model, mult, dropout, activation=ACTIVATIONS[activation])


class PreNormBlock(nn.Module):
    """Pre-norm transformer block.

    ``x = x + Dropout(MHA(N(x)))``; ``x = x + Dropout(FFN(N(x)))``. With the defaults it is
    the SASRec block as scikit-rec documents it (LayerNorm, GELU FFN 4x); with
    ``norm=nn.RMSNorm, activation="swiglu", rotary=RotaryEmbedding(...)`` it is the
    "modern" block (RMSNorm pre-LN, SwiGLU, RoPE).

    Parameters
    ----------
    d_model, n_heads : int
    dropout : float
    ff_mult : int, default=4
    norm : callable, default=nn.LayerNorm
        ``norm(d_model)`` builds each of the two norms.
    activation : {"gelu", "relu", "swiglu"}, default="gelu"
        Feed-forward activation (``"swiglu"``: gated, no biases).
    rotary : RotaryEmbedding or None
        Rotary positions applied to queries and keys.
    position_bias : RelativePositionBias or None
        Learned relative-position bias added to the attention logits.
    bias : bool, default=True
        Biases of the attention projections.

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import PreNormBlock, SequenceContext
    >>> _ = torch.manual_seed(0)
    >>> block = PreNormBlock(d_model=8, n_heads=2, dropout=0.0)
    >>> context = SequenceContext.from_items(torch.tensor([[0, 3, 5], [2, 4, 1]]))
    >>> x = torch.randn(2, 3, 8)
    >>> block(x, context).shape
    torch.Size([2, 3, 8])
    >>> last = block(x, context, last_only=True)  # the last position only, for inference
    >>> last.shape, torch.allclose(last, block(x, context)[:, -1:], atol=1e-6)
    (torch.Size([2, 1, 8]), True)

    The "modern" block (RMSNorm, SwiGLU, rotary positions over heads of size 4):

    >>> from torch import nn
    >>> from skseqrec.nn import RotaryEmbedding
    >>> modern = PreNormBlock(8, 2, 0.0, norm=nn.RMSNorm, activation="swiglu",
    ...                       rotary=RotaryEmbedding(head_dim=4), bias=False)
    >>> modern(x, context).shape, type(modern.feed_forward).__name__
    (torch.Size([2, 3, 8]), 'SwiGLU')
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        dropout: float,
        ff_mult: int = 4,
        *,
        norm=nn.LayerNorm,
        activation: str = "gelu",
        rotary: nn.Module | None = None,
        position_bias: nn.Module | None = None,
        bias: bool = True,
    ):
        super().__init__()
        self.attn_norm = norm(d_model)
        self.attention = MultiHeadSelfAttention(
            d_model, n_heads, dropout, bias=bias, rotary=rotary, position_bias=position_bias
        )
        self.ff_norm = norm(d_model)
        self.feed_forward = feed_forward(d_model, ff_mult, dropout, activation)
        self.dropout = Dropout(dropout)

    supports_last_only = True

    def forward(self, x: torch.Tensor, context: SequenceContext, last_only=False) -> torch.Tensor:
        """(B, L, d) -> (B, L, d), or (B, 1, d) for the last position with ``last_only``."""
        attended = self.attention(self.attn_norm(x), context, last_only=last_only)
        x = (x[:, -1:] if last_only else x) + self.dropout(attended)
        return x + self.dropout(self.feed_forward(self.ff_norm(x)))


class SwiGLU(nn.Module):
    """``W2 dropout(SiLU(W1 x) * W3 x)`` with a hidden size of ``mult * d`` and no bias.

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import SwiGLU
    >>> ffn = SwiGLU(8, mult=2)
    >>> ffn(torch.randn(2, 5, 8)).shape
    torch.Size([2, 5, 8])
    >>> sum(p.numel() for p in ffn.parameters())  # 8 * (2 * 16) + 16 * 8, no biases
    384
    """

    def __init__(self, d_model: int, mult: int = 4, dropout: float = 0.0):
        super().__init__()
        self.gate_up = nn.Linear(d_model, 2 * mult * d_model, bias=False)
        self.down = nn.Linear(mult * d_model, d_model, bias=False)
        self.dropout = Dropout(dropout)

    def forward(self, x):
        gate, up = self.gate_up(x).chunk(2, dim=-1)
        return self.down(self.dropout(nn.functional.silu(gate) * up))


class LiGRBlock(nn.Module):
    """LiGR layer (eSASRec): pre-LN sub-layers with sigmoid-gated residuals.

    ``h = x + sigmoid(G1 x) * Dropout(MHA(LN1(x)))``;
    ``out = h + sigmoid(G2 h) * Dropout(SwiGLU(LN2(h)))``. The gates read the
    un-normalised residual stream. ``activation`` other than ``"swiglu"`` (the paper's)
    swaps the feed-forward; ``rotary``/``position_bias`` as in :class:`PreNormBlock`.

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import LiGRBlock, SequenceContext
    >>> _ = torch.manual_seed(0)
    >>> block = LiGRBlock(d_model=8, n_heads=2, dropout=0.0)
    >>> context = SequenceContext.from_items(torch.tensor([[0, 3, 5], [2, 4, 1]]))
    >>> x = torch.randn(2, 3, 8)
    >>> block(x, context).shape, block(x, context, last_only=True).shape
    (torch.Size([2, 3, 8]), torch.Size([2, 1, 8]))
    >>> block.attn_gate, type(block.feed_forward).__name__
    (Linear(in_features=8, out_features=8, bias=True), 'SwiGLU')
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        dropout: float,
        ff_mult: int = 4,
        norm=nn.LayerNorm,
        rotary: nn.Module | None = None,
        *,
        activation: str = "swiglu",
        position_bias: nn.Module | None = None,
        bias: bool = True,
    ):
        super().__init__()
        self.attn_norm = norm(d_model)
        self.attention = MultiHeadSelfAttention(
            d_model, n_heads, dropout, bias=bias, rotary=rotary, position_bias=position_bias
        )
        self.attn_gate = nn.Linear(d_model, d_model)
        self.ff_norm = norm(d_model)
        self.feed_forward = feed_forward(d_model, ff_mult, dropout, activation)
        self.ff_gate = nn.Linear(d_model, d_model)
        self.dropout = Dropout(dropout)

    supports_last_only = True

    def forward(self, x: torch.Tensor, context: SequenceContext, last_only=False) -> torch.Tensor:
        """(B, L, d) -> (B, L, d), or (B, 1, d) for the last position with ``last_only``."""
        attended = self.dropout(self.attention(self.attn_norm(x), context, last_only=last_only))
        x = x[:, -1:] if last_only else x
        h = x + torch.sigmoid(self.attn_gate(x)) * attended
        fed = self.dropout(self.feed_forward(self.ff_norm(h)))
        return h + torch.sigmoid(self.ff_gate(h)) * fed


class PostNormBlock(nn.Module):
    """The original SASRec block (Kang & McAuley 2018, "hybrid" norm).

    Queries are normalised, keys/values are not; the attention residual is added to the
    normalised queries; then ``LN -> FFN (ReLU)`` with a residual to its normalised input.
    The norm, activation, width and positional options are those of :class:`PreNormBlock`.

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import PostNormBlock, SequenceContext
    >>> _ = torch.manual_seed(0)
    >>> block = PostNormBlock(d_model=8, n_heads=2, dropout=0.0)
    >>> context = SequenceContext.from_items(torch.tensor([[0, 3, 5], [2, 4, 1]]))
    >>> block(torch.randn(2, 3, 8), context).shape
    torch.Size([2, 3, 8])
    >>> block.feed_forward.net[:2]  # SASRec's feed-forward: ReLU, width d_model
    Sequential(
      (0): Linear(in_features=8, out_features=8, bias=True)
      (1): ReLU()
    )
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        dropout: float,
        ff_mult: int = 1,
        *,
        norm=nn.LayerNorm,
        activation: str = "relu",
        rotary: nn.Module | None = None,
        position_bias: nn.Module | None = None,
        bias: bool = True,
    ):
        super().__init__()
        self.attn_norm = norm(d_model)
        self.attention = MultiHeadSelfAttention(
            d_model, n_heads, dropout, bias=bias, rotary=rotary, position_bias=position_bias
        )
        self.ff_norm = norm(d_model)
        self.feed_forward = feed_forward(d_model, ff_mult, dropout, activation)
        self.dropout = Dropout(dropout)

    supports_last_only = True

    def forward(self, x: torch.Tensor, context: SequenceContext, last_only=False) -> torch.Tensor:
        """(B, L, d) -> (B, L, d), or (B, 1, d) for the last position with ``last_only``."""
        queries = self.attn_norm(x)
        attended = self.attention(queries, context, keys=x, last_only=last_only)
        x = (queries[:, -1:] if last_only else queries) + self.dropout(attended)
        x = self.ff_norm(x)
        return x + self.dropout(self.feed_forward(x))
