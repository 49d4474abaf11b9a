"""scikit-learn details that are easy to get almost right.

``predict_proba`` only where it applies; tags that say what is true; one error type for
bad parameters; warnings that point at the caller's line; scorers in scikit-learn's
curve displays; leak warnings for row-level ``cv``; ``X_valid`` through searches (with
and without metadata routing); recommending through pipelines and searches; users
without history.
"""

from __future__ import annotations

import inspect
import json
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
import sklearn
import torch
from sklearn.base import is_classifier, is_regressor
from sklearn.model_selection import (
    GridSearchCV,
    KFold,
    LearningCurveDisplay,
    ValidationCurveDisplay,
    cross_validate,
)
from sklearn.pipeline import make_pipeline
from sklearn.utils import get_tags

import skseqrec
from skseqrec import (
    PopularityRecommender,
    SASRecClassifierEstimator,
    SASRecRegressorEstimator,
    evaluate,
    recommend,
)
from skseqrec.datasets import make_sequential_world
from skseqrec.estimators import BaseRecommender, TransformerRecommender
from skseqrec.exceptions import (
    DataDropWarning,
    DeviceWarning,
    InvalidParameterError,
    LeakWarning,
    SkseqrecWarning,
    VersionMismatchWarning,
)
from skseqrec.model_selection import (
    GlobalTemporalSplit,
    LeaveLastOut,
    UserKFold,
    last_event_validation_split,
    make_ranking_scorer,
    time_validation_split,
)
from skseqrec.preprocessing import InteractionFilter
from skseqrec.training import Callback

#: small, fast settings; each estimator takes the ones its constructor has
FAST = dict(hidden_units=8, num_blocks=1, num_heads=2, max_len=8, epochs=1, batch_size=16)


def _public(module, base):
    return sorted(
        {
            getattr(module, name)
            for name in module.__all__
            if isinstance(getattr(module, name), type) and issubclass(getattr(module, name), base)
        },
        key=lambda cls: cls.__name__,
    )


ESTIMATORS = _public(skseqrec, BaseRecommender)
#: MLPRankerEstimator: a stage of TwoStageRecommender (fitted on candidate lists)
TORCH = _public(skseqrec, TransformerRecommender)
#: estimators that rank items (the regressor predicts ratings)
CLASSIFIERS = [cls for cls in ESTIMATORS if cls is not SASRecRegressorEstimator]


def _name(cls):
    return cls.__name__


def fast(cls, **params):
    names = cls().get_params()
    return cls(**{k: v for k, v in {**FAST, **params}.items() if k in names})


def ratings(X) -> np.ndarray:
    return (np.asarray(X["item_id"]) % 5 + 1).astype(float)


def fit(estimator, X):
    y = ratings(X) if isinstance(estimator, SASRecRegressorEstimator) else None
    return estimator.fit(X, y)


@pytest.fixture(scope="module")
def X() -> pd.DataFrame:
    """40 users, 5..8 events each over 20 int items, rows sorted by user then time."""
    return make_sequential_world(n_users=40, n_items=20, min_length=5, max_length=8, random_state=0)


@pytest.fixture(scope="module")
def sasrec(X):
    return fast(SASRecClassifierEstimator).fit(X)


def test_the_lists_cover_every_public_estimator():
    assert len(ESTIMATORS) == 9 and len(TORCH) == 7
    assert skseqrec.TwoStageRecommender in ESTIMATORS
    assert SASRecRegressorEstimator in TORCH and PopularityRecommender in CLASSIFIERS


# ------------------------------------------------------------------ 1. predict_proba
def test_predict_proba_only_where_it_applies(X):
    assert not hasattr(SASRecRegressorEstimator(), "predict_proba")
    regressor = fast(SASRecRegressorEstimator).fit(X, ratings(X))
    assert not hasattr(regressor, "predict_proba")
    with pytest.raises(AttributeError, match="predict_proba"):
        regressor.predict_proba(X)
    for cls in CLASSIFIERS:
        # the two-stage model scores its candidates only: no catalogue probabilities
        assert hasattr(cls(), "predict_proba") != (cls is skseqrec.TwoStageRecommender)
    popular = PopularityRecommender().fit(X)
    proba = popular.predict_proba(X)
    assert proba.shape == (len(X), popular.n_items_)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0, rtol=1e-5)


