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

from ..data import check_interactions, chronological_order, to_pandas
from ..exceptions import DataDropWarning

__all__ = [
    "GlobalTemporalSplit",
    "LeaveLastOut",
    "UserKFold",
    "last_event_validation_split",
    "time_validation_split",
]


# --------------------------------------------------------------------------- parameters
def _check_int(value, name: str, owner: str, *, minimum: int) -> int:
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Integral)
        or value < minimum
    ):
        raise ValueError(f"{owner}: {name} must be an int >= {minimum}, got {value!r}.")
    return int(value)


def _check_bool(value, name: str, owner: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{owner}: {name} must be True or False, got {value!r}.")
    return bool(value)


def _check_fraction(value, name: str, owner: str) -> float:
    """A float in the open interval (0, 1)."""
    if (
        isinstance(value, (bool, np.bool_))
        or not isinstance(value, numbers.Real)
        or not 0.0 < float(value) < 1.0
    ):
        raise ValueError(f"{owner}: {name} must be a float in (0, 1), got {value!r}.")
    return float(value)


def _check_rng(random_state, owner: str) -> np.random.RandomState:
    try:
        return check_random_state(random_state)
    except ValueError as exc:
        raise ValueError(
            f"{owner}: random_state must be None, an int or a numpy RandomState, "
            f"got {random_state!r}."
        ) from exc


def _ceil_share(share: float, n: int) -> int:
    """``ceil(share * n)``, robust to float noise such as ``0.1 * 30 = 3.0000000000000004``."""
    return int(math.ceil(share * n - 1e-9))


# --------------------------------------------------------------------------- time axis
@dataclass(frozen=True)
class _TimeAxis:
    """Conversions between a time column's values and the sortable axis of
    :func:`~skseqrec.data.check_interactions` (datetimes: int64 ns since the epoch, UTC)."""

    column: str
    is_datetime: bool
    tz: object = None
    is_integer: bool = False

    @classmethod
    def of(cls, series: pd.Series, column: str) -> _TimeAxis:
        dtype = series.dtype
        if isinstance(dtype, pd.DatetimeTZDtype):
            return cls(column, True, dtype.tz)
        if pd.api.types.is_datetime64_any_dtype(dtype):
            return cls(column, True, None)
        return cls(column, False, None, pd.api.types.is_integer_dtype(dtype))

    def to_axis(self, value, name: str, owner: str):
        """A time value given by the user (``name``) as a number on the axis."""
        if self.is_datetime:
            if isinstance(value, (bool, np.bool_, numbers.Number)):
                raise ValueError(
                    f"{owner}: {name} must be a datetime (pd.Timestamp, datetime or a string "
                    f"such as '2020-01-31') because column {self.column!r} holds datetimes; "
                    f"got {value!r}."
                )
            try:
                stamp = pd.Timestamp(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"{owner}: {name}={value!r} cannot be read as a datetime for column "
                    f"{self.column!r}."
                ) from exc
            if stamp is pd.NaT:
                raise ValueError(f"{owner}: {name} must not be NaT.")
            if self.tz is not None:
                # A naive value is read in the column's own time zone.
                stamp = stamp.tz_localize(self.tz) if stamp.tz is None else stamp
            elif stamp.tz is not None:
                raise ValueError(
                    f"{owner}: {name}={value!r} is tz-aware but column {self.column!r} holds "
                    "tz-naive datetimes; pass a naive value."
                )
            return int(stamp.as_unit("ns").value)
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, numbers.Real)
            or not np.isfinite(value)
        ):
            raise ValueError(
                f"{owner}: {name} must be a finite number because column {self.column!r} holds "
                f"numeric times; got {value!r}."
            )
        return value

    def to_duration(self, value, name: str, owner: str):
        """A positive duration (``pd.Timedelta``/str for datetimes, a number otherwise)."""
        if self.is_datetime:
            if isinstance(value, (bool, np.bool_, numbers.Number)):
                raise ValueError(
                    f"{owner}: {name} must be a duration (pd.Timedelta or a string such as "
                    f"'30D') because column {self.column!r} holds datetimes; got {value!r}."
                )
            try:
                delta = pd.Timedelta(value)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"{owner}: {name}={value!r} cannot be read as a duration (pd.Timedelta)."
                ) from exc
            if delta is pd.NaT or delta <= pd.Timedelta(0):
                raise ValueError(f"{owner}: {name} must be a positive duration, got {value!r}.")
            return int(delta.as_unit("ns").value)
        if (
            isinstance(value, (bool, np.bool_))
            or not isinstance(value, numbers.Real)
            or not np.isfinite(value)
            or value <= 0
        ):
            raise ValueError(
                f"{owner}: {name} must be a positive number because column {self.column!r} "
                f"holds numeric times; got {value!r}."
            )
        return value

    def from_axis(self, value):
        """An axis value back in the column's terms (``pd.Timestamp`` or a Python number)."""
        if self.is_datetime:
            stamp = pd.Timestamp(int(value), unit="ns")
            return stamp.tz_localize("UTC").tz_convert(self.tz) if self.tz is not None else stamp
        if self.is_integer and float(value).is_integer():
            return int(value)
        return float(value)


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
    axis: _TimeAxis


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
        axis=_TimeAxis.of(frame[time_col], time_col),
    )


