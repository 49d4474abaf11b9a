"""Positional schemes. Padding never receives a position."""

from __future__ import annotations

import torch
from torch import nn

from .context import SequenceContext

__all__ = ["LearnablePositionalEmbedding", "NoPositionalEmbedding", "RotaryEmbedding"]


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

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import LearnablePositionalEmbedding, SequenceContext
    >>> positions = LearnablePositionalEmbedding(max_len=3, d_model=4)
    >>> context = SequenceContext.from_items(torch.tensor([[0, 7, 9]]))
    >>> out = positions(context)
    >>> out.shape, out[0, 0].tolist()  # padding gets no position
    (torch.Size([1, 3, 4]), [0.0, 0.0, 0.0, 0.0])
    >>> torch.equal(out[0, 2], positions.embedding.weight[0])  # the latest event: position 0
    True
    """

    def __init__(self, max_len: int, d_model: int, *, from_end: bool = True):
        super().__init__()
        self.from_end = from_end
        self.embedding = nn.Embedding(max_len, d_model)

    def forward(self, context: SequenceContext) -> torch.Tensor:
        positions = context.positions_from_end if self.from_end else context.positions_from_start
        return self.embedding(positions) * context.valid.unsqueeze(-1)


class NoPositionalEmbedding(nn.Module):
    """No absolute position (for relative schemes such as RoPE).

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import NoPositionalEmbedding, SequenceContext, build_encoder
    >>> context = SequenceContext.from_items(torch.tensor([[0, 7, 9]]))
    >>> NoPositionalEmbedding()(context) is None  # nothing is added to the item embeddings
    True
    >>> encoder = build_encoder(10, d_model=8, n_blocks=1, n_heads=2, dropout=0.0, max_len=5,
    ...                         positional="rope")
    >>> type(encoder.positional).__name__
    'NoPositionalEmbedding'
    """

    def forward(self, context: SequenceContext):
        return None


class RotaryEmbedding(nn.Module):
    """Rotary positions (RoPE, Su et al. 2021) for queries and keys of shape (B, H, L, dh).

    Channel pairs ``(2i, 2i+1)`` of the vector at position ``p`` are rotated by the angle
    ``p * base ** (-2i / dh)``, so ``q_m . k_n`` depends on the positions only through
    ``m - n``: attention sees how far back an event is, never an absolute index, which is
    what a prediction at any position of a packed causal batch needs. Positions count from
    each row's first real event; padding is rotated too but never attended to.

    Parameters
    ----------
    head_dim : int
        Even size of each head.
    base : float, default=10000.0

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import RotaryEmbedding, SequenceContext
    >>> _ = torch.manual_seed(0)
    >>> rope = RotaryEmbedding(head_dim=4)
    >>> context = SequenceContext.from_items(torch.tensor([[5, 6, 7]]))
    >>> x = torch.randn(1, 2, 3, 4)  # (B, H, L, dh)
    >>> rotated = rope(x, context)
    >>> rotated.shape, torch.allclose(rotated.norm(dim=-1), x.norm(dim=-1))  # a rotation
    (torch.Size([1, 2, 3, 4]), True)

    The product of a rotated query and key depends on their offset only:

    >>> pair = torch.randn(1, 1, 2, 4)  # a query and a key
    >>> def score(m, n):
    ...     q, k = rope(pair, context, positions=torch.tensor([[m, n]]))[0, 0]
    ...     return (q @ k).item()
    >>> abs(score(0, 1) - score(5, 6)) < 1e-5, abs(score(0, 1) - score(0, 3)) < 1e-5
    (True, False)
    """

    def __init__(self, head_dim: int, base: float = 10000.0):
        super().__init__()
        if head_dim % 2:
            raise ValueError(f"RoPE needs an even head size, got {head_dim}.")
        self.head_dim = head_dim
        inv_freq = base ** (-torch.arange(0, head_dim, 2, dtype=torch.float32) / head_dim)
        self.register_buffer("inv_freq", inv_freq, persistent=False)

    def angles(self, positions: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(cos, sin)`` of shape (B, 1, L, dh/2) for integer positions (B, L)."""
        theta = positions.to(self.inv_freq.dtype)[..., None] * self.inv_freq
        return theta.cos()[:, None], theta.sin()[:, None]

    def forward(self, x: torch.Tensor, context: SequenceContext, positions=None) -> torch.Tensor:
        """Rotate ``x`` (B, H, L, dh) by ``positions`` (default: the context's, from start)."""
        cos, sin = self.angles(context.positions_from_start if positions is None else positions)
        even, odd = x[..., 0::2].float(), x[..., 1::2].float()
        rotated = torch.stack((even * cos - odd * sin, even * sin + odd * cos), dim=-1)
        return rotated.flatten(-2).to(x.dtype)
