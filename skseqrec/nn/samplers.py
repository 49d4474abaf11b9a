"""Negative samplers."""

from __future__ import annotations

import torch

__all__ = ["uniform_negatives"]


def uniform_negatives(shape, n_items: int, *, generator: torch.Generator | None = None,
                      device=None) -> torch.Tensor:
    """Item codes drawn uniformly from ``1..n_items`` (positives not excluded)."""
    out = torch.randint(1, n_items + 1, tuple(shape), generator=generator)
    return out.to(device) if device is not None else out
