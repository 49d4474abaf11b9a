"""Inverted dropout with a 15-bit integer mask (about 2x cheaper on CPU than torch's)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Dropout"]

_LEVELS = 32768  # int16 random_() draws uniformly from 0..32767


class Dropout(nn.Module):
    """Zero each element with probability ``p`` and scale the rest to keep the mean.

    Same semantics as :class:`torch.nn.Dropout`, with ``p`` rounded to a multiple of
    1/32768 (the scale uses the rounded value, so the output stays unbiased). On CPU,
    ``torch.nn.functional.dropout`` spends most of its time drawing float random numbers
    (``bernoulli_``: about a fifth of a SASRec training step in a profile); drawing 16-bit
    integers and multiplying by a precomputed mask costs about half. The mask comes from
    the global torch generator, so ``torch.manual_seed`` makes it reproducible.
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
        draws = torch.empty(x.shape, dtype=torch.int16, device=x.device).random_()
        scale = _LEVELS / (_LEVELS - self._threshold)
        return x * (draws >= self._threshold).to(x.dtype).mul_(scale)

    def extra_repr(self) -> str:
        return f"p={self.p}"
