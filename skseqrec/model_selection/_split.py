"""Cross-validation splitters over interaction DataFrames, usable as ``cv=``.

scikit-learn's search and validation tools call ``estimator.fit(X.iloc[train])`` and then
``estimator.score(X.iloc[test])``; only the test fold reaches the scorer. skseqrec scores a
test fold by taking, for each user in it, the user's chronologically last row as the
target and the user's earlier rows *in the fold* as the input history. Every splitter here
therefore yields test folds that hold, for each test user, the history rows followed by
exactly one target row, which is that user's last row in the fold. Train and test index
sets may overlap (the history rows), which scikit-learn allows.

Order within a user is ascending time, ties broken by row order (stable sort), as
everywhere in skseqrec; no splitter assumes ``X`` is sorted, and the folds (as sets of rows)
do not depend on the row order of ``X`` except through ties in time.

The rules are those of :mod:`skseqrec.protocol`, shared with the estimators and
:func:`skseqrec.evaluate`: a cut-off from a share of events is
:func:`~skseqrec.protocol.time_cutoff` (the ``ceil(share * n)``-th latest event), and
``cold_targets`` (default ``"miss"``) says what becomes of a test user whose target item
never occurs in the fold's training rows: kept and counted as a miss, or dropped.
"""

from __future__ import annotations

import inspect
import math
import numbers
import warnings
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

from ..data import TimeAxis, check_interactions, chronological_order, to_pandas
from ..exceptions import DataDropWarning, InvalidParameterError
from ..params import AnyOf, Boolean, Interval, Options, RandomState, String, validate_values
from ..protocol import (
    COLD_TARGETS,
    DEFAULT_COLD_TARGETS,
    rolling_cutoffs,
    time_cutoff,
    user_stacklevel,
)

__all__ = [
    "GlobalTemporalSplit",
    "LeaveLastOut",
    "UserKFold",
    "last_event_validation_split",
    "time_validation_split",
]


# --------------------------------------------------------------------------- parameters
_COLUMNS = {"user_col": String(), "item_col": String(), "time_col": String()}
_COLD_TARGETS = Options(*COLD_TARGETS)
_FRACTION = Interval(float, 0, 1, closed="neither")


def _ceil_share(share: float, n: int) -> int:
    """``ceil(share * n)``, robust to float noise such as ``0.1 * 30 = 3.0000000000000004``."""
    return int(math.ceil(share * n - 1e-9))


# --------------------------------------------------------------------------- events
@dataclass(frozen=True)
class _Events:
    """Validated interactions encoded for splitting (all arrays one entry per row)."""

    n_rows: int
    users: np.ndarray  # user codes, in sorted-id order so that draws ignore row order
    n_users: int
    items: np.ndarray  # item codes
    n_items: int
    times: np.ndarray
    order: np.ndarray  # chronological order: user, then time, ties by row position
    counts: np.ndarray  # events per user code
    is_last: np.ndarray  # row is its user's chronologically last row
    is_repeat: np.ndarray  # the (user, item) pair occurs earlier in the user's chronology
    axis: TimeAxis


def _events(X, user_col: str, item_col: str, time_col: str) -> _Events:
    frame = to_pandas(X)
    data = check_interactions(frame, user_col=user_col, item_col=item_col, time_col=time_col)
    users, user_ids = pd.factorize(data.users, sort=True)
    items, item_ids = pd.factorize(data.items)
    users = users.astype(np.int64)
    items = items.astype(np.int64)
    n_rows, n_users, n_items = len(users), len(user_ids), len(item_ids)
    order = chronological_order(users, data.times)
    sorted_users = users[order]
    last_position = np.flatnonzero(np.r_[sorted_users[1:] != sorted_users[:-1], True])
    is_last = np.zeros(n_rows, dtype=bool)
    is_last[order[last_position]] = True
    pairs = users * n_items + items
    is_repeat = np.empty(n_rows, dtype=bool)
    is_repeat[order] = pd.Series(pairs[order]).duplicated(keep="first").to_numpy()
    return _Events(
        n_rows=n_rows,
        users=users,
        n_users=n_users,
        items=items,
        n_items=n_items,
        times=data.times,
        order=order,
        counts=np.bincount(users, minlength=n_users),
        is_last=is_last,
        is_repeat=is_repeat,
        axis=TimeAxis.of(frame[time_col], time_col),
    )


def _n_distinct(codes: np.ndarray, n: int) -> int:
    return int(np.count_nonzero(np.bincount(codes, minlength=n)))