# ------------------------------------------------------------------------- 2. tags
@pytest.mark.parametrize("cls", ESTIMATORS, ids=_name)
def test_tags_say_what_is_true(cls):
    estimator = cls()
    tags = get_tags(estimator)
    assert tags.input_tags.two_d_array is False
    if cls is SASRecRegressorEstimator:
        assert tags.estimator_type == "regressor"
        assert tags.target_tags.required is True
        assert tags.regressor_tags is not None and tags.classifier_tags is None
        assert is_regressor(estimator) and not is_classifier(estimator)
    else:
        assert tags.estimator_type == "classifier"
        assert tags.target_tags.required is False
        assert tags.classifier_tags is not None and tags.regressor_tags is None
        assert is_classifier(estimator) and not is_regressor(estimator)


# ---------------------------------------------------------------------- 3. verbose
@pytest.mark.parametrize("cls", TORCH, ids=_name)
def test_verbose_true_is_accepted(cls, X, capsys):
    estimator = fit(fast(cls, verbose=True), X)
    assert estimator.n_epochs_ == 1
    assert cls.__name__ in capsys.readouterr().err  # the progress bar ran


# ------------------------------------------------------------ 4. one error type
class Bad:
    """A value no parameter accepts."""

    def __repr__(self) -> str:
        return "<Bad>"


def _validate(instance, X):
    """Run the method that validates ``instance``'s parameters."""
    if hasattr(instance, "check_params"):
        instance.check_params()
    elif hasattr(instance, "split"):
        list(instance.split(X))
    else:
        instance.fit(X)


PUBLIC_CLASSES = [
    *ESTIMATORS,
    skseqrec.MLPRankerEstimator,
    TransformerRecommender,
    *_public(skseqrec.model_selection, object),
    *_public(skseqrec.preprocessing, object),
]


def test_every_public_class_is_checked():
    names = {cls.__name__ for cls in PUBLIC_CLASSES}
    assert {"LeaveLastOut", "GlobalTemporalSplit", "UserKFold"} <= names
    assert {"InteractionFilter", "TimeWindowFilter"} <= names
    assert issubclass(InvalidParameterError, ValueError)
    assert issubclass(InvalidParameterError, TypeError)


@pytest.mark.parametrize("cls", PUBLIC_CLASSES, ids=_name)
def test_bad_parameter_raises_invalid_parameter_error_naming_it(cls, X):
    names = [p for p in inspect.signature(cls.__init__).parameters if p != "self"]
    assert names
    wrong = {}
    for name in names:
        try:
            _validate(cls(**{name: Bad()}), X)
        except InvalidParameterError as exc:
            if name not in str(exc) or cls.__name__ not in str(exc):
                wrong[name] = str(exc)
        except Exception as exc:  # noqa: BLE001 - any other type is the failure reported
            wrong[name] = f"{type(exc).__name__}: {exc}"
        else:
            wrong[name] = "accepted"
    assert not wrong, wrong


@pytest.mark.parametrize("function", [last_event_validation_split, time_validation_split])
def test_bad_argument_of_a_split_function(function, X):
    for name in [p for p in inspect.signature(function).parameters if p != "X"]:
        with pytest.raises(InvalidParameterError, match=name):
            function(X, **{name: Bad()})


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("protocol", "random"),
        ("k", 0),
        ("k", (10, 0)),
        ("k", ()),
        ("k", 2.5),
        ("fit", "yes"),
        ("test_quantile", 1.5),
        ("n_steps", 0),
        ("n_steps", True),
        ("cold_targets", "drop"),
    ],
)
def test_bad_argument_of_evaluate(name, value, X):
    with pytest.raises(InvalidParameterError, match=rf"evaluate: {name}\b"):
        evaluate(PopularityRecommender(), X, **{name: value})


def test_evaluate_rejects_steps_under_time_as_a_parameter_error(X):
    with pytest.raises(InvalidParameterError, match="n_steps > 1 needs protocol='loo'"):
        evaluate(PopularityRecommender(), X, protocol="time", n_steps=2)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("metric", "auc"),
        ("k", 0),
        ("k", 3.0),
        ("k", True),
        ("exclude_seen", "yes"),
        ("cold_targets", "drop"),
    ],
)
def test_bad_argument_of_make_ranking_scorer(name, value):
    with pytest.raises(InvalidParameterError, match=rf"make_ranking_scorer: .*{name}"):
        make_ranking_scorer(**{name: value})