def _n_distinct(codes: np.ndarray, n: int) -> int:
    return int(np.count_nonzero(np.bincount(codes, minlength=n)))


def _assemble(
    ev: _Events,
    owner: str,
    info: dict,
    *,
    train_mask: np.ndarray,
    targets: np.ndarray,
    context_mask: np.ndarray | None,
    exclude_cold_items: bool,
    exclude_seen_targets: bool,
    test_word: str = "test",
):
    """Indices of one fold from its training rows and one target row per candidate user.

    The test side holds each kept user's context rows (all rows, or ``context_mask`` ones,
    which must all be chronologically before the target) plus the target row.
    """
    if not train_mask.any():
        raise ValueError(f"{owner}: fold {info['fold']} has no training row.")
    item_in_train = np.bincount(ev.items[train_mask], minlength=ev.n_items) > 0
    target_items = ev.items[targets]
    cold = ~item_in_train[target_items] if exclude_cold_items else np.zeros(len(targets), bool)
    seen = ev.is_repeat[targets] & ~cold if exclude_seen_targets else np.zeros(len(targets), bool)
    kept = targets[~(cold | seen)]
    n_cold, n_seen = int(cold.sum()), int(seen.sum())
    if len(kept) == 0:
        raise ValueError(
            f"{owner}: fold {info['fold']} has no {test_word} user left: all {len(targets)} "
            f"candidate users were dropped ({n_cold} because their target item never occurs "
            f"in the training rows (exclude_cold_items=True), {n_seen} because their target "
            "item is already in their history (exclude_seen_targets=True))."
        )
    keep_user = np.zeros(ev.n_users, dtype=bool)
    keep_user[ev.users[kept]] = True
    test_mask = keep_user[ev.users]
    if context_mask is not None:
        test_mask &= context_mask
    test_mask[kept] = True
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
    return train_idx, test_idx, {**counts, **info}  # splitter-specific columns last


def _warn_drops(owner: str, info: dict, n_candidates: int, test_word: str = "test") -> None:
    reasons = []
    if info["n_dropped_cold_item_users"]:
        reasons.append(
            f"{info['n_dropped_cold_item_users']} whose target item never occurs in the "
            "training rows (exclude_cold_items=True)"
        )
    if info["n_dropped_seen_target_users"]:
        reasons.append(
            f"{info['n_dropped_seen_target_users']} whose target item is already in their "
            "history (exclude_seen_targets=True)"
        )
    if reasons:
        n_dropped = info["n_dropped_cold_item_users"] + info["n_dropped_seen_target_users"]
        warnings.warn(
            f"{owner}: fold {info['fold']} dropped {n_dropped} of {n_candidates} {test_word} "
            f"users: {'; '.join(reasons)}. Their rows are in neither side of the fold.",
            DataDropWarning,
            stacklevel=3,
        )