@dataclass(frozen=True)
class _Fold:
    """One fold: its indices, its row of ``split_info`` and what its drop warning says."""

    train: np.ndarray
    test: np.ndarray
    info: dict
    n_candidates: int  # test users before the cold/seen drops
    n_dropped_rows: int  # rows of the dropped users (none of them is in the test fold)
    n_dropped_rows_in_train: int  # of those, rows in the training fold


def _assemble(
    ev: _Events,
    owner: str,
    info: dict,
    *,
    train_mask: np.ndarray,
    targets: np.ndarray,
    context_mask: np.ndarray | None,
    cold_targets: str,
    exclude_seen_targets: bool,
    test_word: str = "test",
) -> _Fold:
    """One fold from its training rows and one target row per candidate user.

    The test side holds each kept user's context rows (all rows, or ``context_mask`` ones,
    which must all be chronologically before the target) plus the target row.
    """
    if not train_mask.any():
        raise ValueError(f"{owner}: fold {info['fold']} has no training row.")
    none = np.zeros(len(targets), dtype=bool)
    if cold_targets == "exclude":
        item_in_train = np.bincount(ev.items[train_mask], minlength=ev.n_items) > 0
        cold = ~item_in_train[ev.items[targets]]
    else:  # "miss": the user stays; scorers count its target as a miss
        cold = none
    seen = ev.is_repeat[targets] & ~cold if exclude_seen_targets else none
    dropped = cold | seen
    kept = targets[~dropped]
    n_cold, n_seen = int(cold.sum()), int(seen.sum())
    if len(kept) == 0:
        raise ValueError(
            f"{owner}: fold {info['fold']} has no {test_word} user left: all {len(targets)} "
            f"candidate users were dropped ({n_cold} because their target item never occurs "
            f"in the training rows (cold_targets='exclude'), {n_seen} because their target "
            "item is already in their history (exclude_seen_targets=True))."
        )
    keep_user = np.zeros(ev.n_users, dtype=bool)
    keep_user[ev.users[kept]] = True
    test_mask = keep_user[ev.users]
    if context_mask is not None:
        test_mask &= context_mask
    test_mask[kept] = True
    drop_user = np.zeros(ev.n_users, dtype=bool)
    drop_user[ev.users[targets[dropped]]] = True
    dropped_rows = drop_user[ev.users]
    train_idx, test_idx = np.flatnonzero(train_mask), np.flatnonzero(test_mask)
    counts = {
        "fold": info.pop("fold"),
        "n_train_rows": len(train_idx),
        "n_train_users": _n_distinct(ev.users[train_idx], ev.n_users),
        "n_test_rows": len(test_idx),
        "n_test_users": len(kept),
        "n_dropped_cold_item_users": n_cold,
        "n_dropped_seen_target_users": n_seen,
    }
    return _Fold(
        train=train_idx,
        test=test_idx,
        info={**counts, **info},  # splitter-specific columns last
        n_candidates=len(targets),
        n_dropped_rows=int(dropped_rows.sum()),
        n_dropped_rows_in_train=int((dropped_rows & train_mask).sum()),
    )


def _rows(n: int) -> str:
    return f"{n} row" if n == 1 else f"{n} rows"


def _warn_drops(owner: str, fold: _Fold, test_word: str = "test") -> None:
    """Warn with the drop counts of ``fold`` and where the dropped users' rows went."""
    info = fold.info
    n_cold, n_seen = info["n_dropped_cold_item_users"], info["n_dropped_seen_target_users"]
    if not (n_cold or n_seen):
        return
    reasons = []
    if n_cold:
        reasons.append(
            f"{n_cold} whose target item never occurs in the training rows (cold_targets='exclude')"
        )
    if n_seen:
        reasons.append(
            f"{n_seen} whose target item is already in their history (exclude_seen_targets=True)"
        )
    n_rows, n_in_train = fold.n_dropped_rows, fold.n_dropped_rows_in_train
    if n_in_train == 0:
        where = f"Their {_rows(n_rows)} are in neither side of the fold"
    else:
        verb = "is" if n_in_train == 1 else "are"
        where = (
            f"Of their {_rows(n_rows)}, {n_in_train} {verb} in the training fold and "
            f"{n_rows - n_in_train} in neither side of the fold"
        )
    warnings.warn(
        f"{owner}: fold {info['fold']} dropped {n_cold + n_seen} of {fold.n_candidates} "
        f"{test_word} users: {'; '.join(reasons)}. {where}.",
        DataDropWarning,
        stacklevel=user_stacklevel(),
    )