# ------------------------------------------------- 5. warnings point at the user
def _warnings_of(action, category):
    """Run ``action``; return the ``category`` warnings it emitted (at least one)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        action()
    found = [w for w in caught if issubclass(w.category, category)]
    assert found, [str(w.message) for w in caught]
    return found


def _assert_here(found):
    """Every warning points at a line of this file (the caller), not inside a library."""
    places = [(w.filename, w.lineno, str(w.message)[:60]) for w in found]
    assert all(w.filename == __file__ for w in found), places


def _with_single_event_user(X):
    extra = pd.DataFrame({"user_id": [999], "item_id": [1], "timestamp": [3]})
    return pd.concat([X, extra], ignore_index=True)


def test_fit_warning_points_at_the_user(X):
    one = _with_single_event_user(X)
    found = _warnings_of(lambda: fast(SASRecClassifierEstimator).fit(one), DataDropWarning)
    assert "single event" in str(found[0].message)
    _assert_here(found)


def test_recommend_warning_points_at_the_user(sasrec, X):
    unknown = X.assign(item_id=X["item_id"].where(X.index % 7 != 0, 12345))
    found = _warnings_of(lambda: sasrec.recommend(unknown, top_k=3), DataDropWarning)
    assert any("unknown to the fitted model" in str(w.message) for w in found)
    _assert_here(found)


def test_score_warning_points_at_the_user(sasrec, X):
    one = _with_single_event_user(X)
    _assert_here(_warnings_of(lambda: sasrec.score(one), DataDropWarning))


def test_scorer_warning_points_at_the_user(sasrec, X):
    one = _with_single_event_user(X)
    scorer = make_ranking_scorer("ndcg", k=10)
    _assert_here(_warnings_of(lambda: scorer(sasrec, one), DataDropWarning))


def test_scorer_warning_inside_cross_validate_points_at_the_user(X):
    # one user's last item occurs nowhere else: a cold target, left out by "exclude"
    cold = X.copy()
    cold.loc[cold.index[-1], "item_id"] = 12345
    scorer = make_ranking_scorer("ndcg", k=10, cold_targets="exclude")
    found = _warnings_of(
        lambda: cross_validate(PopularityRecommender(), cold, cv=LeaveLastOut(), scoring=scorer),
        DataDropWarning,
    )
    assert any("left out (cold_targets='exclude')" in str(w.message) for w in found)
    _assert_here(found)


def test_x_valid_warning_points_at_the_user(X):
    # user 12345 has a single row in X_valid and no history in X
    X_valid = pd.DataFrame({"user_id": [12345, 0], "item_id": [1, 2], "timestamp": [99, 99]})
    estimator = fast(SASRecClassifierEstimator, early_stopping_patience=1)
    found = _warnings_of(lambda: estimator.fit(X, X_valid=X_valid), DataDropWarning)
    assert any("users of X_valid" in str(w.message) for w in found)
    _assert_here(found)


class InterruptAfterFirstBatch(Callback):
    def on_batch_end(self, trainer, batch, loss):
        raise KeyboardInterrupt


def test_keyboard_interrupt_warning_points_at_the_user(X):
    estimator = fast(SASRecClassifierEstimator, epochs=3, callbacks=[InterruptAfterFirstBatch()])
    found = _warnings_of(lambda: estimator.fit(X), SkseqrecWarning)
    assert "interrupted" in str(found[0].message)
    _assert_here(found)
    assert "KeyboardInterrupt" in estimator.stop_reason_


class _Pickled:
    """Pickles as ``cls`` restored from ``state`` (what an older or a GPU pickle holds)."""

    def __init__(self, cls, state):
        self.cls, self.state = cls, state

    def __reduce__(self):
        return object.__new__, (self.cls,), self.state


def _state_from_elsewhere(estimator, version="0.0.1", device="cuda:0"):
    state = estimator.get_state()
    state["_skseqrec_version"] = version
    state["device_"] = device
    return state


def test_unpickling_warnings_point_at_the_user(sasrec):
    blob = pickle.dumps(_Pickled(type(sasrec), _state_from_elsewhere(sasrec)))
    _assert_here(_warnings_of(lambda: pickle.loads(blob), VersionMismatchWarning))
    if not torch.cuda.is_available():
        _assert_here(_warnings_of(lambda: pickle.loads(blob), DeviceWarning))


def test_set_state_warnings_point_at_the_user(sasrec):
    state = _state_from_elsewhere(sasrec)
    other = fast(SASRecClassifierEstimator)
    _assert_here(_warnings_of(lambda: other.set_state(state), VersionMismatchWarning))


def test_load_warnings_point_at_the_user(sasrec, tmp_path):
    safetensors_torch = pytest.importorskip("safetensors.torch")
    from safetensors import safe_open

    path = tmp_path / "model.safetensors"
    skseqrec.save(sasrec, path)
    with safe_open(path, framework="pt") as file:
        document = json.loads(file.metadata()["skseqrec"])
        tensors = {key: file.get_tensor(key) for key in file.keys()}
    document["skseqrec_version"] = "0.0.1"
    document["attributes"]["device_"]["value"] = "cuda:0"
    old = tmp_path / "old.safetensors"
    safetensors_torch.save_file(tensors, old, metadata={"skseqrec": json.dumps(document)})
    _assert_here(_warnings_of(lambda: skseqrec.load(old), VersionMismatchWarning))
    if not torch.cuda.is_available():
        _assert_here(_warnings_of(lambda: skseqrec.load(old), DeviceWarning))


# -------------------------------------------------- 6. curve displays and scorers
@pytest.fixture
def pyplot():
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    yield plt
    plt.close("all")


def test_scorer_in_validation_curve_display(X, pyplot):
    display = ValidationCurveDisplay.from_estimator(
        fast(SASRecClassifierEstimator),
        X,
        None,
        param_name="hidden_units",
        param_range=[4, 8],
        cv=LeaveLastOut(n_splits=2, test_size=10, random_state=0),
        scoring=make_ranking_scorer("hit_rate", k=5),
    )
    assert display.test_scores.shape == (2, 2)
    assert np.isfinite(display.test_scores).all() and np.isfinite(display.train_scores).all()
    assert display.ax_.get_ylabel() == "Hit rate@5"


def test_scorer_in_learning_curve_display(X, pyplot):
    # trained on half the rows, the model misses items of the test histories: said, not fatal
    with pytest.warns(DataDropWarning, match="unknown to the fitted model"):
        display = LearningCurveDisplay.from_estimator(
            fast(SASRecClassifierEstimator),
            X,
            None,
            train_sizes=[0.5, 1.0],
            cv=LeaveLastOut(n_splits=2, test_size=10, random_state=0),
            scoring=make_ranking_scorer("ndcg", k=10),
        )
    assert display.test_scores.shape == (2, 2)
    assert np.isfinite(display.test_scores).all()
    assert display.ax_.get_ylabel() == "Ndcg@10"


def test_scorer_name():
    assert make_ranking_scorer("mrr", k=20).__name__ == "mrr@20"


# ------------------------------------------------------- 7. row-level cv leaks
def _assert_names_the_splitters(found):
    for warning in found:
        for splitter in ("LeaveLastOut", "GlobalTemporalSplit", "UserKFold"):
            assert splitter in str(warning.message)


@pytest.mark.parametrize("order", ["user", "time"])
def test_cv_3_in_a_grid_search_warns_of_the_leak(X, order):
    rows = X.sort_values(["user_id", "timestamp"] if order == "user" else "timestamp")
    rows = rows.reset_index(drop=True)
    search = GridSearchCV(fast(SASRecClassifierEstimator), {"hidden_units": [8]}, cv=3)
    found = _warnings_of(lambda: search.fit(rows), LeakWarning)
    _assert_names_the_splitters(found)
    _assert_here(found)


@pytest.mark.parametrize("order", ["user", "time"])
def test_kfold_in_cross_validate_warns_of_the_leak(X, order):
    rows = X.sort_values(["user_id", "timestamp"] if order == "user" else "timestamp")
    rows = rows.reset_index(drop=True)
    cv = KFold(3, shuffle=True, random_state=0)
    found = _warnings_of(
        lambda: cross_validate(fast(SASRecClassifierEstimator), rows, cv=cv), LeakWarning
    )
    _assert_names_the_splitters(found)
    _assert_here(found)


@pytest.mark.parametrize(
    "cv",
    [LeaveLastOut(), GlobalTemporalSplit(test_quantile=0.2), UserKFold(2, random_state=0)],
    ids=lambda cv: type(cv).__name__,
)
def test_skseqrec_splitters_do_not_warn_of_a_leak(X, cv):
    search = GridSearchCV(fast(SASRecClassifierEstimator), {"hidden_units": [8]}, cv=cv)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        search.fit(X)
    assert not [w for w in caught if issubclass(w.category, LeakWarning)]
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


# ------------------------------------------------------------ 8. X_valid in searches
class RecordingSASRec(SASRecClassifierEstimator):
    """Remembers the ``X_valid`` every fit received (class-level, for n_jobs=1)."""

    received: list = []

    def fit(self, X, y=None, *, X_valid=None):
        RecordingSASRec.received.append((len(X), X_valid))
        return super().fit(X, y, X_valid=X_valid)


SPLIT = LeaveLastOut(n_splits=2, test_size=10, random_state=0)


def _recording(**params):
    RecordingSASRec.received = []
    return RecordingSASRec(**FAST, early_stopping_patience=1, validation=None, **params)


@pytest.fixture(scope="module")
def X_valid():
    """Other users than X's, with fewer rows than X."""
    valid = make_sequential_world(n_users=10, n_items=20, min_length=4, random_state=1)
    return valid.assign(user_id=valid["user_id"] + 1000)


