"""Vectorised ranking metrics (numpy) with documented formulas."""

from ._ranking import (
    METRICS,
    coverage_at_k,
    get_metric,
    hit_rate_at_k,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    rank_of_targets,
    recall_at_k,
    sampled_hit_rate_at_k,
    sampled_ndcg_at_k,
)

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
