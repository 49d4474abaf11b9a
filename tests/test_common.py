"""The shared contract, run on every public estimator.

scikit-learn's data-free API checks run one by one (its array-based checks cannot feed
interaction frames, see ../shared/references/SKLEARN.md), then our own checks on a tiny
interaction frame.
"""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils import estimator_checks as checks

import skseqrec
from skseqrec import (
    BERT4RecEstimator,
    ESASRecEstimator,
    GSASRecEstimator,
    HSTUEstimator,
    MLPRankerEstimator,
    PopularityRecommender,
    SASRecClassifierEstimator,
    SASRecRegressorEstimator,
    SequentialTransformerEstimator,
    TwoStageRecommender,
)

FAST = dict(hidden_units=8, num_blocks=1, max_len=8, epochs=2, batch_size=8)

#: every ranking estimator (the regressor predicts ratings and has its own checks)
ESTIMATORS = [
    PopularityRecommender(),
    SASRecClassifierEstimator(**FAST),
    ESASRecEstimator(**FAST, num_negatives=8),
    GSASRecEstimator(**FAST, num_negatives=8),
    BERT4RecEstimator(**FAST),
    HSTUEstimator(**FAST, num_negatives=8),
    SequentialTransformerEstimator(**FAST, num_heads=2, num_negatives=8),
    TwoStageRecommender(
        retriever=SASRecClassifierEstimator(**FAST),
        ranker=MLPRankerEstimator(hidden_layer_sizes=(8,), epochs=1),
        n_candidates=5,
    ),
]
REGRESSOR = SASRecRegressorEstimator(**FAST)
#: a stage of TwoStageRecommender, fitted on candidate lists rather than interaction
#: frames: scikit-learn's data-free checks only (tests/test_two_stage.py has the rest)
RANKER = MLPRankerEstimator()


def test_every_public_estimator_is_checked():
    checked = {type(e).__name__ for e in [*ESTIMATORS, REGRESSOR, RANKER]}
    public = {name for name in skseqrec.__all__ if name.endswith(("Estimator", "Recommender"))}
    assert public == checked


def _id(estimator):
    return type(estimator).__name__


SKLEARN_API_CHECKS = [
    checks.check_estimator_cloneable,
    checks.check_estimator_repr,
    checks.check_no_attributes_set_in_init,
    checks.check_parameters_default_constructible,
    checks.check_get_params_invariance,
    checks.check_set_params,
    checks.check_do_not_raise_errors_in_init_or_set_params,
    checks.check_estimator_tags_renamed,
    checks.check_valid_tag_types,
    checks.check_mixin_order,
]


@pytest.mark.parametrize("estimator", [*ESTIMATORS, REGRESSOR, RANKER], ids=_id)
@pytest.mark.parametrize("check", SKLEARN_API_CHECKS, ids=lambda c: c.__name__)
def test_sklearn_api_checks(estimator, check):
    check(type(estimator).__name__, clone(estimator))


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
def test_exported_and_keyword_only(estimator):
    assert type(estimator).__name__ in skseqrec.__all__
    with pytest.raises(TypeError):
        type(estimator)(1)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
def test_tags_say_dataframe_input(estimator):
    tags = estimator.__sklearn_tags__()
    assert tags.input_tags.two_d_array is False
    assert tags.target_tags.required is False


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
def test_fit_returns_self_and_keeps_params(estimator, tiny):
    estimator = clone(estimator)
    before = {
        k: (v if not hasattr(v, "get_params") else repr(v))
        for k, v in estimator.get_params().items()
    }
    assert estimator.fit(tiny) is estimator
    after = {
        k: (v if not hasattr(v, "get_params") else repr(v))
        for k, v in estimator.get_params().items()
    }
    assert before == after


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
@pytest.mark.parametrize("method", ["recommend", "predict", "predict_proba", "score"])
def test_not_fitted_errors(estimator, method, tiny):
    if not hasattr(estimator, method):  # TwoStageRecommender ranks candidates only
        assert method == "predict_proba" and isinstance(estimator, TwoStageRecommender)
        return
    with pytest.raises(NotFittedError):
        getattr(clone(estimator), method)(tiny)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
