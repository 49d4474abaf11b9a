"""The evaluation protocol, written once.

Every number skseqrec reports goes through this module: fit-time validation (early
stopping), ``score``, :func:`~skseqrec.model_selection.make_ranking_scorer`,
:func:`skseqrec.evaluate`, the splitters' TIME cut-off and the benchmark harness.

- **Cut rule** (:func:`time_cutoff`): the cut-off ``T`` of a share ``f`` of events is the
  time of the ``ceil(f * n)``-th latest event (at least one); events before ``T`` train,
  events at or after ``T`` are on the evaluation side.
- **LOO** (:func:`last_event_holdout`): a user's chronologically last event is the target,
  the earlier ones are the history. **TIME** (:func:`first_after_holdout`): a user's first
  event at or after ``T`` is the target, the events before ``T`` the history.
- **Cold targets** (``cold_targets``): a target item the model does not know (never in its
  training data) cannot be recommended. ``"miss"`` (the default everywhere) keeps the user
  and counts the target as a miss; ``"exclude"`` leaves the user out. Both are counted.
- **Ranking**: the estimator's public :meth:`~skseqrec.estimators.BaseRecommender.rank`
  over the full catalogue, items of the history excluded by default; lists shorter than
  ``k`` are padded with empty slots that never match a target.
- **Metrics**: :func:`metric_values` over the ranked matrix, for every metric and cut-off.
"""

from __future__ import annotations

import inspect
import math
import warnings
from dataclasses import dataclass, field

import numpy as np

from .data import Sequences
from .exceptions import DataDropWarning, user_stacklevel
from .metrics import get_metric, rank_of_targets
from .params import Options

__all__ = [
    "COLD_TARGETS",
    "DEFAULT_COLD_TARGETS",
    "Holdout",
    "ProtocolScores",
    "first_after_holdout",
    "frame_holdout",
    "last_event_holdout",
    "metric_values",
    "pad_ranked",
    "resolve_recommender",
    "rolling_cutoffs",
    "score_holdout",
    "standard_error",
    "time_cutoff",
    "warn_dropped",
    "user_stacklevel",
]

#: Policies for targets whose item the model does not know.
COLD_TARGETS = ("miss", "exclude")
#: The one default of every ``cold_targets`` parameter.
DEFAULT_COLD_TARGETS = "miss"
COLD_TARGETS_SPEC = Options(*COLD_TARGETS)


# ---------------------------------------------------------------------------- warnings
#: (text, category, file, line) of warnings shown under the "default" action
_SHOWN: set = set()


def _action(message: str, category, module_name: str, lineno: int) -> str:
    """The action ``warnings`` would take (first matching filter; "default" if none)."""
    for action, text, cls, module, line in warnings.filters:
        if (
            issubclass(category, cls)
            and (text is None or text.match(message))
            and (module is None or module.match(module_name))
            and (line == 0 or line == lineno)
        ):
            return action
    return "default"


def warn_dropped(what: str, count: int, total: int, why: str, category=DataDropWarning) -> None:
    """Warn ``"{count} of {total} {what} {why}."`` at the user's line when ``count > 0``.

    Under the "default" action an identical message from the same user line is shown
    once per process, as Python intends; scikit-learn's searches reset Python's own
    registry for every fit and score, which would repeat it for every candidate.
    """
    if not count:
        return
    message = f"{count} of {total} {what} {why}."
    level = user_stacklevel()
    frame = inspect.currentframe()
    for _ in range(level - 1):  # stacklevel 1 is this function
        frame = frame.f_back if frame is not None else None
    if frame is None:
        module_name, filename, lineno = "", "", 0
    else:
        module_name = frame.f_globals.get("__name__", "<string>")
        filename, lineno = frame.f_code.co_filename, frame.f_lineno
    if _action(message, category, module_name, lineno) == "default":
        key = (message, category, filename, lineno)
        if key in _SHOWN:
            return
        _SHOWN.add(key)
    warnings.warn(message, category, stacklevel=level)


# ---------------------------------------------------------------------------- cut rule
def time_cutoff(times: np.ndarray, fraction: float):
    """The cut-off leaving the last ``fraction`` of events (at least one) at or after it.

    Parameters
    ----------
    times : ndarray
        Event times (any sortable dtype).
    fraction : float
        Share of events on the evaluation side, in (0, 1].

    Returns
    -------
    scalar
        ``sorted(times)[n - ceil(fraction * n)]``.

    Examples
    --------
    >>> time_cutoff(np.arange(100), 0.05)
    95
    """
    ordered = np.sort(np.asarray(times), kind="stable")
    n = len(ordered)
    if n == 0:
        raise ValueError("time_cutoff needs at least one event.")
    n_after = min(max(int(math.ceil(fraction * n - 1e-9)), 1), n)
    return ordered[n - n_after].item()