# --------------------------------------------------------------------------- base class
class _InteractionSplitter:
    """Shared ``split``/``get_n_splits``/``split_info``/``__repr__`` of the splitters.

    Subclasses declare ``_param_specs`` (parameter name -> :mod:`skseqrec.params` checker,
    run by :meth:`_validate`) and implement ``_folds(X)``: validate parameters and data,
    then return an iterator of :class:`_Fold`, one per fold.
    """

    _param_specs: dict = {}

    def _validate(self) -> None:
        """Check every parameter of ``_param_specs`` (``InvalidParameterError`` if bad)."""
        values = {name: getattr(self, name) for name in self._param_specs}
        validate_values(values, self._param_specs, owner=type(self).__name__)

    def get_n_splits(self, X=None, y=None, groups=None) -> int:
        """Number of folds (``n_splits``).

        Parameters
        ----------
        X, y, groups : object
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        int
        """
        return self.n_splits

    def split(self, X, y=None, groups=None):
        """Generate ``(train_idx, test_idx)`` positional index arrays into ``X``.

        Parameters
        ----------
        X : pandas.DataFrame or polars.DataFrame
            Interactions, one row per event.
        y, groups : object
            Ignored; present for scikit-learn compatibility.

        Returns
        -------
        iterator of (ndarray, ndarray)
            Sorted positional indices of the training and test rows of each fold.

        Raises
        ------
        InvalidParameterError
            Invalid parameter (the message names the class, the parameter and the value);
            a ``ValueError`` and a ``TypeError``.
        ValueError
            Bad ``X`` (naming the column), or a fold without training rows or test users.
            Raised when ``split`` is called, not when its first fold is read.

        Warns
        -----
        DataDropWarning
            When test users are dropped by ``cold_targets="exclude"`` or
            ``exclude_seen_targets=True``, with their counts (also in :meth:`split_info`)
            and where their rows are (the training fold or neither side). The warning
            points at the caller's line.
        """
        # Folds are built at the call (scikit-learn materialises them anyway), so that
        # every error and warning comes from ``split`` itself.
        folds = list(self._folds(X))
        for fold in folds:
            _warn_drops(type(self).__name__, fold)
        return iter([(fold.train, fold.test) for fold in folds])

    def split_info(self, X) -> pd.DataFrame:
        """One row per fold with the sizes and the drop counts of :meth:`split`.

        Calling it does not warn. With random user draws and ``random_state=None`` every
        call draws again, so pass an int ``random_state`` to describe the folds ``split``
        yields.

        Parameters
        ----------
        X : pandas.DataFrame or polars.DataFrame

        Returns
        -------
        pandas.DataFrame
            Columns ``fold``, ``n_train_rows``, ``n_train_users``, ``n_test_rows``,
            ``n_test_users``, ``n_dropped_cold_item_users``, ``n_dropped_seen_target_users``
            and splitter-specific ones (documented in each class).
        """
        return pd.DataFrame([fold.info for fold in self._folds(X)])

    def __repr__(self) -> str:
        names = [
            p.name
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self"
        ]
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}({args})"


def _eligible_users(ev: _Events, owner: str, min_events: int) -> tuple[np.ndarray, int]:
    """Codes of users with at least ``min_events`` events; raise when there are none."""
    eligible = np.flatnonzero(ev.counts >= min_events)
    if len(eligible) == 0:
        raise ValueError(
            f"{owner}: no user has >= {min_events} events (min_events={min_events}); X has "
            f"{ev.n_users} users and {ev.n_rows} rows, the most events of one user is "
            f"{int(ev.counts.max())}."
        )
    return eligible, ev.n_users - len(eligible)


