"""Bad and unusual input, one case per test, on every public estimator.

Each case either works as DESIGN.md documents, or raises an error whose message names the
column, an offending value and how many rows are affected. Nothing is dropped silently:
whatever is left out is counted in a ``DataDropWarning`` (an error under our pytest
config unless caught with ``pytest.warns``).

Decisions written down here (DESIGN.md is silent on them):

* ``PopularityRecommender`` is not sequential: it counts every event, so a frame with no
  user of two events is valid input for it (``n_dropped_users_ == 0``); the sequential
  models raise.
* Categorical ids: unused categories are not part of the catalogue (``classes_`` holds ids
  with at least one training event) and are never recommended, even when ``top_k`` exceeds
  the catalogue; output frames keep the caller's ``CategoricalDtype``, unused categories
  included; an unused category passed in ``items=`` counts as an unknown id.
* ``items=`` / ``users=`` lists that mix ints and strings keep each id's type: ``[2, "x"]``
  means the known id ``2`` and the unknown id ``"x"``.
"""

from __future__ import annotations

from contextlib import ExitStack, contextmanager

import numpy as np
import pandas as pd
import pytest
from sklearn.base import clone

import skseqrec
import skseqrec.estimators
from skseqrec.data import IdEncoder, build_sequences, check_interactions
from skseqrec.estimators import BaseRecommender
from skseqrec.estimators._transformer import TransformerRecommender
from skseqrec.exceptions import DataDropWarning

#: small, fast settings; each estimator takes the ones its constructor has
FAST = dict(
    hidden_units=8,
    num_blocks=1,
    num_heads=2,
    max_len=8,
    epochs=1,
    batch_size=8,
    num_negatives=4,
)
INT64 = np.iinfo(np.int64)
N_USERS, LENGTH, N_ITEMS = 10, 6, 12
N_ROWS = N_USERS * LENGTH


def _public_estimators():
    """One fast instance of every public recommender (new ones join automatically)."""
    classes = {}
    for module in (skseqrec, skseqrec.estimators):
        for name in module.__all__:
            obj = getattr(module, name)
            if isinstance(obj, type) and issubclass(obj, BaseRecommender):
                if obj is not BaseRecommender:
                    classes[obj.__name__] = obj
    estimators = []
    for cls in classes.values():
        if cls is skseqrec.TwoStageRecommender:  # a meta-estimator: fast stages inside
            estimators.append(
                cls(
                    retriever=skseqrec.SASRecClassifierEstimator(**FAST),
                    ranker=skseqrec.MLPRankerEstimator(hidden_layer_sizes=(8,), epochs=1),
                    n_candidates=5,
                )
            )
            continue
        params = cls().get_params()
        estimators.append(cls(**{k: v for k, v in FAST.items() if k in params}))
    return sorted(estimators, key=lambda e: type(e).__name__)


ESTIMATORS = _public_estimators()
SEQUENTIAL = [e for e in ESTIMATORS if isinstance(e, TransformerRecommender)]
#: estimators that learn from sequences (no user with two events: nothing to learn)
LEARNS_SEQUENCES = (TransformerRecommender, skseqrec.TwoStageRecommender)
#: estimators whose y is a soft label in [0, 1]
SOFT_LABEL = [e for e in ESTIMATORS if getattr(e, "_y_range", None) == (0.0, 1.0)]


def _id(estimator):
    return type(estimator).__name__


every_estimator = pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)


def events() -> pd.DataFrame:
    """10 users x 6 events over 12 int items; times unique, rows grouped by user."""
    rng = np.random.default_rng(0)
    return pd.DataFrame(
        {
            "user_id": np.repeat(np.arange(N_USERS, dtype=np.int64), LENGTH),
            "item_id": rng.integers(0, N_ITEMS, N_ROWS).astype(np.int64),
            "timestamp": (
                np.tile(np.arange(LENGTH), N_USERS) * 10 + np.repeat(np.arange(N_USERS), LENGTH)
            ).astype(np.int64),
            "extra": "ignored",
        }
    )