# --------------------------------------------------------------------------- base class
class _InteractionSplitter:
    """Shared ``split``/``get_n_splits``/``split_info``/``__repr__`` of the splitters.

    Subclasses implement ``_folds(X)``: validate parameters and data, then return an
    iterator of ``(train_idx, test_idx, info)``, one per fold.
    """

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
        ValueError
            Invalid parameter (named with its value), bad ``X`` (naming the column), or a
            fold without training rows or test users. Raised when ``split`` is called, not
            when its first fold is read.

        Warns
        -----
        DataDropWarning
            When test users are dropped by ``exclude_cold_items``/``exclude_seen_targets``,
            with their counts (also in :meth:`split_info`).
        """
        # Folds are built at the call (scikit-learn materialises them anyway), so that
        # every error and warning comes from ``split`` itself.
        folds = []
        for train_idx, test_idx, info in self._folds(X):
            _warn_drops(type(self).__name__, info, info.pop("_n_candidates"))
            folds.append((train_idx, test_idx))
        return iter(folds)

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
        rows = []
        for _, _, info in self._folds(X):
            info.pop("_n_candidates")
            rows.append(info)
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        names = [
            p.name
            for p in inspect.signature(type(self).__init__).parameters.values()
            if p.name != "self"
        ]
        args = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}({args})"


def _user_folds(ev: _Events, owner: str, min_events: int) -> tuple[np.ndarray, int]:
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
    exclude_cold_items : bool, default=True
        Drop test users whose target item never occurs in the training rows of the fold (no
        model trained on them can recommend it). A dropped user's rows leave the test fold;
        its last event stays out of the training fold too, so the training rows do not
        depend on this option.
    exclude_seen_targets : bool, default=False
        Drop test users whose target item already occurs in their history (useful when the
        scorer excludes seen items, which makes such targets unreachable).
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
    ``min_events`` events: always trained on, never tested).

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
        exclude_cold_items=True,
        exclude_seen_targets=False,
        random_state=None,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
    ):
        self.n_splits = n_splits
        self.test_size = test_size
        self.min_events = min_events
        self.exclude_cold_items = exclude_cold_items
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

    def _folds(self, X):
        owner = type(self).__name__
        n_splits = _check_int(self.n_splits, "n_splits", owner, minimum=1)
        min_events = _check_int(self.min_events, "min_events", owner, minimum=2)
        test_size = self.test_size
        if test_size is not None and (
            isinstance(test_size, (bool, np.bool_))
            or not isinstance(test_size, numbers.Real)
            or (isinstance(test_size, numbers.Integral) and test_size < 1)
            or (not isinstance(test_size, numbers.Integral) and not 0.0 < test_size <= 1.0)
        ):
            raise ValueError(
                f"{owner}: test_size must be None, an int >= 1 or a float in (0, 1], "
                f"got {test_size!r}."
            )
        exclude_cold = _check_bool(self.exclude_cold_items, "exclude_cold_items", owner)
        exclude_seen = _check_bool(self.exclude_seen_targets, "exclude_seen_targets", owner)
        rng = _check_rng(self.random_state, owner)

        ev = _events(X, self.user_col, self.item_col, self.time_col)
        eligible, n_ineligible = _user_folds(ev, owner, min_events)
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
        return (
            self._fold(ev, fold, subset, n_ineligible, exclude_cold, exclude_seen)
            for fold, subset in enumerate(subsets)
        )

    def _fold(self, ev, fold, test_users, n_ineligible, exclude_cold, exclude_seen):
        is_test_user = np.zeros(ev.n_users, dtype=bool)
        is_test_user[test_users] = True
        target_mask = ev.is_last & is_test_user[ev.users]
        info = {"fold": fold, "n_ineligible_users": n_ineligible, "_n_candidates": len(test_users)}
        return _assemble(
            ev,
            type(self).__name__,
            info,
            train_mask=~target_mask,
            targets=np.flatnonzero(target_mask),
            context_mask=None,
            exclude_cold_items=exclude_cold,
            exclude_seen_targets=exclude_seen,
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
    exclude_cold_items : bool, default=True
        Drop test users whose target (last) item never occurs in the training rows.
    exclude_seen_targets : bool, default=False
        Drop test users whose target item already occurs in their history.
    user_col, item_col, time_col : str
        Column names.

    Notes
    -----
    :meth:`split_info` adds ``n_ineligible_users``. Dropped users' rows are in neither side
    of their fold, so with the ``exclude_*`` options the test folds partition the eligible
    users minus the dropped ones.

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
        exclude_cold_items=True,
        exclude_seen_targets=False,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
    ):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state
        self.min_events = min_events
        self.exclude_cold_items = exclude_cold_items
        self.exclude_seen_targets = exclude_seen_targets
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col

    def _folds(self, X):
        owner = type(self).__name__
        n_splits = _check_int(self.n_splits, "n_splits", owner, minimum=2)
        shuffle = _check_bool(self.shuffle, "shuffle", owner)
        rng = _check_rng(self.random_state, owner)
        min_events = _check_int(self.min_events, "min_events", owner, minimum=2)
        exclude_cold = _check_bool(self.exclude_cold_items, "exclude_cold_items", owner)
        exclude_seen = _check_bool(self.exclude_seen_targets, "exclude_seen_targets", owner)

        ev = _events(X, self.user_col, self.item_col, self.time_col)
        eligible, n_ineligible = _user_folds(ev, owner, min_events)
        if len(eligible) < n_splits:
            raise ValueError(
                f"{owner}: n_splits={n_splits} is more than the {len(eligible)} users with "
                f">= {min_events} events."
            )
        if shuffle:
            eligible = rng.permutation(eligible)
        subsets = np.array_split(eligible, n_splits)
        return (
            self._fold(ev, fold, subset, n_ineligible, exclude_cold, exclude_seen)
            for fold, subset in enumerate(subsets)
        )

    def _fold(self, ev, fold, test_users, n_ineligible, exclude_cold, exclude_seen):
        is_test_user = np.zeros(ev.n_users, dtype=bool)
        is_test_user[test_users] = True
        in_fold = is_test_user[ev.users]
        info = {"fold": fold, "n_ineligible_users": n_ineligible, "_n_candidates": len(test_users)}
        return _assemble(
            ev,
            type(self).__name__,
            info,
            train_mask=~in_fold,
            targets=np.flatnonzero(ev.is_last & in_fold),
            context_mask=None,
            exclude_cold_items=exclude_cold,
            exclude_seen_targets=exclude_seen,
        )


# --------------------------------------------------------------------------- temporal
def _quantile_cutoffs(times: np.ndarray, n_splits: int, share: float) -> list:
    """Cut-offs such that the last ``(n_splits - j) * share`` of rows are at or after fold j's."""
    ordered = np.sort(times, kind="stable")
    n = len(ordered)
    cutoffs = []
    for j in range(n_splits):  # a handful of folds, not a loop over users
        n_after = min(max(_ceil_share((n_splits - j) * share, n), 1), n)
        cutoffs.append(ordered[n - n_after].item())
    return cutoffs