# --------------------------------------------------------------------------- LeaveLastOut
class LeaveLastOut(_InteractionSplitter):
    """Protocol LOO: each test user's last event is the target, everything else trains.

    Test users are the users with at least ``min_events`` events (a history of at least
    one event plus the target), or a random subset of them (``test_size``). The test fold
    holds all rows of the test users (history + last event); the training fold holds every
    row except the test users' last events. This is the papers' leave-one-out protocol; it
    leaks the future (another user's training events can be later than a target).

    Parameters
    ----------
    n_splits : int, default=1
        Number of folds. With ``n_splits > 1`` each fold has its own disjoint random subset
        of the eligible users (of size ``test_size``, or a partition of all eligible users
        when ``test_size`` is None).
    test_size : int, float or None, default=None
        Test users per fold: an int count or a float share in (0, 1] of the eligible users
        (rounded up). None: all eligible users (``n_splits=1``) or a partition of them.
    min_events : int, default=2
        Events a user needs to be a test user (at least 2).
    cold_targets : {"miss", "exclude"}, default="miss"
        What to do with a test user whose target item never occurs in the training rows of
        the fold (no model trained on them can recommend it). ``"miss"`` keeps the user in
        the test fold, and the scorers count its target as a miss; ``"exclude"`` drops the
        user. A dropped user's rows leave the test fold; its earlier rows stay in the
        training fold and its last event stays out of it, so the training rows do not
        depend on this option.
    exclude_seen_targets : bool, default=False
        Drop test users whose target item already occurs in their history (useful when the
        scorer excludes seen items, which makes such targets unreachable). Their rows go
        where ``cold_targets="exclude"`` puts a dropped user's rows.
    random_state : int, RandomState instance or None, default=None
        Seed of the user draws (used when ``test_size`` is set or ``n_splits > 1``).
    user_col, item_col, time_col : str
        Column names, default ``"user_id"``, ``"item_id"``, ``"timestamp"``.

    See Also
    --------
    GlobalTemporalSplit : leak-free Protocol TIME.
    UserKFold : whole users in the test folds.

    Notes
    -----
    :meth:`split_info` adds the column ``n_ineligible_users`` (users with fewer than
    ``min_events`` events: always trained on, never tested). A dropped test user (see
    ``cold_targets`` and ``exclude_seen_targets``) is in no test fold; its rows before its
    last event are in the training fold and its last event in neither side of the fold.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 3],
    ...                   "item_id": ["a", "b", "c", "c", "a", "b"],
    ...                   "timestamp": [0, 1, 2, 0, 1, 0]})
    >>> cv = LeaveLastOut()
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split(X)]
    [([0, 1, 3, 5], [0, 1, 2, 3, 4])]
    >>> cv.split_info(X)[["n_train_rows", "n_test_rows", "n_test_users"]]
       n_train_rows  n_test_rows  n_test_users
    0             4            5             2
    """

    def __init__(
        self,
        n_splits=1,
        *,
        test_size=None,
        min_events=2,
        cold_targets=DEFAULT_COLD_TARGETS,
        exclude_seen_targets=False,
        random_state=None,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
    ):
        self.n_splits = n_splits
        self.test_size = test_size
        self.min_events = min_events
        self.cold_targets = cold_targets
        self.exclude_seen_targets = exclude_seen_targets
        self.random_state = random_state
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col

    @property
    def shuffle(self) -> bool:
        """Whether folds depend on random draws (scikit-learn asks, e.g. in halving searches).

        Every eligible user in one fold (the default) is deterministic.
        """
        return self.test_size is not None or self.n_splits != 1

    _param_specs = {
        "n_splits": Interval(int, 1),
        "test_size": AnyOf(
            Options(None),
            Interval(int, 1),
            Interval(float, 0, 1, closed="right"),
            description="None, an int >= 1 or a float in (0, 1]",
        ),
        "min_events": Interval(int, 2),
        "cold_targets": _COLD_TARGETS,
        "exclude_seen_targets": Boolean(),
        "random_state": RandomState(),
        **_COLUMNS,
    }

    def _folds(self, X):
        owner = type(self).__name__
        self._validate()
        n_splits, min_events, test_size = self.n_splits, self.min_events, self.test_size
        rng = check_random_state(self.random_state)
        ev = _events(X, self.user_col, self.item_col, self.time_col)
        eligible, n_ineligible = _eligible_users(ev, owner, min_events)
        n_eligible = len(eligible)
        if test_size is None:
            if n_splits == 1:
                subsets = [eligible]
            elif n_eligible < n_splits:
                raise ValueError(
                    f"{owner}: n_splits={n_splits} is more than the {n_eligible} users with "
                    f">= {min_events} events."
                )
            else:
                subsets = np.array_split(rng.permutation(eligible), n_splits)
        else:
            n_test = (
                int(test_size)
                if isinstance(test_size, numbers.Integral)
                else max(1, _ceil_share(test_size, n_eligible))
            )
            if n_test * n_splits > n_eligible:
                raise ValueError(
                    f"{owner}: test_size={test_size!r} asks for {n_test} test users in each of "
                    f"n_splits={n_splits} disjoint folds, but only {n_eligible} users have "
                    f">= {min_events} events."
                )
            drawn = rng.permutation(eligible)
            subsets = [drawn[j * n_test : (j + 1) * n_test] for j in range(n_splits)]
        return (self._fold(ev, fold, subset, n_ineligible) for fold, subset in enumerate(subsets))

    def _fold(self, ev, fold, test_users, n_ineligible):
        is_test_user = np.zeros(ev.n_users, dtype=bool)
        is_test_user[test_users] = True
        target_mask = ev.is_last & is_test_user[ev.users]
        return _assemble(
            ev,
            type(self).__name__,
            {"fold": fold, "n_ineligible_users": n_ineligible},
            train_mask=~target_mask,
            targets=np.flatnonzero(target_mask),
            context_mask=None,
            cold_targets=self.cold_targets,
            exclude_seen_targets=self.exclude_seen_targets,
        )