def fit(estimator, X, y=None):
    """A fresh clone fitted on X (regressors get ratings when y is not given).

    The ratings follow the rows' index labels, so shuffled rows keep their ratings.
    """
    estimator = clone(estimator)
    if y is None and getattr(estimator, "_requires_y", False):
        y = (np.asarray(X.index) % 7) / 6.0
    return estimator.fit(X, y)


@pytest.fixture(scope="module")
def fitted():
    """``fitted(estimator)``: that estimator fitted on :func:`events`, once per module."""
    cache = {}

    def get(estimator):
        name = type(estimator).__name__
        if name not in cache:
            cache[name] = fit(estimator, events())
        return cache[name]

    return get


@contextmanager
def drop_warnings(*patterns):
    """Expect one ``DataDropWarning`` matching each pattern (pytest re-emits the others)."""
    with ExitStack() as stack:
        for pattern in patterns:
            stack.enter_context(pytest.warns(DataDropWarning, match=pattern))
        yield


def map_ids(X, mapping_user, mapping_item):
    return X.assign(
        user_id=[mapping_user[u] for u in X["user_id"]],
        item_id=[mapping_item[i] for i in X["item_id"]],
    )


def assert_same_recommendations(recs, expected, mapping_user=None, mapping_item=None):
    """``recs`` equals ``expected`` with ids passed through the mappings."""
    assert len(recs) == len(expected)
    users = expected["user_id"].tolist()
    items = expected["item_id"].tolist()
    if mapping_user is not None:
        users = [mapping_user[u] for u in users]
    if mapping_item is not None:
        items = [mapping_item[i] for i in items]
    assert recs["user_id"].tolist() == users
    assert recs["item_id"].tolist() == items
    np.testing.assert_allclose(recs["score"], expected["score"], rtol=1e-5)
    assert recs["rank"].tolist() == expected["rank"].tolist()


# ------------------------------------------------------------------------ missing values

MISSING = {
    "user-NaN": ("user_id", lambda s: s.astype(float)),
    "user-None": ("user_id", lambda s: s.map(lambda v: f"u{v}").astype(object)),
    "item-NaN": ("item_id", lambda s: s.astype(float)),
    "item-None": ("item_id", lambda s: s.map(lambda v: f"i{v}").astype(object)),
    "time-NaN": ("timestamp", lambda s: s.astype(float)),
    "time-NaT": ("timestamp", lambda s: pd.to_datetime(s, unit="s")),
    "time-NaT-tz": ("timestamp", lambda s: pd.to_datetime(s, unit="s").dt.tz_localize("UTC")),
}


def with_missing(case):
    column, convert = MISSING[case]
    X = events()
    X[column] = convert(X[column])
    missing = None if X[column].dtype == object else np.nan
    X.loc[[3, 7], column] = missing  # NaN, None or NaT depending on the dtype
    return X, column


@every_estimator
@pytest.mark.parametrize("case", list(MISSING))
@pytest.mark.parametrize("method", ["fit", "recommend", "predict"])
def test_missing_values_raise_naming_column_count_and_row(estimator, case, method, fitted):
    X, column = with_missing(case)
    assert X[column].isna().sum() == 2
    message = (
        rf"Column '{column}' of X has 2 missing value\(s\) \(NaN/None/NaT\) out of {N_ROWS} "
        r"rows, the first at row position 3 \(index 3\)\. Drop or fill them first\.$"
    )  # the same advice at fit, recommend and predict time
    with pytest.raises(ValueError, match=message):
        if method == "fit":
            fit(estimator, X)
        else:
            getattr(fitted(estimator), method)(X)


# -------------------------------------------------------------------------- empty input


@every_estimator
@pytest.mark.parametrize("method", ["fit", "recommend", "predict", "score"])
def test_empty_frame_raises(estimator, method, fitted):
    X = events().iloc[:0]
    with pytest.raises(ValueError, match=r"X is empty \(0 rows\)"):
        if method == "fit":
            fit(estimator, X)
        else:
            getattr(fitted(estimator), method)(X)


