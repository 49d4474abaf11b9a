"""Training losses as plain functions over logits and a validity mask.

Every loss averages over the valid (non-padding) positions only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = ["bce_negatives_loss", "sampled_softmax_loss", "masked_mean"]


def masked_mean(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` over positions where ``valid`` is True (0 if none)."""
    weights = valid.to(values.dtype)
    return (values * weights).sum() / weights.sum().clamp_min(1.0)


def bce_negatives_loss(positive_logits, negative_logits, valid, labels=None):
    """Binary cross-entropy with ``k`` negatives, the negative term averaged over them.

    ``loss = BCE(s+, y) + (1/k) * sum_j BCE(s-_j, 0)`` at each valid position,
    averaged over valid positions (scikit-rec's normalisation: one positive and one
    averaged negative term, whatever ``k``).

    Parameters
    ----------
    positive_logits : Tensor (B, L)
    negative_logits : Tensor (B, L, k)
    valid : BoolTensor (B, L)
    labels : Tensor (B, L) or None
        Soft labels in [0, 1] for the positives (default 1).
    """
    if labels is None:
        labels = torch.ones_like(positive_logits)
    positive = F.binary_cross_entropy_with_logits(positive_logits, labels, reduction="none")
    negative = F.softplus(negative_logits).mean(-1)  # BCE(s, 0) = log(1 + e^s)
    return masked_mean(positive + negative, valid)


def sampled_softmax_loss(positive_logits, negative_logits, valid):
    """Cross-entropy of the positive against ``k`` sampled negatives (class 0 = positive).

    Parameters
    ----------
    positive_logits : Tensor (B, L)
    negative_logits : Tensor (B, L, k)
    valid : BoolTensor (B, L)
    """
    logits = torch.cat([positive_logits.unsqueeze(-1), negative_logits], dim=-1)
    loss = torch.logsumexp(logits.float(), dim=-1) - positive_logits.float()
    return masked_mean(loss, valid)
