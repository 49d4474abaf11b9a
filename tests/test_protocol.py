"""One protocol: every entry point gives the same number for the same model, data and users."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skseqrec import PopularityRecommender, SASRecClassifierEstimator, evaluate
from skseqrec.data import build_sequences
from skseqrec.datasets import load_ml_latest_small
from skseqrec.model_selection import (
    GlobalTemporalSplit,
    LeaveLastOut,
    make_ranking_scorer,
    time_validation_split,
)
from skseqrec.protocol import (
    first_after_holdout,
    frame_holdout,
    last_event_holdout,
    score_holdout,
    time_cutoff,
)

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the benchmarks package
from benchmarks import run as harness  # noqa: E402


@pytest.fixture(scope="module")
def small_movies() -> pd.DataFrame:
    """Real data with cold targets: the last 12,000 ratings of ml-latest-small (81 users)."""
    X = load_ml_latest_small()
    recent = X.sort_values("timestamp", kind="stable").tail(12_000).sort_index()
    return recent.reset_index(drop=True)


def _model():
    return SASRecClassifierEstimator(
        hidden_units=32,
        num_blocks=1,
        max_len=20,
        epochs=6,
        batch_size=32,
        learning_rate=0.005,
        random_state=0,
        # 13 TIME test users come back months after the cut-off; six epochs of a gap model
        # rank none of their targets, and this test needs a hit to tell the entry points
        # apart (the request time each passes: tests/estimators/test_gap_conditioning.py)
        gap_conditioning=False,
    )


# a user whose only training event is held out has no training sequence: counted, expected
pytestmark = pytest.mark.filterwarnings("ignore:.*single event:skseqrec.exceptions.DataDropWarning")


@pytest.mark.parametrize("protocol", ["loo", "time"])
def test_every_entry_point_gives_one_number(small_movies, protocol):
    """score(), the scorer, evaluate() and the benchmark harness: the same NDCG@10."""
    X = small_movies
    splitter = LeaveLastOut() if protocol == "loo" else GlobalTemporalSplit(test_quantile=0.05)
    train_index, test_index = next(splitter.split(X))
    model = _model().fit(X.iloc[train_index])
    test = X.iloc[test_index]

    from_score = model.score(test)
    from_scorer = make_ranking_scorer("ndcg", k=10)(model, test)
    table = evaluate(model, X, protocol, k=(10, 20), fit=False)
    from_evaluate = table.query("metric == 'ndcg' and k == 10")["value"].item()
    from_harness = harness.evaluate(model, X, protocol)[0]["ndcg@10"]

    assert from_score == from_scorer == from_evaluate == from_harness
    assert from_score > 0.0
    # the same users: every test user is evaluated, cold targets included (as misses)
    n_test_users = test["user_id"].nunique()
    assert table["n_users"].iloc[0] == n_test_users
    assert harness.evaluate(model, X, protocol)[1] == n_test_users
    holdout = frame_holdout(model, test)
    assert table["n_cold_targets"].iloc[0] == int((holdout.targets == 0).sum())


def test_harness_splits_with_the_package_cut_rule(small_movies):
    """The benchmark's TIME cut-off is the package's (it once landed one event earlier)."""
    X = small_movies
    fit, valid, context, targets, test_fold, cutoff = harness.split(X, "time")
    assert cutoff == GlobalTemporalSplit(test_quantile=0.05).get_cutoffs(X)[0]
    assert cutoff == time_cutoff(X["timestamp"].to_numpy(), 0.05)
    assert (fit["timestamp"] < cutoff).all() and valid is None
    assert (targets["timestamp"] >= cutoff).all()
    # LOO: selection data ends one event earlier than the final model's
    fit, valid, context, targets, _, _ = harness.split(X, "loo")
    assert len(context) == len(X) - X["user_id"].nunique()
    n_with_history = int((context.groupby("user_id").size() >= 2).sum())
    assert len(fit) == len(context) - n_with_history


def test_fit_time_validation_is_the_protocol(small_movies):
    """The validation NDCG recorded during fit equals score() of the same X_valid."""
    X = small_movies
    train_index, test_index = next(LeaveLastOut().split(X))
    model = _model().set_params(early_stopping_patience=100, restore_best_weights=False, epochs=2)
    model.fit(X.iloc[train_index], X_valid=X.iloc[test_index])
    assert model.history_["valid_ndcg@10"].iloc[-1] == model.score(X.iloc[test_index])


def test_cold_targets_policy_is_counted(small_movies):
    X = small_movies
    train_index, test_index = next(LeaveLastOut().split(X))
    model = PopularityRecommender().fit(X.iloc[train_index])
    holdout = frame_holdout(model, X.iloc[test_index])
    n_cold = int((holdout.targets == 0).sum())
    assert n_cold > 0  # real data: some last items were never rated before
    miss = score_holdout(model, holdout, cold_targets="miss")
    with pytest.warns(Warning, match=f"{n_cold} of {len(holdout)} evaluated users"):
        excluded = score_holdout(model, holdout, cold_targets="exclude")
    assert miss.n_cold_targets == excluded.n_cold_targets == n_cold
    assert miss.n_evaluated_users == len(holdout)
    assert excluded.n_evaluated_users == len(holdout) - n_cold
    # excluding users whose target can never be hit raises the mean by exactly that share
    assert excluded.values["ndcg@10"] == pytest.approx(
        miss.values["ndcg@10"] * len(holdout) / (len(holdout) - n_cold)
    )
    with pytest.warns(Warning, match=f"{n_cold} of {len(holdout)} evaluated users"):
        table = evaluate(PopularityRecommender(), X, "loo", k=10, cold_targets="exclude")
    assert table["n_cold_targets"].iloc[0] == n_cold
    assert table["n_users"].iloc[0] == len(holdout) - n_cold


def test_holdouts_follow_the_written_rules():
    users = np.array([1, 1, 1, 2, 2, 3])
    items = np.array([10, 11, 12, 20, 21, 30])
    times = np.array([0, 5, 9, 1, 8, 2])
    sequences = build_sequences(users, items, times)
    train, holdout = last_event_holdout(sequences)
    assert holdout.targets.tolist() == [12, 21]  # user 3 has one event: not evaluated
    assert holdout.target_times.tolist() == [9, 8]
    assert train.items.tolist() == [10, 11, 20, 30]
    cutoff = time_cutoff(times, 0.34)  # ceil(0.34 * 6) = 3 events at or after it
    assert cutoff == 5
    train, holdout = first_after_holdout(sequences, cutoff)
    assert holdout.targets.tolist() == [11, 21]  # each user's first event at/after 5
    assert holdout.history.items.tolist() == [10, 20]
    assert (train.times < cutoff).all()


def test_validation_split_helper_uses_the_same_cut(small_movies):
    X = small_movies
    train_index, _ = time_validation_split(X, fraction=0.1)
    cutoff = time_cutoff(X["timestamp"].to_numpy(), 0.1)
    assert (X["timestamp"].to_numpy()[train_index] < cutoff).all()
    assert len(train_index) == int((X["timestamp"] < cutoff).sum())