def test_refit_forgets_previous_data(estimator, tiny):
    estimator = clone(estimator).fit(tiny)
    other = tiny.assign(item_id="z" + tiny["item_id"])
    estimator.fit(other)
    assert set(estimator.classes_) == set(other["item_id"])


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
def test_clone_of_fitted_is_unfitted(estimator, tiny):
    fitted = clone(estimator).fit(tiny)
    fresh = clone(fitted)
    with pytest.raises(NotFittedError):
        fresh.recommend(tiny)

    def shown(params):  # nested estimators are cloned, hence compared by repr
        return {k: repr(v) if hasattr(v, "get_params") else v for k, v in params.items()}

    assert shown(fresh.get_params()) == shown(fitted.get_params())


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
def test_pickle_round_trip_gives_identical_output(estimator, tiny):
    fitted = clone(estimator).fit(tiny)
    loaded = pickle.loads(pickle.dumps(fitted))
    pd.testing.assert_frame_equal(loaded.recommend(tiny, top_k=5), fitted.recommend(tiny, top_k=5))
    np.testing.assert_array_equal(loaded.predict(tiny), fitted.predict(tiny))
    assert loaded.score(tiny) == fitted.score(tiny)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
def test_same_random_state_same_recommendations(estimator, tiny):
    first = clone(estimator).fit(tiny).recommend(tiny, top_k=5)
    second = clone(estimator).fit(tiny).recommend(tiny, top_k=5)
    pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
def test_row_order_does_not_matter(estimator, tiny):
    # unique times per user, so shuffling cannot reorder tied events
    first = clone(estimator).fit(tiny).recommend(tiny, top_k=5)
    shuffled = tiny.sample(frac=1.0, random_state=3)
    second = clone(estimator).fit(shuffled).recommend(shuffled, top_k=5)
    pd.testing.assert_frame_equal(first, second)


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
def test_output_shapes_and_dtypes(estimator, tiny):
    fitted = clone(estimator).fit(tiny)
    recs = fitted.recommend(tiny, top_k=3)
    assert list(recs.columns) == ["user_id", "item_id", "score", "rank"]
    assert recs.groupby("user_id").size().eq(3).all()
    assert recs["user_id"].dtype == tiny["user_id"].dtype
    assert recs["item_id"].dtype == tiny["item_id"].dtype
    assert recs.groupby("user_id")["score"].apply(lambda s: s.is_monotonic_decreasing).all()
    assert len(fitted.predict(tiny)) == len(tiny)
    if hasattr(fitted, "predict_proba"):  # not TwoStageRecommender (candidates only)
        proba = fitted.predict_proba(tiny)
        assert proba.shape == (len(tiny), len(fitted.classes_))
        np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)
    assert 0.0 <= fitted.score(tiny) <= 1.0
    assert list(fitted.classes_) == sorted(tiny["item_id"].unique())


@pytest.mark.parametrize("dtype", ["object", "str", "category", "int32", "Int64"])
def test_recommend_keeps_id_dtypes(dtype, tiny):
    """Output ids come back in the caller's dtype (pandas 3 must not turn object into str)."""
    data = tiny.copy()
    for column in ("user_id", "item_id"):
        codes = pd.factorize(data[column])[0] + 100
        values = codes if dtype in ("int32", "Int64") else [f"id{c}" for c in codes]
        data[column] = pd.Series(values, index=data.index).astype(dtype)
    recs = PopularityRecommender().fit(data).recommend(data, top_k=2)
    assert recs["user_id"].dtype == data["user_id"].dtype
    assert recs["item_id"].dtype == data["item_id"].dtype
    assert set(recs["item_id"]) <= set(data["item_id"])


@pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
def test_column_names_are_parameters(estimator, tiny):
    renamed = tiny.rename(columns={"user_id": "u", "item_id": "i", "timestamp": "t"})
    fitted = clone(estimator).set_params(user_col="u", item_col="i", time_col="t").fit(renamed)
    assert list(fitted.recommend(renamed, top_k=2).columns) == ["u", "i", "score", "rank"]
    with pytest.raises(ValueError, match="'user_id'"):
        clone(estimator).fit(renamed)


def _ratings(frame):
    return (pd.factorize(frame["item_id"])[0] % 5 + 1).astype(float)


def test_regressor_contract(tiny):
    y = _ratings(tiny)
    fitted = clone(REGRESSOR).fit(tiny, y)
    predicted = fitted.predict(tiny)
    assert predicted.shape == (len(tiny),) and np.isfinite(predicted).all()
    assert fitted.score(tiny, y) <= 0.0
    with pytest.raises(ValueError, match="y"):
        clone(REGRESSOR).fit(tiny)
    with pytest.raises(ValueError, match="y"):
        fitted.score(tiny)
    recs = fitted.recommend(tiny, top_k=3)
    assert recs.groupby("user_id").size().eq(3).all()
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_array_equal(again.predict(tiny), predicted)
    # y-free ranking models reject nothing, but the regressor needs one rating per row
    with pytest.raises(ValueError, match="59"):
        clone(REGRESSOR).fit(tiny, y[:59])