def rolling_cutoffs(times: np.ndarray, n_splits: int, share: float) -> list:
    """Cut-offs of ``n_splits`` rolling folds: fold ``j`` leaves ``(n_splits - j) * share``."""
    return [time_cutoff(times, (n_splits - j) * share) for j in range(n_splits)]


# ---------------------------------------------------------------------------- holdouts
@dataclass
class Holdout:
    """Evaluated users' input histories and one target event each.

    Attributes
    ----------
    history : Sequences
        One sequence per evaluated user (item codes; may hold 0 for unknown items).
    targets : ndarray of int64
        Target item code of each sequence (0 = unknown to the model).
    weights : ndarray or None
        The targets' ``y`` when the sequences carry it.
    target_times : ndarray or None
        The targets' times.

    Examples
    --------
    >>> import numpy as np
    >>> from skseqrec.data import build_sequences
    >>> from skseqrec.protocol import Holdout, last_event_holdout
    >>> sequences = build_sequences(user_codes=np.array([1, 1, 1, 2, 2, 3]),
    ...                             item_codes=np.array([4, 5, 6, 4, 6, 5]),
    ...                             times=np.arange(6))
    >>> train, holdout = last_event_holdout(sequences)  # user 3 has a single event
    >>> len(holdout), holdout.targets.tolist(), holdout.target_times.tolist()
    (2, [6, 6], [2, 4])
    >>> holdout.history.items.tolist(), holdout.history.offsets.tolist()
    ([4, 5, 4], [0, 2, 3])
    >>> cold = Holdout(build_sequences(np.array([1, 1]), np.array([0, 7]), np.array([0, 1])),
    ...                targets=np.array([3]))
    >>> cold.known_history().history.items.tolist()  # code 0: an item unknown to the model
    [7]
    """

    history: Sequences
    targets: np.ndarray
    weights: np.ndarray | None = None
    target_times: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.targets)

    def known_history(self) -> Holdout:
        """The same holdout with unknown items (code 0) removed from the histories."""
        history = self.history.filter_events(self.history.items > 0)
        return Holdout(history, self.targets, self.weights, self.target_times)


def last_event_holdout(sequences: Sequences, chosen=None) -> tuple[Sequences, Holdout]:
    """Protocol LOO: hold out the last event of each chosen sequence.

    Parameters
    ----------
    sequences : Sequences
    chosen : ndarray of int or bool, default=None
        Sequences to hold out from (default: every sequence with at least two events).

    Returns
    -------
    train : Sequences
        Every event except the held-out targets.
    holdout : Holdout
        The chosen sequences without their last event, and those events.
    """
    if chosen is None:
        chosen = np.flatnonzero(sequences.lengths >= 2)
    chosen = np.asarray(chosen)
    if chosen.dtype == bool:
        chosen = np.flatnonzero(chosen)
    held_out = sequences.last(1)[chosen]
    keep = np.ones(sequences.n_events, dtype=bool)
    keep[held_out] = False
    weights = None if sequences.weights is None else sequences.weights[held_out]
    holdout = Holdout(
        sequences.select(chosen).drop_last(1),
        sequences.items[held_out],
        weights,
        sequences.times[held_out],
    )
    return sequences.filter_events(keep), holdout


def first_after_holdout(
    sequences: Sequences, cutoff, *, min_history: int = 1
) -> tuple[Sequences, Holdout]:
    """Protocol TIME: train before ``cutoff``; target = each user's first event at/after it.

    Users with at least ``min_history`` events before the cut-off and one at or after it
    are evaluated; their history is every event before the cut-off, a request at the
    cut-off (:attr:`Sequences.request_times <skseqrec.data.Sequences>`).

    Returns
    -------
    train : Sequences
        Events before ``cutoff`` (sequences may be empty).
    holdout : Holdout
    """
    before = sequences.times < cutoff
    user_index = np.repeat(np.arange(len(sequences)), sequences.lengths)
    n_before = np.bincount(user_index[before], minlength=len(sequences))
    n_after = sequences.lengths - n_before
    chosen = np.flatnonzero((n_before >= min_history) & (n_after >= 1))
    train = sequences.filter_events(before)
    # events are chronological within a user: the first one at/after the cut is at
    # offset + n_before
    held_out = sequences.offsets[chosen] + n_before[chosen]
    weights = None if sequences.weights is None else sequences.weights[held_out]
    # the request comes at the cut-off: nothing after it is known
    history = train.select(chosen).with_request_times(cutoff)
    holdout = Holdout(history, sequences.items[held_out], weights, sequences.times[held_out])
    return train, holdout


