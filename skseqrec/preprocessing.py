"""Interaction filters as scikit-learn transformers.

These transformers take an interactions DataFrame and return a filtered copy (fewer rows,
same columns, original index kept). scikit-learn's convention says a transformer never
changes the number of samples; skseqrec's filters break it on purpose, because in a
skseqrec Pipeline the next step is a recommender whose ``X`` is itself an interactions
frame and whose ``y`` is None. Consequences:

* ``y`` cannot be used with them: passing a ``y`` raises ``ValueError`` (its rows would no
  longer line up with ``X``). Keep ratings in a column of ``X`` instead.
* In ``GridSearchCV``/``cross_validate``, ``Pipeline.fit`` calls ``fit_transform`` on the
  training fold and ``Pipeline.score`` calls ``transform`` on the test fold. What each
  method does to which data is documented per class; read it before tuning the filter's
  own parameters in a search (see the warning in :class:`InteractionFilter`).

Anything removed is counted in the fitted attribute ``n_removed_`` and warned about with
a :class:`~skseqrec.exceptions.DataDropWarning` whenever a method returns fewer rows.
``polars`` input is converted to pandas; the output is pandas.
"""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from ._doclinks import doc_link_template
from .data import (
    TimeAxis,
    check_column,
    check_interactions,
    check_times,
    chronological_order,
    to_pandas,
)
from .exceptions import DataDropWarning, InvalidParameterError
from .params import AnyOf, Interval, Options, String, validate_params
from .protocol import user_stacklevel

__all__ = ["InteractionFilter", "TimeWindowFilter"]


