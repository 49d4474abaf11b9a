"""check_interactions: every error of DESIGN.md's "Data in" contract, and the accepted inputs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skseqrec.data import Interactions, check_interactions, to_pandas

INT64 = np.iinfo(np.int64)


def frame(users=(1, 1, 2, 2, 3), items=(10, 11, 10, 12, 11), times=(0, 1, 0, 2, 5)):
    """Five events; columns keep the dtype of arrays, Series and Categoricals passed in."""
    columns = {"user_id": users, "item_id": items, "timestamp": times}
    return pd.DataFrame({k: list(v) if isinstance(v, tuple) else v for k, v in columns.items()})


# ---------------------------------------------------------------------------------- errors


@pytest.mark.parametrize("role", ["user", "item", "time"])
def test_missing_column_names_it_and_lists_the_columns(role):
    X = frame().rename(columns={"user_id": "uid", "item_id": "iid", "timestamp": "ts"})
    column = {"user": "user_id", "item": "item_id", "time": "timestamp"}[role]
    kwargs = {f"{r}_col": c for r, c in [("user", "uid"), ("item", "iid"), ("time", "ts")]}
    kwargs[f"{role}_col"] = column
    with pytest.raises(
        ValueError, match=rf"no column '{column}' \({role}_col\).*\['uid', 'iid', 'ts'\]"
    ):
        check_interactions(X, **kwargs)


def test_missing_default_column_with_custom_names_elsewhere():
    X = frame().drop(columns="timestamp")
    with pytest.raises(ValueError, match=r"'timestamp'.*\['user_id', 'item_id'\]"):
        check_interactions(X)


def test_error_uses_the_frame_name():
    with pytest.raises(ValueError, match=r"X_valid has no column 'user_id'"):
        check_interactions(frame().drop(columns="user_id"), name="X_valid")


@pytest.mark.parametrize(
    ("column", "values", "n_bad"),
    [
        ("user_id", [1.0, np.nan, 2.0, np.nan, 3.0], 2),
        ("user_id", pd.Series(["a", None, "b", "c", "d"], dtype=object), 1),
        ("user_id", pd.Series(["a", None, None, "c", None], dtype="str"), 3),
        ("user_id", pd.Series([1, None, 2, 2, 3], dtype="Int64"), 1),
        ("user_id", pd.Categorical(["a", None, "b", "b", None], categories=["a", "b", "z"]), 2),
        ("item_id", [10.0, 11.0, np.nan, 12.0, 11.0], 1),
        ("item_id", pd.Series([None, "x", "y", None, "x"], dtype=object), 2),
        ("timestamp", [0.0, np.nan, np.nan, np.nan, 1.0], 3),
        ("timestamp", pd.Series([0, 1, None, 3, 4], dtype="Int64"), 1),
        (
            "timestamp",
            pd.to_datetime(["2020-01-01", None, "2020-01-03", None, "2020-01-05"]),
            2,
        ),
        (
            "timestamp",
            pd.to_datetime(
                ["2020-01-01", "NaT", "2020-01-03", "2020-01-04", "2020-01-05"]
            ).tz_localize("Europe/Paris"),
            1,
        ),
    ],
)
def test_missing_values_name_the_column_and_count_rows(column, values, n_bad):
    X = frame()
    X[column] = values
    with pytest.raises(ValueError, match=rf"Column '{column}' of X has {n_bad} missing value"):
        check_interactions(X)


def test_missing_value_message_gives_first_position_and_index():
    X = frame(items=["a", "b", None, "c", "d"])
    X.index = [10, 20, 30, 40, 50]
    with pytest.raises(
        ValueError, match=r"1 missing value.*out of 5 rows.*position 2 \(index 30\)"
    ):
        check_interactions(X)


@pytest.mark.parametrize("column", ["user_id", "item_id"])
def test_mixed_id_types_in_object_column(column):
    X = frame()
    X[column] = pd.Series(["a", 2, "b", "c", 3], dtype=object)
    with pytest.raises(
        TypeError, match=rf"Column '{column}' of X mixes id types: 3 str values and 2 others"
    ):
        check_interactions(X)


def test_mixed_id_types_in_categories():
    X = frame(users=pd.Categorical(["a", "a", 1, 1, "a"]))
    with pytest.raises(TypeError, match=r"Column 'user_id' of X mixes id types.*in 5 rows"):
        check_interactions(X)


def test_object_ids_that_are_neither_int_nor_str():
    X = frame(items=pd.Series([1.5, 2.5, 1.5, 3.0, 4], dtype=object))
    with pytest.raises(TypeError, match=r"Column 'item_id' of X holds values that are neither"):
        check_interactions(X)


def test_empty_frame():
    X = frame().iloc[:0]
    with pytest.raises(ValueError, match=r"X is empty \(0 rows\)"):
        check_interactions(X)


@pytest.mark.parametrize(
    "X",
    [None, [[1, 2, 3]], np.zeros((3, 3)), {"user_id": [1], "item_id": [1], "timestamp": [1]}],
)
def test_not_a_dataframe(X):
    with pytest.raises(TypeError, match=r"X must be a pandas \(or polars\) DataFrame"):
        check_interactions(X)


def test_series_is_not_a_dataframe():
    with pytest.raises(TypeError, match=r"got Series"):
        to_pandas(frame()["user_id"])


@pytest.mark.parametrize("column", ["user_id", "item_id", "timestamp"])
def test_duplicate_column_names(column):
    X = frame()
    X = pd.concat([X, X[[column]]], axis=1)
    with pytest.raises(ValueError, match=rf"X has 2 columns named '{column}'.*unique"):
        check_interactions(X)


@pytest.mark.parametrize("dtype", [object, "str"])
def test_string_times_raise_type_error_with_hint(dtype):
    X = frame()
    X["timestamp"] = pd.Series(["2020-01-0" + str(i) for i in range(1, 6)], dtype=dtype)
    with pytest.raises(TypeError, match=r"Column 'timestamp'.*pd\.to_datetime\(X\['timestamp'\]\)"):
        check_interactions(X)


def test_infinite_times():
    X = frame(times=[0.0, np.inf, 1.0, -np.inf, np.inf])
    with pytest.raises(
        ValueError, match=r"Column 'timestamp' of X has 3 infinite value\(s\) \(e\.g\. inf\)"
    ):
        check_interactions(X)


def test_boolean_times():
    with pytest.raises(TypeError, match=r"Column 'timestamp' of X holds booleans"):
        check_interactions(frame(times=[True, False, True, True, False]))


def test_datetimes_outside_nanosecond_range_are_refused_not_wrapped():
    times = np.array(
        ["1000-01-01", "2000-01-01", "3000-01-01", "2001-01-01", "2002-01-01"], dtype="M8[s]"
    )
    with pytest.raises(ValueError, match=r"Column 'timestamp' of X has 2 datetime\(s\) outside"):
        check_interactions(frame(times=times))


@pytest.mark.parametrize("dtype", [np.uint64, "UInt64"])
def test_unsigned_times_above_int64_are_refused_not_wrapped(dtype):
    times = pd.Series([0, 2**63, 1, 2**64 - 1, 2], dtype=dtype)
    with pytest.raises(ValueError, match=r"Column 'timestamp' of X has 2 time\(s\) above"):
        check_interactions(frame(times=times))


def test_unsigned_times_in_range_are_accepted():
    times = pd.Series([0, INT64.max, 1, 2, 3], dtype=np.uint64)
    data = check_interactions(frame(times=times))
    assert data.times.tolist() == [0, INT64.max, 1, 2, 3]


@pytest.mark.parametrize("column", ["user_id", "item_id"])
@pytest.mark.parametrize("dtype", [bool, "boolean"])
def test_boolean_ids(column, dtype):
    X = frame()
    X[column] = pd.Series([True, False, True, True, False], dtype=dtype)
    with pytest.raises(TypeError, match=rf"Column '{column}' of X holds booleans"):
        check_interactions(X)


def test_boolean_ids_in_object_column():
    X = frame(items=pd.Series([True, False, True, True, False], dtype=object))
    with pytest.raises(TypeError, match=r"Column 'item_id' of X holds values that are neither"):
        check_interactions(X)


@pytest.mark.parametrize("column", ["user_id", "item_id"])
def test_non_integer_float_ids(column):
    X = frame()
    X[column] = [1.0, 1.5, 2.0, 2.25, 3.0]
    with pytest.raises(
        TypeError, match=rf"Column '{column}' of X holds non-integer floats \(e\.g\. 1\.5, 2 rows\)"
    ):
        check_interactions(X)


def test_infinite_float_ids_are_not_integers():
    X = frame(users=[1.0, np.inf, 2.0, 2.0, 3.0])
    with pytest.raises(TypeError, match=r"Column 'user_id' of X holds non-integer floats.*1 rows"):
        check_interactions(X)


def test_integral_float_ids_are_accepted():
    data = check_interactions(frame(users=[1.0, 1.0, 2.0, 2.0, -3.0]))
    assert data.users.tolist() == [1.0, 1.0, 2.0, 2.0, -3.0]


@pytest.mark.parametrize("n_y", [0, 4, 6])
def test_y_of_wrong_length(n_y):
    with pytest.raises(ValueError, match=rf"y has {n_y} values but X has 5 rows"):
        check_interactions(frame(), np.zeros(n_y))


def test_y_out_of_range():
    y = [0.0, 1.0, 1.5, -0.1, 0.5]
    with pytest.raises(
        ValueError, match=r"y must lie in \[0, 1\]; 2 of 5 rows are outside \(e\.g\. 1\.5\)"
    ):
        check_interactions(frame(), y, y_range=(0, 1))


def test_y_range_bounds_are_inclusive():
    data = check_interactions(frame(), [0, 1, 0.5, 1, 0], y_range=(0, 1))
    assert data.y.tolist() == [0, 1, 0.5, 1, 0]
    assert data.y.dtype == np.float64


@pytest.mark.parametrize("bad", [np.nan, np.inf])
def test_y_with_nan_or_inf(bad):
    y = [1.0, bad, 2.0, bad, 3.0]
    with pytest.raises(ValueError, match=r"y has 2 NaN/inf value\(s\) out of 5 rows"):
        check_interactions(frame(), y)


def test_y_with_none():
    with pytest.raises(ValueError, match=r"y has 1 NaN/inf value\(s\) out of 5 rows"):
        check_interactions(frame(), pd.Series([1.0, None, 2.0, 3.0, 4.0]))


def test_y_required_but_missing():
    with pytest.raises(ValueError, match=r"y is required.*\(5 rows\)"):
        check_interactions(frame(), require_y=True)


def test_y_not_numeric():
    with pytest.raises(TypeError, match=r"y must be numeric"):
        check_interactions(frame(), ["a", "b", "c", "d", "e"])


def test_y_two_dimensional():
    with pytest.raises(ValueError, match=r"y must be one-dimensional"):
        check_interactions(frame(), np.zeros((5, 2)))
    with pytest.raises(ValueError, match=r"DataFrame with 2 columns"):
        check_interactions(frame(), pd.DataFrame({"a": range(5), "b": range(5)}))


def test_y_single_column_frame_is_accepted():
    data = check_interactions(frame(), pd.DataFrame({"rating": [1, 2, 3, 4, 5]}))
    assert data.y.tolist() == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("column", [None, "", 3])
def test_column_name_must_be_a_string(column):
    with pytest.raises(TypeError, match=r"user_col must be a non-empty string"):
        check_interactions(frame(), user_col=column)


# -------------------------------------------------------------------------------- accepted


def test_int_ids_and_times_keep_values_and_order():
    X = frame()
    data = check_interactions(X)
    assert isinstance(data, Interactions)
    assert len(data) == 5
    assert data.y is None
    np.testing.assert_array_equal(data.users, X["user_id"].to_numpy())
    np.testing.assert_array_equal(data.items, X["item_id"].to_numpy())
    np.testing.assert_array_equal(data.times, [0, 1, 0, 2, 5])
    assert data.times.dtype == np.int64
    assert data.user_dtype == np.dtype(np.int64)


def test_extra_columns_and_custom_names_are_accepted():
    X = frame().rename(columns={"user_id": "u", "item_id": "i", "timestamp": "t"})
    X["rating"] = 3.0
    data = check_interactions(X, user_col="u", item_col="i", time_col="t")
    assert data.items.tolist() == [10, 11, 10, 12, 11]


@pytest.mark.parametrize("dtype", [object, "str"])
def test_string_ids(dtype):
    X = frame(users=pd.Series(["b", "b", "a", "a", "c"], dtype=dtype))
    data = check_interactions(X)
    assert data.users.tolist() == ["b", "b", "a", "a", "c"]
    assert data.user_dtype == X["user_id"].dtype


def test_pandas_default_string_dtype_is_str():
    X = pd.DataFrame({"user_id": ["u1", "u2"], "item_id": ["i1", "i2"], "timestamp": [1, 2]})
    data = check_interactions(X)
    assert data.user_dtype == X["user_id"].dtype
    assert data.item_dtype == pd.StringDtype(na_value=np.nan)


def test_int_ids_in_object_column():
    X = frame(items=pd.Series([10, 11, 10, np.int64(12), 11], dtype=object))
    data = check_interactions(X)
    assert data.items.tolist() == [10, 11, 10, 12, 11]


@pytest.mark.parametrize(
    "categories", [["a", "b", "c", "unused"], [3, 2, 1, 99, -5]], ids=["str", "int"]
)
def test_categorical_ids_with_unused_categories(categories):
    values = [categories[i] for i in (0, 0, 1, 1, 2)]
    X = frame(users=pd.Categorical(values, categories=categories))
    data = check_interactions(X)
    assert data.users.tolist() == values
    assert isinstance(data.user_dtype, pd.CategoricalDtype)
    assert list(data.user_dtype.categories) == categories


def test_int64_ids_near_the_limits():
    ids = [INT64.max - 1, INT64.min + 1, 0, INT64.max - 1, INT64.min + 1]
    X = frame(users=np.array(ids, dtype=np.int64), items=np.array(ids[::-1], dtype=np.int64))
    data = check_interactions(X)
    assert data.users.dtype == np.int64
    assert data.users.tolist() == ids
    assert data.items.tolist() == ids[::-1]


def test_nullable_int_ids_without_missing_values():
    X = frame(users=pd.Series([1, 1, 2, 2, 3], dtype="Int64"))
    data = check_interactions(X)
    assert data.users.tolist() == [1, 1, 2, 2, 3]
    assert data.user_dtype == pd.Int64Dtype()


def test_very_long_string_ids():
    long_a, long_b = "a" * 10_000, "a" * 9_999 + "b"
    X = frame(items=[long_a, long_b, long_a, long_b, long_a])
    data = check_interactions(X)
    assert data.items.tolist() == [long_a, long_b, long_a, long_b, long_a]
    assert len(data.items[1]) == 10_000


@pytest.mark.parametrize("unit", ["s", "ms", "us", "ns"])
def test_datetime64_units_give_nanoseconds(unit):
    base = np.array(
        ["1969-12-31T23:59:59", "1970-01-01", "2001-09-09T01:46:40", "2020-02-29", "2262-01-01"],
        dtype="M8[s]",
    )
    X = frame(times=pd.Series(base.astype(f"M8[{unit}]")))
    assert X["timestamp"].dtype == np.dtype(f"M8[{unit}]")
    data = check_interactions(X)
    assert data.times.dtype == np.int64
    np.testing.assert_array_equal(data.times, base.astype("M8[ns]").view(np.int64))
    assert data.times[0] == -1_000_000_000
    assert data.times[2] == 10**18


def test_tz_aware_datetimes_give_the_same_times_in_every_zone():
    # crosses the 2024 DST change in Paris and is a different calendar day in Tokyo/New York
    instants = pd.date_range("2024-03-30 22:00", periods=5, freq="47min", tz="UTC")
    expected = instants.tz_localize(None).as_unit("ns").to_numpy().view(np.int64)
    results = []
    for zone in ["UTC", "Europe/Paris", "Asia/Tokyo", "America/New_York"]:
        for unit in ["s", "ns"]:
            times = pd.Series(instants.tz_convert(zone).as_unit(unit))
            results.append(check_interactions(frame(times=times)).times)
    for times in results:
        np.testing.assert_array_equal(times, expected)
    naive = check_interactions(frame(times=pd.Series(instants.tz_localize(None)))).times
    np.testing.assert_array_equal(naive, expected)


def test_float_times():
    times = [0.5, -1.25, 1e12, 3.0, 0.0]
    data = check_interactions(frame(times=times))
    assert data.times.dtype == np.float64
    assert data.times.tolist() == times


def test_int_times_near_the_limits():
    times = [INT64.max, INT64.min, 0, INT64.max - 1, INT64.min + 1]
    data = check_interactions(frame(times=np.array(times, dtype=np.int64)))
    assert data.times.dtype == np.int64
    assert data.times.tolist() == times


def test_input_frame_is_not_modified():
    X = frame(users=["b", "a", "b", "a", "c"])
    before = X.copy()
    check_interactions(X, [1, 2, 3, 4, 5])
    pd.testing.assert_frame_equal(X, before)


def test_polars_input():
    pl = pytest.importorskip("polars")  # converted without pyarrow
    X = pl.DataFrame(
        {"user_id": ["a", "a", "b"], "item_id": [3, 1, 2], "timestamp": [0.5, 0.25, 1.0]}
    )
    data = check_interactions(X)
    assert data.users.tolist() == ["a", "a", "b"]
    assert data.items.tolist() == [3, 1, 2]
    assert data.times.tolist() == [0.5, 0.25, 1.0]
    with pytest.raises(ValueError, match=r"no column 'missing'.*'user_id', 'item_id', 'timestamp'"):
        check_interactions(X, time_col="missing")
