"""PopularityRecommender's order: exact for any catalogue size, ties by item id."""

from __future__ import annotations

import numpy as np
import pandas as pd

from skseqrec import PopularityRecommender, SASRecClassifierEstimator


def test_order_is_exact_on_a_large_catalogue():
    """A tie-break offset proportional to the item index once ranked a less popular item
    first once the catalogue was large (300,000 items here)."""
    n = 300_000
    items = np.concatenate([np.arange(n), np.full(5, n - 1), np.full(4, 0), np.full(4, 7)])
    X = pd.DataFrame(
        {
            "user_id": np.arange(len(items)) % 997,
            "item_id": items,
            "timestamp": np.arange(len(items)),
        }
    )
    recs = PopularityRecommender().fit(X).recommend(None, users=[-1], top_k=4)
    # 6 events, then 5 and 5 (tie: lower id first), then the 1-event items by id
    assert recs["item_id"].tolist() == [n - 1, 0, 7, 1]
    assert recs["score"].is_monotonic_decreasing and recs["score"].iloc[0] == 1.0


def test_users_without_history_get_ties_in_id_order(world):
    model = SASRecClassifierEstimator(hidden_units=8, num_blocks=1, max_len=8, epochs=1).fit(world)
    counts = pd.Series(model.item_counts_[1:], index=model.classes_)
    expected = counts.sort_index().sort_values(ascending=False, kind="stable").index[:10]
    recs = model.recommend(None, users=["new"], top_k=10)
    assert recs["item_id"].tolist() == expected.tolist()
    assert (
        recs["item_id"].tolist()
        == (
            PopularityRecommender().fit(world).recommend(None, users=["new"], top_k=10)["item_id"]
        ).tolist()
    )
