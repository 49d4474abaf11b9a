"""IdEncoder: codes 1..n in sorted id order, 0 for unknown, dtype-preserving decode."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skseqrec.data import IdEncoder, check_interactions

FAST = settings(max_examples=50, deadline=None)
INT64 = np.iinfo(np.int64)


def id_columns():
    """(name, column) pairs covering every id kind the contract accepts."""
    return [
        ("int64", pd.Series([30, 10, 20, 10, 30], dtype=np.int64)),
        ("int32", pd.Series([30, 10, 20, 10, 30], dtype=np.int32)),
        ("int64-limits", pd.Series([INT64.max - 1, INT64.min + 1, 0, INT64.min + 1, 7])),
        ("float-integral", pd.Series([3.0, -1.0, 2.0, 3.0, 2.0])),
        ("nullable-Int64", pd.Series([5, 1, 5, 3, 1], dtype="Int64")),
        ("str", pd.Series(["b", "a", "c", "a", "b"], dtype="str")),
        ("object-str", pd.Series(["b", "a", "c", "a", "b"], dtype=object)),
        ("long-str", pd.Series(["x" * 10_000, "x" * 9_999 + "y", "a", "a", "x" * 10_000])),
        ("category-str", pd.Series(pd.Categorical(list("bacab"), categories=list("zcab")))),
        ("category-int", pd.Series(pd.Categorical([3, 1, 2, 1, 3], categories=[9, 3, 2, 1]))),
        (
            "category-ordered",
            pd.Series(pd.Categorical(list("bacab"), categories=list("cba"), ordered=True)),
        ),
    ]


def as_series(decoded) -> pd.Series:
    # pandas 3 infers `str` from an object array of strings unless told the dtype
    return pd.Series(decoded, dtype=decoded.dtype)


def validated(column: pd.Series):
    X = pd.DataFrame({"user_id": column, "item_id": 1, "timestamp": np.arange(len(column))})
    data = check_interactions(X)
    return data.users, data.user_dtype


@pytest.mark.parametrize(("kind", "column"), id_columns(), ids=[k for k, _ in id_columns()])
def test_round_trip_restores_values_and_dtype(kind, column):
    values, dtype = validated(column)
    encoder = IdEncoder.from_values(values, dtype)
    codes = encoder.encode(values)
    assert codes.dtype == np.int64
    assert codes.min() >= 1
    decoded = encoder.decode(codes)
    assert decoded.dtype == column.dtype
    pd.testing.assert_series_equal(as_series(decoded), column.reset_index(drop=True))
    # the same from the caller's own column (Series, Categorical or ExtensionArray)
    assert encoder.encode(column).tolist() == codes.tolist()
    assert encoder.encode(column.array).tolist() == codes.tolist()


def test_categorical_decode_keeps_unused_categories():
    column = pd.Categorical(["b", "a"], categories=["z", "a", "b"])
    values, dtype = validated(pd.Series(column))
    encoder = IdEncoder.from_values(values, dtype)
    assert len(encoder) == 2  # only ids that occur get a code
    decoded = encoder.decode([2, 1])
    assert isinstance(decoded, pd.Categorical)
    assert list(decoded.categories) == ["z", "a", "b"]
    assert list(decoded) == ["b", "a"]


@pytest.mark.parametrize(
    ("values", "expected_classes"),
    [
        ([30, 10, 20, 10], [10, 20, 30]),
        ([-5, INT64.max - 1, INT64.min + 1], [INT64.min + 1, -5, INT64.max - 1]),
        (["b", "B", "a", "ab", ""], ["", "B", "a", "ab", "b"]),
    ],
)
def test_codes_are_one_to_n_in_sorted_order(values, expected_classes):
    encoder = IdEncoder.from_values(values)
    assert list(encoder.classes) == expected_classes
    assert encoder.encode(expected_classes).tolist() == list(range(1, len(expected_classes) + 1))
    assert len(encoder) == len(expected_classes)


@FAST
@given(st.lists(st.integers(-1000, 1000), min_size=1, max_size=40))
def test_codes_match_rank_of_sorted_unique_ints(values):
    encoder = IdEncoder.from_values(np.array(values, dtype=np.int64))
    uniques = sorted(set(values))
    expected = [uniques.index(v) + 1 for v in values]
    assert encoder.encode(values).tolist() == expected
    assert encoder.decode(expected).tolist() == values


@FAST
@given(st.lists(st.text(max_size=5), min_size=1, max_size=40))
def test_codes_match_rank_of_sorted_unique_strings(values):
    encoder = IdEncoder.from_values(np.array(values, dtype=object))
    uniques = sorted(set(values))
    expected = [uniques.index(v) + 1 for v in values]
    assert encoder.encode(np.array(values, dtype=object)).tolist() == expected
    assert encoder.decode(expected).tolist() == values


@pytest.mark.parametrize(
    ("known", "query"),
    [
        ([1, 2, 3], [4, 0, -1, 2]),
        ([1, 2, 3], ["1", "a", 2]),
        ([1, 2, 3], [1.5, 3.0]),
        (["a", "b"], ["c", "A", "b"]),
        (["a", "b"], [1, 2]),
        (["a", "b"], [None, "a"]),
    ],
)
def test_unknown_ids_encode_to_zero(known, query):
    encoder = IdEncoder.from_values(known)
    expected = [known.index(q) + 1 if q in known else 0 for q in query]
    assert encoder.encode(np.array(query, dtype=object)).tolist() == expected


def test_unknown_category_encodes_to_zero():
    values, dtype = validated(pd.Series(pd.Categorical(["a", "b"], categories=["a", "b", "c"])))
    encoder = IdEncoder.from_values(values, dtype)
    assert encoder.encode(pd.Categorical(["c", "b", "a"])).tolist() == [0, 2, 1]


def test_encode_empty():
    encoder = IdEncoder.from_values([1, 2])
    codes = encoder.encode([])
    assert codes.dtype == np.int64
    assert codes.shape == (0,)


def check_extend(encoder, values):
    merged, new_codes = encoder.extend(values)
    assert new_codes[0] == 0
    assert len(new_codes) == len(encoder) + 1
    # known ids keep a consistent mapping: old code c -> new code new_codes[c]
    old = encoder.encode(encoder.classes)
    assert merged.encode(encoder.classes).tolist() == new_codes[old].tolist()
    # merged is sorted over the union and still 1..n
    union = sorted(set(encoder.classes.tolist()) | set(np.asarray(values).tolist()))
    assert list(merged.classes) == union
    assert merged.encode(merged.classes).tolist() == list(range(1, len(union) + 1))
    assert merged.dtype == encoder.dtype or isinstance(encoder.dtype, pd.CategoricalDtype)
    return merged, new_codes


@FAST
@given(
    st.lists(st.integers(0, 30), min_size=1, max_size=20),
    st.lists(st.integers(0, 30), max_size=20),
)
def test_extend_keeps_known_ids_consistent(first, second):
    encoder = IdEncoder.from_values(np.array(first, dtype=np.int64))
    merged, new_codes = check_extend(encoder, np.array(second, dtype=np.int64))
    assert merged.classes.dtype == np.int64
    everything = np.array(first + second, dtype=np.int64)
    assert merged.decode(merged.encode(everything)).tolist() == everything.tolist()


def test_extend_with_strings():
    encoder = IdEncoder.from_values(
        np.array(["m", "c"], dtype=object), pd.StringDtype(na_value=np.nan)
    )
    merged, new_codes = check_extend(encoder, np.array(["a", "m", "z", "a"], dtype=object))
    assert new_codes.tolist() == [0, 2, 3]  # c: 1 -> 2, m: 2 -> 3 (a is inserted first)
    decoded = merged.decode([1, 2, 3, 4])
    assert decoded.dtype == pd.StringDtype(na_value=np.nan)
    assert list(decoded) == ["a", "c", "m", "z"]


def test_extend_with_nothing_new_keeps_int64_classes():
    encoder = IdEncoder.from_values(np.array([INT64.max - 1, 5], dtype=np.int64))
    for values in ([], np.array([5]), np.array([INT64.max - 1, 5])):
        merged, new_codes = encoder.extend(values)
        assert merged.classes.dtype == np.int64
        assert new_codes.tolist() == [0, 1, 2]
        # a near-limit neighbour must stay unknown (float classes would collapse them)
        assert merged.encode(np.array([INT64.max - 2, INT64.max - 1])).tolist() == [0, 2]


def test_extend_categorical_decodes_new_ids():
    values, dtype = validated(pd.Series(pd.Categorical(["b", "a"], categories=["a", "b"])))
    encoder = IdEncoder.from_values(values, dtype)
    merged, new_codes = check_extend(encoder, np.array(["c", "a"], dtype=object))
    assert new_codes.tolist() == [0, 1, 2]
    decoded = merged.decode([1, 2, 3])
    assert isinstance(decoded, pd.Categorical)
    assert list(decoded) == ["a", "b", "c"]
    assert not decoded.isna().any()
    assert list(decoded.categories)[:2] == ["a", "b"]


@pytest.mark.parametrize(("kind", "column"), id_columns(), ids=[k for k, _ in id_columns()])
def test_pickle_round_trip(kind, column):
    values, dtype = validated(column)
    encoder = IdEncoder.from_values(values, dtype)
    codes = encoder.encode(values)  # builds the cached index before pickling
    clone = pickle.loads(pickle.dumps(encoder))
    assert clone.dtype == encoder.dtype
    np.testing.assert_array_equal(np.asarray(clone.classes), np.asarray(encoder.classes))
    assert clone.encode(values).tolist() == codes.tolist()
    pd.testing.assert_series_equal(as_series(clone.decode(codes)), column.reset_index(drop=True))
    assert "_index" not in clone.__getstate__()