def frame_holdout(estimator, X, *, name: str = "X") -> Holdout:
    """LOO inside ``X``: each user's last row is the target, the earlier rows the history.

    What ``score``, the scorers and :func:`skseqrec.evaluate` rank: a test fold of the
    skseqrec splitters holds, per test user, the history rows and then the target row.
    Users with a single row are skipped (counted in a warning); history items unknown to
    the model are ignored (counted); target codes are 0 when the item is unknown.
    """
    _, users, sequences = estimator.encode_history(X, name=name, keep_unknown=True)
    eligible = sequences.lengths >= 2
    if not eligible.any():
        raise ValueError(
            f"{name} has no user with two events ({len(sequences)} users, "
            f"{sequences.n_events} rows); each evaluated user needs a history and a last "
            "event (the target)."
        )
    warn_dropped(
        f"users of {name}",
        int((~eligible).sum()),
        len(sequences),
        "have a single event and are not evaluated",
    )
    _, holdout = last_event_holdout(sequences, eligible)
    known = holdout.history.items > 0
    warn_dropped(
        f"history rows of {name}",
        int((~known).sum()),
        len(known),
        "have items unknown to the fitted model and are ignored",
    )
    estimator.check_leak(holdout, users, name=name)
    return holdout.known_history()


def resolve_recommender(model, X, *, fitted: bool = True):
    """The skseqrec recommender inside ``model`` and ``X`` as that recommender sees it.

    ``model`` may be a recommender, a Pipeline ending in one (its earlier steps
    transform ``X``; unfitted pipelines only when ``fitted=False``) or a fitted search
    (``best_estimator_``).

    Raises
    ------
    TypeError
        ``model`` holds no skseqrec recommender (the message names what it is).
    """
    from sklearn.pipeline import Pipeline

    inner = model
    if fitted and hasattr(inner, "best_estimator_"):
        inner = inner.best_estimator_
    if isinstance(inner, Pipeline):
        if fitted and X is not None and len(inner.steps) > 1:
            X = inner[:-1].transform(X)
        inner = inner.steps[-1][1]
    if not (hasattr(inner, "rank") and hasattr(inner, "encode_history")):
        raise TypeError(
            f"expected a skseqrec recommender, a Pipeline ending in one or a fitted search "
            f"over one; got {type(model).__name__}"
            + (f" ending in {type(inner).__name__}" if inner is not model else "")
            + "."
        )
    return inner, X


# ---------------------------------------------------------------------------- scoring
def pad_ranked(ranked: np.ndarray, k: int) -> np.ndarray:
    """``ranked`` with empty slots (code 0) appended up to ``k`` columns."""
    if ranked.shape[1] >= k:
        return ranked
    return np.pad(ranked, ((0, 0), (0, k - ranked.shape[1])))


def metric_values(ranked, targets, metrics, ks, *, n_items: int) -> dict:
    """``{"<metric>@<k>": value}`` for every metric and cut-off.

    Parameters
    ----------
    ranked : ndarray (n_users, >= max(ks))
        Ranked item codes; 0 marks an empty slot.
    targets : ndarray (n_users,)
        Target codes; a negative code is a target that can never be hit (cold, "miss").
    metrics : sequence of str or callable
        Names for :func:`skseqrec.metrics.get_metric`, ``"coverage"``, or functions
        ``metric(ranked, targets, k=k)``.
    ks : sequence of int
    n_items : int
        Catalogue size (coverage).
    """
    values = {}
    for metric in metrics:
        name = metric if isinstance(metric, str) else getattr(metric, "__name__", "metric")
        for k in ks:
            if metric == "coverage":
                top = ranked[:, :k]
                values[f"{name}@{k}"] = float(len(np.unique(top[top > 0])) / n_items)
            else:
                function = get_metric(metric) if isinstance(metric, str) else metric
                values[f"{name}@{k}"] = float(function(ranked, targets, k=k))
    return values


#: Single-target metrics whose per-user gain :func:`standard_error` knows.
_GAINS = {
    "ndcg": lambda ranks: 1.0 / np.log2(ranks + 1.0),
    "hit_rate": lambda ranks: np.ones_like(ranks, dtype=float),
    "mrr": lambda ranks: 1.0 / ranks,
}


def standard_error(ranked, targets, metric: str, k: int) -> float:
    """Standard error of the mean of a single-target metric over users.

    The metric's per-user gain (``ndcg``: ``1 / log2(rank + 1)``, ``hit_rate``: 1,
    ``mrr``: ``1 / rank``, 0 beyond ``k``) has a sample standard deviation ``s`` over the
    ``n`` users; the mean's standard error is ``s / sqrt(n)``. It sizes the noise of a
    validation score (e.g. early stopping's ``tol="se"``). NaN for fewer than 2 users or
    another metric.

    Examples
    --------
    >>> round(standard_error([[1, 2], [3, 4], [5, 6], [7, 8]], [1, 9, 9, 9], "hit_rate", 2), 3)
    0.25
    """
    ranked = np.asarray(ranked)
    if metric not in _GAINS or len(ranked) < 2:
        return float("nan")
    ranks = rank_of_targets(ranked[:, :k], np.asarray(targets)).astype(float)
    gains = np.zeros(len(ranks))
    found = ranks > 0
    gains[found] = _GAINS[metric](ranks[found])
    return float(gains.std(ddof=1) / math.sqrt(len(gains)))


