"""Interaction filters: what they remove, their counts and warnings, sklearn integration."""

from __future__ import annotations

import inspect
import pickle
import warnings

import numpy as np
import pandas as pd
import pytest
from sklearn.base import BaseEstimator, clone
from sklearn.model_selection import cross_validate
from sklearn.pipeline import Pipeline

import skseqrec.preprocessing
from skseqrec.exceptions import DataDropWarning, InvalidParameterError
from skseqrec.model_selection import LeaveLastOut
from skseqrec.preprocessing import InteractionFilter, TimeWindowFilter

USER, ITEM, TIME = "user_id", "item_id", "timestamp"


def quiet(call, *args, **kwargs):
    """Run ``call`` and return (result, messages of the DataDropWarnings it emitted)."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = call(*args, **kwargs)
    return result, [str(w.message) for w in caught if issubclass(w.category, DataDropWarning)]


@pytest.fixture
def ratings() -> pd.DataFrame:
    """Unsorted frame: user 1 rated "a" twice, item "z" once, user 4 has one event."""
    return pd.DataFrame(
        {
            USER: [1, 2, 1, 3, 1, 2, 3, 2, 4, 3],
            ITEM: ["a", "b", "b", "a", "a", "a", "b", "z", "b", "c"],
            TIME: [5, 1, 1, 2, 3, 2, 3, 3, 0, 4],
            "rating": [5, 4, 3, 5, 4, 2, 5, 5, 4, 4],
        },
        index=[f"r{i}" for i in range(10)],
    )


# --------------------------------------------------------------------------- InteractionFilter
def test_clone_and_params():
    f = InteractionFilter(min_item_events=3, deduplicate="last", rating_col="rating")
    params = f.get_params()
    assert params["min_item_events"] == 3 and params["deduplicate"] == "last"
    twin = clone(f)
    assert twin.get_params() == params and twin is not f
    twin.set_params(min_user_events=4)
    assert twin.min_user_events == 4 and f.min_user_events == 1
    with pytest.raises(ValueError, match="Invalid parameter"):
        f.set_params(bogus=1)
    tags = f.__sklearn_tags__()
    assert tags.input_tags.two_d_array is False and tags.target_tags.required is False
    assert TimeWindowFilter(last="7D").get_params() == {
        "start": None,
        "end": None,
        "last": "7D",
        "time_col": "timestamp",
    }
    assert clone(TimeWindowFilter(start=3)).start == 3


def test_defaults_are_the_identity(ratings):
    f = InteractionFilter()
    out, messages = quiet(f.fit_transform, ratings)
    pd.testing.assert_frame_equal(out, ratings)
    assert messages == [] and sum(f.n_removed_.values()) == 0
    assert f.dropped_items_.tolist() == []
    assert f.kept_items_.tolist() == ["a", "b", "c", "z"]
    pd.testing.assert_frame_equal(quiet(f.transform, ratings)[0], ratings)


def test_rating_filter(ratings):
    f = InteractionFilter(rating_col="rating", min_rating=4)
    with pytest.warns(DataDropWarning, match="removed 2 of 10 rows: 2 with a rating below"):
        out = f.fit_transform(ratings)
    assert (out["rating"] >= 4).all() and len(out) == 8
    assert f.n_removed_ == {
        "rating": 2,
        "duplicate": 0,
        "min_item_events": 0,
        "min_user_events": 0,
    }


@pytest.mark.parametrize("keep, expected", [("first", "r4"), ("last", "r0")])
def test_deduplicate_is_chronological(ratings, keep, expected):
    # user 1 rated "a" at times 5 (r0) and 3 (r4): "first" keeps r4 although r0 comes first
    f = InteractionFilter(deduplicate=keep)
    with pytest.warns(DataDropWarning, match="1 repeating a"):
        out = f.fit_transform(ratings)
    pairs = out[(out[USER] == 1) & (out[ITEM] == "a")]
    assert pairs.index.tolist() == [expected]
    assert f.n_removed_["duplicate"] == 1 and len(out) == 9


def test_rating_filter_runs_before_deduplication():
    X = pd.DataFrame({USER: [1, 1, 1], ITEM: ["a", "a", "b"], TIME: [0, 1, 2], "r": [1, 5, 5]})
    out, _ = quiet(
        InteractionFilter(rating_col="r", min_rating=3, deduplicate="first").fit_transform, X
    )
    assert out.index.tolist() == [1, 2]  # the low first rating does not hide the later one


def test_count_filters_and_transform(ratings):
    f = InteractionFilter(min_item_events=2, min_user_events=2)
    with pytest.warns(DataDropWarning) as record:
        out = f.fit_transform(ratings)
    [message] = [str(w.message) for w in record]
    # round 1: items "z" and "c" (1 row each) go, then user 4 (1 row); "b" keeps 3 rows
    assert "removed 3 of 10 rows" in message
    assert "2 of items with fewer than min_item_events rows" in message
    assert "1 of users with fewer than min_user_events rows" in message
    assert f.n_removed_["min_item_events"] == 2 and f.n_removed_["min_user_events"] == 1
    assert f.dropped_items_.tolist() == ["c", "z"]
    assert f.kept_items_.tolist() == ["a", "b"]
    assert out.index.tolist() == ["r0", "r1", "r2", "r3", "r4", "r5", "r6"]

    # transform (score time): no user filter, no recount; rows of dropped items go,
    # items never seen at fit pass through
    test = pd.DataFrame({USER: [9, 9, 8], ITEM: ["a", "z", "new"], TIME: [0, 1, 0]})
    with pytest.warns(DataDropWarning, match="removed 1 of 3 rows: 1 of items removed at fit"):
        kept = f.transform(test)
    assert kept.index.tolist() == [0, 2]


def test_iterated_k_core():
    # A chain where removing one item makes a user too short, which makes an item rare...
    X = pd.DataFrame(
        {
            USER: [1, 1, 2, 2, 3, 3, 4, 4, 4, 5, 5, 5],
            ITEM: ["a", "b", "b", "c", "c", "d", "x", "y", "z", "x", "y", "z"],
            TIME: np.arange(12),
        }
    )
    once = InteractionFilter(min_item_events=2, min_user_events=2)
    out_once, _ = quiet(once.fit_transform, X)
    assert once.n_iterations_ == 1
    assert out_once.groupby(ITEM).size().min() < 2  # one round does not reach the 2-core

    core = InteractionFilter(min_item_events=2, min_user_events=2, n_iterations=None)
    out, _ = quiet(core.fit_transform, X)
    assert out.groupby(ITEM).size().min() >= 2 and out.groupby(USER).size().min() >= 2
    assert sorted(out[USER].unique()) == [4, 5]
    assert core.n_iterations_ > 1
    assert sum(core.n_removed_.values()) == len(X) - len(out) == 6


def test_fit_learns_what_fit_transform_does(ratings):
    a = InteractionFilter(min_item_events=2).fit(ratings)  # fit alone does not warn
    b = InteractionFilter(min_item_events=2)
    quiet(b.fit_transform, ratings)
    assert a.n_removed_ == b.n_removed_
    assert a.dropped_items_.tolist() == b.dropped_items_.tolist()


def test_unsorted_input_same_result(ratings):
    f = InteractionFilter(min_item_events=2, min_user_events=2, deduplicate="first")
    out, _ = quiet(f.fit_transform, ratings)
    out2, _ = quiet(clone(f).fit_transform, ratings.sample(frac=1.0, random_state=0))
    assert sorted(out.index) == sorted(out2.index)


def test_y_is_rejected(ratings):
    with pytest.raises(ValueError, match="cannot be used with y"):
        InteractionFilter().fit(ratings, np.ones(len(ratings)))
    with pytest.raises(ValueError, match="cannot be used with y"):
        InteractionFilter().fit_transform(ratings, np.ones(len(ratings)))
    with pytest.raises(ValueError, match="cannot be used with y"):
        TimeWindowFilter().fit(ratings, np.ones(len(ratings)))


def test_transform_before_fit():
    from sklearn.exceptions import NotFittedError

    X = pd.DataFrame({USER: [1], ITEM: [1], TIME: [0]})
    with pytest.raises(NotFittedError):
        InteractionFilter().transform(X)
    with pytest.raises(NotFittedError):
        TimeWindowFilter().transform(X)


@pytest.mark.parametrize(
    "params, match",
    [
        ({"min_user_events": 0}, r"min_user_events must be in \[1, inf\], got 0"),
        ({"min_item_events": 2.5}, "min_item_events must be an int, got 2.5"),
        ({"min_item_events": True}, "min_item_events must be an int, got True"),
        ({"n_iterations": 0}, r"n_iterations must be in \[1, inf\], got 0"),
        ({"min_rating": 4}, "min_rating=4 needs rating_col"),
        ({"rating_col": "rating", "min_rating": "4"}, "min_rating must be a number or None"),
        ({"rating_col": "rating", "min_rating": np.inf}, "min_rating must be in .* got inf"),
        ({"rating_col": 3}, "rating_col must be None or a column name, got 3"),
        ({"deduplicate": True}, r"deduplicate must be one of \[False, 'first', 'last'\], got True"),
        ({"deduplicate": "keep"}, "deduplicate must be one of .* got 'keep'"),
        ({"rating_col": "score", "min_rating": 1}, "no column 'score'"),
        ({"item_col": "movie"}, "no column 'movie'"),
        ({"min_item_events": 100}, "removed all 10 rows"),
    ],
    ids=repr,
)
def test_interaction_filter_errors(ratings, params, match):
    with pytest.raises(ValueError, match=match):
        InteractionFilter(**params).fit(ratings)


def test_bad_rating_column(ratings):
    bad = ratings.assign(rating=ratings["rating"].astype(float))
    bad.loc["r3", "rating"] = np.nan
    with pytest.raises(ValueError, match="'rating' of X .* 1 missing value"):
        InteractionFilter(rating_col="rating", min_rating=3).fit(bad)
    with pytest.raises(TypeError, match="ratings must be numeric"):
        InteractionFilter(rating_col="rating", min_rating=3).fit(ratings.astype({"rating": str}))
    with pytest.raises(TypeError, match="must be a pandas"):
        InteractionFilter().fit(ratings.to_numpy())


def test_pickle_fitted(ratings):
    f = InteractionFilter(min_item_events=2).fit(ratings)
    g = pickle.loads(pickle.dumps(f))
    assert g.dropped_items_.tolist() == f.dropped_items_.tolist()


# --------------------------------------------------------------------------- Pipeline
class CountingPopularity(BaseEstimator):
    """Most-popular-items recommender that remembers which items it was trained on."""

    def __init__(self, k=2):
        self.k = k

    def fit(self, X, y=None):
        assert y is None
        self.items_ = frozenset(X[ITEM])
        self.top_ = X[ITEM].value_counts().index[: self.k].to_numpy()
        return self

    def score(self, X, y=None):
        targets = X.sort_values(TIME, kind="stable").groupby(USER).tail(1)
        return float(targets[ITEM].isin(self.top_).mean())


def test_pipeline_in_cross_validate():
    rng = np.random.default_rng(0)
    n = 400
    X = pd.DataFrame(
        {
            USER: rng.integers(0, 40, n),
            # a long tail: items >= 20 are rare
            ITEM: np.minimum(rng.geometric(0.15, n), 30),
            TIME: rng.permutation(n),
        }
    )
    pipe = Pipeline(
        [("filter", InteractionFilter(min_item_events=5)), ("model", CountingPopularity())]
    )
    cv = LeaveLastOut(n_splits=2, test_size=0.3, random_state=0)
    with pytest.warns(DataDropWarning):
        result = cross_validate(pipe, X, cv=cv, error_score="raise", return_estimator=True)
    assert np.isfinite(result["test_score"]).all() and len(result["test_score"]) == 2
    for fitted in result["estimator"]:
        rare = X[ITEM].value_counts()
        model_items = fitted.named_steps["model"].items_
        assert model_items == frozenset(fitted.named_steps["filter"].kept_items_)
        assert all(rare[item] >= 5 for item in model_items)


# --------------------------------------------------------------------------- TimeWindowFilter
def test_time_window_numeric():
    X = pd.DataFrame({USER: [1] * 6, ITEM: list("abcdef"), TIME: [0, 1, 2, 3, 4, 5]})
    f = TimeWindowFilter(start=1, end=4)
    with pytest.warns(DataDropWarning, match="removed 3 of 6 rows: 1 before start, 2 at or after"):
        out = f.fit_transform(X)
    assert out[TIME].tolist() == [1, 2, 3]
    assert (f.start_, f.end_) == (1, 4)
    assert f.n_removed_ == {"before_start": 1, "at_or_after_end": 2}
    last = TimeWindowFilter(last=2).fit(X)
    assert last.start_ == 3
    # the lower bound learned at fit applies to other frames too
    later = X.assign(**{TIME: X[TIME] + 10})
    assert len(quiet(last.transform, later)[0]) == 6


def test_time_window_tz_aware():
    X = pd.DataFrame(
        {
            USER: [1, 1, 2, 2],
            ITEM: list("abcd"),
            TIME: pd.to_datetime(
                ["2024-01-01", "2024-01-20", "2024-01-25", "2024-02-01"]
            ).tz_localize("America/New_York"),
        }
    )
    f = TimeWindowFilter(last="10D")
    with pytest.warns(DataDropWarning, match="removed 2 of 4 rows: 2 before start"):
        out = f.fit_transform(X)
    assert out.index.tolist() == [2, 3]
    assert f.start_ == pd.Timestamp("2024-01-22", tz="America/New_York")
    g = TimeWindowFilter(start="2024-01-20", end=pd.Timestamp("2024-01-25", tz="UTC"))
    out, _ = quiet(g.fit_transform, X)
    assert out.index.tolist() == [1]  # start read in New York time, end at 19:00 there
    with pytest.raises(ValueError, match="holds numbers, but TimeWindowFilter was fitted on"):
        f.transform(X.assign(**{TIME: np.arange(4)}))


@pytest.mark.parametrize(
    "params, match",
    [
        ({"start": 1, "last": 2}, "pass start or last, not both"),
        ({"start": 4, "end": 4}, "the window is empty"),
        ({"start": "2020-01-01"}, "start must be a finite number"),
        ({"last": -1}, "last must be a positive number"),
        ({"last": "7D"}, "last must be a positive number"),
        ({"end": True}, "end must be a finite number"),
        ({"time_col": "ts"}, "no column 'ts'"),
    ],
    ids=repr,
)
def test_time_window_errors(params, match):
    X = pd.DataFrame({USER: [1, 1], ITEM: [1, 2], TIME: [0, 5]})
    with pytest.raises(ValueError, match=match):
        TimeWindowFilter(**params).fit(X)


def test_time_window_datetime_errors():
    X = pd.DataFrame({TIME: pd.to_datetime(["2024-01-01", "2024-01-02"])})
    with pytest.raises(ValueError, match="last must be a duration"):
        TimeWindowFilter(last=3).fit(X)
    with pytest.raises(ValueError, match="cannot be read as a duration"):
        TimeWindowFilter(last="soon").fit(X)
    with pytest.raises(ValueError, match="last must be a positive duration"):
        TimeWindowFilter(last="-1D").fit(X)
    with pytest.raises(ValueError, match="start must be a datetime"):
        TimeWindowFilter(start=0).fit(X)


# --------------------------------------------------------------------------- shared checks
BAD_VALUES = {
    "min_user_events": 0,
    "min_item_events": 2.5,
    "rating_col": 3,
    "min_rating": "4",
    "deduplicate": True,
    "n_iterations": 0,
    "start": "x",
    "end": True,
    "last": -1,
    "user_col": 3,
    "item_col": "",
    "time_col": None,
}
PUBLIC = [getattr(skseqrec.preprocessing, name) for name in skseqrec.preprocessing.__all__]


@pytest.mark.parametrize("cls", PUBLIC, ids=lambda cls: cls.__name__)
def test_every_bad_parameter_raises_invalid_parameter_error(cls, ratings):
    names = list(inspect.signature(cls).parameters)
    assert set(names) <= set(BAD_VALUES), "give each new parameter a bad value"
    for name in names:
        value = BAD_VALUES[name]
        with pytest.raises(InvalidParameterError) as info:
            cls(**{name: value}).fit(ratings)
        message = str(info.value)
        assert message.startswith(f"{cls.__name__}: "), message
        assert name in message and repr(value) in message, message
    # parameters that are fine alone but not together
    pairs = {
        InteractionFilter: {"min_rating": 3},
        TimeWindowFilter: {"start": 1, "last": 2},
    }
    with pytest.raises(InvalidParameterError, match=f"{cls.__name__}: "):
        cls(**pairs[cls]).fit(ratings)


@pytest.mark.parametrize(
    "make, method",
    [
        (lambda: InteractionFilter(min_item_events=2), "fit_transform"),
        (
            lambda: InteractionFilter(min_item_events=2).fit(
                pd.DataFrame({USER: [1, 1, 2], ITEM: ["a", "a", "z"], TIME: [0, 1, 0]})
            ),
            "transform",
        ),
        (lambda: TimeWindowFilter(start=2), "fit_transform"),
    ],
    ids=["InteractionFilter.fit_transform", "InteractionFilter.transform", "TimeWindowFilter"],
)
def test_drop_warning_points_at_the_callers_line(make, method, ratings):
    step = make()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        getattr(step, method)(ratings)
    assert caught and all(issubclass(w.category, DataDropWarning) for w in caught)
    assert {w.filename for w in caught} == {__file__}
    # through a Pipeline, at the line calling the Pipeline
    pipe = Pipeline([("filter", make()), ("model", CountingPopularity())])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pipe.fit(ratings)
    assert caught and {w.filename for w in caught} == {__file__}
