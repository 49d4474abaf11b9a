"""Inverted dropout with a 15-bit integer mask (about 4x cheaper on CPU than torch's)."""

from __future__ import annotations

import math

import torch
from torch import nn

__all__ = ["Dropout", "keep_mask"]

_LEVELS = 32768  # each draw is a uniform 15-bit integer, 0..32767


def keep_mask(shape, threshold: int, device=None) -> torch.Tensor:
    """BoolTensor ``shape``: each element True with probability ``1 - threshold / 32768``.

    Draws half as many 31-bit integers as there are elements and splits each into two
    independent 15-bit values (``int32.random_()`` takes the low 31 bits of one 32-bit
    generator output).
    """
    n = math.prod(shape)
    draws = torch.empty((n + 1) // 2, dtype=torch.int32, device=device).random_()
    halves = draws.view(torch.int16)[:n].view(shape)
    return halves.bitwise_and_(_LEVELS - 1) >= threshold


class Dropout(nn.Module):
    """Zero each element with probability ``p`` and scale the rest to keep the mean.

    Same semantics as :class:`torch.nn.Dropout`, with ``p`` rounded to a multiple of
    1/32768 (the scale uses the rounded value, so the output stays unbiased). On CPU,
    ``torch.nn.functional.dropout`` spends most of its time drawing float random numbers
    (``bernoulli_``: about a fifth of a SASRec training step in a profile). Here one 31-bit
    integer draw (``int32.random_()``) gives two independent 15-bit draws (bits 0-14 and
    16-30, read as two int16 halves), and ``torch.where`` applies the mask without a float
    copy of it: about a quarter of the cost of ``F.dropout`` on a 5 M-element tensor. The
    draws come from the global torch generator, so ``torch.manual_seed`` makes the mask
    reproducible.

    Examples
    --------
    >>> import torch
    >>> from skseqrec.nn import Dropout
    >>> drop = Dropout(0.5)
    >>> _ = torch.manual_seed(0)
    >>> out = drop(torch.ones(10_000))  # training mode: zeros and kept values times 2
    >>> sorted(set(out.tolist())), round(out.mean().item(), 1)
    ([0.0, 2.0], 1.0)
    >>> x = torch.ones(3)
    >>> drop.eval()(x) is x  # the identity at inference
    True
    """

    def __init__(self, p: float = 0.0):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p!r}.")
        self.p = p
        self._threshold = min(round(p * _LEVELS), _LEVELS - 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self._threshold == 0:
            return x
        return torch.where(keep_mask(x.shape, self._threshold, x.device), x, 0.0).mul_(
            _LEVELS / (_LEVELS - self._threshold)
        )

    def extra_repr(self) -> str:
        return f"p={self.p}"
