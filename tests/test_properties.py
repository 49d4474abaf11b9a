"""Property tests of the data layer, from the caller's DataFrame to fitted recommendations.

tests/data/ checks IdEncoder and build_sequences on arrays of codes; here hypothesis draws
whole interaction frames (int, str and categorical ids; int, float and tz-aware times with
many ties) and follows them through check_interactions, IdEncoder, build_sequences and
fitted estimators.
"""

from __future__ import annotations

from collections import defaultdict

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from skseqrec import PopularityRecommender, SASRecClassifierEstimator
from skseqrec.data import IdEncoder, build_sequences, check_interactions

FAST = settings(max_examples=50, deadline=None)
INT64 = np.iinfo(np.int64)

# ------------------------------------------------------------------------------ id columns

int_ids = st.lists(
    st.one_of(st.integers(-5, 5), st.sampled_from([INT64.max, INT64.max - 1, INT64.min + 1])),
    min_size=1,
    max_size=30,
)
str_ids = st.lists(st.text(max_size=4), min_size=1, max_size=30)


@st.composite
def id_columns(draw) -> pd.Series:
    """An id column of one of the kinds the contract accepts."""
    kind = draw(st.sampled_from(["int64", "int32", "object-str", "str", "category"]))
    if kind in ("int64", "int32"):
        values = draw(int_ids)
        if kind == "int32":
            values = [int(np.clip(v, -(2**31), 2**31 - 1)) for v in values]
        return pd.Series(values, dtype=kind)
    if kind in ("object-str", "str"):
        return pd.Series(draw(str_ids), dtype=object if kind == "object-str" else "str")
    values = draw(st.one_of(int_ids, str_ids))
    extra = draw(
        st.lists(
            st.sampled_from(["unused", "zz"] if isinstance(values[0], str) else [99, -99]),
            max_size=2,
            unique=True,
        )
    )
    categories = list(dict.fromkeys(draw(st.permutations(values)) + extra))
    return pd.Series(pd.Categorical(values, categories=categories, ordered=draw(st.booleans())))


def validated(column: pd.Series):
    X = pd.DataFrame({"user_id": column, "item_id": 0, "timestamp": np.arange(len(column))})
    data = check_interactions(X)
    return data.users, data.user_dtype


@FAST
@given(id_columns())
def test_id_encoder_round_trips_ids_and_dtypes(column):
    values, dtype = validated(column)
    encoder = IdEncoder.from_values(values, dtype)
    codes = encoder.encode(values)
    # codes 1..n follow the sorted distinct ids that occur (unused categories get none)
    distinct = sorted(set(column.tolist()))
    assert list(encoder.classes) == distinct
    assert codes.tolist() == [distinct.index(v) + 1 for v in column.tolist()]
    # the caller's own column encodes the same way
    assert encoder.encode(column).tolist() == codes.tolist()
    decoded = encoder.decode(codes)
    assert decoded.dtype == column.dtype
    pd.testing.assert_series_equal(pd.Series(decoded, dtype=decoded.dtype), column)
    # an id that does not occur is unknown (code 0)
    stranger = "never-seen" if isinstance(distinct[0], str) else 1234567
    assert encoder.encode(np.array([stranger], dtype=object)).tolist() == [0]


# --------------------------------------------------------------------------- whole frames


@st.composite
def frames(draw, max_rows: int = 40) -> pd.DataFrame:
    """Interactions with few users, items and times, so users repeat and times tie."""
    n = draw(st.integers(1, max_rows))
    users = draw(st.lists(st.sampled_from(["ann", "bob", "cy", "dee"]), min_size=n, max_size=n))
    items = draw(st.lists(st.integers(0, 6), min_size=n, max_size=n))
    ticks = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    time_kind = draw(st.sampled_from(["int", "float", "datetime-tz"]))
    if time_kind == "int":
        times = pd.Series(ticks, dtype=np.int64)
    elif time_kind == "float":
        times = pd.Series(ticks, dtype=np.float64) * 0.5 - 1.0
    else:
        times = pd.Series(pd.to_datetime(ticks, unit="h").tz_localize("Europe/Paris"))
    item_kind = draw(st.sampled_from(["int", "str", "category"]))
    items = pd.Series(items, dtype=np.int64)
    if item_kind == "str":
        items = items.map(lambda i: f"item{i}")
    elif item_kind == "category":
        items = items.astype(pd.CategoricalDtype(list(range(-2, 8))))
    return pd.DataFrame({"user_id": users, "item_id": items, "timestamp": times})