# --------------------------------------------------------------------- one-event users


@every_estimator
def test_a_single_user_with_one_event(estimator, fitted):
    X = events().iloc[[4]]
    if isinstance(estimator, LEARNS_SEQUENCES):
        with pytest.raises(ValueError, match=r"X has no user with two events \(1 users, 1 rows\)"):
            fit(estimator, X)
    else:  # popularity counts every event
        model = fit(estimator, X)
        assert model.n_dropped_users_ == 0
        assert list(model.classes_) == [X["item_id"].iloc[0]]
        recs = model.recommend(X, top_k=1, exclude_seen=False)
        assert recs["item_id"].tolist() == [X["item_id"].iloc[0]]
    # at recommend time a one-event history is a valid history
    recs = fitted(estimator).recommend(X, top_k=3)
    assert recs["user_id"].tolist() == [X["user_id"].iloc[0]] * 3
    assert X["item_id"].iloc[0] not in set(recs["item_id"])


@every_estimator
def test_all_users_with_one_event(estimator):
    X = events().groupby("user_id").head(1)
    if isinstance(estimator, LEARNS_SEQUENCES):
        message = rf"X has no user with two events \({N_USERS} users, {N_USERS} rows\)"
        with pytest.raises(ValueError, match=message):
            fit(estimator, X)
    else:
        model = fit(estimator, X)
        assert model.n_dropped_users_ == 0
        assert model.n_users_seen_ == N_USERS
        assert model.item_counts_.sum() == N_USERS


@every_estimator
def test_some_users_with_one_event_are_counted_not_silently_dropped(estimator):
    X = events()
    X = X[~(X["user_id"].isin([2, 5, 7]) & X.duplicated("user_id"))]  # 3 users keep one row
    if isinstance(estimator, LEARNS_SEQUENCES):
        with drop_warnings(
            rf"3 of {N_USERS} users have a single event and give no training sequence"
        ):
            model = fit(estimator, X)
        assert model.n_dropped_users_ == 3
    else:
        model = fit(estimator, X)
        assert model.n_dropped_users_ == 0
    assert model.n_users_seen_ == N_USERS


# ---------------------------------------------------------------- duplicate column names


@every_estimator
@pytest.mark.parametrize(
    ("column", "role"), [("user_id", "user"), ("item_id", "item"), ("timestamp", "time")]
)
@pytest.mark.parametrize("method", ["fit", "recommend"])
def test_duplicate_column_names_raise(estimator, column, role, method, fitted):
    X = events()
    X = pd.concat([X, X[[column]]], axis=1)
    message = rf"X has 2 columns named '{column}' \({role}_col\); column names must be unique"
    with pytest.raises(ValueError, match=message):
        if method == "fit":
            fit(estimator, X)
        else:
            fitted(estimator).recommend(X)


@every_estimator
def test_duplicate_names_of_an_ignored_column_are_fine(estimator, fitted):
    X = events()
    X = pd.concat([X, X[["extra"]]], axis=1)
    assert_same_recommendations(
        fit(estimator, X).recommend(X, top_k=3), fitted(estimator).recommend(events(), top_k=3)
    )


# ---------------------------------------------------------------------- mixed id types


@every_estimator
@pytest.mark.parametrize("column", ["user_id", "item_id"])
@pytest.mark.parametrize("method", ["fit", "recommend"])
def test_mixed_int_and_str_ids_raise(estimator, column, method, fitted):
    X = events()
    values = X[column].map(lambda v: f"id{v}").astype(object)
    values.iloc[[1, 8, 9]] = 7  # three ints among strings
    X[column] = values
    message = (
        rf"Column '{column}' of X mixes id types: {N_ROWS - 3} str values and 3 others "
        rf"\(e\.g\. 7 of type int\) in {N_ROWS} rows"
    )
    with pytest.raises(TypeError, match=message):
        if method == "fit":
            fit(estimator, X)
        else:
            fitted(estimator).recommend(X)


