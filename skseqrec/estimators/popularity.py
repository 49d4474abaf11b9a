"""Most-popular-items baseline."""

from __future__ import annotations

import numpy as np

from .. import params as P
from ..data import IdEncoder
from ._base import BaseRecommender

__all__ = ["PopularityRecommender"]


class PopularityRecommender(BaseRecommender):
    """Recommend the items with the most events in the training data.

    Shares the contract of the sequential estimators (``recommend``, ``predict``,
    ``predict_proba``, ``score``); the history is only used to exclude seen items.
    Ties are broken by item id order. The ``score`` of an item is ``1 - rank / n_items``
    (1 for the most popular item), exact for catalogues of any size up to 2**24 items.

    Parameters
    ----------
    user_col, item_col, time_col : str
        Column names.

    Attributes
    ----------
    classes_ : ndarray
    n_items_ : int
    n_users_seen_ : int
    n_dropped_users_ : int
        Always 0 (every event counts).
    item_counts_ : ndarray
        Events per item code (index 0 is padding).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": ["a", "b", "b", "c"],
    ...                   "timestamp": [0, 1, 2, 3]})
    >>> PopularityRecommender().fit(X).recommend(X, top_k=1)["item_id"].tolist()
    ['c', 'a', 'b']
    """

    _param_specs = {"user_col": P.String(), "item_col": P.String(), "time_col": P.String()}

    def __init__(self, *, user_col="user_id", item_col="item_id", time_col="timestamp"):
        self.user_col = user_col
        self.item_col = item_col
        self.time_col = time_col

    def check_params(self) -> None:
        """Validate the parameters (``fit`` does it first); raise InvalidParameterError."""
        P.validate_params(self, self._param_specs)

    def fit(self, X, y=None):
        """Count events per item.

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
        self.item_counts_ = np.bincount(
            self.item_encoder_.encode(data.items), minlength=len(self.item_encoder_) + 1
        )
        users = IdEncoder.from_values(data.users, data.user_dtype)
        self._remember_training_users(data, users)
        self.n_users_seen_ = len(users)
        self.n_dropped_users_ = 0
        return self

    def _score_windows(self, windows, times):
        return self._fallback_scores().expand(len(windows), -1).clone()
