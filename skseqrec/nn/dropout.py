"""Inverted dropout that draws its mask with ``rand_like`` (about 2x cheaper on CPU)."""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Dropout"]


class Dropout(nn.Module):
    """Zero each element with probability ``p`` and scale the rest by ``1 / (1 - p)``.

    Same semantics as :class:`torch.nn.Dropout`; on CPU ``torch.nn.functional.dropout``
    spends most of its time in ``bernoulli_``, which took about a fifth of a SASRec
    training step in a profile. The mask comes from the global torch generator, so
    ``torch.manual_seed`` makes it reproducible.
    """

    def __init__(self, p: float = 0.0):
        super().__init__()
        if not 0.0 <= p < 1.0:
            raise ValueError(f"dropout probability must be in [0, 1), got {p!r}.")
        self.p = p

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.training or self.p == 0.0:
            return x
        keep = torch.rand_like(x) >= self.p
        return torch.where(keep, x * (1.0 / (1.0 - self.p)), 0.0)

    def extra_repr(self) -> str:
        return f"p={self.p}"
