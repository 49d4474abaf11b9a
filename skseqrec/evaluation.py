"""One-line evaluation under a named protocol (LOO or TIME), and recommending through a
Pipeline or a fitted search."""

from __future__ import annotations

import dataclasses
import time

import numpy as np
import pandas as pd
from sklearn.base import clone

from .data import IdEncoder, TimeAxis, check_interactions, chronological_order, to_pandas
from .exceptions import InvalidParameterError
from .params import AnyOf, Boolean, Interval, Options, TupleOf, validate_values
from .protocol import (
    COLD_TARGETS_SPEC,
    DEFAULT_COLD_TARGETS,
    frame_holdout,
    metric_values,
    pad_ranked,
    resolve_recommender,
    score_holdout,
    warn_dropped,
)

__all__ = ["evaluate", "recommend"]

_PROTOCOL_NAMES = {
    "loo": "LOO (leave-one-out: each user's last event), full ranking, seen excluded",
    "time": "TIME (global temporal split: first event after the cut-off), full ranking, "
    "seen excluded",
}
_METRICS = ("hit_rate", "ndcg", "mrr", "coverage")
_K = Interval(int, 1)
_EVALUATE_PARAMS = {
    "protocol": Options(*_PROTOCOL_NAMES),
    "k": AnyOf(_K, TupleOf(_K), description="an int >= 1 or a non-empty tuple of them"),
    "fit": Boolean(),
    "test_quantile": Interval(float, 0.0, 1.0, closed="neither"),
    "n_steps": Interval(int, 1),
    "cold_targets": COLD_TARGETS_SPEC,
}


def recommend(model, X, top_k: int = 10, **kwargs) -> pd.DataFrame:
    """``recommend`` of a fitted estimator, a fitted Pipeline ending in one, or a fitted search.

    A Pipeline's earlier steps transform ``X`` first (e.g. an ``InteractionFilter``); a
    search (``GridSearchCV`` and co.) recommends with its ``best_estimator_``.

    Parameters
    ----------
    model : estimator, Pipeline or fitted search
    X : DataFrame or None
        Histories to condition on (see :meth:`BaseRecommender.recommend`).
    top_k : int, default=10
    **kwargs
        ``exclude_seen``, ``items``, ``users``, ``at`` of :meth:`BaseRecommender.recommend`.

    Returns
    -------
    DataFrame
        ``[user_col, item_col, "score", "rank"]``.

    Examples
    --------
    >>> from sklearn.pipeline import make_pipeline
    >>> from skseqrec import PopularityRecommender, recommend
    >>> from skseqrec.datasets import make_sequential_world
    >>> from skseqrec.preprocessing import InteractionFilter
    >>> X = make_sequential_world(n_users=20, n_items=30, random_state=0)
    >>> pipe = make_pipeline(InteractionFilter(), PopularityRecommender()).fit(X)
    >>> recommend(pipe, X, top_k=2).shape
    (40, 4)
    """
    recommender, X = resolve_recommender(model, X)
    return recommender.recommend(X, top_k, **kwargs)


def evaluate(
    estimator,
    X,
    protocol: str = "loo",
    k=(10, 20),
    *,
    y=None,
    fit: bool = True,
    test_quantile: float = 0.05,
    n_steps: int = 1,
    cold_targets: str = DEFAULT_COLD_TARGETS,
) -> pd.DataFrame:
    """Fit on the protocol's training part of ``X`` and rank every test user's target.

    The splits, the ranking and the metrics are those of :mod:`skseqrec.protocol`, so
    the figures equal ``score``'s and the scorers' on the same test fold.

    Parameters
    ----------
    estimator : skseqrec estimator, or a Pipeline ending in one
        Cloned before fitting (``fit=True``), so the one passed in is not changed.
    X : DataFrame
        All interactions.
    protocol : {"loo", "time"}, default="loo"
        ``"loo"``: target = each user's last event, training = everything else.
        ``"time"``: cut-off leaving ``test_quantile`` of events after it; training = events
        before it; target = each test user's first event after it (see PROTOCOL in the docs).
    k : int or tuple of int, default=(10, 20)
    y : array-like of shape (n_rows,), default=None
        Per-row target passed to ``fit`` with the training rows (the regressor's ratings).
    fit : bool, default=True
        ``False`` evaluates the already fitted ``estimator`` on the test users (its training
        data must not contain their targets).
    test_quantile : float, default=0.05
        Share of events after the cut-off (``protocol="time"``).
    n_steps : int, default=1
        ``protocol="loo"`` only. With ``n_steps > 1`` the last ``n_steps`` events of every
        user are held out and predicted autoregressively: each step ranks the catalogue
        given the history plus the model's own top-1 predictions of the earlier steps (the
        true events are never fed back), and is scored against that step's true event.
        The result gets a ``step`` column (Huang et al.'s multi-step evaluation).
    cold_targets : {"miss", "exclude"}, default="miss"
        Test targets whose item never occurs in the training part count as misses, or
        their users are left out; either way ``n_cold_targets`` counts them.

    Returns
    -------
    DataFrame
        One row per metric and cut-off: ``protocol``, ``metric``, ``k``, ``value``,
        ``n_users`` (evaluated), ``n_targets``, ``n_cold_targets``, ``n_train_rows``,
        ``fit_seconds``.

    Raises
    ------
    InvalidParameterError
        A bad argument (the message names it); a ``ValueError`` and a ``TypeError``.

    Examples
    --------
    >>> from skseqrec import PopularityRecommender, evaluate
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=40, n_items=60, random_state=0)
    >>> evaluate(PopularityRecommender(), X, k=10)[["metric", "k"]].values.tolist()
    [['hit_rate', 10], ['ndcg', 10], ['mrr', 10], ['coverage', 10]]
    """
    from .model_selection import GlobalTemporalSplit, LeaveLastOut

    validate_values(
        {
            "protocol": protocol,
            "k": k,
            "fit": fit,
            "test_quantile": test_quantile,
            "n_steps": n_steps,
            "cold_targets": cold_targets,
        },
        _EVALUATE_PARAMS,
        owner="evaluate",
    )
    ks = (int(k),) if isinstance(k, (int, np.integer)) else tuple(int(v) for v in k)
    recommender, _ = resolve_recommender(estimator, None, fitted=False)
    columns = {c: getattr(recommender, c) for c in ("user_col", "item_col", "time_col")}
    frame = to_pandas(X)
    y = None if y is None else np.asarray(y)
    if n_steps > 1:
        if protocol != "loo":
            raise InvalidParameterError("evaluate: n_steps > 1 needs protocol='loo'.")
        return _evaluate_steps(estimator, frame, y, ks, n_steps, fit, columns, cold_targets)
    if protocol == "loo":
        splitter = LeaveLastOut(**columns)
    else:
        splitter = GlobalTemporalSplit(test_quantile=test_quantile, **columns)
    train_index, test_index = next(splitter.split(frame))
    model, fit_seconds = _fit(estimator, frame, y, train_index, fit)
    scored, test = resolve_recommender(model, frame.iloc[test_index])
    holdout = frame_holdout(scored, test)
    if protocol == "time":  # the request comes at the cut-off: nothing after it is known
        axis = TimeAxis.of(frame[columns["time_col"]], columns["time_col"])
        cutoff = axis.to_axis(splitter.get_cutoffs(frame)[0], "cutoff", "evaluate")
        holdout = dataclasses.replace(holdout, history=holdout.history.with_request_times(cutoff))
    scores = score_holdout(scored, holdout, _METRICS, ks, cold_targets=cold_targets)
    rows = [
        {"protocol": protocol, "metric": name, "k": cut, "value": scores.values[f"{name}@{cut}"]}
        for cut in ks
        for name in _METRICS
    ]
    result = pd.DataFrame(rows)
    result["n_users"] = scores.n_evaluated_users
    result["n_targets"] = scores.n_evaluated_users
    result["n_cold_targets"] = scores.n_cold_targets
    result["n_train_rows"] = len(train_index)
    result["fit_seconds"] = fit_seconds
    result.attrs["protocol"] = _PROTOCOL_NAMES[protocol]
    return result


