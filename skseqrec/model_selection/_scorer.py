"""Ranking scorers usable as ``scoring=`` in GridSearchCV / cross_validate."""

from __future__ import annotations

from ..metrics import coverage_at_k, get_metric

__all__ = ["make_ranking_scorer"]


class _RankingScorer:
    """Callable ``scorer(estimator, X, y=None)``: a ranking metric of each user's last event.

    Each user of ``X`` with at least two events is evaluated on his last event given the
    earlier ones (the test fold of the skseqrec splitters carries both), over the full
    catalogue. Picklable, so it works with ``n_jobs > 1``.
    """

    def __init__(self, metric, k: int, exclude_seen: bool):
        self.metric = metric
        self.k = k
        self.exclude_seen = exclude_seen

    def __call__(self, estimator, X, y=None) -> float:
        function = coverage_at_k if self.metric == "coverage" else get_metric(self.metric)
        return estimator._evaluate_last_events(X, function, self.k, exclude_seen=self.exclude_seen)

    def __repr__(self) -> str:
        name = getattr(self.metric, "__name__", self.metric)
        return f"make_ranking_scorer({name!r}, k={self.k}, exclude_seen={self.exclude_seen})"


def make_ranking_scorer(metric="ndcg", k: int = 10, *, exclude_seen: bool = True):
    """Make a scorer for model selection from a ranking metric.

    scikit-learn's ``make_scorer`` needs ``y_true``; recommenders are scored with
    ``y=None``, so this returns a plain callable ``scorer(estimator, X, y=None)``.

    Parameters
    ----------
    metric : str or callable, default="ndcg"
        ``"ndcg"``, ``"hit_rate"``, ``"mrr"``, ``"recall"``, ``"precision"``,
        ``"coverage"`` or a function ``metric(ranked, targets, k=k) -> float``.
    k : int, default=10
    exclude_seen : bool, default=True
        Remove the user's history from the candidates.

    Returns
    -------
    callable
        ``scorer(estimator, X, y=None) -> float``, higher is better.

    Examples
    --------
    >>> from sklearn.model_selection import cross_validate
    >>> from skseqrec import PopularityRecommender
    >>> from skseqrec.datasets import make_sequential_world
    >>> from skseqrec.model_selection import make_ranking_scorer
    >>> X = make_sequential_world(n_users=30, n_items=50, random_state=0)
    >>> scorer = make_ranking_scorer("hit_rate", k=10)
    >>> 0.0 <= scorer(PopularityRecommender().fit(X), X) <= 1.0
    True
    """
    if metric != "coverage":
        get_metric(metric)  # fail early on unknown names
    if isinstance(k, bool) or not isinstance(k, int) or k < 1:
        raise ValueError(f"k must be a positive int, got {k!r}.")
    return _RankingScorer(metric, k, exclude_seen)
