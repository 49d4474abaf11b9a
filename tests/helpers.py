"""Small evaluation helpers for tests (plain pandas, independent of skseqrec.metrics)."""

from __future__ import annotations

import pandas as pd


def split_last(X: pd.DataFrame, user_col="user_id", time_col="timestamp"):
    """(everything but each user's last event, each user's last event) - Protocol LOO."""
    order = X.sort_values([user_col, time_col], kind="stable")
    last = order.groupby(user_col).cumcount(ascending=False) == 0
    return order[~last], order[last]


def hit_rate(
    recommendations: pd.DataFrame, targets: pd.DataFrame, user_col="user_id", item_col="item_id"
) -> float:
    merged = recommendations.merge(targets[[user_col, item_col]], on=[user_col, item_col])
    return merged[user_col].nunique() / targets[user_col].nunique()
