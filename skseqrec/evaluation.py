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
    n_steps: int = 1,
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
    n_steps : int, default=1
        ``protocol="loo"`` only. With ``n_steps > 1`` the last ``n_steps`` events of every
        user are held out and predicted autoregressively: each step ranks the catalogue
        given the history plus the model's own top-1 predictions of the earlier steps (the
        true events are never fed back), and is scored against that step's true event.
        The result gets a ``step`` column (Huang et al.'s multi-step evaluation).

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
    if isinstance(n_steps, bool) or not isinstance(n_steps, (int, np.integer)) or n_steps < 1:
        raise ValueError(f"n_steps must be a positive int, got {n_steps!r}.")
    if n_steps > 1:
        if protocol != "loo":
            raise ValueError("n_steps > 1 needs protocol='loo'.")
        return _evaluate_steps(estimator, X, ks, n_steps, fit)
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


def _evaluate_steps(estimator, X, ks, n_steps, fit):
    """Hold out each user's last ``n_steps`` events; predict them feeding predictions back."""
    from .data import IdEncoder, Sequences, check_interactions
    from .data.sequences import chronological_order
    from .estimators._base import _drop_events, _warn_dropped

    frame = X if isinstance(X, pd.DataFrame) else X.to_pandas()
    data = check_interactions(
        frame,
        user_col=estimator.user_col,
        item_col=estimator.item_col,
        time_col=estimator.time_col,
    )
    user_codes = IdEncoder.from_values(data.users, data.user_dtype).encode(data.users)
    order = chronological_order(user_codes, data.times)
    counts = np.bincount(user_codes)
    ends = np.cumsum(counts)[user_codes[order]]
    from_end = np.empty(len(order), dtype=np.int64)
    from_end[order] = ends - np.arange(len(order)) - 1
    eligible = counts[user_codes] > n_steps  # at least one history event
    train_rows = np.flatnonzero(from_end >= n_steps)
    started = time.perf_counter()
    model = clone(estimator).fit(frame.iloc[train_rows]) if fit else estimator
    fit_seconds = time.perf_counter() - started if fit else float("nan")

    history_rows = np.flatnonzero(eligible & (from_end >= n_steps))
    _, users, history = model._encode_history(frame.iloc[history_rows], keep_unknown=True)
    history = _drop_events(history, history.items > 0)
    target_rows = np.flatnonzero(eligible & (from_end < n_steps))
    target_rows = target_rows[np.lexsort((-from_end[target_rows], user_codes[target_rows]))]
    targets = model.item_encoder_.encode(data.items[target_rows]).reshape(-1, n_steps)
    _warn_dropped(
        "held-out events",
        int((targets == 0).sum()),
        targets.size,
        "are items unknown to the model (counted as misses)",
    )
    targets = np.where(targets == 0, -1, targets)  # never equal to an empty slot (0)
    # rows of `targets` follow sorted user ids, like `history` (one row per eligible user)
    width = max(ks)
    rows = []
    for step in range(n_steps):
        ranked, _ = model._rank(history, width, exclude_seen=True)
        if ranked.shape[1] < width:
            ranked = np.pad(ranked, ((0, 0), (0, width - ranked.shape[1])))
        for cut in ks:
            for name, metric in (
                ("hit_rate", hit_rate_at_k),
                ("ndcg", ndcg_at_k),
                ("mrr", mrr_at_k),
            ):
                value = metric(ranked, targets[:, step], k=cut)
                rows.append(
                    {"protocol": "loo", "step": step + 1, "metric": name, "k": cut, "value": value}
                )
        history = _append(history, ranked[:, 0], Sequences)
    result = pd.DataFrame(rows)
    result["n_users"] = len(targets)
    result["n_targets"] = targets.size
    result["n_train_rows"] = len(train_rows)
    result["fit_seconds"] = fit_seconds
    result.attrs["protocol"] = (
        f"LOO with the last {n_steps} events held out, predicted autoregressively "
        "(top-1 fed back), full ranking, seen excluded"
    )
    return result


def _append(sequences, codes, sequences_type):
    """Each sequence with one more event (``codes``; 0 = nothing to append)."""
    add = codes > 0
    lengths = sequences.lengths + add
    offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
    new_positions = offsets[1:][add] - 1
    old = np.ones(offsets[-1], dtype=bool)
    old[new_positions] = False
    items = np.empty(offsets[-1], dtype=np.int64)
    items[old], items[new_positions] = sequences.items, codes[add]
    times = np.empty(offsets[-1], dtype=sequences.times.dtype)
    times[old] = sequences.times
    last_times = (
        sequences.times[np.maximum(sequences.offsets[1:] - 1, 0)]
        if len(sequences.times)
        else np.zeros(len(sequences), dtype=sequences.times.dtype)
    )
    times[new_positions] = last_times[add]  # a predicted event happens "now"
    rows = np.full(offsets[-1], -1, dtype=np.int64)
    rows[old] = sequences.rows
    return sequences_type(
        users=sequences.users, offsets=offsets, items=items, times=times, rows=rows, weights=None
    )