# --------------------------------------------------------------------------- UserKFold
class UserKFold(_InteractionSplitter):
    """K folds of whole users: a test fold holds all rows of its users, train the others.

    Users with at least ``min_events`` events are partitioned into ``n_splits`` folds;
    users with fewer events are never tested and always trained on. Each test user is
    scored on its last event given its earlier ones; no row of a test user is in the
    training fold (a cold-user protocol: the model meets the test histories only at
    scoring time).

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds (at least 2).
    shuffle : bool, default=True
        Shuffle the users before partitioning; otherwise folds are contiguous in sorted
        user-id order.
    random_state : int, RandomState instance or None, default=None
        Seed of the shuffle (ignored when ``shuffle=False``).
    min_events : int, default=2
        Events a user needs to be a test user (at least 2).
    cold_targets : {"miss", "exclude"}, default="miss"
        What to do with a test user whose target (last) item never occurs in the training
        rows: ``"miss"`` keeps it (the scorers count its target as a miss), ``"exclude"``
        drops it.
    exclude_seen_targets : bool, default=False
        Drop test users whose target item already occurs in their history.
    user_col, item_col, time_col : str
        Column names.

    Notes
    -----
    :meth:`split_info` adds ``n_ineligible_users``. A test user has no row in the training
    fold, so a dropped test user (``cold_targets="exclude"``, ``exclude_seen_targets``) has
    all its rows in neither side of its fold (it trains the other folds); the test folds
    then partition the eligible users minus the dropped ones.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 3, 3],
    ...                   "item_id": ["a", "b", "a", "b", "a", "b"],
    ...                   "timestamp": [0, 1, 0, 1, 0, 1]})
    >>> cv = UserKFold(n_splits=3, shuffle=False)
    >>> [test.tolist() for _, test in cv.split(X)]
    [[0, 1], [2, 3], [4, 5]]
    """

    def __init__(
        self,
        n_splits=5,
        *,
        shuffle=True,
        random_state=None,
        min_events=2,
        cold_targets=DEFAULT_COLD_TARGETS,
        exclude_seen_targets=False,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
    ):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state
        self.min_events = min_events
        self.cold_targets = cold_targets
        self.exclude_seen_targets = exclude_seen_targets
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col

    _param_specs = {
        "n_splits": Interval(int, 2),
        "shuffle": Boolean(),
        "random_state": RandomState(),
        "min_events": Interval(int, 2),
        "cold_targets": _COLD_TARGETS,
        "exclude_seen_targets": Boolean(),
        **_COLUMNS,
    }

    def _folds(self, X):
        owner = type(self).__name__
        self._validate()
        n_splits, min_events = self.n_splits, self.min_events
        rng = check_random_state(self.random_state)
        ev = _events(X, self.user_col, self.item_col, self.time_col)
        eligible, n_ineligible = _eligible_users(ev, owner, min_events)
        if len(eligible) < n_splits:
            raise ValueError(
                f"{owner}: n_splits={n_splits} is more than the {len(eligible)} users with "
                f">= {min_events} events."
            )
        if self.shuffle:
            eligible = rng.permutation(eligible)
        subsets = np.array_split(eligible, n_splits)
        return (self._fold(ev, fold, subset, n_ineligible) for fold, subset in enumerate(subsets))

    def _fold(self, ev, fold, test_users, n_ineligible):
        is_test_user = np.zeros(ev.n_users, dtype=bool)
        is_test_user[test_users] = True
        in_fold = is_test_user[ev.users]
        return _assemble(
            ev,
            type(self).__name__,
            {"fold": fold, "n_ineligible_users": n_ineligible},
            train_mask=~in_fold,
            targets=np.flatnonzero(ev.is_last & in_fold),
            context_mask=None,
            cold_targets=self.cold_targets,
            exclude_seen_targets=self.exclude_seen_targets,
        )


