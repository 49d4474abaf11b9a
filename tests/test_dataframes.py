"""Any DataFrame in: polars (eager, lazy), pyarrow and narwhals frames give what pandas gives.

``to_pandas`` converts polars column by column through numpy, so none of this needs pyarrow
except the pyarrow cases themselves.
"""

from __future__ import annotations

import datetime as dt
import importlib.abc
import sys

import numpy as np
import pandas as pd
import pytest

from skseqrec import PopularityRecommender, SASRecClassifierEstimator
from skseqrec.data import check_interactions, to_pandas

pl = pytest.importorskip("polars")
nw = pytest.importorskip("narwhals.stable.v2")

KINDS = ["polars", "polars_lazy", "pyarrow", "narwhals"]


def as_kind(data: dict, kind: str):
    """The columns ``data`` (name -> list) as a frame of library ``kind``."""
    if kind == "pandas":  # what to_pandas promises: strings as object
        return pd.DataFrame({k: pd.Series(v, dtype=_pandas_dtype(v)) for k, v in data.items()})
    if kind == "polars":
        return pl.DataFrame(data)
    if kind == "polars_lazy":
        return pl.DataFrame(data).lazy()
    if kind == "pyarrow":
        pa = pytest.importorskip("pyarrow")
        return pa.table(data)
    if kind == "narwhals":  # an already wrapped (pandas-backed) narwhals frame
        return nw.from_native(as_kind(data, "pandas"), eager_only=True)
    raise AssertionError(kind)


def _pandas_dtype(values):
    return object if any(isinstance(v, str) for v in values) else None


@pytest.fixture(scope="module")
def columns(tiny) -> dict:
    return {column: tiny[column].tolist() for column in tiny.columns}


def no_pyarrow(monkeypatch, block):
    """Make pyarrow unimportable: ``block`` is a finder put first, or None in sys.modules."""
    for module in [m for m in sys.modules if m.split(".")[0] == "pyarrow"]:
        monkeypatch.delitem(sys.modules, module)
    if block is None:
        monkeypatch.setitem(sys.modules, "pyarrow", None)
    else:
        monkeypatch.setattr(sys, "meta_path", [block, *sys.meta_path])


class RefusePyarrow(importlib.abc.MetaPathFinder):
    """Records (and refuses) every attempt to import pyarrow."""

    def __init__(self):
        self.asked = []

    def find_spec(self, fullname, path=None, target=None):
        if fullname.split(".")[0] == "pyarrow":
            self.asked.append(fullname)
            raise ModuleNotFoundError(f"No module named {fullname!r} (blocked by the test)")
        return None


# ------------------------------------------------------------------ same model, same output
@pytest.mark.parametrize("kind", KINDS)
def test_popularity_is_the_same_for_every_frame(columns, kind):
    reference = as_kind(columns, "pandas")
    X = as_kind(columns, kind)
    expected = PopularityRecommender().fit(reference).recommend(reference, top_k=3)
    model = PopularityRecommender().fit(X)
    np.testing.assert_array_equal(model.classes_, PopularityRecommender().fit(reference).classes_)
    pd.testing.assert_frame_equal(model.recommend(X, top_k=3), expected)


@pytest.mark.parametrize("kind", KINDS)
def test_sasrec_is_the_same_for_every_frame(columns, kind):
    reference = as_kind(columns, "pandas")
    X = as_kind(columns, kind)
    params = {"hidden_units": 8, "epochs": 1, "random_state": 0}
    expected = SASRecClassifierEstimator(**params).fit(reference)
    model = SASRecClassifierEstimator(**params).fit(X)
    np.testing.assert_array_equal(model.item_embeddings_, expected.item_embeddings_)
    pd.testing.assert_frame_equal(
        model.recommend(X, top_k=4), expected.recommend(reference, top_k=4)
    )


# ----------------------------------------------------------------------- dtype faithfulness
def text(values) -> pd.Index:
    """String categories as to_pandas gives them: object, whatever pandas infers by default."""
    return pd.Index(values, dtype=object)


PARIS = "Europe/Paris"
DAYS = [dt.datetime(2020, 3, 29, 1, 30), None, dt.datetime(2021, 1, 1)]  # a DST switch day

