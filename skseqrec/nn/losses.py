"""Training losses as plain functions over logits and a validity mask.

Every loss averages over the valid (non-padding) positions only.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

__all__ = [
    "accidental_hits",
    "bce_negatives_loss",
    "full_softmax_loss",
    "gbce_beta",
    "gbce_loss",
    "infonce_loss",
    "masked_mean",
    "mse_loss",
    "sampled_softmax_loss",
]


def masked_mean(values: torch.Tensor, valid: torch.Tensor) -> torch.Tensor:
    """Mean of ``values`` over positions where ``valid`` is True (0 if none)."""
    weights = valid.to(values.dtype)
    return (values * weights).sum() / weights.sum().clamp_min(1.0)


def bce_negatives_loss(positive_logits, negative_logits, valid, labels=None, *, hits=None):
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
    hits : BoolTensor (B, L, k), optional
        Negatives equal to the positive, left out of the negative average.
    """
    if labels is None:
        labels = torch.ones_like(positive_logits)
    positive = F.binary_cross_entropy_with_logits(positive_logits, labels, reduction="none")
    negative = F.softplus(negative_logits)  # BCE(s, 0) = log(1 + e^s)
    if hits is None:
        negative = negative.mean(-1)
    else:
        kept = (~hits).sum(-1).clamp_min(1)
        negative = negative.masked_fill(hits, 0.0).sum(-1) / kept
    return masked_mean(positive + negative, valid)


def sampled_softmax_loss(
    positive_logits, negative_logits, valid, *, positive_items=None, negative_items=None
):
    """Cross-entropy of the positive against sampled negatives (class 0 = positive).

    Parameters
    ----------
    positive_logits : Tensor (B, L)
    negative_logits : Tensor (B, L, k) or (k,)-shared scores of shape (B, L, k)
        Scores of the negatives at each position. With negatives shared by the whole
        batch, compute them with one matmul ``hidden @ W[negatives].T``.
    valid : BoolTensor (B, L)
    positive_items, negative_items : LongTensor, optional
        When both are given, a negative equal to the position's positive ("accidental
        hit") is removed from that position's softmax.
    """
    if positive_items is not None and negative_items is not None:
        hits = accidental_hits(negative_items, positive_items, negative_logits.shape)
        negative_logits = negative_logits.masked_fill(hits, float("-inf"))
    logits = torch.cat([positive_logits.unsqueeze(-1), negative_logits], dim=-1).float()
    loss = torch.logsumexp(logits, dim=-1) - logits[..., 0]
    return masked_mean(loss, valid)


def full_softmax_loss(logits, targets, valid):
    """Cross-entropy over the whole catalogue.

    Parameters
    ----------
    logits : Tensor (B, L, n_items)
        Column ``j`` scores item code ``j + 1``.
    targets : LongTensor (B, L)
        Item codes (1-based); padding positions are ignored through ``valid``.
    valid : BoolTensor (B, L)
    """
    loss = F.cross_entropy(logits[valid].float(), targets[valid] - 1, reduction="sum")
    return loss / valid.sum().clamp_min(1)


def gbce_beta(n_negatives: int, n_items: int, t: float) -> float:
    """gBCE's positive-probability exponent (Petrov & Macdonald 2023).

    ``alpha = k / (|I| - 1)``; ``beta = alpha * (t * (1 - 1/alpha) + 1/alpha)``. ``t = 0``
    gives ``beta = 1`` (plain BCE), ``t = 1`` gives ``beta = alpha``.

    Examples
    --------
    >>> gbce_beta(256, 3707, 0.0)
    1.0
    >>> round(gbce_beta(256, 3707, 1.0), 6) == round(256 / 3706, 6)
    True
    """
    # more negatives than other items (tiny catalogues): every item is a negative, alpha = 1
    alpha = min(n_negatives / max(n_items - 1, 1), 1.0)
    return alpha * (t * (1.0 - 1.0 / alpha) + 1.0 / alpha)


def accidental_hits(negative_items, positive_items, shape):
    """BoolTensor ``shape`` (B, L, k): True where a sampled negative is the position's positive.

    ``negative_items`` is (k,) (shared by the batch) or (B, L, k); ``positive_items`` (B, L).
    """
    return negative_items.expand(shape) == positive_items.unsqueeze(-1)


def gbce_loss(positive_logits, negative_logits, valid, *, beta: float, hits=None):
    """Generalised BCE: ``-log(sigmoid(s+)^beta) - sum_j log(1 - sigmoid(s-_j))``.

    Averaged over the ``k + 1`` terms and over valid positions, in float32 through
    ``logsigmoid``/``softplus``, which are stable for any logit
    (``log sigmoid(s)^beta = beta * logsigmoid(s)``, the same value as the paper's BCE
    on the transformed logit ``log(1 / (sigmoid(s+)^-beta - 1))``).

    Parameters
    ----------
    positive_logits : Tensor (B, L)
    negative_logits : Tensor (B, L, k)
    valid : BoolTensor (B, L)
    beta : float
        See :func:`gbce_beta`.
    hits : BoolTensor (B, L, k), optional
        Negatives equal to the positive; they are left out of the negative term (with few
        items, an accidental hit would push the positive down).
    """
    positive_term = -beta * F.logsigmoid(positive_logits.float())
    negative = F.softplus(negative_logits.float())
    if hits is not None:
        negative = negative.masked_fill(hits, 0.0)
    k = negative_logits.shape[-1]
    return masked_mean((positive_term + negative.sum(-1)) / (k + 1), valid)


def infonce_loss(
    positive_logits,
    negative_logits,
    valid,
    *,
    temperature: float = 0.05,
    positive_log_q=None,
    negative_log_q=None,
    positive_items=None,
    negative_items=None,
):
    """InfoNCE: softmax of the positive against negatives at ``similarity / temperature``.

    With cosine similarities (an encoder with ``similarity="cosine"``) and negatives drawn
    from the batch this is the retrieval loss of two-tower and "modern stack" sequential
    models. Negatives drawn non-uniformly (in-batch items follow popularity) bias the
    softmax toward unpopular items; the logQ correction (Yi et al., RecSys 2019) subtracts
    the log of each item's expected number of draws from its logit.

    Parameters
    ----------
    positive_logits : Tensor (B, L)
    negative_logits : Tensor (B, L, k)
    valid : BoolTensor (B, L)
    temperature : float, default=0.05
    positive_log_q : Tensor (B, L), optional
    negative_log_q : Tensor (k,) or (B, L, k), optional
        Log expected draw counts, see :func:`skseqrec.nn.sampling_log_q`.
    positive_items, negative_items : LongTensor, optional
        Remove accidental hits (a negative equal to the position's positive).

    Examples
    --------
    >>> pos, neg = torch.tensor([[0.5]]), torch.tensor([[[0.5, 0.5]]])
    >>> round(float(infonce_loss(pos, neg, torch.tensor([[True]]))), 6)  # log(3)
    1.098612
    """
    positive_logits = positive_logits / temperature
    negative_logits = negative_logits / temperature
    if positive_log_q is not None:
        positive_logits = positive_logits - positive_log_q
    if negative_log_q is not None:
        negative_logits = negative_logits - negative_log_q
    return sampled_softmax_loss(
        positive_logits,
        negative_logits,
        valid,
        positive_items=positive_items,
        negative_items=negative_items,
    )


def mse_loss(predictions, targets, valid):
    """Mean squared error over valid positions (rating regression)."""
    return masked_mean((predictions.float() - targets.float()) ** 2, valid)
