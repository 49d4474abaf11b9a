"""HSTU (Zhai et al., ICML 2024): pointwise SiLU attention with relative position/time bias."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .context import SequenceContext
from .dropout import Dropout

__all__ = ["HSTUBlock", "RelativePositionBias", "TimeGapBias", "time_gap_buckets"]


def time_gap_buckets(gaps: torch.Tensor, n_buckets: int = 129, log_base: float = 0.301):
    """HSTU's bucket of a time gap: ``clamp(floor(ln(max(|gap|, 1)) / log_base), 0, n - 1)``.

    Gaps are in seconds; ``log_base = 0.301`` makes buckets grow by a factor of about 1.35.

    Examples
    --------
    >>> time_gap_buckets(torch.tensor([0, 1, 2, 60, 86400])).tolist()
    [0, 0, 2, 13, 37]
    """
    gaps = gaps.abs().clamp_min(1).to(torch.float64)
    return (torch.log(gaps) / log_base).floor().clamp(0, n_buckets - 1).long()


class RelativePositionBias(nn.Module):
    """A learned scalar per offset ``j - i`` in ``[-(max_len - 1), max_len - 1]``.

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import RelativePositionBias, SequenceContext
    >>> bias = RelativePositionBias(max_len=4)
    >>> with torch.no_grad():  # weight[offset + max_len - 1] = offset, to show the layout
    ...     _ = bias.weight.copy_(torch.arange(-3.0, 4.0))
    >>> context = SequenceContext.from_items(torch.tensor([[1, 2, 3]]))
    >>> bias(context).shape
    torch.Size([1, 1, 3, 3])
    >>> bias(context)[0, 0].tolist()  # row i (query), column j (key): j - i
    [[0.0, 1.0, 2.0], [-1.0, 0.0, 1.0], [-2.0, -1.0, 0.0]]
    """

    def __init__(self, max_len: int):
        super().__init__()
        self.max_len = max_len
        self.weight = nn.Parameter(torch.zeros(2 * max_len - 1))

    def forward(self, context: SequenceContext) -> torch.Tensor:
        """Bias (1, 1, L, L) for a batch of width L (offsets beyond ``max_len`` are clamped)."""
        width = context.valid.shape[1]
        column = torch.arange(width, device=context.valid.device)
        offset = (column[None, :] - column[:, None]).clamp(-(self.max_len - 1), self.max_len - 1)
        return self.weight[offset + self.max_len - 1][None, None]


class TimeGapBias(nn.Module):
    """A learned scalar per log-bucketed gap between the query's and the key's timestamps.

    HSTU's code uses the *next* event's timestamp for the query (the target's timestamp at
    the last position), which a recommender serving a request does not have; here each
    query uses its own event's timestamp, so training and serving see the same quantity.

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import SequenceContext, TimeGapBias
    >>> bias = TimeGapBias()
    >>> with torch.no_grad():  # weight[b] = b, to show each gap's bucket
    ...     _ = bias.weight.copy_(torch.arange(129.0))
    >>> times = torch.tensor([[0, 60, 86400]])  # seconds: now, a minute later, a day later
    >>> context = SequenceContext.from_items(torch.tensor([[1, 2, 3]]), timestamps=times)
    >>> bias(context).shape
    torch.Size([1, 1, 3, 3])
    >>> bias(context)[0, 0].tolist()
    [[0.0, 13.0, 37.0], [13.0, 0.0, 37.0], [37.0, 37.0, 0.0]]
    """

    def __init__(self, n_buckets: int = 129, log_base: float = 0.301):
        super().__init__()
        self.n_buckets = n_buckets
        self.log_base = log_base
        self.weight = nn.Parameter(torch.zeros(n_buckets))

    def forward(self, context: SequenceContext) -> torch.Tensor:
        times = context.timestamps
        gaps = times[:, :, None] - times[:, None, :]
        return self.weight[time_gap_buckets(gaps, self.n_buckets, self.log_base)][:, None]


class HSTUBlock(nn.Module):
    """One HSTU layer (no separate feed-forward).

    ``U, V, Q, K = SiLU(W LN(x))``; ``A = SiLU(Q K^T + rab) / max_len`` masked causally
    (no softmax: pointwise aggregation); ``out = x + W_o Dropout(LN(A V) * U)``. Layer norms
    have no affine weights (eps 1e-6); ``rab`` is a relative-position bias plus, when the
    model reads times, a log-bucketed time-gap bias, shared by the heads.

    Parameters
    ----------
    d_model, n_heads : int
    dropout : float
    max_len : int
        Attention is divided by it (HSTU divides by the padded length).
    use_time : bool, default=True
        Add the time-gap bias (needs ``context.timestamps``).
    rotary : RotaryEmbedding or None
        Rotary positions applied to queries and keys.
    norm : {"layer", "rms"}, default="layer"
        Affine-free LayerNorm (the paper's) or RMSNorm for the two norms.

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import HSTUBlock, SequenceContext
    >>> _ = torch.manual_seed(0)
    >>> block = HSTUBlock(d_model=8, n_heads=2, dropout=0.0, max_len=3)
    >>> items = torch.tensor([[0, 3, 5], [2, 4, 1]])
    >>> times = torch.tensor([[0, 0, 60], [0, 3600, 3660]])
    >>> context = SequenceContext.from_items(items, timestamps=times)
    >>> block(torch.randn(2, 3, 8), context).shape
    torch.Size([2, 3, 8])
    >>> HSTUBlock(8, 2, 0.0, max_len=3, use_time=False).time_bias is None  # no times needed
    True
    """

    def __init__(
        self,
        d_model: int,
        n_heads: int,
        dropout: float,
        max_len: int,
        *,
        use_time=True,
        rotary: nn.Module | None = None,
        norm: str = "layer",
    ):
        super().__init__()
        if d_model % n_heads:
            raise ValueError(f"hidden size {d_model} is not divisible by num_heads={n_heads}.")
        self.n_heads = n_heads
        self.max_len = max_len
        self.uvqk = nn.Linear(d_model, 4 * d_model, bias=False)
        self.out = nn.Linear(d_model, d_model)
        self.position_bias = RelativePositionBias(max_len)
        self.time_bias = TimeGapBias() if use_time else None
        self.dropout = Dropout(dropout)
        self.rotary = rotary
        if norm not in ("layer", "rms"):
            raise ValueError(f"norm must be 'layer' or 'rms', got {norm!r}.")
        self.norm = norm

    def _norm(self, x):
        if self.norm == "rms":
            return F.rms_norm(x, (x.shape[-1],), eps=1e-6)
        return F.layer_norm(x, (x.shape[-1],), eps=1e-6)

    def forward(self, x: torch.Tensor, context: SequenceContext) -> torch.Tensor:
        batch, width, d_model = x.shape
        normed = self._norm(x)
        u, v, q, k = F.silu(self.uvqk(normed)).chunk(4, dim=-1)
        shape = (batch, width, self.n_heads, d_model // self.n_heads)
        v, q, k = (t.view(shape).transpose(1, 2) for t in (v, q, k))
        if self.rotary is not None:
            q, k = self.rotary(q, context), self.rotary(k, context)
        logits = q @ k.transpose(-1, -2) + self.position_bias(context)
        if self.time_bias is not None:
            logits = logits + self.time_bias(context)
        weights = F.silu(logits) * (context.attn_mask / self.max_len)
        y = (weights @ v).transpose(1, 2).reshape(batch, width, d_model)
        y = self._norm(y) * u
        return x + self.out(self.dropout(y))

    def extra_repr(self) -> str:
        return f"n_heads={self.n_heads}, max_len={self.max_len}"