def reference_sequences(X: pd.DataFrame) -> dict:
    """{user: [(item, row), ...]} sorted by (time, row), with plain Python."""
    out = defaultdict(list)
    rows = list(zip(X["user_id"], X["item_id"], X["timestamp"], range(len(X))))
    for user, item, _time, row in sorted(rows, key=lambda r: (r[2], r[3])):
        out[user].append((item, row))
    return dict(sorted(out.items()))


def sequences_of(X: pd.DataFrame) -> dict:
    """{user: [(item, row), ...]} as skseqrec builds them, decoded to the caller's ids."""
    data = check_interactions(X)
    users = IdEncoder.from_values(data.users, data.user_dtype)
    items = IdEncoder.from_values(data.items, data.item_dtype)
    seqs = build_sequences(users.encode(data.users), items.encode(data.items), data.times)
    decoded_items = list(items.decode(seqs.items))
    out = {}
    for user, start, end in zip(users.decode(seqs.users), seqs.offsets[:-1], seqs.offsets[1:]):
        out[user] = list(zip(decoded_items[start:end], seqs.rows[start:end].tolist()))
    return out


@FAST
@given(frames())
def test_build_sequences_matches_a_plain_python_reference(X):
    assert sequences_of(X) == reference_sequences(X)


def tie_preserving(permutation, keys) -> np.ndarray:
    """``permutation`` with rows of equal key put back in their original relative order."""
    permutation = np.asarray(permutation, dtype=np.int64)
    out = permutation.copy()
    positions = defaultdict(list)
    for position, row in enumerate(permutation):
        positions[keys[row]].append(position)
    for slots in positions.values():
        out[slots] = np.sort(permutation[slots])
    return out


@st.composite
def shuffled_frames(draw, max_rows: int = 40):
    """(X, X with rows shuffled, but tied events of a user kept in their row order)."""
    X = draw(frames(max_rows))
    keys = list(zip(X["user_id"], X["timestamp"]))
    permutation = tie_preserving(draw(st.permutations(range(len(X)))), keys)
    return X, X.iloc[permutation]


def without_rows(sequences: dict) -> dict:
    return {user: [item for item, _ in events] for user, events in sequences.items()}


@FAST
@given(shuffled_frames())
def test_shuffling_rows_does_not_change_the_sequences(drawn):
    X, shuffled = drawn
    assert without_rows(sequences_of(shuffled)) == without_rows(sequences_of(X))


@FAST
@given(shuffled_frames())
def test_shuffling_rows_does_not_change_popularity_recommendations(drawn):
    X, shuffled = drawn
    k = X["item_id"].nunique()  # the whole catalogue, ranked
    first = PopularityRecommender().fit(X).recommend(X, top_k=k, exclude_seen=False)
    second = PopularityRecommender().fit(shuffled).recommend(shuffled, top_k=k, exclude_seen=False)
    pd.testing.assert_frame_equal(second, first)


@settings(max_examples=15, deadline=None)
@given(shuffled_frames(max_rows=30))
def test_shuffling_rows_does_not_change_a_fitted_sasrec(drawn):
    X, shuffled = drawn
    if X.groupby("user_id").size().max() < 2:
        return  # nothing to learn from: covered by tests/test_bad_input.py
    # users with one event would be dropped with a warning: keep the others
    X = X[X.groupby("user_id")["user_id"].transform("size").ge(2)]
    shuffled = shuffled[shuffled.groupby("user_id")["user_id"].transform("size").ge(2)]
    params = dict(hidden_units=8, num_blocks=1, max_len=8, epochs=1, batch_size=4, random_state=0)
    first = SASRecClassifierEstimator(**params).fit(X)
    second = SASRecClassifierEstimator(**params).fit(shuffled)
    k = X["item_id"].nunique()  # the whole catalogue, ranked
    expected = first.recommend(X, top_k=k, exclude_seen=False)
    pd.testing.assert_frame_equal(second.recommend(shuffled, top_k=k, exclude_seen=False), expected)
    np.testing.assert_array_equal(
        np.asarray(second.predict(shuffled)), np.asarray(first.predict(X.loc[shuffled.index]))
    )