def _fit(estimator, frame, y, rows, fit):
    if not fit:
        return estimator, float("nan")
    started = time.perf_counter()
    train = frame.iloc[rows]
    model = clone(estimator)
    model = model.fit(train) if y is None else model.fit(train, y[rows])
    return model, time.perf_counter() - started


def _evaluate_steps(estimator, frame, y, ks, n_steps, fit, columns, cold_targets):
    """Hold out each user's last ``n_steps`` events; predict them feeding predictions back."""
    data = check_interactions(frame, **columns)
    user_codes = IdEncoder.from_values(data.users, data.user_dtype).encode(data.users)
    order = chronological_order(user_codes, data.times)
    counts = np.bincount(user_codes)
    ends = np.cumsum(counts)[user_codes[order]]
    from_end = np.empty(len(order), dtype=np.int64)
    from_end[order] = ends - np.arange(len(order)) - 1
    eligible = counts[user_codes] > n_steps  # at least one history event
    train_rows = np.flatnonzero(from_end >= n_steps)
    model, fit_seconds = _fit(estimator, frame, y, train_rows, fit)
    model, _ = resolve_recommender(model, None)

    history_rows = np.flatnonzero(eligible & (from_end >= n_steps))
    _, users, history = model.encode_history(frame.iloc[history_rows], keep_unknown=True)
    history = history.filter_events(history.items > 0)
    target_rows = np.flatnonzero(eligible & (from_end < n_steps))
    target_rows = target_rows[np.lexsort((-from_end[target_rows], user_codes[target_rows]))]
    targets = model.item_encoder_.encode(data.items[target_rows]).reshape(-1, n_steps)
    n_cold = int((targets == 0).sum())
    warn_dropped(
        "held-out events",
        n_cold,
        targets.size,
        "are items unknown to the model (counted as misses)",
    )
    # rows of `targets` follow sorted user ids, like `history` (one row per eligible user)
    width = max(ks)
    rows = []
    for step in range(n_steps):
        ranked, _ = model.rank(history, width, exclude_seen=True)
        ranked = pad_ranked(ranked, width)
        step_targets = np.where(targets[:, step] == 0, -1, targets[:, step])
        values = metric_values(
            ranked, step_targets, ("hit_rate", "ndcg", "mrr"), ks, n_items=model.n_items_
        )
        rows += [
            {"protocol": "loo", "step": step + 1, "metric": name, "k": cut, "value": value}
            for (name, cut), value in (
                ((key.split("@")[0], int(key.split("@")[1])), value)
                for key, value in values.items()
            )
        ]
        history = history.append(ranked[:, 0])
    result = pd.DataFrame(rows).sort_values(["step", "k"], kind="stable").reset_index(drop=True)
    result["n_users"] = len(targets)
    result["n_targets"] = targets.size
    result["n_cold_targets"] = n_cold
    result["n_train_rows"] = len(train_rows)
    result["fit_seconds"] = fit_seconds
    result.attrs["protocol"] = (
        f"LOO with the last {n_steps} events held out, predicted autoregressively "
        "(top-1 fed back), full ranking, seen excluded"
    )
    return result