def _temporal_fold(
    ev: _Events,
    owner: str,
    fold: int,
    cutoff,
    window_end,
    min_history: int,
    exclude_cold: bool,
    exclude_seen: bool,
    test_word: str = "test",
):
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
        "_n_candidates": len(targets),
    }
    return _assemble(
        ev,
        owner,
        info,
        train_mask=before,
        targets=targets,
        context_mask=before,
        exclude_cold_items=exclude_cold,
        exclude_seen_targets=exclude_seen,
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
    exclude_cold_items : bool, default=True
        Drop test users whose target item never occurs before T.
    exclude_seen_targets : bool, default=False
        Drop test users whose target item already occurs in their history.
    user_col, item_col, time_col : str
        Column names.

    Notes
    -----
    :meth:`split_info` adds ``cutoff``, ``window_end`` (None for an open window) and
    ``n_short_history_users`` (users with a target-window event but fewer than
    ``min_history`` rows before T: cold users, not evaluated). Their rows at or after T
    are in neither side of the fold.

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
        exclude_cold_items=True,
        exclude_seen_targets=False,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
    ):
        self.n_splits = n_splits
        self.cutoff = cutoff
        self.test_quantile = test_quantile
        self.min_history = min_history
        self.exclude_cold_items = exclude_cold_items
        self.exclude_seen_targets = exclude_seen_targets
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col

    def _check_params(self):
        owner = type(self).__name__
        n_splits = _check_int(self.n_splits, "n_splits", owner, minimum=1)
        if self.cutoff is None:
            share = _check_fraction(self.test_quantile, "test_quantile", owner)
            if n_splits * share >= 1.0:
                raise ValueError(
                    f"{owner}: n_splits * test_quantile must be < 1 so that the first fold "
                    f"has training rows, got n_splits={n_splits}, "
                    f"test_quantile={self.test_quantile!r}."
                )
        elif _is_list_like(self.cutoff):
            if len(self.cutoff) != n_splits:
                raise ValueError(
                    f"{owner}: cutoff holds {len(self.cutoff)} values but n_splits={n_splits}; "
                    f"pass n_splits={len(self.cutoff)}."
                )
        elif n_splits != 1:
            raise ValueError(
                f"{owner}: a single cutoff={self.cutoff!r} makes one fold, but "
                f"n_splits={n_splits}; pass a list of {n_splits} cut-offs or cutoff=None."
            )
        min_history = _check_int(self.min_history, "min_history", owner, minimum=1)
        exclude_cold = _check_bool(self.exclude_cold_items, "exclude_cold_items", owner)
        exclude_seen = _check_bool(self.exclude_seen_targets, "exclude_seen_targets", owner)
        return n_splits, min_history, exclude_cold, exclude_seen

    def _cutoffs(self, ev: _Events, n_splits: int) -> list:
        owner = type(self).__name__
        if self.cutoff is None:
            return _quantile_cutoffs(ev.times, n_splits, float(self.test_quantile))
        values = list(self.cutoff) if _is_list_like(self.cutoff) else [self.cutoff]
        cutoffs = [ev.axis.to_axis(value, "cutoff", owner) for value in values]
        if any(b <= a for a, b in zip(cutoffs, cutoffs[1:])):
            raise ValueError(f"{owner}: cutoff values must be strictly increasing, got {values!r}.")
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
        ValueError
            Invalid parameters or bad ``X``.
        """
        n_splits, *_ = self._check_params()
        ev = _events(X, self.user_col, self.item_col, self.time_col)
        return [ev.axis.from_axis(value) for value in self._cutoffs(ev, n_splits)]

    def _folds(self, X):
        owner = type(self).__name__
        n_splits, min_history, exclude_cold, exclude_seen = self._check_params()
        ev = _events(X, self.user_col, self.item_col, self.time_col)
        cutoffs = self._cutoffs(ev, n_splits)
        if len(set(cutoffs)) < len(cutoffs):
            shown = [ev.axis.from_axis(c) for c in cutoffs]
            raise ValueError(
                f"{owner}: the rolling cut-offs {shown!r} are not distinct (many rows share "
                f"a time); use fewer folds, a larger test_quantile or explicit cutoff values."
            )
        ends = [*cutoffs[1:], None]
        return (
            _temporal_fold(ev, owner, fold, cut, end, min_history, exclude_cold, exclude_seen)
            for fold, (cut, end) in enumerate(zip(cutoffs, ends))
        )


def _is_list_like(value) -> bool:
    return isinstance(value, (list, tuple, np.ndarray, pd.Series, pd.Index))


# --------------------------------------------------------------------------- helpers
def time_validation_split(
    X,
    *,
    fraction=0.1,
    exclude_cold_items=False,
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
    exclude_cold_items : bool, default=False
        Drop validation users whose target item never occurs in the training part (warned
        with a DataDropWarning). By default they are kept (their targets count as misses).
    user_col, item_col, time_col : str
        Column names.

    Returns
    -------
    train_idx, valid_idx : ndarray of int
        Sorted positional indices into ``X``.

    Raises
    ------
    ValueError
        Invalid ``fraction``, bad ``X``, or no validation user (the message gives the
        numbers of users and rows).

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
    fraction = _check_fraction(fraction, "fraction", owner)
    exclude_cold = _check_bool(exclude_cold_items, "exclude_cold_items", owner)
    ev = _events(X, user_col, item_col, time_col)
    (cutoff,) = _quantile_cutoffs(ev.times, 1, fraction)
    train_idx, valid_idx, info = _temporal_fold(
        ev, owner, 0, cutoff, None, 1, exclude_cold, False, test_word="validation"
    )
    _warn_drops(owner, info, info.pop("_n_candidates"), test_word="validation")
    return train_idx, valid_idx


def last_event_validation_split(
    X,
    *,
    fraction=0.1,
    random_state=None,
    min_events=3,
    exclude_cold_items=False,
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
    exclude_cold_items : bool, default=False
        Drop validation users whose target item never occurs in the training part (warned
        with a DataDropWarning). By default they are kept.
    user_col, item_col, time_col : str
        Column names.

    Returns
    -------
    train_idx, valid_idx : ndarray of int
        Sorted positional indices into ``X``.

    Raises
    ------
    ValueError
        Invalid parameter, bad ``X``, or no user with ``min_events`` events (the message
        gives the numbers of users and rows).

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
    fraction = _check_fraction(fraction, "fraction", owner)
    rng = _check_rng(random_state, owner)
    min_events = _check_int(min_events, "min_events", owner, minimum=2)
    exclude_cold = _check_bool(exclude_cold_items, "exclude_cold_items", owner)
    ev = _events(X, user_col, item_col, time_col)
    eligible, _ = _user_folds(ev, owner, min_events)
    n_valid = max(1, _ceil_share(fraction, len(eligible)))
    chosen = np.zeros(ev.n_users, dtype=bool)
    chosen[rng.choice(eligible, size=n_valid, replace=False)] = True
    target_mask = ev.is_last & chosen[ev.users]
    train_idx, valid_idx, info = _assemble(
        ev,
        owner,
        {"fold": 0},
        train_mask=~target_mask,
        targets=np.flatnonzero(target_mask),
        context_mask=None,
        exclude_cold_items=exclude_cold,
        exclude_seen_targets=False,
        test_word="validation",
    )
    _warn_drops(owner, info, n_valid, test_word="validation")
    return train_idx, valid_idx