POLARS_CASES = {
    "int8": (pl.Series([1, 2, 3], dtype=pl.Int8), pd.Series([1, 2, 3], dtype=np.int8)),
    "uint64": (pl.Series([1, 2, 3], dtype=pl.UInt64), pd.Series([1, 2, 3], dtype=np.uint64)),
    "int_null": (pl.Series([1, None, 3]), pd.Series([1.0, np.nan, 3.0])),
    "float32_null": (
        pl.Series([0.5, None, float("nan")], dtype=pl.Float32),
        pd.Series([0.5, np.nan, np.nan], dtype=np.float32),
    ),
    "bool": (pl.Series([True, False, True]), pd.Series([True, False, True])),
    "bool_null": (pl.Series([True, None, False]), pd.Series([True, None, False], dtype=object)),
    "str_null": (pl.Series(["a", None, "c"]), pd.Series(["a", None, "c"], dtype=object)),
    "categorical": (
        pl.Series(["b", None, "a"], dtype=pl.Categorical),
        pd.Series(pd.Categorical(["b", None, "a"], categories=text(["a", "b"]))),
    ),
    "enum": (
        pl.Series(["b", "z", None], dtype=pl.Enum(["z", "b", "a"])),
        pd.Series(pd.Categorical(["b", "z", None], categories=text(["z", "b", "a"]))),
    ),
    "datetime_tz": (
        pl.Series(DAYS).dt.replace_time_zone(PARIS),
        pd.Series(pd.to_datetime(DAYS).tz_localize(PARIS)).astype(f"datetime64[us, {PARIS}]"),
    ),
    "datetime_ms": (
        pl.Series(DAYS, dtype=pl.Datetime("ms")),
        pd.Series(pd.to_datetime(DAYS)).astype("datetime64[ms]"),
    ),
    "date": (
        pl.Series([dt.date(2020, 1, 2), None, dt.date(1960, 5, 6)]),
        pd.Series(pd.to_datetime(["2020-01-02", None, "1960-05-06"])).astype("datetime64[s]"),
    ),
    "duration": (
        pl.Series([dt.timedelta(days=1), None, dt.timedelta(seconds=3)]),
        pd.Series(pd.to_timedelta(["1D", None, "3s"])).astype("timedelta64[us]"),
    ),
    "list": (pl.Series([[1, 2], None, []]), pd.Series([[1, 2], None, []], dtype=object)),
}


def check_column(frame, column: str, expected: pd.Series):
    pd.testing.assert_series_equal(
        frame[column], expected.rename(column), check_categorical=True, check_exact=True
    )
    # the missing values sit where the nulls were
    np.testing.assert_array_equal(frame[column].isna().to_numpy(), expected.isna().to_numpy())


@pytest.mark.parametrize("lazy", [False, True])
def test_polars_dtypes_are_kept(lazy):
    X = pl.DataFrame({name: series for name, (series, _) in POLARS_CASES.items()})
    converted = to_pandas(X.lazy() if lazy else X)
    assert list(converted.columns) == list(POLARS_CASES)
    assert isinstance(converted.index, pd.RangeIndex)
    for name, (_, expected) in POLARS_CASES.items():
        check_column(converted, name, expected)


def test_pyarrow_dtypes_are_kept():
    pa = pytest.importorskip("pyarrow")
    table = pa.table(
        {
            "int_null": pa.array([1, None, 3]),
            "bool_null": pa.array([True, None, False]),
            "large_str": pa.array(["a", None, "c"], type=pa.large_string()),
            # pyarrow's own to_numpy repeats a neighbour in place of a dictionary's null
            "dictionary": pa.array(["x", "y", None]).dictionary_encode(),
            "int_dictionary": pa.array([3, None, 1]).dictionary_encode(),
            "tz_seconds": pa.array(DAYS, type=pa.timestamp("s", tz="UTC")),
            "date": pa.array([dt.date(2020, 1, 2), None, dt.date(1960, 5, 6)]),
        }
    )
    converted = to_pandas(table)
    check_column(converted, "int_null", pd.Series([1.0, np.nan, 3.0]))
    check_column(converted, "bool_null", pd.Series([True, None, False], dtype=object))
    check_column(converted, "large_str", pd.Series(["a", None, "c"], dtype=object))
    check_column(
        converted, "dictionary", pd.Series(pd.Categorical(["x", "y", None], text(["x", "y"])))
    )
    check_column(converted, "int_dictionary", pd.Series(pd.Categorical([3, None, 1])))
    expected = pd.Series(pd.to_datetime(DAYS).tz_localize("UTC")).astype("datetime64[s, UTC]")
    check_column(converted, "tz_seconds", expected)
    check_column(
        converted,
        "date",
        pd.Series(pd.to_datetime(["2020-01-02", None, "1960-05-06"])).astype("datetime64[s]"),
    )


