"""PopularityRecommender's order: exact for any catalogue size, ties by item id."""

from __future__ import annotations

import joblib
import numpy as np
import pandas as pd
import pytest

from skseqrec import PopularityRecommender, SASRecClassifierEstimator
from skseqrec.exceptions import InvalidParameterError


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


def _dated(days, items, users=None):
    return pd.DataFrame(
        {
            "user_id": users if users is not None else np.arange(len(items)) % 3,
            "item_id": items,
            "timestamp": pd.Timestamp("2024-01-01") + pd.to_timedelta(days, unit="D"),
        }
    )


def test_period_counts_recent_events_and_breaks_ties_by_every_event():
    # "old" is the most popular over all events, "new" over the last 10 days; "mid" and
    # "gone" have no event in the period, "mid" more events overall
    items = ["old"] * 5 + ["mid"] * 2 + ["gone"] + ["new"] * 2 + ["old"]
    days = [0, 1, 2, 3, 4, 5, 6, 7, 95, 96, 97]
    X = _dated(days, items)
    every = PopularityRecommender().fit(X).recommend(None, users=[-1], top_k=4)
    assert every["item_id"].tolist() == ["old", "mid", "new", "gone"]
    recent = PopularityRecommender(period="10D").fit(X)
    assert recent.recommend(None, users=[-1], top_k=4)["item_id"].tolist() == [
        "new",
        "old",
        "mid",
        "gone",
    ]
    assert recent.period_start_ == (X["timestamp"].max() - pd.Timedelta("10D")).value
    # the same span as a number on a numeric time column (days as floats)
    numeric = X.assign(timestamp=np.asarray(days, dtype=float))
    as_number = PopularityRecommender(period=10).fit(numeric)
    np.testing.assert_array_equal(as_number.item_counts_, recent.item_counts_)
    np.testing.assert_array_equal(as_number.item_counts_all_, recent.item_counts_all_)


def test_period_that_does_not_fit_the_time_column_names_both():
    X = _dated([0, 1, 2], ["a", "b", "a"])
    with pytest.raises(ValueError, match=r"period=10 .*'timestamp'.*datetime"):
        PopularityRecommender(period=10).fit(X)
    numeric = X.assign(timestamp=[0, 1, 2])
    with pytest.raises(ValueError, match=r"period='5D' .*'timestamp'.*numeric"):
        PopularityRecommender(period="5D").fit(numeric)
    with pytest.raises(InvalidParameterError, match="period must be None, a number > 0"):
        PopularityRecommender(period=-3).fit(numeric)
    with pytest.raises(InvalidParameterError, match="period must be"):
        PopularityRecommender(period="soon").fit(X)


def test_period_model_round_trips_and_an_old_pickle_still_ranks(tmp_path):
    X = _dated([0, 1, 2, 30, 31], ["a", "a", "a", "b", "b"])
    model = PopularityRecommender(period=pd.Timedelta("7D")).fit(X)
    path = tmp_path / "pop.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    pd.testing.assert_frame_equal(
        loaded.recommend(None, users=[-1], top_k=2), model.recommend(None, users=[-1], top_k=2)
    )
    # a model saved before ``period`` existed: no item_counts_all_, no period
    old = PopularityRecommender().fit(X)
    state = old.__getstate__()
    del state["item_counts_all_"], state["period"], state["period_start_"]
    revived = PopularityRecommender.__new__(PopularityRecommender)
    revived.__setstate__(state)
    assert revived.period is None
    assert revived.recommend(None, users=[-1], top_k=2)["item_id"].tolist() == ["a", "b"]