@dataclass
class ProtocolScores:
    """Metric values of one evaluation and the counts behind them.

    Examples
    --------
    >>> import pandas as pd
    >>> from skseqrec import PopularityRecommender
    >>> from skseqrec.protocol import ProtocolScores, frame_holdout, score_holdout
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 3],
    ...                   "item_id": ["a", "b", "a", "b", "b", "z"],
    ...                   "timestamp": [0, 1, 0, 1, 0, 1]})
    >>> est = PopularityRecommender().fit(X[X["timestamp"] == 0])  # "z" is unknown to it
    >>> holdout = frame_holdout(est, X)  # each user's last row is the target
    >>> scores = score_holdout(est, holdout, metrics=("hit_rate", "ndcg"), ks=(1,))
    >>> isinstance(scores, ProtocolScores), scores.values
    (True, {'hit_rate@1': 0.667, 'ndcg@1': 0.667})
    >>> scores.n_users, scores.n_cold_targets, scores.n_evaluated_users
    (3, 1, 3)
    >>> excluded = score_holdout(est, holdout, cold_targets="exclude", warn=False)
    >>> excluded.values, excluded.n_evaluated_users
    ({'ndcg@10': 1.0}, 2)
    """

    values: dict
    n_users: int
    n_cold_targets: int
    n_excluded_users: int
    cold_targets: str
    extra: dict = field(default_factory=dict)

    @property
    def n_evaluated_users(self) -> int:
        return self.n_users - self.n_excluded_users


def score_holdout(
    estimator,
    holdout: Holdout,
    metrics=("ndcg",),
    ks=(10,),
    *,
    exclude_seen: bool = True,
    cold_targets: str = DEFAULT_COLD_TARGETS,
    warn: bool = True,
    standard_errors: bool = False,
) -> ProtocolScores:
    """Rank every holdout user's catalogue with ``estimator.rank`` and compute the metrics.

    Parameters
    ----------
    estimator : fitted skseqrec recommender
    holdout : Holdout
        Histories of known items (see :meth:`Holdout.known_history`) and target codes.
    metrics, ks
        See :func:`metric_values`.
    exclude_seen : bool, default=True
    cold_targets : {"miss", "exclude"}, default="miss"
        Targets unknown to the model count as misses, or their users are left out.
    warn : bool, default=True
        Warn with the number of users left out by ``cold_targets="exclude"`` (a
        ``DataDropWarning``). Cold targets scored as misses are counted in the result
        (``n_cold_targets``), not warned about: nothing is left out, and a search would
        repeat the warning for every fold and candidate.
    standard_errors : bool, default=False
        Also put each metric's :func:`standard_error` in ``extra`` (key ``"<metric>@<k>_se"``).
    """
    COLD_TARGETS_SPEC.check("cold_targets", cold_targets)
    targets = holdout.targets
    cold = targets == 0
    n_cold = int(cold.sum())
    history = holdout.history
    if cold_targets == "exclude" and n_cold:
        history = history.select(~cold)
        targets = targets[~cold]
    if warn and cold_targets == "exclude":
        # under "miss" nothing is left out: cold targets are scored (as misses) and
        # counted in the result; "exclude" drops users, which is said
        warn_dropped(
            "evaluated users",
            n_cold,
            len(holdout),
            "have a target item unknown to the model and are left out (cold_targets='exclude')",
        )
    width = max(ks)
    if len(targets):
        ranked, _ = estimator.rank(history, width, exclude_seen=exclude_seen)
        ranked = pad_ranked(ranked, width)
        # an unknown target (code 0) must never match an empty slot (also code 0)
        scored = np.where(targets == 0, -1, targets)
        values = metric_values(ranked, scored, metrics, ks, n_items=estimator.n_items_)
    else:
        values = {f"{m}@{k}": float("nan") for m in metrics for k in ks}
    extra = {}
    if standard_errors:
        extra = {
            f"{m}@{k}_se": standard_error(ranked, scored, m, k) if len(targets) else float("nan")
            for m in metrics
            for k in ks
            if isinstance(m, str)
        }
    return ProtocolScores(
        values=values,
        n_users=len(holdout),
        n_cold_targets=n_cold,
        n_excluded_users=n_cold if cold_targets == "exclude" else 0,
        cold_targets=cold_targets,
        extra=extra,
    )