@pytest.mark.parametrize("kind", ["polars", "polars_lazy", "pyarrow"])
@pytest.mark.parametrize(
    ("column", "values", "position"),
    [
        ("user_id", ["u1", "u1", "u2", None, "u2"], 3),
        ("item_id", [10, 11, None, 12, 11], 2),
        ("timestamp", [dt.datetime(2020, 1, d) if d != 2 else None for d in range(1, 6)], 1),
    ],
)
def test_missing_values_keep_their_row_position(kind, column, values, position):
    data = {
        "user_id": ["u1", "u1", "u2", "u2", "u2"],
        "item_id": [10, 11, 10, 12, 11],
        "timestamp": [0, 1, 2, 3, 4],
    }
    data[column] = values
    X = as_kind(data, kind)
    with pytest.raises(
        ValueError,
        match=rf"Column '{column}' of X has 1 missing value.*position {position} "
        rf"\(index {position}\)",
    ):
        check_interactions(X)


@pytest.mark.parametrize("kind", ["polars", "pyarrow"])
def test_categorical_ids_and_tz_aware_times(kind):
    users = pl.Series(["u2", "u1", "u2", "u1"], dtype=pl.Categorical)
    times = pl.Series([dt.datetime(2020, 1, 1, h) for h in (3, 1, 2, 4)])
    X = pl.DataFrame(
        {"user_id": users, "item_id": [1, 2, 3, 4], "timestamp": times.dt.replace_time_zone(PARIS)}
    )
    if kind == "pyarrow":
        pytest.importorskip("pyarrow")
        X = X.to_arrow()
    data = check_interactions(X)
    assert isinstance(data.user_dtype, pd.CategoricalDtype)
    assert data.users.tolist() == ["u2", "u1", "u2", "u1"]
    utc = pd.to_datetime([f"2020-01-01 0{h}:00" for h in (3, 1, 2, 4)]).tz_localize(PARIS)
    np.testing.assert_array_equal(data.times, utc.tz_convert("UTC").as_unit("ns").asi8)


# ------------------------------------------------------------------------------ no pyarrow
@pytest.mark.parametrize("block", [None, RefusePyarrow()], ids=["sys.modules", "finder"])
def test_polars_needs_no_pyarrow(monkeypatch, columns, block):
    no_pyarrow(monkeypatch, block)
    with pytest.raises(ImportError):
        import pyarrow  # noqa: F401
    if block is not None:
        block.asked.clear()
    X = pl.DataFrame({name: series for name, (series, _) in POLARS_CASES.items()})
    for lazy in (False, True):
        converted = to_pandas(X.lazy() if lazy else X)
        for name, (_, expected) in POLARS_CASES.items():
            check_column(converted, name, expected)
    recs = PopularityRecommender().fit(pl.DataFrame(columns).lazy()).recommend(None, users="u00")
    assert len(recs) == 10
    if block is not None:
        assert block.asked == []  # neither narwhals nor polars tried to import it


# --------------------------------------------------------------------------- not a frame
@pytest.mark.parametrize(
    "X",
    [
        None,
        [[1, 2, 3]],
        np.zeros((3, 3)),
        {"user_id": [1]},
        pd.Series([1, 2]),
        pl.Series([1, 2]),
    ],
    ids=["None", "list", "ndarray", "dict", "pandas.Series", "polars.Series"],
)
def test_not_a_dataframe(X):
    with pytest.raises(TypeError, match=r"X_train must be a pandas \(or polars\) DataFrame"):
        to_pandas(X, name="X_train")


def test_pandas_is_returned_as_is(columns):
    X = as_kind(columns, "pandas")
    assert to_pandas(X) is X


def test_duplicate_pyarrow_columns_are_refused():
    pa = pytest.importorskip("pyarrow")
    table = pa.table([pa.array([1]), pa.array([2])], names=["user_id", "user_id"])
    with pytest.raises(ValueError, match=r"X has duplicate column names.*'user_id' 2 times"):
        to_pandas(table)


def test_without_narwhals_pandas_works_and_other_frames_say_what_to_install(monkeypatch):
    import sys

    pl = pytest.importorskip("polars")
    import pandas as pd

    from skseqrec.data import to_pandas

    for module in ("narwhals", "narwhals.stable", "narwhals.stable.v2"):
        monkeypatch.setitem(sys.modules, module, None)
    frame = pd.DataFrame({"user_id": [1], "item_id": [2], "timestamp": [3]})
    assert to_pandas(frame) is frame
    with pytest.raises(ImportError, match=r"skseqrec\[dataframes\]"):
        to_pandas(pl.DataFrame({"user_id": [1]}))
    with pytest.raises(TypeError, match="got list"):
        to_pandas([1, 2])