# --------------------------------------------------------------------------- temporal
def _temporal_fold(
    ev: _Events,
    owner: str,
    fold: int,
    cutoff,
    window_end,
    min_history: int,
    cold_targets: str,
    exclude_seen_targets: bool,
    test_word: str = "test",
) -> _Fold:
    """Train: rows before ``cutoff``. Target: each user's first row in [cutoff, window_end)."""
    before = ev.times < cutoff
    shown_cutoff = ev.axis.from_axis(cutoff)
    if not before.any():
        raise ValueError(
            f"{owner}: no row of X ({ev.n_rows} rows) is before the cut-off {shown_cutoff!r} "
            f"of fold {fold}; the earliest time is {ev.axis.from_axis(ev.times.min())!r}."
        )
    n_before = np.bincount(ev.users[before], minlength=ev.n_users)
    after = ev.order[~before[ev.order]]  # chronological, grouped by user
    after_users = ev.users[after]
    first = after[np.r_[True, after_users[1:] != after_users[:-1]]] if len(after) else after
    if window_end is not None:
        first = first[ev.times[first] < window_end]
    has_history = n_before[ev.users[first]] >= min_history
    targets = first[has_history]
    if len(targets) == 0:
        raise ValueError(
            f"{owner}: fold {fold} has no {test_word} user: of {ev.n_users} users "
            f"({ev.n_rows} rows), {len(first)} have an event at or after the cut-off "
            f"{shown_cutoff!r}"
            + (f" and before {ev.axis.from_axis(window_end)!r}" if window_end is not None else "")
            + f", and none of them has >= {min_history} event(s) before it "
            f"(min_history={min_history}); {int(before.sum())} rows are before it."
        )
    info = {
        "fold": fold,
        "cutoff": shown_cutoff,
        "window_end": None if window_end is None else ev.axis.from_axis(window_end),
        "n_short_history_users": int((~has_history).sum()),
    }
    return _assemble(
        ev,
        owner,
        info,
        train_mask=before,
        targets=targets,
        context_mask=before,
        cold_targets=cold_targets,
        exclude_seen_targets=exclude_seen_targets,
        test_word=test_word,
    )