class _RowFilter(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Shared tags, parameter and ``y`` checks and warnings of the row-dropping transformers.

    Subclasses declare ``_param_specs`` (parameter name -> :mod:`skseqrec.params` checker).
    """

    _param_specs: dict = {}

    _doc_link_module = "skseqrec"
    _doc_link_template = doc_link_template("skseqrec.preprocessing")

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.two_d_array = False
        tags.input_tags.string = True
        tags.input_tags.categorical = True
        tags.target_tags.required = False
        return tags

    def _check_params(self) -> None:
        validate_params(self, self._param_specs)

    def _reject_y(self, y) -> None:
        if y is not None:
            raise ValueError(
                f"{type(self).__name__} removes rows, so it cannot be used with y (y would no "
                "longer line up with X). Pass y=None and keep per-event values such as "
                "ratings in a column of X."
            )

    def _warn(self, where: str, n_rows: int, removed: dict, reasons: dict) -> None:
        total = sum(removed.values())
        if total:
            details = ", ".join(
                f"{count} {reasons[key]}" for key, count in removed.items() if count
            )
            warnings.warn(
                f"{type(self).__name__}.{where} removed {total} of {n_rows} rows: {details}.",
                DataDropWarning,
                stacklevel=user_stacklevel(),
            )


class InteractionFilter(_RowFilter, auto_wrap_output_keys=None):
    """Filter interactions by rating, duplicate (user, item) pairs and activity counts.

    The filters run in this order: keep rows with ``rating_col >= min_rating`` (e.g. the
    "positives only, rating >= 4" recipe), drop repeated (user, item) pairs keeping the
    chronologically first or last one, then drop rows of items with fewer than
    ``min_item_events`` rows and of users with fewer than ``min_user_events`` rows,
    items then users, repeated ``n_iterations`` times (None: until nothing changes, a
    true k-core).

    **What each method does** (a test fold must keep its users, so the user filter never
    runs on new data):

    * ``fit(X)`` runs all filters on ``X`` and learns ``kept_items_`` (items left in the
      filtered training data) and ``dropped_items_`` (items that the count filters removed
      from it). It returns ``self`` and does not warn.
    * ``fit_transform(X)`` (used by ``Pipeline.fit`` on the training data) returns the
      fully filtered ``X`` and warns with the counts in ``n_removed_``.
    * ``transform(X)`` (used at scoring/recommend time, e.g. on a test fold) applies the
      row filters (rating, duplicates) and drops the rows of ``dropped_items_``; it does
      not apply ``min_user_events`` and does not count events again. Items never seen
      during ``fit`` pass through (the recommender treats them as unknown).
      ``transform(X)`` on the fit data can therefore keep more rows than ``fit_transform``.

    .. warning::
       Filtering a test fold can remove a user's target row (its last row) and make an
       earlier row the target. Scores of Pipelines with different ``min_rating``,
       ``deduplicate`` or count thresholds are then computed on different targets and are
       not comparable; to tune these parameters, filter the data once before splitting.

    Parameters
    ----------
    min_user_events : int, default=1
        Rows a user needs to keep its rows (training data only).
    min_item_events : int, default=1
        Rows an item needs to keep its rows.
    rating_col : str or None, default=None
        Column holding a numeric rating (needed by ``min_rating``).
    min_rating : float or None, default=None
        Keep rows whose rating is ``>= min_rating``; None keeps all.
    deduplicate : {False, "first", "last"}, default=False
        Keep only the chronologically first (or last) row of each (user, item) pair.
    n_iterations : int or None, default=1
        Rounds of the item-then-user count filters; None repeats until stable.
    user_col, item_col, time_col : str
        Column names, default ``"user_id"``, ``"item_id"``, ``"timestamp"``.

    Attributes
    ----------
    n_removed_ : dict of str to int
        Rows of the fit data removed by each filter: ``"rating"``, ``"duplicate"``,
        ``"min_item_events"``, ``"min_user_events"``.
    kept_items_ : ndarray
        Sorted item ids left in the filtered fit data.
    dropped_items_ : ndarray
        Sorted item ids removed from the fit data by the count filters; ``transform``
        drops their rows.
    n_iterations_ : int
        Rounds of the count filters that were run.

    Raises
    ------
    InvalidParameterError
        Invalid parameter (the message names the class, the parameter and the value); a
        ``ValueError`` and a ``TypeError``.
    ValueError
        A ``y``, bad ``X`` (naming the column), or filters that remove every row of the
        fit data.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1, 1, 1, 2, 2, 3],
    ...                   "item_id": ["a", "b", "a", "a", "b", "c"],
    ...                   "timestamp": [0, 1, 2, 0, 1, 0]})
    >>> f = InteractionFilter(min_item_events=2, deduplicate="first")
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     out = f.fit_transform(X)
    >>> print(caught[0].message)
    InteractionFilter.fit_transform removed 2 of 6 rows: 1 repeating a (user, item) pair,
    1 of items with fewer than min_item_events rows.
    >>> out.index.tolist(), f.n_removed_
    ([0, 1, 3, 4], {'rating': 0, 'duplicate': 1, 'min_item_events': 1, 'min_user_events': 0})
    >>> f.dropped_items_.tolist()
    ['c']
    """

    _reasons = {
        "rating": "with a rating below min_rating",
        "duplicate": "repeating a (user, item) pair",
        "min_item_events": "of items with fewer than min_item_events rows",
        "min_user_events": "of users with fewer than min_user_events rows",
        "dropped_item": "of items removed at fit (dropped_items_)",
    }

    def __init__(
        self,
        *,
        min_user_events=1,
        min_item_events=1,
        rating_col=None,
        min_rating=None,
        deduplicate=False,
        n_iterations=1,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
    ):
        self.min_user_events = min_user_events
        self.min_item_events = min_item_events
        self.rating_col = rating_col
        self.min_rating = min_rating
        self.deduplicate = deduplicate
        self.n_iterations = n_iterations
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col

    _param_specs = {
        "min_user_events": Interval(int, 1),
        "min_item_events": Interval(int, 1),
        "rating_col": AnyOf(Options(None), String(), description="None or a column name"),
        "min_rating": Interval(float, allow_none=True),
        "deduplicate": Options(False, "first", "last"),
        "n_iterations": Interval(int, 1, allow_none=True),
        "user_col": String(),
        "item_col": String(),
        "time_col": String(),
    }

    # ---------------------------------------------------------------- helpers
    def _check_params(self) -> None:
        super()._check_params()
        if self.min_rating is not None and self.rating_col is None:
            raise InvalidParameterError(
                f"{type(self).__name__}: min_rating={self.min_rating!r} needs rating_col, the "
                "column holding the ratings."
            )

    def _row_filters(self, X):
        """Validated frame, encoded columns and the rating/duplicate masks."""
        frame = to_pandas(X)
        data = check_interactions(
            frame, user_col=self.user_col, item_col=self.item_col, time_col=self.time_col
        )
        n_rows = len(data)
        keep = np.ones(n_rows, dtype=bool)
        removed = {"rating": 0, "duplicate": 0}
        if self.min_rating is not None:
            ratings = check_column(frame, self.rating_col, role="rating", name="X")
            if pd.api.types.is_bool_dtype(ratings.dtype) or not pd.api.types.is_numeric_dtype(
                ratings.dtype
            ):
                raise TypeError(
                    f"Column {self.rating_col!r} of X (rating_col) has dtype {ratings.dtype}; "
                    "ratings must be numeric."
                )
            values = ratings.to_numpy(dtype=np.float64, na_value=np.nan)
            missing = np.isnan(values)
            if missing.any():
                raise ValueError(
                    f"Column {self.rating_col!r} of X (rating_col) has {int(missing.sum())} "
                    f"missing value(s) out of {n_rows} rows; drop or fill them first."
                )
            keep = values >= self.min_rating
            removed["rating"] = int(n_rows - keep.sum())
        users = pd.factorize(data.users)[0].astype(np.int64)
        items = pd.factorize(data.items)[0].astype(np.int64)
        if self.deduplicate:
            rows = np.flatnonzero(keep)
            rows = rows[chronological_order(users[rows], data.times[rows])]
            pairs = pd.Series(users[rows] * (int(items.max()) + 1) + items[rows])
            repeated = rows[pairs.duplicated(keep=self.deduplicate).to_numpy()]
            keep[repeated] = False
            removed["duplicate"] = len(repeated)
        return frame, data, users, items, keep, removed

    def _fit(self, X, y):
        self._reject_y(y)
        self._check_params()
        frame, data, users, items, keep, removed = self._row_filters(X)
        entering = keep.copy()
        removed.update(min_item_events=0, min_user_events=0)
        max_rounds = self.n_iterations if self.n_iterations is not None else len(keep) + 1
        rounds = 0
        if self.min_item_events > 1 or self.min_user_events > 1:
            while rounds < max_rounds:  # a few rounds over all rows, not a loop per user
                rounds += 1
                item_counts = np.bincount(items[keep], minlength=items.max() + 1)
                rare_item = keep & (item_counts[items] < self.min_item_events)
                keep &= ~rare_item
                user_counts = np.bincount(users[keep], minlength=users.max() + 1)
                rare_user = keep & (user_counts[users] < self.min_user_events)
                keep &= ~rare_user
                removed["min_item_events"] += int(rare_item.sum())
                removed["min_user_events"] += int(rare_user.sum())
                if not (rare_item.any() or rare_user.any()):
                    break
        if not keep.any():
            raise ValueError(
                f"{type(self).__name__} removed all {len(keep)} rows of X "
                f"({', '.join(f'{k}: {v}' for k, v in removed.items())}); relax the filters."
            )
        item_ids = pd.Series(data.items)
        self.kept_items_ = np.sort(item_ids[keep].unique())
        self.dropped_items_ = np.sort(
            item_ids[entering & ~item_ids.isin(self.kept_items_).to_numpy()].unique()
        )
        self.n_removed_ = removed
        self.n_iterations_ = rounds
        return frame, keep

    # ---------------------------------------------------------------- public
    def fit(self, X, y=None):
        """Learn the items to keep from ``X`` (running every filter on it).

        Parameters
        ----------
        X : pandas.DataFrame or polars.DataFrame
            Interactions.
        y : None
            Must be None (the filter changes the number of rows).

        Returns
        -------
        self : InteractionFilter
        """
        self._fit(X, y)
        return self

    def fit_transform(self, X, y=None, **fit_params):
        """Fit on ``X`` and return ``X`` with every filter applied (the training path).

        Parameters
        ----------
        X : pandas.DataFrame or polars.DataFrame
            Interactions.
        y : None
            Must be None.
        **fit_params : dict
            Not accepted; present for scikit-learn's signature.

        Returns
        -------
        pandas.DataFrame
            A copy of the kept rows, original index and columns.

        Warns
        -----
        DataDropWarning
            With the counts of ``n_removed_`` when rows are removed.
        """
        if fit_params:
            raise TypeError(f"Unexpected fit parameters {sorted(fit_params)!r}.")
        frame, keep = self._fit(X, y)
        self._warn("fit_transform", len(keep), self.n_removed_, self._reasons)
        return frame.iloc[np.flatnonzero(keep)].copy()

    def transform(self, X):
        """Apply the row filters and drop rows of ``dropped_items_`` (no user filter).

        Parameters
        ----------
        X : pandas.DataFrame or polars.DataFrame
            Interactions (e.g. a test fold or the histories to recommend for).

        Returns
        -------
        pandas.DataFrame
            A copy of the kept rows, original index and columns.

        Warns
        -----
        DataDropWarning
            With the counts per reason when rows are removed.
        """
        check_is_fitted(self)
        self._check_params()
        frame, data, _, _, keep, removed = self._row_filters(X)
        dropped = keep & pd.Series(data.items).isin(self.dropped_items_).to_numpy()
        keep &= ~dropped
        removed["dropped_item"] = int(dropped.sum())
        self._warn("transform", len(keep), removed, self._reasons)
        return frame.iloc[np.flatnonzero(keep)].copy()


class TimeWindowFilter(_RowFilter, auto_wrap_output_keys=None):
    """Keep interactions inside a time window ``start <= time < end``.

    The lower bound is ``start`` or, with ``last``, the latest time seen in ``fit`` minus
    ``last`` (e.g. the last 30 days of the training data). ``fit`` resolves the bounds
    (``start_``, ``end_``); ``transform`` keeps the rows of any frame inside them, the same
    way for training data and test folds. A test fold filtered by a lower bound loses old
    history rows, never a target that is inside the window.

    Parameters
    ----------
    start : scalar or None, default=None
        Inclusive lower bound: a number for numeric times, a ``pd.Timestamp``/datetime/
        string for datetime columns (a naive value is read in the column's time zone).
    end : scalar or None, default=None
        Exclusive upper bound, same kinds as ``start``.
    last : scalar or None, default=None
        Keep the last ``last`` of time before the latest fit time, bound included: a number
        for numeric times, a ``pd.Timedelta`` or string such as ``"30D"`` for datetimes.
        Cannot be combined with ``start``.
    time_col : str, default="timestamp"
        The time column (the only column read).

    Attributes
    ----------
    start_, end_ : scalar or None
        The resolved bounds in the column's terms (``pd.Timestamp`` or number).
    n_removed_ : dict of str to int
        Rows of the fit data outside the window: ``"before_start"``, ``"at_or_after_end"``.

    Raises
    ------
    InvalidParameterError
        Invalid or inconsistent bounds (the message names the class, the parameter and the
        value); a ``ValueError`` and a ``TypeError``.
    ValueError
        A ``y``, or a time column of another kind than at fit.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"timestamp": pd.to_datetime(["2024-01-01", "2024-01-20",
    ...                                                 "2024-02-01"])})
    >>> f = TimeWindowFilter(last="14D").fit(X)
    >>> f.start_
    Timestamp('2024-01-18 00:00:00')
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     kept = f.transform(X)
    >>> len(kept), str(caught[0].message)
    (2, 'TimeWindowFilter.transform removed 1 of 3 rows: 1 before start.')
    """

    _reasons = {
        "before_start": "before start",
        "at_or_after_end": "at or after end",
    }

    # start, end and last are checked against the time column's kind by TimeAxis at fit
    _param_specs = {"time_col": String()}

    def __init__(self, *, start=None, end=None, last=None, time_col="timestamp"):
        self.start = start
        self.end = end
        self.last = last
        self.time_col = time_col

    def _times(self, X):
        frame = to_pandas(X)
        series = check_column(frame, self.time_col, role="time", name="X")
        if len(frame) == 0:
            raise ValueError("X is empty (0 rows).")
        return frame, check_times(series, self.time_col, "X"), TimeAxis.of(series, self.time_col)

    def fit(self, X, y=None):
        """Resolve the window bounds on ``X``.

        Parameters
        ----------
        X : pandas.DataFrame or polars.DataFrame
            Frame with the time column.
        y : None
            Must be None.

        Returns
        -------
        self : TimeWindowFilter
        """
        owner = type(self).__name__
        self._reject_y(y)
        self._check_params()
        if self.start is not None and self.last is not None:
            raise InvalidParameterError(
                f"{owner}: pass start or last, not both (start={self.start!r}, last={self.last!r})."
            )
        _, times, axis = self._times(X)
        lower = None if self.start is None else axis.to_axis(self.start, "start", owner)
        upper = None if self.end is None else axis.to_axis(self.end, "end", owner)
        if self.last is not None:
            lower = times.max() - axis.to_duration(self.last, "last", owner)
        if lower is not None and upper is not None and lower >= upper:
            raise InvalidParameterError(
                f"{owner}: the window is empty: start {axis.from_axis(lower)!r} is not before "
                f"end {axis.from_axis(upper)!r}."
            )
        self._axis, self._lower, self._upper = axis, lower, upper
        self.start_ = None if lower is None else axis.from_axis(lower)
        self.end_ = None if upper is None else axis.from_axis(upper)
        self.n_removed_ = self._removed(times)[1]
        return self

    def _removed(self, times):
        early = np.zeros(len(times), bool) if self._lower is None else times < self._lower
        late = np.zeros(len(times), bool) if self._upper is None else times >= self._upper
        return ~(early | late), {
            "before_start": int(early.sum()),
            "at_or_after_end": int(late.sum()),
        }

    def transform(self, X):
        """Keep the rows of ``X`` inside the fitted window.

        Parameters
        ----------
        X : pandas.DataFrame or polars.DataFrame

        Returns
        -------
        pandas.DataFrame
            A copy of the kept rows, original index and columns.

        Warns
        -----
        DataDropWarning
            With the counts per side when rows are removed.
        """
        check_is_fitted(self)
        frame, times, axis = self._times(X)
        if axis.kind != self._axis.kind:
            raise ValueError(
                f"Column {self.time_col!r} of X holds {axis.kind}, but {type(self).__name__} "
                f"was fitted on {self._axis.kind}."
            )
        keep, removed = self._removed(times)
        self._warn("transform", len(keep), removed, self._reasons)
        return frame.iloc[np.flatnonzero(keep)].copy()

    def fit_transform(self, X, y=None, **fit_params):
        """Fit on ``X`` and return its rows inside the window.

        Parameters
        ----------
        X : pandas.DataFrame or polars.DataFrame
        y : None
            Must be None.
        **fit_params : dict
            Not accepted; present for scikit-learn's signature.

        Returns
        -------
        pandas.DataFrame
        """
        if fit_params:
            raise TypeError(f"Unexpected fit parameters {sorted(fit_params)!r}.")
        return self.fit(X, y).transform(X)
