"""One-line evaluation under a named protocol (LOO or TIME)."""

from __future__ import annotations

import time

import numpy as np
import pandas as pd
from sklearn.base import clone

from .metrics import hit_rate_at_k, mrr_at_k, ndcg_at_k

__all__ = ["evaluate"]

_PROTOCOL_NAMES = {
    "loo": "LOO (leave-one-out: each user's last event), full ranking, seen excluded",
    "time": "TIME (global temporal split: first event after the cut-off), full ranking, "
    "seen excluded",
}


def _splitter(protocol, estimator, test_quantile):
    from .model_selection import GlobalTemporalSplit, LeaveLastOut

    columns = {c: getattr(estimator, c) for c in ("user_col", "item_col", "time_col")}
    if protocol == "loo":
        return LeaveLastOut(**columns)
    return GlobalTemporalSplit(test_quantile=test_quantile, **columns)


def evaluate(
    estimator,
    X,
    protocol: str = "loo",
    k=(10, 20),
    *,
    fit: bool = True,
    test_quantile: float = 0.05,
) -> pd.DataFrame:
    """Fit on the protocol's training part of ``X`` and rank every test user's target.

    Parameters
    ----------
    estimator : skseqrec estimator
        Cloned before fitting (``fit=True``), so the one passed in is not changed.
    X : DataFrame
        All interactions.
    protocol : {"loo", "time"}, default="loo"
        ``"loo"``: target = each user's last event, training = everything else.
        ``"time"``: cut-off leaving ``test_quantile`` of events after it; training = events
        before it; target = each test user's first event after it (see PROTOCOL in the docs).
    k : int or tuple of int, default=(10, 20)
    fit : bool, default=True
        ``False`` evaluates the already fitted ``estimator`` on the test users (its training
        data must not contain their targets).
    test_quantile : float, default=0.05
        Share of events after the cut-off (``protocol="time"``).

    Returns
    -------
    DataFrame
        One row per metric and cut-off: ``protocol``, ``metric``, ``k``, ``value``,
        ``n_users`` (evaluated), ``n_targets``, ``n_train_rows``, ``fit_seconds``.

    Examples
    --------
    >>> from skseqrec import PopularityRecommender, evaluate
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=40, n_items=60, random_state=0)
    >>> evaluate(PopularityRecommender(), X, k=10)[["metric", "k"]].values.tolist()
    [['hit_rate', 10], ['ndcg', 10], ['mrr', 10], ['coverage', 10]]
    """
    if protocol not in _PROTOCOL_NAMES:
        raise ValueError(f"protocol must be 'loo' or 'time', got {protocol!r}.")
    ks = (k,) if isinstance(k, (int, np.integer)) else tuple(k)
    if not ks or any(
        isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1 for v in ks
    ):
        raise ValueError(f"k must be a positive int or a tuple of them, got {k!r}.")
    train_index, test_index = next(_splitter(protocol, estimator, test_quantile).split(X))
    frame = X if isinstance(X, pd.DataFrame) else X.to_pandas()
    started = time.perf_counter()
    model = clone(estimator).fit(frame.iloc[train_index]) if fit else estimator
    fit_seconds = time.perf_counter() - started if fit else float("nan")
    test = frame.iloc[test_index]
    history, targets = model._last_event_targets(test)
    ranked, _ = model._rank(history, max(ks), exclude_seen=True)
    if ranked.shape[1] < max(ks):
        ranked = np.pad(ranked, ((0, 0), (0, max(ks) - ranked.shape[1])))
    rows = []
    for cut in ks:
        values = {
            "hit_rate": hit_rate_at_k(ranked, targets, k=cut),
            "ndcg": ndcg_at_k(ranked, targets, k=cut),
            "mrr": mrr_at_k(ranked, targets, k=cut),
            "coverage": float(
                len(np.unique(ranked[:, :cut][ranked[:, :cut] > 0])) / model.n_items_
            ),
        }
        rows += [
            {"protocol": protocol, "metric": name, "k": cut, "value": value}
            for name, value in values.items()
        ]
    result = pd.DataFrame(rows)
    result["n_users"] = len(targets)
    result["n_targets"] = len(targets)
    result["n_train_rows"] = len(train_index)
    result["fit_seconds"] = fit_seconds
    result.attrs["protocol"] = _PROTOCOL_NAMES[protocol]
    return result
