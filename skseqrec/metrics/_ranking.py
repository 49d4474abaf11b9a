"""Vectorised ranking metrics over arrays of ranked item ids.

``ranked`` is an (n_users, >= k) array of item ids, best first; ids may be of any type.
Single-target metrics take one true item per user. All functions return the mean over
users as a Python float.
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "METRICS",
    "coverage_at_k",
    "get_metric",
    "hit_rate_at_k",
    "mrr_at_k",
    "ndcg_at_k",
    "precision_at_k",
    "rank_of_targets",
    "recall_at_k",
    "sampled_hit_rate_at_k",
    "sampled_ndcg_at_k",
]


def _check_k(k) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}.")
    return int(k)


def _check_ranked(ranked, k: int) -> np.ndarray:
    ranked = np.asarray(ranked)
    if ranked.ndim != 2:
        raise ValueError(f"ranked must be a 2-D array (n_users, >= k), got shape {ranked.shape}.")
    if ranked.shape[0] == 0:
        raise ValueError("ranked has no rows (0 users); nothing to evaluate.")
    if ranked.shape[1] < k:
        raise ValueError(f"ranked has {ranked.shape[1]} columns but k={k}; pass at least k items.")
    return ranked[:, :k]


def _check_id_kinds(ranked: np.ndarray, targets: np.ndarray) -> None:
    # numbers never equal strings under ``==``, but a joint np.unique would cast them alike
    kinds = {ranked.dtype.kind, targets.dtype.kind}
    if kinds & set("biuf") and kinds & set("US"):
        raise TypeError(
            f"ranked holds {ranked.dtype} ids but targets hold {targets.dtype} ids; pass ids of "
            "the same kind (numbers or strings) on both sides."
        )


def rank_of_targets(ranked, targets) -> np.ndarray:
    """1-based rank of each user's target in ``ranked``, 0 where it is absent.

    Examples
    --------
    >>> rank_of_targets([[3, 1, 2], [5, 6, 7]], [2, 9]).tolist()
    [3, 0]
    """
    ranked = np.asarray(ranked)
    targets = np.asarray(targets)
    if ranked.ndim != 2:
        raise ValueError(f"ranked must be a 2-D array, got shape {ranked.shape}.")
    if targets.shape != (ranked.shape[0],):
        raise ValueError(
            f"targets must hold one item per row of ranked ({ranked.shape[0]}), got shape "
            f"{targets.shape}."
        )
    _check_id_kinds(ranked, targets)
    hits = ranked == targets[:, None]
    return np.where(hits.any(axis=1), hits.argmax(axis=1) + 1, 0)


def _single_ranks(ranked, targets, k):
    k = _check_k(k)
    return rank_of_targets(_check_ranked(ranked, k), targets)


def hit_rate_at_k(ranked, targets, k: int = 10) -> float:
    """Share of users whose target is in their top ``k``: ``mean(rank <= k)``.

    Examples
    --------
    >>> hit_rate_at_k([[1, 2], [3, 4]], [2, 5], k=2)
    0.5
    """
    return float(np.mean(_single_ranks(ranked, targets, k) > 0))


def ndcg_at_k(ranked, targets, k: int = 10) -> float:
    """NDCG@k with binary relevance and a log2 discount.

    One target per user (1-D ``targets``): ``1 / log2(rank + 1)`` if ``rank <= k`` else 0
    (the ideal DCG is 1). Several targets per user (a sequence of arrays): DCG over the hits
    in the top ``k`` divided by the ideal DCG of ``min(k, n_relevant)`` hits; users without
    relevant items are left out of the mean.

    Examples
    --------
    >>> ndcg_at_k([[1, 2], [3, 4]], [2, 5], k=2)  # (1/log2(3) + 0) / 2
    0.315...
    """
    if _is_multi(targets):
        hits, n_relevant = _multi_hits(ranked, targets, k)
        discounts = 1.0 / np.log2(np.arange(2, hits.shape[1] + 2))
        dcg = (hits * discounts).sum(axis=1)
        ideal = np.cumsum(discounts)[np.minimum(n_relevant, hits.shape[1]) - 1]
        return float(np.mean(dcg / ideal))
    ranks = _single_ranks(ranked, targets, k)
    gains = np.zeros(len(ranks))
    found = ranks > 0
    gains[found] = 1.0 / np.log2(ranks[found] + 1)
    return float(gains.mean())


def mrr_at_k(ranked, targets, k: int = 10) -> float:
    """Mean reciprocal rank, 0 beyond ``k``: ``mean(1 / rank if rank <= k else 0)``.

    Examples
    --------
    >>> mrr_at_k([[1, 2], [3, 4]], [2, 3], k=2)
    0.75
    """
    ranks = _single_ranks(ranked, targets, k)
    return float(np.mean(np.where(ranks > 0, 1.0 / np.maximum(ranks, 1), 0.0)))


def _is_multi(targets) -> bool:
    if isinstance(targets, np.ndarray):
        if targets.ndim == 2:  # one row of relevant items per user
            return True
        return targets.dtype == object and len(targets) > 0 and np.ndim(targets[0]) > 0
    # iterate rather than index: a pandas Series may have no label 0
    return len(targets) > 0 and np.ndim(next(iter(targets))) > 0


def _multi_hits(ranked, targets, k):
    """(hits (n_kept, k) bool, n_relevant (n_kept,)) for users with >= 1 relevant item."""
    k = _check_k(k)
    ranked = _check_ranked(ranked, k)
    if len(targets) != len(ranked):
        raise ValueError(f"targets has {len(targets)} entries but ranked has {len(ranked)} rows.")
    lists = (
        [np.asarray(t).ravel() for t in targets]
        if _is_multi(targets)
        else [np.asarray([t]) for t in np.asarray(targets)]
    )
    n_relevant = np.fromiter((len(t) for t in lists), dtype=np.int64, count=len(lists))
    keep = n_relevant > 0
    if not keep.any():
        raise ValueError("No user has a relevant item; recall/precision are undefined.")
    flat = np.concatenate(lists)
    _check_id_kinds(ranked, flat)
    owners = np.repeat(np.arange(len(lists)), n_relevant)
    # encode ids jointly, then test (user, item) pair membership in one np.isin
    _, codes = np.unique(np.concatenate([ranked.ravel(), flat]), return_inverse=True)
    n_codes = int(codes.max()) + 1
    ranked_pairs = np.repeat(np.arange(len(ranked)), k) * n_codes + codes[: ranked.size]
    relevant_pairs = owners * n_codes + codes[ranked.size :]
    hits = np.isin(ranked_pairs, relevant_pairs)
    # an item repeated within one ranked list counts once, at its first position
    first = np.zeros(ranked.size, dtype=bool)
    first[np.unique(ranked_pairs, return_index=True)[1]] = True
    hits = (hits & first).reshape(ranked.shape)
    # count each relevant item once even if repeated in the list of relevant items
    n_unique = np.fromiter((len(np.unique(t)) for t in lists), dtype=np.int64, count=len(lists))
    return hits[keep], n_unique[keep]


def recall_at_k(ranked, targets, k: int = 10) -> float:
    """``|top-k ∩ relevant| / |relevant|`` averaged over users with relevant items.

    ``targets`` is one item per user (1-D) or a sequence of arrays of relevant items (a 2-D
    array gives one row of relevant items per user). An id repeated in a ranked list or in a
    list of relevant items counts once.

    Examples
    --------
    >>> recall_at_k([[1, 2, 3]], [[2, 3, 9, 8]], k=3)
    0.5
    """
    hits, n_relevant = _multi_hits(ranked, targets, k)
    return float(np.mean(hits.sum(axis=1) / n_relevant))


def precision_at_k(ranked, targets, k: int = 10) -> float:
    """``|top-k ∩ relevant| / k`` averaged over users with relevant items.

    Examples
    --------
    >>> precision_at_k([[1, 2, 3, 4]], [[2, 3]], k=4)
    0.5
    """
    hits, _ = _multi_hits(ranked, targets, k)
    return float(np.mean(hits.sum(axis=1) / hits.shape[1]))


def coverage_at_k(ranked, k: int = 10, n_items: int | None = None) -> float:
    """Share of the catalogue (``n_items`` ids) that appears in at least one top-``k`` list.

    Examples
    --------
    >>> coverage_at_k([[1, 2], [1, 3]], k=2, n_items=10)
    0.3
    """
    k = _check_k(k)
    ranked = _check_ranked(ranked, k)
    if isinstance(n_items, bool) or not isinstance(n_items, (int, np.integer)) or n_items < 1:
        raise ValueError(f"n_items (the catalogue size) must be a positive int, got {n_items!r}.")
    return float(len(np.unique(ranked)) / n_items)


coverage_at_k.needs_catalogue = True


def _sampled_ranks(positive_scores, negative_scores):
    positive = np.asarray(positive_scores, dtype=np.float64)
    negative = np.asarray(negative_scores, dtype=np.float64)
    if negative.ndim != 2 or positive.shape != (negative.shape[0],):
        raise ValueError(
            f"positive_scores must be (n_users,) and negative_scores (n_users, n_negatives); got "
            f"{positive.shape} and {negative.shape}."
        )
    if positive.shape[0] == 0:
        raise ValueError("positive_scores has no entries (0 users); nothing to evaluate.")
    if np.isnan(positive).any() or np.isnan(negative).any():
        raise ValueError("positive_scores / negative_scores contain NaN; scores must be numbers.")
    # ties count against the positive (pessimistic)
    return 1 + (negative >= positive[:, None]).sum(axis=1)


def sampled_hit_rate_at_k(positive_scores, negative_scores, k: int = 10) -> float:
    """*Sampled* hit rate: the positive ranked among its own sampled negatives only.

    Rank = 1 + number of negatives scoring >= the positive (ties count against it).
    Not comparable with full-catalogue metrics; report as "sampled".

    Examples
    --------
    >>> sampled_hit_rate_at_k([0.9, 0.1], [[0.5, 0.2], [0.5, 0.3]], k=2)
    0.5
    """
    k = _check_k(k)
    return float(np.mean(_sampled_ranks(positive_scores, negative_scores) <= k))


def sampled_ndcg_at_k(positive_scores, negative_scores, k: int = 10) -> float:
    """*Sampled* NDCG@k: ``1 / log2(rank + 1)`` with the sampled rank (ties count against).

    Examples
    --------
    >>> sampled_ndcg_at_k([0.9], [[0.5, 0.95]], k=2)  # rank 2
    0.630...
    """
    k = _check_k(k)
    ranks = _sampled_ranks(positive_scores, negative_scores)
    return float(np.mean(np.where(ranks <= k, 1.0 / np.log2(ranks + 1), 0.0)))


METRICS = {
    "hit_rate": hit_rate_at_k,
    "ndcg": ndcg_at_k,
    "mrr": mrr_at_k,
    "recall": recall_at_k,
    "precision": precision_at_k,
}


def get_metric(metric):
    """A metric function from its name (``"ndcg"``, ``"hit_rate"``, ...) or a callable.

    Raises
    ------
    ValueError
        Unknown name (the message lists the valid ones).
    """
    if callable(metric):
        return metric
    if metric in METRICS:
        return METRICS[metric]
    raise ValueError(f"Unknown metric {metric!r}; use one of {sorted(METRICS)} or a callable.")
