"""Ranking scorers usable as ``scoring=`` in GridSearchCV / cross_validate."""

from __future__ import annotations

from ..exceptions import InvalidParameterError
from ..metrics import get_metric
from ..params import Boolean, Interval, validate_values
from ..protocol import (
    COLD_TARGETS_SPEC,
    DEFAULT_COLD_TARGETS,
    frame_holdout,
    resolve_recommender,
    score_holdout,
)

__all__ = ["make_ranking_scorer"]


class _RankingScorer:
    """Callable ``scorer(estimator, X, y=None)``: a ranking metric of each user's last event.

    Each user of ``X`` with at least two events is evaluated on his last event given the
    earlier ones (the test fold of the skseqrec splitters carries both), over the full
    catalogue, by :mod:`skseqrec.protocol` (the same number as ``score`` for NDCG@10).
    Works on a recommender, a Pipeline ending in one or a fitted search. Picklable, so
    it works with ``n_jobs > 1``.
    """

    def __init__(self, metric, k: int, exclude_seen: bool, cold_targets: str):
        self.metric = metric
        self.k = k
        self.exclude_seen = exclude_seen
        self.cold_targets = cold_targets

    def __call__(self, estimator, X, y=None) -> float:
        model, X = resolve_recommender(estimator, X)
        holdout = frame_holdout(model, X)
        scores = score_holdout(
            model,
            holdout,
            (self.metric,),
            (self.k,),
            exclude_seen=self.exclude_seen,
            cold_targets=self.cold_targets,
        )
        return next(iter(scores.values.values()))

    @property
    def __name__(self) -> str:
        """``"<metric>@<k>"``: scikit-learn's displays label their axis with it."""
        return f"{getattr(self.metric, '__name__', self.metric)}@{self.k}"

    def __repr__(self) -> str:
        name = getattr(self.metric, "__name__", self.metric)
        return (
            f"make_ranking_scorer({name!r}, k={self.k}, exclude_seen={self.exclude_seen}, "
            f"cold_targets={self.cold_targets!r})"
        )


def make_ranking_scorer(
    metric="ndcg", k: int = 10, *, exclude_seen: bool = True, cold_targets=DEFAULT_COLD_TARGETS
):
    """Make a scorer for model selection from a ranking metric.

    scikit-learn's ``make_scorer`` needs ``y_true``; recommenders are scored with
    ``y=None``, so this returns a plain callable ``scorer(estimator, X, y=None)``. It
    works in ``GridSearchCV``, ``cross_validate``, ``validation_curve``/
    ``ValidationCurveDisplay`` and ``learning_curve``/``LearningCurveDisplay`` with the
    splitters of :mod:`skseqrec.model_selection` as ``cv``.

    Parameters
    ----------
    metric : str or callable, default="ndcg"
        ``"ndcg"``, ``"hit_rate"``, ``"mrr"``, ``"recall"``, ``"precision"``,
        ``"coverage"`` or a function ``metric(ranked, targets, k=k) -> float``.
    k : int, default=10
    exclude_seen : bool, default=True
        Remove the user's history from the candidates.
    cold_targets : {"miss", "exclude"}, default="miss"
        Targets unknown to the model count as misses, or their users are left out.

    Returns
    -------
    callable
        ``scorer(estimator, X, y=None) -> float``, higher is better; its ``__name__`` is
        ``"<metric>@<k>"``.

    Raises
    ------
    InvalidParameterError
        A bad argument (the message names it); a ``ValueError`` and a ``TypeError``.

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
    owner = "make_ranking_scorer"
    if metric != "coverage":
        try:
            get_metric(metric)  # fail early on unknown names
        except ValueError as exc:
            raise InvalidParameterError(f"{owner}: {exc}") from None
    validate_values(
        {"k": k, "exclude_seen": exclude_seen, "cold_targets": cold_targets},
        {"k": Interval(int, 1), "exclude_seen": Boolean(), "cold_targets": COLD_TARGETS_SPEC},
        owner=owner,
    )
    return _RankingScorer(metric, k, exclude_seen, cold_targets)