@every_estimator
def test_mixed_int_and_str_times_raise(estimator):
    X = events()
    X["timestamp"] = X["timestamp"].astype(object)
    X.loc[2, "timestamp"] = "2020-01-01"
    with pytest.raises(TypeError, match=r"Column 'timestamp' of X has dtype object"):
        fit(estimator, X)


@every_estimator
def test_mixed_candidates_keep_each_ids_type(estimator, fitted):
    model = fitted(estimator)
    X = events()
    known = int(model.classes_[0])
    with drop_warnings(r"1 of 2 ids in `items` are unknown to the model and are ignored"):
        recs = model.recommend(X, top_k=1, exclude_seen=False, items=[known, "x"])
    assert recs["item_id"].tolist() == [known] * N_USERS


@every_estimator
def test_mixed_users_argument_names_the_missing_user(estimator, fitted):
    with pytest.raises(
        ValueError,
        match=r"`users` holds ids that cannot be compared with the ids of column 'user_id' "
        r"\(e\.g\. 'x'\)",
    ):
        fitted(estimator).recommend(events(), users=[2, "x"])
    recs = fitted(estimator).recommend(events(), top_k=2, users=[2])
    assert recs["user_id"].tolist() == [2, 2]


@every_estimator
def test_a_single_id_means_a_list_of_that_id(estimator, fitted):
    """``users=5`` / ``items=3`` (scalars, numpy or str ids) work like ``[5]`` / ``[3]``."""
    model, X = fitted(estimator), events()
    expected = model.recommend(X, top_k=2, users=[5])
    for scalar in (5, np.int64(5)):
        pd.testing.assert_frame_equal(model.recommend(X, top_k=2, users=scalar), expected)
    with drop_warnings(r"1 of 1 users have no history in X .* most popular items"):
        new_user = model.recommend(X, top_k=2, users=99)
    pd.testing.assert_frame_equal(
        new_user, model.recommend(None, top_k=2, users=[99]), check_dtype=False
    )
    known = int(model.classes_[3])
    pd.testing.assert_frame_equal(
        model.recommend(X, top_k=1, exclude_seen=False, items=known),
        model.recommend(X, top_k=1, exclude_seen=False, items=[known]),
    )
    named = X.assign(user_id="u" + X["user_id"].astype(str))
    model = fit(estimator, named)
    recs = model.recommend(named, top_k=2, users="u5")
    pd.testing.assert_frame_equal(recs, model.recommend(named, top_k=2, users=["u5"]))
    assert recs["user_id"].tolist() == ["u5", "u5"]


# ------------------------------------------------------------------ unusual but valid ids


