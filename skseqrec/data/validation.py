"""Validation of interaction DataFrames.

Every public entry point that takes interactions goes through
:func:`check_interactions`, so the same input gives the same error everywhere.
Errors name the column, an offending value and how many rows are affected.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

__all__ = ["Interactions", "check_column", "check_interactions", "check_times", "to_pandas"]


@dataclass(frozen=True)
class Interactions:
    """Validated interaction columns as numpy arrays.

    Attributes
    ----------
    users, items : ndarray or pandas ExtensionArray
        Raw ids, one per row, in the caller's order.
    times : ndarray of float64 or int64
        Sortable times (datetimes become int64 nanoseconds since the epoch, UTC).
    y : ndarray of float64 or None
        Optional per-row target.
    user_dtype, item_dtype : dtype
        The dtypes of the caller's id columns, restored in every output frame.

    Examples
    --------
    >>> import pandas as pd
    >>> from skseqrec.data import Interactions, check_interactions
    >>> X = pd.DataFrame({"user_id": [1, 1, 2], "item_id": ["a", "b", "a"],
    ...                   "timestamp": pd.to_datetime(["2024-01-01", "2024-01-02",
    ...                                                "2024-01-01"])})
    >>> data = check_interactions(X, y=[1, 0, 1])
    >>> isinstance(data, Interactions), len(data)
    (True, 3)
    >>> data.users.tolist(), data.items.tolist(), data.y.tolist()
    ([1, 1, 2], ['a', 'b', 'a'], [1.0, 0.0, 1.0])
    >>> int(data.times[1] - data.times[0])  # one day in nanoseconds
    86400000000000
    """

    users: object
    items: object
    times: np.ndarray
    y: np.ndarray | None
    user_dtype: object
    item_dtype: object

    def __len__(self) -> int:
        return len(self.times)


def to_pandas(X, *, name: str = "X") -> pd.DataFrame:
    """Return the DataFrame ``X`` as a pandas DataFrame, converting it once.

    Every entry point that takes interactions (estimators, splitters,
    :func:`~skseqrec.evaluate`, :func:`check_interactions`) calls this first, so any
    DataFrame that `narwhals <https://narwhals-dev.github.io/narwhals/>`_ recognises is
    accepted, and outputs are pandas whatever the input (recommendations, evaluation tables,
    filtered interactions; splitters yield numpy row positions).

    - A pandas DataFrame is returned as is (no copy, no narwhals).
    - A polars DataFrame or pyarrow Table is converted column by column through numpy,
      without pyarrow for polars input.
    - A lazy frame (polars LazyFrame, dask, duckdb, ...) is collected first, with its
      backend's default (polars stays polars, dask gives pandas, most others pyarrow), so
      its result must fit in memory, as training needs anyway.
    - Other pandas-like frames (modin, cuDF, a narwhals frame over pandas) are converted by
      their own ``to_pandas``.

    Column by column, the dtypes map as follows (``None``, ``NaN`` and ``NaT`` mark the
    missing values exactly where the nulls were, so errors name the right row positions):

    ===================== =====================================================
    input dtype           pandas dtype
    ===================== =====================================================
    Int, UInt             the same numpy dtype; float64 with NaN if there are nulls
    Float32, Float64      the same numpy dtype, NaN for nulls
    Boolean               bool; object (True/False/None) if there are nulls
    String                object of Python ``str`` (None for nulls)
    Categorical           Categorical, its distinct values sorted as categories
                          (object categories for strings)
    Enum                  Categorical with the Enum's categories, in its order
    Datetime(unit, tz)    datetime64[unit, tz] (datetime64[unit] without a time zone)
    Date                  datetime64[s] at midnight
    Duration(unit)        timedelta64[unit]
    List, Array, Struct   object of Python lists and dicts (None for nulls)
    others                what the backend's ``to_numpy`` gives
    ===================== =====================================================

    Parameters
    ----------
    X : DataFrame
        pandas, polars (eager or lazy), pyarrow Table, or any other DataFrame narwhals
        supports.
    name : str, default="X"
        How to call the frame in messages.

    Returns
    -------
    pandas.DataFrame
        ``X`` itself if it is already a pandas DataFrame.

    Raises
    ------
    TypeError
        If ``X`` is not a DataFrame.
    ValueError
        If ``X`` has duplicate column names (possible in a pyarrow Table).

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1], "item_id": ["a"], "timestamp": [0]})
    >>> to_pandas(X) is X
    True
    """
    if isinstance(X, pd.DataFrame):
        return X
    try:
        import narwhals.stable.v2 as nw  # only non-pandas input pays for narwhals
    except ImportError:
        if hasattr(X, "columns") or hasattr(X, "schema"):
            raise ImportError(
                f"{name} is a {type(X).__module__}.{type(X).__name__}; reading DataFrames other "
                'than pandas needs narwhals: pip install "skseqrec[dataframes]" (polars users: '
                '"skseqrec[polars]").'
            ) from None
        raise TypeError(
            f"{name} must be a pandas (or polars) DataFrame of interactions, got "
            f"{type(X).__name__}."
        ) from None

    try:
        frame = nw.from_native(X, pass_through=True)
    except nw.exceptions.DuplicateError as exc:
        found = str(exc).replace("\n", " ")
        raise ValueError(
            f"{name} has duplicate column names ({found}); names must be unique."
        ) from None
    if isinstance(frame, nw.LazyFrame):
        frame = frame.collect()
    if not isinstance(frame, nw.DataFrame):
        raise TypeError(
            f"{name} must be a pandas (or polars) DataFrame of interactions, or another "
            f"DataFrame narwhals supports (polars LazyFrame, pyarrow Table, modin...), got "
            f"{type(X).__name__}."
        )
    if frame.implementation.is_pandas_like():
        return frame.to_pandas()
    return pd.DataFrame(
        {column: _pandas_column(frame.get_column(column)) for column in frame.columns}, copy=False
    )


#: What marks a missing value in a numpy array, by dtype kind (None for object arrays).
_MISSING = {"f": np.nan, "M": np.datetime64("NaT"), "m": np.timedelta64("NaT")}


def _pandas_column(series) -> pd.Series:
    """A narwhals Series as a pandas Series, through numpy only (see :func:`to_pandas`)."""
    import narwhals.stable.v2 as nw

    dtype = series.dtype
    if isinstance(dtype, (nw.List, nw.Array, nw.Struct)):
        return pd.Series(series.to_list(), dtype=object)
    time_zone = dtype.time_zone if isinstance(dtype, nw.Datetime) else None
    if time_zone is not None:
        series = series.dt.convert_time_zone("UTC").dt.replace_time_zone(None)
    values = series.to_numpy()
    categorical = isinstance(dtype, (nw.Categorical, nw.Enum))
    if categorical or isinstance(dtype, nw.String):
        values = values.astype(object, copy=False)
    if series.null_count():
        # Backends disagree on what fills a null (a pyarrow dictionary repeats a neighbour),
        # so the null mask decides where the missing markers go.
        if values.dtype.kind in "iu":
            values = values.astype(np.float64)
        elif values.dtype.kind == "b":
            values = values.astype(object)
        else:
            values = values.copy()
        values[series.is_null().to_numpy()] = _MISSING.get(values.dtype.kind)
    if categorical:
        return _categorical(values, dtype.categories if isinstance(dtype, nw.Enum) else None)
    result = pd.Series(values, dtype=object if values.dtype == object else None, copy=False)
    if time_zone is not None:
        result = result.dt.tz_localize("UTC").dt.tz_convert(time_zone)
    return result


def _categorical(values: np.ndarray, categories=None) -> pd.Series:
    """Object ``values`` (None for missing) as a Categorical Series.

    The categories are ``categories`` in their order (an Enum's), else the distinct values
    sorted. String categories are kept as object: pandas' own inference would route them
    through pyarrow whenever it is installed.
    """
    codes, uniques = pd.factorize(values, sort=categories is None)
    if categories is None:
        categories = uniques
    else:
        position = {category: i for i, category in enumerate(categories)}
        # one entry per distinct value, plus -1 (read by code -1) for the missing ones
        codes = np.array([*(position[u] for u in uniques), -1], dtype=np.int64)[codes]
    is_text = pd.api.types.infer_dtype(categories, skipna=True) == "string"
    index = pd.Index(list(categories), dtype=object if is_text else None)
    return pd.Series(pd.Categorical.from_codes(codes, categories=index), copy=False)


def _scalar(value):
    """Python scalar for numpy numbers, so messages read 1.5, not np.float64(1.5)."""
    return value.item() if isinstance(value, (np.number, np.bool_)) else value


def _preview(values) -> str:
    values = list(values[:3])
    return ", ".join(repr(_scalar(v)) for v in values)


def check_column(X: pd.DataFrame, column: str, *, role: str, name: str = "X") -> pd.Series:
    """The column ``column`` of ``X``, checked to exist once.

    Parameters
    ----------
    X : pandas.DataFrame
    column : str
        The column's name.
    role : str
        What the column holds (``"user"``, ``"time"``, ``"rating"``...); messages name the
        parameter ``{role}_col``.
    name : str, default="X"
        How to call the frame in messages.

    Returns
    -------
    pandas.Series

    Raises
    ------
    TypeError
        ``column`` is not a non-empty string.
    ValueError
        ``X`` has no such column, or more than one.
    """
    if not isinstance(column, str) or not column:
        raise TypeError(f"{role}_col must be a non-empty string, got {column!r}.")
    if column not in X.columns:
        raise ValueError(
            f"{name} has no column {column!r} ({role}_col); its columns are {list(X.columns)!r}. "
            f"Pass {role}_col=... to name the {role} column."
        )
    selected = X.loc[:, column]
    if isinstance(selected, pd.DataFrame):
        raise ValueError(
            f"{name} has {selected.shape[1]} columns named {column!r} ({role}_col); "
            "column names must be unique."
        )
    return selected


def _check_missing(series: pd.Series, column: str, name: str) -> None:
    missing = series.isna().to_numpy()
    n_missing = int(missing.sum())
    if n_missing:
        first = int(np.flatnonzero(missing)[0])
        raise ValueError(
            f"Column {column!r} of {name} has {n_missing} missing value(s) (NaN/None/NaT) "
            f"out of {len(series)} rows, the first at row position {first} "
            f"(index {_scalar(series.index[first])!r}). Drop or fill them first."
        )


def _check_ids(series: pd.Series, column: str, name: str):
    """Validate an id column and return its values and dtype."""
    _check_missing(series, column, name)
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        # Categories carry the real type; check them like a plain column.
        _check_scalar_kind(pd.Series(dtype.categories), column, name, len(series))
        categories = dtype.categories.dtype
        as_numpy = (
            categories if isinstance(categories, np.dtype) and categories.kind != "O" else object
        )
        return series.to_numpy(dtype=as_numpy), dtype
    if pd.api.types.is_bool_dtype(dtype):
        raise TypeError(f"Column {column!r} of {name} holds booleans; ids must be int or str.")
    if pd.api.types.is_float_dtype(dtype):
        values = series.to_numpy()
        fractional = ~np.isfinite(values) | (values != np.floor(values))
        if fractional.any():
            raise TypeError(
                f"Column {column!r} of {name} holds non-integer floats "
                f"(e.g. {_scalar(values[fractional][0])!r}, {int(fractional.sum())} rows); ids must be "
                "int, str or categorical."
            )
        return values, dtype
    if pd.api.types.is_integer_dtype(dtype):
        return series.to_numpy(), dtype
    if pd.api.types.is_string_dtype(dtype) or dtype == np.dtype(object):
        values = series.to_numpy(dtype=object)
        _check_scalar_kind(series, column, name, len(series))
        return values, dtype
    raise TypeError(
        f"Column {column!r} of {name} has dtype {dtype}; ids must be int, str or categorical "
        f"(first values: {_preview(series.to_numpy())})."
    )


def _check_scalar_kind(series: pd.Series, column: str, name: str, n_rows: int) -> None:
    """Reject object columns that mix strings with numbers (or hold other objects)."""
    if series.dtype != object and not pd.api.types.is_string_dtype(series.dtype):
        return
    values = series.to_numpy(dtype=object)
    is_str = np.fromiter((isinstance(v, str) for v in values), dtype=bool, count=len(values))
    if is_str.all():
        return
    is_int = np.fromiter(
        (isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values),
        dtype=bool,
        count=len(values),
    )
    if is_int.all():
        return
    if is_str.any():
        odd = ~is_str
        raise TypeError(
            f"Column {column!r} of {name} mixes id types: {int(is_str.sum())} str values and "
            f"{int(odd.sum())} others (e.g. {values[odd][0]!r} of type "
            f"{type(values[odd][0]).__name__}) in {n_rows} rows. Convert the column to one type, "
            f"e.g. X[{column!r}].astype(str)."
        )
    odd = ~is_int
    raise TypeError(
        f"Column {column!r} of {name} holds values that are neither int nor str "
        f"(e.g. {values[odd][0]!r}, {int(odd.sum())} rows)."
    )


def check_times(series: pd.Series, column: str, name: str = "X") -> np.ndarray:
    """Validate a time column and put it on one sortable axis.

    Parameters
    ----------
    series : pandas.Series
        Numbers or datetimes (any unit, tz-aware or not).
    column, name : str
        The column's name and how to call its frame, for messages.

    Returns
    -------
    ndarray of int64 or float64
        Integer times as int64, other numbers as float64, datetimes as int64 nanoseconds
        since the epoch (UTC); see :class:`~skseqrec.data.TimeAxis` for the way back.

    Raises
    ------
    TypeError
        The column holds neither numbers nor datetimes.
    ValueError
        Missing, infinite or out-of-range values.
    """
    _check_missing(series, column, name)
    dtype = series.dtype
    if isinstance(dtype, pd.DatetimeTZDtype) or pd.api.types.is_datetime64_any_dtype(dtype):
        # Any unit, tz-aware or not: int64 nanoseconds on one (UTC) axis.
        if isinstance(dtype, pd.DatetimeTZDtype):
            series = series.dt.tz_convert("UTC").dt.tz_localize(None)
        try:
            # as_unit raises instead of silently wrapping dates outside 1677..2262
            series = series.dt.as_unit("ns")
        except pd.errors.OutOfBoundsDatetime as exc:
            out = ((series < pd.Timestamp.min) | (series > pd.Timestamp.max)).to_numpy()
            raise ValueError(
                f"Column {column!r} of {name} has {int(out.sum())} datetime(s) outside the "
                f"nanosecond range 1677-09-21..2262-04-11 (e.g. {series[out].iloc[0]!r}); "
                "convert the column to numbers (e.g. seconds since the epoch)."
            ) from exc
        return series.to_numpy("datetime64[ns]").view(np.int64)
    if pd.api.types.is_bool_dtype(dtype):
        raise TypeError(
            f"Column {column!r} of {name} holds booleans; times must be numbers or datetimes."
        )
    if pd.api.types.is_numeric_dtype(dtype):
        values = series.to_numpy(dtype=np.float64)
        bad = ~np.isfinite(values)
        if bad.any():
            raise ValueError(
                f"Column {column!r} of {name} has {int(bad.sum())} infinite value(s) "
                f"(e.g. {_scalar(values[bad][0])!r}); times must be finite."
            )
        if pd.api.types.is_integer_dtype(dtype):
            if pd.api.types.is_unsigned_integer_dtype(dtype):  # would wrap to negatives
                raw = series.to_numpy(dtype=np.uint64)
                too_big = raw > np.iinfo(np.int64).max
                if too_big.any():
                    raise ValueError(
                        f"Column {column!r} of {name} has {int(too_big.sum())} time(s) above "
                        f"the int64 range (e.g. {int(raw[too_big][0])})."
                    )
            return series.to_numpy(dtype=np.int64)
        return values
    raise TypeError(
        f"Column {column!r} of {name} has dtype {dtype} (first values: "
        f"{_preview(series.to_numpy())}); times must be int/float (epoch or order index) or "
        f"datetime64. Convert with pd.to_datetime(X[{column!r}]) or .astype(int)."
    )


def check_interactions(
    X,
    y=None,
    *,
    user_col: str = "user_id",
    item_col: str = "item_id",
    time_col: str = "timestamp",
    y_range: tuple[float, float] | None = None,
    require_y: bool = False,
    name: str = "X",
    empty_hint: str = "at least one user with two events is needed",
) -> Interactions:
    """Validate an interactions DataFrame and return its columns as arrays.

    Parameters
    ----------
    X : DataFrame
        One row per event: pandas, polars (eager or lazy), pyarrow Table... (see
        :func:`to_pandas`).
    y : array-like of shape (n_rows,), default=None
        Optional per-event target (soft label or rating).
    user_col, item_col, time_col : str
        Column names.
    y_range : tuple of float, default=None
        Inclusive bounds ``y`` must lie in.
    require_y : bool, default=False
        Raise if ``y`` is None.
    name : str, default="X"
        How to call the frame in messages.
    empty_hint : str
        What the caller needs, said when ``X`` has no row.

    Returns
    -------
    Interactions

    Raises
    ------
    TypeError
        ``X`` is not a DataFrame, or a column has an unusable type.
    ValueError
        Missing column, empty frame, missing values, bad ``y``.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"user_id": [1, 1], "item_id": ["a", "b"], "timestamp": [0, 1]})
    >>> check_interactions(X).items
    array(['a', 'b'], dtype=object)
    """
    X = to_pandas(X, name=name)
    users_s = check_column(X, user_col, role="user", name=name)
    items_s = check_column(X, item_col, role="item", name=name)
    times_s = check_column(X, time_col, role="time", name=name)
    if len(X) == 0:
        raise ValueError(f"{name} is empty (0 rows); {empty_hint}.")
    users, user_dtype = _check_ids(users_s, user_col, name)
    items, item_dtype = _check_ids(items_s, item_col, name)
    times = check_times(times_s, time_col, name)
    y_arr = None
    if y is None:
        if require_y:
            raise ValueError(f"y is required: one target value per row of {name} ({len(X)} rows).")
    else:
        if isinstance(y, (pd.Series, pd.DataFrame)) and isinstance(y, pd.DataFrame):
            if y.shape[1] != 1:
                raise ValueError(
                    f"y must be one-dimensional, got a DataFrame with {y.shape[1]} columns."
                )
            y = y.iloc[:, 0]
        try:
            y_arr = np.asarray(y, dtype=np.float64)
        except (TypeError, ValueError) as exc:
            raise TypeError(
                f"y must be numeric, got values such as {_preview(np.asarray(y))}."
            ) from exc
        if y_arr.ndim != 1:
            raise ValueError(f"y must be one-dimensional, got shape {y_arr.shape}.")
        if len(y_arr) != len(X):
            raise ValueError(
                f"y has {len(y_arr)} values but {name} has {len(X)} rows; pass one value per row."
            )
        bad = ~np.isfinite(y_arr)
        if bad.any():
            raise ValueError(f"y has {int(bad.sum())} NaN/inf value(s) out of {len(y_arr)} rows.")
        if y_range is not None:
            low, high = y_range
            out = (y_arr < low) | (y_arr > high)
            if out.any():
                raise ValueError(
                    f"y must lie in [{low}, {high}]; {int(out.sum())} of {len(y_arr)} rows are "
                    f"outside (e.g. {_scalar(y_arr[out][0])!r})."
                )
    return Interactions(users, items, times, y_arr, user_dtype, item_dtype)