def test_x_valid_is_routed_to_every_fit(X, X_valid):
    with sklearn.config_context(enable_metadata_routing=True):
        estimator = _recording().set_fit_request(X_valid=True)
        search = GridSearchCV(
            estimator, {"hidden_units": [4, 8]}, cv=SPLIT, error_score="raise"
        ).fit(X, X_valid=X_valid)
    assert len(RecordingSASRec.received) == 2 * 2 + 1  # candidates x folds + refit
    assert all(valid is X_valid for _, valid in RecordingSASRec.received)
    assert "valid_ndcg@10" in search.best_estimator_.history_.columns


def test_x_valid_without_a_fit_request_is_refused_under_routing(X, X_valid):
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(_recording(), {"hidden_units": [8]}, cv=SPLIT)
        with pytest.raises(sklearn.exceptions.UnsetMetadataPassedError, match="X_valid"):
            search.fit(X, X_valid=X_valid)


def test_x_valid_without_routing_of_another_length_reaches_every_fit_whole(X, X_valid):
    """Routing off (the default): an ``X_valid`` whose length differs from ``len(X)`` is
    passed unchanged (the same object) to every fold's fit and to the refit."""
    assert len(X_valid) != len(X)
    search = GridSearchCV(_recording(), {"hidden_units": [4, 8]}, cv=SPLIT, error_score="raise")
    search.fit(X, X_valid=X_valid)
    assert len(RecordingSASRec.received) == 5
    assert all(valid is X_valid for _, valid in RecordingSASRec.received)
    assert "valid_ndcg@10" in search.best_estimator_.history_.columns


