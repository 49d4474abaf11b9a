"""Hyper-parameter search: GridSearchCV & co. on skseqrec estimators, with no leak."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.experimental import enable_halving_search_cv  # noqa: F401
from sklearn.model_selection import (
    GridSearchCV,
    HalvingGridSearchCV,
    RandomizedSearchCV,
    cross_validate,
)
from sklearn.pipeline import Pipeline

from skseqrec import PopularityRecommender, SASRecClassifierEstimator, evaluate
from skseqrec.model_selection import (
    GlobalTemporalSplit,
    LeaveLastOut,
    UserKFold,
    make_ranking_scorer,
)
from skseqrec.preprocessing import InteractionFilter
from skseqrec.protocol import frame_holdout

FAST = dict(hidden_units=16, num_blocks=1, max_len=20, epochs=3, batch_size=64)


class RecordingSASRec(SASRecClassifierEstimator):
    """Remembers the rows every fit received (class-level, for n_jobs=1 searches)."""

    seen: list = []

    def fit(self, X, y=None, *, X_valid=None):
        RecordingSASRec.seen.append((X[["user_id", "item_id", "timestamp"]].copy(), X_valid))
        return super().fit(X, y, X_valid=X_valid)


@pytest.fixture(scope="module")
def interactions(world):
    return world[world["user_id"] < 120].reset_index(drop=True)


def _targets(X, test_index):
    test = X.iloc[test_index].sort_values(["user_id", "timestamp"], kind="stable")
    return test.groupby("user_id").tail(1)


@pytest.mark.parametrize(
    "cv",
    [LeaveLastOut(), GlobalTemporalSplit(), UserKFold(n_splits=2, random_state=0)],
    ids=lambda cv: type(cv).__name__,
)
def test_grid_search_never_trains_on_test_targets(interactions, cv):
    RecordingSASRec.seen = []
    search = GridSearchCV(
        RecordingSASRec(**FAST, early_stopping_patience=1, validation="last_event"),
        {"hidden_units": [8, 16]},
        cv=cv,
        refit=False,
        error_score="raise",
    ).fit(interactions)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    folds = list(cv.split(interactions))
    fits = RecordingSASRec.seen
    assert len(fits) == 2 * len(folds)
    for number, (fitted_rows, X_valid) in enumerate(fits):
        assert X_valid is None  # early stopping carves its data out of the training fold
        _, test_index = folds[number % len(folds)]
        targets = _targets(interactions, test_index)
        leaked = fitted_rows.merge(targets, on=["user_id", "item_id", "timestamp"])
        assert leaked.empty


def test_multi_metric_scoring_and_refit(interactions):
    scoring = {
        "ndcg": make_ranking_scorer("ndcg", k=10),
        "hr": make_ranking_scorer("hit_rate", k=10),
        "cov": make_ranking_scorer("coverage", k=10),
    }
    search = GridSearchCV(
        SASRecClassifierEstimator(**FAST),
        {"learning_rate": [0.001, 0.01]},
        cv=LeaveLastOut(),
        scoring=scoring,
        refit="ndcg",
    ).fit(interactions)
    assert {"mean_test_ndcg", "mean_test_hr", "mean_test_cov"} <= set(search.cv_results_)
    assert search.best_estimator_.n_epochs_ == 3
    assert (search.cv_results_["mean_test_hr"] >= search.cv_results_["mean_test_ndcg"]).all()


def test_parallel_search_and_pipeline(interactions):
    pipeline = Pipeline(
        [("filter", InteractionFilter(min_item_events=2)), ("model", PopularityRecommender())]
    )
    search = GridSearchCV(
        pipeline, {"filter__min_item_events": [1, 2]}, cv=LeaveLastOut(), n_jobs=2
    ).fit(interactions)
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()
    results = cross_validate(
        SASRecClassifierEstimator(**FAST),
        interactions,
        cv=UserKFold(n_splits=2, random_state=0),
        n_jobs=2,
        scoring=make_ranking_scorer("mrr"),
    )
    assert len(results["test_score"]) == 2


def test_randomized_and_halving_search(interactions):
    randomized = RandomizedSearchCV(
        SASRecClassifierEstimator(**FAST),
        {"dropout_rate": [0.0, 0.1, 0.2]},
        n_iter=2,
        cv=LeaveLastOut(),
        random_state=0,
    ).fit(interactions)
    assert len(randomized.cv_results_["params"]) == 2
    halving = HalvingGridSearchCV(
        SASRecClassifierEstimator(**FAST),
        {"hidden_units": [8, 16, 32]},
        resource="epochs",
        min_resources=1,
        max_resources=4,
        cv=LeaveLastOut(),
        factor=2,
    ).fit(interactions)
    assert set(halving.cv_results_["n_resources"]) <= {1, 2, 4}


def test_scorer_rejects_unknown_metric():
    with pytest.raises(ValueError, match="Unknown metric 'auc'"):
        make_ranking_scorer("auc")


@pytest.mark.parametrize("protocol", ["loo", "time"])
def test_evaluate_is_one_tidy_line(world, protocol):
    popular = evaluate(PopularityRecommender(), world, protocol=protocol, k=(10, 20))
    learned = evaluate(
        SASRecClassifierEstimator(**{**FAST, "epochs": 20, "learning_rate": 0.005}),
        world,
        protocol=protocol,
        k=(10, 20),
    )
    assert list(learned.columns) == [
        "protocol",
        "metric",
        "k",
        "value",
        "n_users",
        "n_targets",
        "n_cold_targets",
        "n_train_rows",
        "fit_seconds",
    ]
    assert set(learned["protocol"]) == {protocol}
    assert learned["n_users"].iloc[0] > 10
    hr = learned.query("metric == 'hit_rate' and k == 10")["value"].item()
    assert hr > popular.query("metric == 'hit_rate' and k == 10")["value"].item() + 0.3
    with pytest.raises(ValueError, match="protocol must be"):
        evaluate(PopularityRecommender(), world, protocol="random")


def test_score_never_sees_the_target_as_input(interactions):
    model = PopularityRecommender().fit(interactions)
    last = interactions.sort_values("timestamp").groupby("user_id").tail(1)
    # a popularity model excludes seen items; if the target were in the input history it
    # could never be recommended, so hits prove the target is held out of the input
    assert model.score(interactions) >= 0.0
    holdout = frame_holdout(model, interactions)
    history, targets = holdout.history, holdout.targets
    pairs = pd.DataFrame(
        {"user_code": np.repeat(history.users, history.lengths), "item": history.items}
    )
    assert len(targets) == len(last)
    assert history.n_events == len(interactions) - len(last)
    del pairs