class GlobalTemporalSplit(_InteractionSplitter):
    """Protocol TIME: a global cut-off time T; train on every row before T.

    Test users are the users with at least ``min_history`` rows before T and at least one
    row at or after T. Each test user's target is its first row at or after T; its input
    history is its rows before T. The test fold holds those history rows plus the target
    row; the training fold holds every row with time < T (rows at exactly T are on the
    test side). Leak-free: no training row is at or after any target.

    Parameters
    ----------
    n_splits : int, default=1
        Number of folds. With ``n_splits > 1`` and ``cutoff=None``: rolling origin, fold
        ``j`` (earliest first) has its cut-off where the last ``(n_splits - j) *
        test_quantile`` share of rows begins, and its targets come from its test window
        ``[T_j, T_{j+1})`` (the last fold's window is open-ended). Each fold trains on every
        row before its own cut-off.
    cutoff : scalar, list of scalars or None, default=None
        The cut-off time(s), comparable with the time column: a number for numeric times,
        a ``pd.Timestamp``/datetime/string for datetime columns (a naive value is read in
        the column's time zone). A list gives one fold per value (strictly increasing, as
        many as ``n_splits``). None: computed from ``test_quantile``.
    test_quantile : float, default=0.05
        Share of all rows at or after the cut-off (per fold window with ``n_splits > 1``);
        ``n_splits * test_quantile`` must be < 1. Ignored when ``cutoff`` is given.
    min_history : int, default=1
        Rows before T a user needs to be a test user (at least 1).
    cold_targets : {"miss", "exclude"}, default="miss"
        What to do with a test user whose target item never occurs before T: ``"miss"``
        keeps it (the scorers count its target as a miss), ``"exclude"`` drops it.
    exclude_seen_targets : bool, default=False
        Drop test users whose target item already occurs in their history.
    user_col, item_col, time_col : str
        Column names.

    Notes
    -----
    :meth:`split_info` adds ``cutoff``, ``window_end`` (None for an open window) and
    ``n_short_history_users`` (users with a target-window event but fewer than
    ``min_history`` rows before T: cold users, not evaluated).

    Rows are placed by time alone on the training side: every row before T trains, also
    the rows of users that are not tested (short histories, or dropped by
    ``cold_targets="exclude"`` or ``exclude_seen_targets``). The rows at or after T of a
    user that is not tested are in neither side of the fold.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 2],
    ...                   "item_id": ["a", "b", "a", "b", "a", "b"],
    ...                   "timestamp": [0, 1, 5, 2, 3, 4]})
    >>> cv = GlobalTemporalSplit(cutoff=4)
    >>> [(train.tolist(), test.tolist()) for train, test in cv.split(X)]
    [([0, 1, 3, 4], [0, 1, 2, 3, 4, 5])]
    >>> GlobalTemporalSplit(test_quantile=0.2).get_cutoffs(X)
    [4]
    """

    def __init__(
        self,
        n_splits=1,
        *,
        cutoff=None,
        test_quantile=0.05,
        min_history=1,
        cold_targets=DEFAULT_COLD_TARGETS,
        exclude_seen_targets=False,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
    ):
        self.n_splits = n_splits
        self.cutoff = cutoff
        self.test_quantile = test_quantile
        self.min_history = min_history
        self.cold_targets = cold_targets
        self.exclude_seen_targets = exclude_seen_targets
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col

    _param_specs = {
        "n_splits": Interval(int, 1),
        "min_history": Interval(int, 1),
        "cold_targets": _COLD_TARGETS,
        "exclude_seen_targets": Boolean(),
        **_COLUMNS,
    }

    def _validate(self) -> None:
        super()._validate()
        owner, n_splits = type(self).__name__, self.n_splits
        if self.cutoff is None:
            validate_values(
                {"test_quantile": self.test_quantile}, {"test_quantile": _FRACTION}, owner=owner
            )
            if n_splits * self.test_quantile >= 1.0:
                raise InvalidParameterError(
                    f"{owner}: n_splits * test_quantile must be < 1 so that the first fold "
                    f"has training rows, got n_splits={n_splits}, "
                    f"test_quantile={self.test_quantile!r}."
                )
        elif _is_list_like(self.cutoff):
            if len(self.cutoff) != n_splits:
                raise InvalidParameterError(
                    f"{owner}: cutoff holds {len(self.cutoff)} values but n_splits={n_splits}; "
                    f"pass n_splits={len(self.cutoff)}."
                )
        elif n_splits != 1:
            raise InvalidParameterError(
                f"{owner}: a single cutoff={self.cutoff!r} makes one fold, but "
                f"n_splits={n_splits}; pass a list of {n_splits} cut-offs or cutoff=None."
            )

    def _cutoffs(self, ev: _Events) -> list:
        """Cut-offs on the time axis (parameters already validated)."""
        owner = type(self).__name__
        if self.cutoff is None:
            return rolling_cutoffs(ev.times, self.n_splits, float(self.test_quantile))
        values = list(self.cutoff) if _is_list_like(self.cutoff) else [self.cutoff]
        cutoffs = [ev.axis.to_axis(value, "cutoff", owner) for value in values]
        if any(b <= a for a, b in zip(cutoffs, cutoffs[1:])):
            raise InvalidParameterError(
                f"{owner}: cutoff values must be strictly increasing, got {values!r}."
            )
        return cutoffs

    def get_cutoffs(self, X) -> list:
        """The cut-off time of each fold, earliest first, in the time column's terms.

        Parameters
        ----------
        X : pandas.DataFrame or polars.DataFrame

        Returns
        -------
        list
            ``pd.Timestamp`` values (in the column's time zone) for datetime columns,
            numbers otherwise.

        Raises
        ------
        InvalidParameterError
            Invalid parameters (a ``ValueError``).
        ValueError
            Bad ``X``.
        """
        self._validate()
        ev = _events(X, self.user_col, self.item_col, self.time_col)
        return [ev.axis.from_axis(value) for value in self._cutoffs(ev)]

    def _folds(self, X):
        owner = type(self).__name__
        self._validate()
        ev = _events(X, self.user_col, self.item_col, self.time_col)
        cutoffs = self._cutoffs(ev)
        if len(set(cutoffs)) < len(cutoffs):
            shown = [ev.axis.from_axis(c) for c in cutoffs]
            raise ValueError(
                f"{owner}: the rolling cut-offs {shown!r} are not distinct (many rows share "
                f"a time); use fewer folds, a larger test_quantile or explicit cutoff values."
            )
        ends = [*cutoffs[1:], None]
        return (
            _temporal_fold(
                ev,
                owner,
                fold,
                cut,
                end,
                self.min_history,
                self.cold_targets,
                self.exclude_seen_targets,
            )
            for fold, (cut, end) in enumerate(zip(cutoffs, ends))
        )


def _is_list_like(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray, pd.Series, pd.Index))