@pytest.mark.parametrize("routing", [False, True])
def test_x_valid_as_long_as_x_is_sliced_to_each_training_fold(X, routing):
    """An ``X_valid`` with exactly ``len(X)`` rows is cut like a sample-aligned fit param:
    each fold's fit gets ``X_valid.iloc[train_idx]``; the refit gets it whole. With or
    without routing (scikit-learn's ``_check_method_params``): a trap, so pass X_valid of
    another length, or carve validation data inside fit (``validation=``)."""
    X_valid = X.assign(user_id=X["user_id"] + 1000)
    with sklearn.config_context(enable_metadata_routing=routing):
        estimator = _recording()
        if routing:
            estimator.set_fit_request(X_valid=True)
        GridSearchCV(estimator, {"hidden_units": [8]}, cv=SPLIT, error_score="raise").fit(
            X, X_valid=X_valid
        )
    folds = [train for train, _ in SPLIT.split(X)]
    received = RecordingSASRec.received
    assert len(received) == len(folds) + 1
    for (n_rows, valid), train in zip(received, folds):
        assert n_rows == len(train) < len(X)
        pd.testing.assert_frame_equal(valid, X_valid.iloc[train])
    assert received[-1][1] is X_valid


# --------------------------------------------- 9. pipelines, searches, evaluate
@pytest.fixture(scope="module")
def with_rare_item(X):
    """X plus one row of an item nobody else has, first in user 0's history
    (InteractionFilter(min_item_events=2) removes it)."""
    extra = pd.DataFrame({"user_id": [0], "item_id": [777], "timestamp": [0]})
    return pd.concat([X, extra], ignore_index=True)


