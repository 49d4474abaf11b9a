"""The time until the next event, as an input: a learned vector per log-bucketed gap."""

from __future__ import annotations

import torch
from torch import nn

from .hstu import time_gap_buckets

__all__ = ["GapEmbedding", "gap_buckets"]

#: buckets of :class:`GapEmbedding` (e-fold: 1 s to about 6 years)
N_GAP_BUCKETS = 20


def gap_buckets(gaps: torch.Tensor, n_buckets: int = N_GAP_BUCKETS) -> torch.Tensor:
    """Bucket of each gap in seconds: ``floor(ln(gap))`` clamped to ``0..n_buckets - 1``
    (gaps under a second, and negative ones, in bucket 0), ``n_buckets`` for NaN (unknown).

    >>> gap_buckets(torch.tensor([-5.0, 0.5, 60.0, 86400.0, float("nan")])).tolist()
    [0, 0, 4, 11, 20]
    """
    unknown = torch.isnan(gaps)
    known = time_gap_buckets(torch.nan_to_num(gaps).clamp_min(0), n_buckets, log_base=1.0)
    return torch.where(unknown, n_buckets, known)


class GapEmbedding(nn.Module):
    """A learned vector per log-bucketed gap (cumulative over buckets), plus one for an
    unknown gap.

    Position ``t`` of a sequence is given the time from its event to the event it predicts
    (in training, the next event's time; when serving, the request's time): a model then
    learns that what a user picks after a month away differs from what they pick within
    the minute. Gaps are in seconds; bucket ``b`` holds gaps of ``e**b`` to ``e**(b+1)``
    seconds (:func:`~skseqrec.nn.time_gap_buckets` with ``log_base=1``): 20 buckets span a
    second to about 6 years. A gap's vector is the sum of the steps of its bucket and
    every shorter one, the steps zero until trained: a gap longer than any seen in
    training (a request a year after the latest event) reads as the longest seen, not as
    an untrained vector. NaN marks an unknown gap (a request without a time); in
    training a share ``unknown_share`` of the gaps is hidden, drawn from the global torch
    generator, so that the unknown vector is learned too.

    Parameters
    ----------
    d_model : int
    n_buckets : int, default=20
    unknown_share : float, default=0.2

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import GapEmbedding
    >>> gap = GapEmbedding(d_model=4).eval()
    >>> gaps = torch.tensor([[0.5, 60.0, 86400.0, float("nan")]])  # seconds; NaN: unknown
    >>> gap.buckets(gaps).tolist()
    [[0, 4, 11, 20]]
    >>> gap(gaps).shape, gap(gaps).abs().sum().item()  # zero until trained
    (torch.Size([1, 4, 4]), 0.0)
    """

    def __init__(self, d_model: int, n_buckets: int = N_GAP_BUCKETS, unknown_share: float = 0.2):
        super().__init__()
        if not 0.0 <= unknown_share < 1.0:
            raise ValueError(f"unknown_share must be in [0, 1), got {unknown_share!r}.")
        self.n_buckets = n_buckets
        self.unknown_share = unknown_share
        # rows 0..n-1: the step each bucket adds to the one below; row n: unknown
        self.embedding = nn.Embedding(n_buckets + 1, d_model)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        """Every vector zero: a gap adds nothing until it is learned."""
        nn.init.zeros_(self.embedding.weight)

    def buckets(self, gaps: torch.Tensor) -> torch.Tensor:
        """Bucket of each gap (:func:`gap_buckets`)."""
        return gap_buckets(gaps, self.n_buckets)

    def forward(self, gaps: torch.Tensor) -> torch.Tensor:
        """Vectors (..., d) of gaps (...) in seconds."""
        buckets = self.buckets(gaps)
        if self.training and self.unknown_share > 0:
            hide = torch.rand(gaps.shape, device=gaps.device) < self.unknown_share
            buckets = buckets.masked_fill(hide, self.n_buckets)
        steps = self.embedding.weight
        table = torch.cat([torch.cumsum(steps[:-1], dim=0), steps[-1:]])
        return table[buckets]