@every_estimator
def test_int64_ids_near_the_limits(estimator, fitted):
    # order-preserving map onto both ends of int64: same codes, so the same model
    def to_limits(n):
        return {i: (INT64.min + 1 + i if i < n // 2 else INT64.max - (n - 1 - i)) for i in range(n)}

    users, items = to_limits(N_USERS), to_limits(N_ITEMS)
    X = map_ids(events(), users, items)
    assert INT64.max in set(X["item_id"]) and INT64.min + 1 in set(X["item_id"])
    model = fit(estimator, X)
    assert model.classes_.dtype == np.int64
    recs = model.recommend(X, top_k=3)
    assert recs["user_id"].dtype == np.int64 and recs["item_id"].dtype == np.int64
    expected = fitted(estimator).recommend(events(), top_k=3)
    assert_same_recommendations(recs, expected, users, items)
    predicted = model.predict(X)
    if predicted.dtype == np.int64:  # classifiers return item ids, exactly
        reference = fitted(estimator).predict(events())
        assert predicted.tolist() == [items[i] for i in reference]


@every_estimator
def test_very_long_string_ids(estimator, fitted):
    def long(prefix, n):  # 10,000 characters, sorting like the ints they replace
        return {i: prefix * 9_997 + f"{i:03d}" for i in range(n)}

    users, items = long("u", N_USERS), long("i", N_ITEMS)
    X = map_ids(events(), users, items)
    model = fit(estimator, X)
    recs = model.recommend(X, top_k=3)
    assert recs["item_id"].dtype == X["item_id"].dtype
    assert recs["item_id"].str.len().eq(10_000).all()
    assert_same_recommendations(recs, fitted(estimator).recommend(events(), top_k=3), users, items)


@every_estimator
def test_categorical_ids_with_unused_categories_are_never_recommended(estimator, fitted):
    X = events()
    unused = [100, 101, -5]
    item_dtype = pd.CategoricalDtype([*unused, *range(N_ITEMS)])
    user_dtype = pd.CategoricalDtype([f"u{u}" for u in range(N_USERS + 3)])
    X["item_id"] = X["item_id"].astype(item_dtype)
    X["user_id"] = X["user_id"].map(lambda u: f"u{u}").astype(user_dtype)
    model = fit(estimator, X)
    assert list(model.classes_) == sorted(events()["item_id"].unique())
    with drop_warnings(r"have fewer than top_k=20 admissible items"):
        recs = model.recommend(X, top_k=20, exclude_seen=False)
    assert recs["item_id"].dtype == item_dtype
    assert recs["user_id"].dtype == user_dtype
    assert not set(recs["item_id"]) & set(unused)
    assert recs.groupby("user_id", observed=True).size().eq(model.n_items_).all()
    # same model as the plain int ids (categories hold the same ints)
    expected = fitted(estimator).recommend(events(), top_k=3)
    got = model.recommend(X, top_k=3)
    assert_same_recommendations(
        got.assign(user_id=got["user_id"].astype(str).str[1:].astype(int)), expected
    )
    # an unused category named as a candidate is an unknown id
    with drop_warnings(r"1 of 2 ids in `items` are unknown to the model and are ignored"):
        recs = model.recommend(X, top_k=1, exclude_seen=False, items=[100, 3])
    assert recs["item_id"].tolist() == [3] * N_USERS


# -------------------------------------------------------------------------------- times


@every_estimator
def test_time_zones_giving_the_same_instants_give_the_same_model(estimator):
    X = events()
    instants = pd.to_datetime(X["timestamp"] * 3600, unit="s").dt.tz_localize("UTC")
    tokyo = X.assign(timestamp=instants.dt.tz_convert("Asia/Tokyo"))
    new_york = X.assign(timestamp=instants.dt.tz_convert("America/New_York"))
    naive_utc = X.assign(timestamp=instants.dt.tz_localize(None))
    first, second = fit(estimator, tokyo), fit(estimator, new_york)
    expected = first.recommend(tokyo, top_k=4)
    pd.testing.assert_frame_equal(second.recommend(new_york, top_k=4), expected)
    # conditioning: the zone of the history does not matter either
    pd.testing.assert_frame_equal(first.recommend(new_york, top_k=4), expected)
    pd.testing.assert_frame_equal(first.recommend(naive_utc, top_k=4), expected)
    np.testing.assert_array_equal(
        np.asarray(second.predict(tokyo)), np.asarray(first.predict(tokyo))
    )


@every_estimator
def test_unsorted_input_gives_the_same_model(estimator, fitted):
    X = events()  # times unique within each user
    permutation = np.random.default_rng(5).permutation(len(X))
    shuffled = X.iloc[permutation]
    model = fit(estimator, shuffled)
    expected = fitted(estimator)
    pd.testing.assert_frame_equal(
        model.recommend(shuffled, top_k=4), expected.recommend(X, top_k=4)
    )
    pd.testing.assert_frame_equal(model.recommend(X, top_k=4), expected.recommend(X, top_k=4))
    # predict is aligned with the rows of the frame it is given
    np.testing.assert_array_equal(
        np.asarray(model.predict(shuffled)), np.asarray(expected.predict(X))[permutation]
    )


def test_timestamp_ties_keep_row_order_in_sequences():
    X = pd.DataFrame(
        {
            "user_id": ["b", "a", "b", "a", "b", "a", "b"],
            "item_id": [30, 10, 31, 11, 32, 12, 29],
            "timestamp": [5, 1, 5, 1, 5, 0, 4],
        }
    )
    data = check_interactions(X)
    users = IdEncoder.from_values(data.users, data.user_dtype)
    seqs = build_sequences(users.encode(data.users), data.items, data.times)
    assert users.decode(seqs.users).tolist() == ["a", "b"]
    assert seqs.items.tolist() == [12, 10, 11, 29, 30, 31, 32]
    assert seqs.rows.tolist() == [5, 1, 3, 6, 0, 2, 4]


@every_estimator
def test_timestamp_ties_keep_row_order_in_the_model(estimator, fitted):
    X = events()
    tied = X.assign(timestamp=X["user_id"] * 7)  # all of a user's events tie
    # interleave users, keeping the order of each user's rows: ties resolve the same way
    interleaved = tied.iloc[np.argsort(np.tile(np.arange(LENGTH), N_USERS), kind="stable")]
    model = fit(estimator, tied)
    pd.testing.assert_frame_equal(
        fit(estimator, interleaved).recommend(interleaved, top_k=4), model.recommend(tied, top_k=4)
    )
    if not getattr(estimator, "_uses_times", False):
        # tied times in row order == explicit increasing times in that order
        expected = fitted(estimator)
        pd.testing.assert_frame_equal(
            model.recommend(tied, top_k=4), expected.recommend(X, top_k=4)
        )
        np.testing.assert_array_equal(
            np.asarray(expected.predict(tied)), np.asarray(expected.predict(X))
        )
    if isinstance(estimator, TransformerRecommender):
        # and row order is what decides: reversing tied rows changes the sequence model
        reversed_rows = tied.iloc[::-1]
        changed = model.recommend(reversed_rows, top_k=4)
        assert not np.allclose(changed["score"], model.recommend(tied, top_k=4)["score"])


# ------------------------------------------------------------------------------------ y


@every_estimator
@pytest.mark.parametrize("n_y", [N_ROWS - 1, N_ROWS + 5, 0])
def test_y_of_the_wrong_length_raises(estimator, n_y):
    message = rf"y has {n_y} values but X has {N_ROWS} rows; pass one value per row"
    with pytest.raises(ValueError, match=message):
        clone(estimator).fit(events(), np.full(n_y, 0.5))


def test_soft_label_estimators_include_the_classifier():
    assert "SASRecClassifierEstimator" in [_id(e) for e in SOFT_LABEL]


@pytest.mark.parametrize("estimator", SOFT_LABEL, ids=_id)
@pytest.mark.parametrize("bad", [1.5, -0.25])
def test_classifier_y_outside_unit_interval_raises(estimator, bad):
    y = np.full(N_ROWS, 0.5)
    y[[4, 40]] = bad
    message = rf"y must lie in \[0\.0, 1\.0\]; 2 of {N_ROWS} rows are outside \(e\.g\. {bad}\)"
    with pytest.raises(ValueError, match=message):
        clone(estimator).fit(events(), y)


# ---------------------------------------------------------------- recommend-time input


@every_estimator
def test_unknown_users_are_served_from_their_history(estimator, fitted):
    model = fitted(estimator)
    history = events()[events()["user_id"] == 3]
    stranger = history.assign(user_id=10_000)  # never seen in fit, same history
    recs = model.recommend(stranger, top_k=4)
    expected = model.recommend(history, top_k=4)
    assert recs["user_id"].tolist() == [10_000] * 4
    assert recs["item_id"].tolist() == expected["item_id"].tolist()
    np.testing.assert_allclose(recs["score"], expected["score"], rtol=1e-5)


@every_estimator
def test_unknown_items_in_the_history_are_ignored_and_counted(estimator, fitted):
    model = fitted(estimator)
    history = events()[events()["user_id"] == 3]
    unknown = pd.DataFrame(
        {"user_id": [3, 3], "item_id": [9_999, 8_888], "timestamp": [1, 13], "extra": "x"}
    )
    noisy = pd.concat([history, unknown], ignore_index=True)
    with drop_warnings(r"2 of 8 rows of X have items unknown to the fitted model and are ignored"):
        recs = model.recommend(noisy, top_k=4)
    assert_same_recommendations(recs, model.recommend(history, top_k=4))


@every_estimator
def test_unknown_items_before_predicted_rows_are_counted(estimator, fitted):
    model = fitted(estimator)
    X = events()[events()["user_id"] == 3]
    first = pd.DataFrame({"user_id": [3], "item_id": [9_999], "timestamp": [2], "extra": "x"})
    noisy = pd.concat([X, first], ignore_index=True)
    with drop_warnings(
        r"1 of 7 rows of X have items unknown to the fitted model and are left out of the "
        r"history of the user's later rows"
    ):
        predicted = model.predict(noisy)
    assert len(predicted) == 7
    # the unknown first event changes nothing for the later rows
    np.testing.assert_array_equal(np.asarray(predicted)[:6], np.asarray(model.predict(X)))


@every_estimator
def test_user_with_only_unknown_items_gets_popular_items(estimator, fitted):
    model = fitted(estimator)
    X = pd.concat(
        [
            events()[events()["user_id"] == 3],
            pd.DataFrame({"user_id": [77, 77], "item_id": [9_999, 8_888], "timestamp": [0, 1]}),
        ],
        ignore_index=True,
    )
    with drop_warnings(
        r"2 of 8 rows of X have items unknown to the fitted model",
        r"1 of 2 users have no history in X \(no rows, or only items unknown to the model\); "
        r"they get the most popular items",
    ):
        recs = model.recommend(X, top_k=3)
    assert recs.groupby("user_id").size().to_dict() == {3: 3, 77: 3}


@every_estimator
def test_top_k_larger_than_the_catalogue_gives_shorter_lists_and_warns(estimator, fitted):
    model = fitted(estimator)
    history = events()[events()["user_id"].isin([1, 4])]
    with drop_warnings(
        r"2 of 2 users have fewer than top_k=50 admissible items and get shorter lists"
    ):
        recs = model.recommend(history, top_k=50)
    for user, rows in recs.groupby("user_id"):
        seen = set(history.loc[history["user_id"] == user, "item_id"])
        assert len(rows) == N_ITEMS - len(seen)
        assert set(rows["item_id"]) == set(model.classes_) - seen
        assert rows["rank"].tolist() == list(range(1, len(rows) + 1))
    with drop_warnings(r"2 of 2 users have fewer than top_k=50"):
        recs = model.recommend(history, top_k=50, exclude_seen=False)
    assert recs.groupby("user_id").size().eq(N_ITEMS).all()


@every_estimator
def test_candidates_with_unknown_ids_are_counted(estimator, fitted):
    model = fitted(estimator)
    X = events()
    known = [int(model.classes_[2]), int(model.classes_[5])]
    with drop_warnings(r"2 of 4 ids in `items` are unknown to the model and are ignored"):
        recs = model.recommend(X, top_k=2, exclude_seen=False, items=[*known, 777, -1])
    assert set(recs["item_id"]) == set(known)
    assert recs.groupby("user_id").size().eq(2).all()
    # only unknown candidates: empty lists, both drops counted
    with drop_warnings(
        r"2 of 2 ids in `items` are unknown",
        rf"{N_USERS} of {N_USERS} users have fewer than top_k=2 admissible items",
    ):
        empty = model.recommend(X, top_k=2, items=[777, 778])
    assert empty.empty
    assert list(empty.columns) == ["user_id", "item_id", "score", "rank"]
    assert empty["item_id"].dtype == X["item_id"].dtype