def test_recommend_through_a_pipeline(with_rare_item):
    pipe = make_pipeline(InteractionFilter(min_item_events=2), fast(SASRecClassifierEstimator))
    with pytest.warns(DataDropWarning, match="removed 1 of"):
        pipe.fit(with_rare_item)
    with pytest.warns(DataDropWarning, match="removed 1 of"):
        recs = recommend(pipe, with_rare_item, top_k=3)
    assert recs.groupby("user_id").size().eq(3).all()
    assert recs["user_id"].nunique() == with_rare_item["user_id"].nunique()
    assert 777 not in set(recs["item_id"]) and 777 not in set(pipe[-1].classes_)
    with pytest.warns(DataDropWarning, match="removed 1 of"):
        score = pipe.score(with_rare_item)
    assert 0.0 <= score <= 1.0


def test_recommend_through_a_fitted_search(X):
    search = GridSearchCV(
        fast(SASRecClassifierEstimator), {"hidden_units": [4, 8]}, cv=LeaveLastOut()
    ).fit(X)
    pd.testing.assert_frame_equal(
        recommend(search, X, top_k=3), search.best_estimator_.recommend(X, top_k=3)
    )
    recs = recommend(search, None, top_k=2, users=[4242])
    assert recs["user_id"].tolist() == [4242, 4242]


def test_evaluate_a_pipeline(with_rare_item):
    pipe = make_pipeline(InteractionFilter(min_item_events=2), fast(SASRecClassifierEstimator))
    with pytest.warns(DataDropWarning, match="removed 1 of"):
        result = evaluate(pipe, with_rare_item, k=5)
    assert result["metric"].tolist() == ["hit_rate", "ndcg", "mrr", "coverage"]
    assert result["value"].between(0, 1).all()
    assert not hasattr(pipe[-1], "classes_")  # cloned, not fitted in place


def test_evaluate_the_regressor_with_ratings(X):
    result = evaluate(fast(SASRecRegressorEstimator), X, y=ratings(X), k=5)
    assert result["metric"].tolist() == ["hit_rate", "ndcg", "mrr", "coverage"]
    assert result["value"].between(0, 1).all()
    assert set(result["n_train_rows"]) == {len(X) - X["user_id"].nunique()}


# -------------------------------------------------------- 10. users without history
def _assert_most_popular(recs, X, top_k):
    counts = X["item_id"].value_counts()
    chosen = recs["item_id"].tolist()
    assert len(chosen) == top_k
    # ties in popularity may be broken either way
    assert counts[chosen].min() >= counts.drop(chosen).max()


@pytest.mark.parametrize("cls", [PopularityRecommender, SASRecClassifierEstimator], ids=_name)
def test_a_user_without_history_gets_the_most_popular_items(cls, X):
    estimator = fast(cls).fit(X)
    new = 4242
    assert new not in set(X["user_id"])
    _assert_most_popular(estimator.recommend(None, users=[new], top_k=3), X, 3)
    with pytest.warns(DataDropWarning, match="1 of 1 users have no history in X"):
        recs = estimator.recommend(X, users=[new], top_k=3)
    _assert_most_popular(recs, X, 3)
    with pytest.warns(DataDropWarning, match="have no history in X"):
        recs = estimator.recommend(X.iloc[:0], users=[new, 0], top_k=3)
    assert recs.groupby("user_id").size().to_dict() == {0: 3, new: 3}
    for user in (0, new):
        _assert_most_popular(recs[recs["user_id"] == user], X, 3)
