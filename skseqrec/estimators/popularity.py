"""Most-popular-items baseline."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd

from .. import params as P
from ..data import IdEncoder, to_pandas
from ._base import BaseRecommender

__all__ = ["PopularityRecommender"]


class PopularityRecommender(BaseRecommender):
    """Recommend the items with the most events in the training data.

    Shares the contract of the sequential estimators (``recommend``, ``predict``,
    ``predict_proba``, ``score``); the history is only used to exclude seen items.
    The ``score`` of an item is ``1 - rank / n_items`` (1 for the most popular item),
    exact for catalogues of any size up to 2**24 items.

    Parameters
    ----------
    period : number, timedelta, str or None, default=None
        None: count every training event. Otherwise count only the events of the last
        ``period`` before the latest training event (RecTools' ``PopularModel(period=)``):
        under a temporal split the items popular just before the cut-off are often the
        better guess (under Protocol TIME, NDCG@10 of the last 180 days on
        ml-1m-users1-2999 0.060 against 0.041 for every event; of the last 30 days on
        ml-100k 0.119 against 0.030, 83 test users; ``benchmarks/time_gaps.py``). A number is in
        the units of a numeric time column; a ``datetime.timedelta`` / ``pd.Timedelta``
        or a string ``pd.Timedelta`` reads (``"90D"``) needs a datetime time column. Items
        with the same count in the period are ranked by their count over every event,
        then by item id; every training item stays in the catalogue.
    user_col, item_col, time_col : str
        Column names.

    Attributes
    ----------
    classes_ : ndarray
    n_items_ : int
    n_users_seen_ : int
    n_dropped_users_ : int
        Always 0 (every user is kept).
    item_counts_ : ndarray
        Events per item code in ``period`` (every event when None; index 0 is padding).
    item_counts_all_ : ndarray
        Events per item code over every training event (the tie-breaker).
    period_start_ : float, int or None
        Time from which events count (as the time column holds it; datetimes as int64
        nanoseconds), None without ``period``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": ["a", "b", "b", "c"],
    ...                   "timestamp": [0, 1, 2, 3]})
    >>> PopularityRecommender().fit(X).recommend(X, top_k=1)["item_id"].tolist()
    ['c', 'a', 'b']

    Popularity over the last 30 days only:

    >>> X2 = pd.DataFrame({"user_id": [1, 1, 2, 2, 3], "item_id": ["a", "a", "a", "b", "b"],
    ...                    "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02",
    ...                                                 "2024-01-03", "2024-03-01",
    ...                                                 "2024-03-02"])})
    >>> PopularityRecommender(period="30D").fit(X2).item_counts_[1:].tolist()  # a, b
    [0, 2]
    """

    _param_specs = {
        "period": P.AnyOf(
            P.Interval(float, 0.0, closed="neither", allow_none=True),
            P.Duration(),
            description="None, a number > 0 or a positive timedelta",
        ),
        "user_col": P.String(),
        "item_col": P.String(),
        "time_col": P.String(),
    }

    def __init__(
        self, *, period=None, user_col="user_id", item_col="item_id", time_col="timestamp"
    ):
        self.period = period
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col

    def check_params(self) -> None:
        """Validate the parameters (``fit`` does it first); raise InvalidParameterError."""
        P.validate_params(self, self._param_specs)

    def fit(self, X, y=None):
        """Count events per item (in ``period``).

        Parameters
        ----------
        X : DataFrame
        y : array-like of shape (n_rows,), default=None
            Ignored, but checked like the other estimators' ``y`` (one finite value per row).

        Returns
        -------
        self
        """
        self.check_params()
        data = self._check(X, y)
        self.item_encoder_ = IdEncoder.from_values(data.items, data.item_dtype)
        codes = self.item_encoder_.encode(data.items)
        width = len(self.item_encoder_) + 1
        self.item_counts_all_ = np.bincount(codes, minlength=width)
        self.period_start_ = None
        if self.period is None:
            self.item_counts_ = self.item_counts_all_.copy()  # saved as its own tensor
        else:
            self.period_start_ = data.times.max() - self._period_in_time_units(X)
            recent = data.times >= self.period_start_
            self.item_counts_ = np.bincount(codes[recent], minlength=width)
        users = IdEncoder.from_values(data.users, data.user_dtype)
        self._remember_training_users(data, users)
        self.n_users_seen_ = len(users)
        self.n_dropped_users_ = 0
        return self

    def _period_in_time_units(self, X):
        """``period`` in the units of the time column (int64 ns for datetimes)."""
        column = to_pandas(X)[self.time_col]
        is_datetime = pd.api.types.is_datetime64_any_dtype(column.dtype) or isinstance(
            column.dtype, pd.DatetimeTZDtype
        )
        numeric = isinstance(self.period, numbers.Real)
        if numeric == is_datetime:
            kind = "a datetime" if is_datetime else "a numeric"
            wanted = "a timedelta or a string such as '90D'" if is_datetime else "a number"
            raise ValueError(
                f"period={self.period!r} does not fit the time column {self.time_col!r}, "
                f"{kind} column of dtype {column.dtype}: give {wanted}."
            )
        return self.period if numeric else pd.Timedelta(self.period).value

    def _popularity_keys(self):
        # a model pickled before ``period`` existed has no item_counts_all_
        every_event = getattr(self, "item_counts_all_", self.item_counts_)
        return (self.item_counts_[1:], every_event[1:])

    def _score_windows(self, windows, times):
        return self._fallback_scores().expand(len(windows), -1).clone()