# --------------------------------------------------------------------------- helpers
def time_validation_split(
    X,
    *,
    fraction=0.1,
    cold_targets=DEFAULT_COLD_TARGETS,
    user_col="user_id",
    item_col="item_id",
    time_col="timestamp",
):
    """Hold out the last ``fraction`` of time for validation (Protocol TIME inside ``X``).

    Built like :class:`GlobalTemporalSplit` with ``test_quantile=fraction`` and
    ``min_history=1``: the cut-off T leaves the last ``fraction`` of rows at or after it;
    train = every row before T; valid = for each user with a row before T and one at or
    after it, its rows before T (history) plus its first row at or after T (target).
    Estimators use it to carve early-stopping data out of their training data.

    Parameters
    ----------
    X : pandas.DataFrame or polars.DataFrame
        Interactions.
    fraction : float, default=0.1
        Share of rows at or after the cut-off, in (0, 1).
    cold_targets : {"miss", "exclude"}, default="miss"
        What to do with a validation user whose target item never occurs in the training
        part: ``"miss"`` keeps it (its target counts as a miss), ``"exclude"`` drops it
        (warned with a DataDropWarning; its rows before T stay in the training part).
    user_col, item_col, time_col : str
        Column names.

    Returns
    -------
    train_idx, valid_idx : ndarray of int
        Sorted positional indices into ``X``.

    Raises
    ------
    InvalidParameterError
        Invalid parameter (a ``ValueError``; the message names the parameter and value).
    ValueError
        Bad ``X``, or no validation user (the message gives the numbers of users and
        rows).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 2, 2],
    ...                   "item_id": [1, 2, 1, 2, 3],
    ...                   "timestamp": [0, 1, 2, 3, 9]})
    >>> train, valid = time_validation_split(X, fraction=0.2)
    >>> train.tolist(), valid.tolist()
    ([0, 1, 2, 3], [2, 3, 4])
    """
    owner = "time_validation_split"
    validate_values(
        {
            "fraction": fraction,
            "cold_targets": cold_targets,
            "user_col": user_col,
            "item_col": item_col,
            "time_col": time_col,
        },
        {"fraction": _FRACTION, "cold_targets": _COLD_TARGETS, **_COLUMNS},
        owner=owner,
    )
    ev = _events(X, user_col, item_col, time_col)
    fold = _temporal_fold(
        ev,
        owner,
        0,
        time_cutoff(ev.times, fraction),
        None,
        1,
        cold_targets,
        False,
        test_word="validation",
    )
    _warn_drops(owner, fold, test_word="validation")
    return fold.train, fold.test


def last_event_validation_split(
    X,
    *,
    fraction=0.1,
    random_state=None,
    min_events=3,
    cold_targets=DEFAULT_COLD_TARGETS,
    user_col="user_id",
    item_col="item_id",
    time_col="timestamp",
):
    """Hold out the last event of a random share of users for validation (Protocol LOO).

    A random ``fraction`` (rounded up, at least one) of the users with at least
    ``min_events`` events give their last event as validation target. Train = every row
    except those targets; valid = those users' rows (history + target).

    Parameters
    ----------
    X : pandas.DataFrame or polars.DataFrame
        Interactions.
    fraction : float, default=0.1
        Share of the eligible users to validate on, in (0, 1).
    random_state : int, RandomState instance or None, default=None
        Seed of the user draw.
    min_events : int, default=3
        Events a user needs to be drawn (at least 2); the default 3 keeps at least two of
        each validation user's events for training.
    cold_targets : {"miss", "exclude"}, default="miss"
        What to do with a validation user whose target item never occurs in the training
        part: ``"miss"`` keeps it (its target counts as a miss), ``"exclude"`` drops it
        (warned with a DataDropWarning; its earlier rows stay in the training part).
    user_col, item_col, time_col : str
        Column names.

    Returns
    -------
    train_idx, valid_idx : ndarray of int
        Sorted positional indices into ``X``.

    Raises
    ------
    InvalidParameterError
        Invalid parameter (a ``ValueError``; the message names the parameter and value).
    ValueError
        Bad ``X``, or no user with ``min_events`` events (the message gives the numbers
        of users and rows).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1, 1, 1, 2, 2],
    ...                   "item_id": [1, 2, 3, 1, 2],
    ...                   "timestamp": [0, 1, 2, 0, 1]})
    >>> train, valid = last_event_validation_split(X, fraction=0.5, random_state=0)
    >>> train.tolist(), valid.tolist()
    ([0, 1, 3, 4], [0, 1, 2])
    """
    owner = "last_event_validation_split"
    validate_values(
        {
            "fraction": fraction,
            "random_state": random_state,
            "min_events": min_events,
            "cold_targets": cold_targets,
            "user_col": user_col,
            "item_col": item_col,
            "time_col": time_col,
        },
        {
            "fraction": _FRACTION,
            "random_state": RandomState(),
            "min_events": Interval(int, 2),
            "cold_targets": _COLD_TARGETS,
            **_COLUMNS,
        },
        owner=owner,
    )
    rng = check_random_state(random_state)
    ev = _events(X, user_col, item_col, time_col)
    eligible, _ = _eligible_users(ev, owner, min_events)
    n_valid = max(1, _ceil_share(fraction, len(eligible)))
    chosen = np.zeros(ev.n_users, dtype=bool)
    chosen[rng.choice(eligible, size=n_valid, replace=False)] = True
    target_mask = ev.is_last & chosen[ev.users]
    fold = _assemble(
        ev,
        owner,
        {"fold": 0},
        train_mask=~target_mask,
        targets=np.flatnonzero(target_mask),
        context_mask=None,
        cold_targets=cold_targets,
        exclude_seen_targets=False,
        test_word="validation",
    )
    _warn_drops(owner, fold, test_word="validation")
    return fold.train, fold.test
