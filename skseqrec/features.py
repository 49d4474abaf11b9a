"""Item metadata typed and encoded for a neural ranker that embeds every field.

:class:`ItemFeatures` reads a DataFrame with one row per item (for instance MovieLens
``items.csv.gz``: ``item_id, title, genres, year`` with ``'|'``-joined genres), decides what
each column is (:class:`Field`) and turns any list of item ids into integer codes
(:class:`EncodedItems`), one embedding table per field.

Code convention, the same for every field:

- ``0`` padding: only multilabel rows use it, for their unused slots;
- ``1`` missing: NaN/None/empty value, an item without a metadata row, or a value/label
  never seen at fit;
- ``2..`` the vocabulary entries (categorical, multilabel) or the quantile buckets (numeric:
  bucket ``b`` has code ``b + 2``).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator
from sklearn.utils.validation import check_is_fitted

from . import params as P
from ._doclinks import doc_link_template
from .data import check_column, to_pandas
from .exceptions import InvalidParameterError
from .protocol import warn_dropped

__all__ = ["FEATURE_TYPES", "KINDS", "EncodedItems", "Field", "ItemFeatures"]

#: Kinds of :class:`Field`.
KINDS = ("categorical", "multilabel", "numeric")
#: Values accepted in ``feature_types``.
FEATURE_TYPES = (*KINDS, "ignore")
PADDING, MISSING = 0, 1
#: Code of the first vocabulary entry or bucket.
FIRST_CODE = 2
#: A text column is taken for free text or an id above both limits (distinct values).
FREE_TEXT_SHARE, FREE_TEXT_MIN = 0.5, 100
#: Version of the :meth:`ItemFeatures.to_dict` layout.
STATE_VERSION = 1


def _plain(value):
    """Python scalar for numpy scalars (JSON-serialisable, readable in messages)."""
    return value.item() if isinstance(value, np.generic) else value


def _is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _value_type(value) -> str | None:
    """'str', 'bool' or 'number' for a valid vocabulary value, else None."""
    if isinstance(value, str):
        return "str"
    if isinstance(value, bool):
        return "bool"
    return "number" if _is_number(value) and not math.isnan(value) else None


def _as_series(values) -> pd.Series:
    """``values`` as a Series with a RangeIndex (row positions)."""
    if isinstance(values, pd.Series):
        return values.reset_index(drop=True)
    values = np.asarray(values, dtype=object) if not isinstance(values, pd.Index) else values
    if values.ndim != 1:
        raise ValueError(f"values must be one-dimensional, got shape {values.shape}.")
    return pd.Series(values)


def _split_labels(series: pd.Series, sep: str) -> tuple[np.ndarray, np.ndarray]:
    """(row position, label) of every distinct non-empty label of every row, in row order."""
    parts = series.reset_index(drop=True).str.split(sep, regex=False).explode().str.strip()
    keep = parts.notna().to_numpy() & parts.ne("").to_numpy(dtype=bool, na_value=False)
    pairs = pd.DataFrame(
        {"row": parts.index.to_numpy()[keep], "label": parts.to_numpy(dtype=object)[keep]}
    ).drop_duplicates()
    return pairs["row"].to_numpy(np.int64), pairs["label"].to_numpy(dtype=object)


def _to_float(series: pd.Series) -> np.ndarray:
    """float64 values of a numeric (or number-holding object) column; NaN where missing."""
    try:
        numbers = pd.to_numeric(series)
        return numbers.to_numpy(dtype=np.float64, na_value=np.nan)
    except (TypeError, ValueError) as exc:
        raise TypeError(f"numeric values expected, got {series.dtype} values") from exc


@dataclass(frozen=True)
class Field:
    """One encoded metadata column: its kind and what encoding it needs.

    Parameters
    ----------
    name : str
        The column's name.
    kind : {"categorical", "multilabel", "numeric"}
        How the column is encoded.
    n_codes : int
        Size of the embedding table the field needs, codes 0 (padding) and 1 (missing)
        included: ``2 + len(vocabulary)``, or ``3 + len(edges)`` for numeric fields.
    width : int, default=1
        Codes per item: 1 for categorical and numeric fields, the largest number of labels
        of one item at fit (at least 1) for multilabel fields.
    vocabulary : tuple, default=()
        Categorical/multilabel values (str, int, float or bool) in code order: entry ``i``
        has code ``i + 2``. Empty for numeric fields.
    edges : tuple of float, default=()
        Numeric fields: sorted cut points between quantile buckets. ``x`` falls in bucket
        ``b = searchsorted(edges, x, side="right")`` (``edges[b-1] <= x < edges[b]``), one
        of ``len(edges) + 1`` buckets. Empty for other kinds.
    mean, std : float, default=0.0, 1.0
        Numeric fields: the standardisation ``(x - mean) / std`` learnt at fit (``std`` is
        1 for a constant column).
    separator : str or None, default=None
        Multilabel fields: what joins the labels of one value; None for other kinds.

    Raises
    ------
    ValueError
        The attributes do not describe a valid field (used to check saved states).

    Examples
    --------
    >>> field = Field("genre", "categorical", n_codes=4, vocabulary=("Comedy", "Drama"))
    >>> field.encode(["Drama", None, "Horror"]).ravel()
    array([3, 1, 1])
    """

    name: str
    kind: str
    n_codes: int
    width: int = 1
    vocabulary: tuple = ()
    edges: tuple = ()
    mean: float = 0.0
    std: float = 1.0
    separator: str | None = None

    def __post_init__(self):
        def fail(why):
            raise ValueError(f"Invalid Field {self.name!r}: {why}.")

        if not isinstance(self.name, str) or not self.name:
            raise ValueError(f"Field name must be a non-empty string, got {self.name!r}.")
        if self.kind not in KINDS:
            fail(f"kind must be one of {list(KINDS)!r}, got {self.kind!r}")
        for attribute in ("n_codes", "width"):
            value = getattr(self, attribute)
            if not isinstance(value, (int, np.integer)) or isinstance(value, (bool, np.bool_)):
                fail(f"{attribute} must be an int, got {value!r}")
            object.__setattr__(self, attribute, int(value))
        if not isinstance(self.vocabulary, (tuple, list)) or not isinstance(
            self.edges, (tuple, list)
        ):
            fail("vocabulary and edges must be tuples")
        vocabulary = tuple(_plain(v) for v in self.vocabulary)
        object.__setattr__(self, "vocabulary", vocabulary)
        for attribute in ("mean", "std"):
            value = _plain(getattr(self, attribute))
            if not _is_number(value) or not np.isfinite(value):
                fail(f"{attribute} must be a finite number, got {value!r}")
            object.__setattr__(self, attribute, float(value))
        edges = tuple(_plain(e) for e in self.edges)
        if not all(_is_number(e) and np.isfinite(e) for e in edges):
            fail(f"edges must be finite numbers, got {list(edges)!r}")
        edges = tuple(float(e) for e in edges)
        object.__setattr__(self, "edges", edges)
        if self.kind == "numeric":
            if vocabulary or self.separator is not None or self.width != 1:
                fail("a numeric field has width 1, no vocabulary and no separator")
            if any(a >= b for a, b in zip(edges[:-1], edges[1:])):
                fail(f"edges must increase strictly, got {list(edges)!r}")
            if self.std <= 0:
                fail(f"std must be positive, got {self.std!r}")
            if self.n_codes != len(edges) + FIRST_CODE + 1:
                fail(f"n_codes must be {len(edges) + FIRST_CODE + 1} for {len(edges)} edges")
            return
        if edges:
            fail(f"a {self.kind} field has no edges")
        if self.n_codes != len(vocabulary) + FIRST_CODE:
            fail(f"n_codes must be {len(vocabulary) + FIRST_CODE} for {len(vocabulary)} values")
        types = {_value_type(v) for v in vocabulary}
        if None in types or len(types) > 1 or len(set(vocabulary)) != len(vocabulary):
            fail("vocabulary values must be unique and all str, all bool or all numbers (no NaN)")
        if self.kind == "categorical":
            if self.width != 1 or self.separator is not None:
                fail("a categorical field has width 1 and no separator")
        else:
            if not isinstance(self.separator, str) or not self.separator:
                fail(f"separator must be a non-empty string, got {self.separator!r}")
            if types - {"str"}:
                fail("multilabel vocabulary values must be strings")
            if self.width < 1:
                fail(f"width must be at least 1, got {self.width}")

    def encode(self, values) -> np.ndarray:
        """Codes of raw column values.

        Parameters
        ----------
        values : array-like of shape (n,)
            Raw values of this column, as in the fitted frame (``'|'``-joined strings for
            a multilabel field).

        Returns
        -------
        ndarray of int64, shape (n, m)
            ``m = 1`` except for multilabel fields: ``max(width, most labels of one
            value)``, labels in their given order, then padding 0. Missing values and
            values or labels unseen at fit get code 1.

        Raises
        ------
        TypeError
            Non-numeric values for a numeric field, non-text values for a multilabel field.
        """
        series = _as_series(values)
        n = len(series)
        if self.kind == "numeric":
            x = _to_float(series)
            codes = np.searchsorted(np.asarray(self.edges), x, side="right") + FIRST_CODE
            codes[~np.isfinite(x)] = MISSING
            return codes.astype(np.int64).reshape(n, 1)
        lookup = pd.Index(list(self.vocabulary), dtype=object)
        if self.kind == "categorical":
            codes = lookup.get_indexer(series.to_numpy(dtype=object)) + FIRST_CODE
            return codes.astype(np.int64).reshape(n, 1)
        inferred = pd.api.types.infer_dtype(series, skipna=True)
        if inferred not in ("string", "empty"):
            raise TypeError(
                f"Field {self.name!r} is multilabel: values must be strings, got "
                f"{series.dtype} holding {inferred} values."
            )
        rows, labels = _split_labels(series, self.separator)
        # unseen labels become 1 (missing); keep one 1 per row
        pairs = pd.DataFrame(
            {"row": rows, "code": lookup.get_indexer(labels) + FIRST_CODE}
        ).drop_duplicates()
        rows, codes = pairs["row"].to_numpy(np.int64), pairs["code"].to_numpy(np.int64)
        slots = _slots(rows)
        width = max(self.width, int(slots.max()) + 1 if len(slots) else 1)
        out = np.zeros((n, width), dtype=np.int64)
        out[:, 0] = MISSING
        out[rows, slots] = codes
        return out

    def standardise(self, values) -> np.ndarray:
        """Standardised numeric values ``(x - mean) / std``, 0 where missing.

        Parameters
        ----------
        values : array-like of shape (n,)

        Returns
        -------
        ndarray of float32, shape (n,)

        Raises
        ------
        TypeError
            The field is not numeric, or the values are not numbers.
        """
        if self.kind != "numeric":
            raise TypeError(f"Field {self.name!r} is {self.kind}, not numeric.")
        x = _to_float(_as_series(values))
        scaled = (x - self.mean) / self.std
        return np.where(np.isfinite(x), scaled, 0.0).astype(np.float32)

    def to_dict(self) -> dict:
        """The field as plain JSON types (see :meth:`ItemFeatures.to_dict`)."""
        return {
            "name": self.name,
            "kind": self.kind,
            "n_codes": self.n_codes,
            "width": self.width,
            "vocabulary": list(self.vocabulary),
            "edges": list(self.edges),
            "mean": self.mean,
            "std": self.std,
            "separator": self.separator,
        }


def _slots(rows: np.ndarray) -> np.ndarray:
    """Position of each entry within its run of equal (sorted) ``rows``: 0, 1, 2, 0, 1..."""
    if not len(rows):
        return rows
    starts = np.r_[True, rows[1:] != rows[:-1]]
    first = np.flatnonzero(starts)
    return np.arange(len(rows)) - first[np.cumsum(starts) - 1]


@dataclass
class EncodedItems:
    """Codes of a list of items, one array per field.

    Attributes
    ----------
    codes : dict of str to ndarray of int64, shape (n, m)
        Per field: ``m = 1`` for categorical and numeric fields, the field's ``width`` for
        multilabel fields. 0 padding, 1 missing, 2.. values or buckets.
    values : dict of str to ndarray of float32, shape (n,)
        Numeric fields only: ``(x - mean) / std`` with the fitted mean and std, 0.0 where
        missing.
    n_without_metadata : int
        How many of the encoded ids have no metadata row: their code is 1 in every field
        (in the first slot of a multilabel field, padding 0 after it).

    Examples
    --------
    >>> import pandas as pd
    >>> from skseqrec.features import EncodedItems, ItemFeatures
    >>> items = pd.DataFrame({"item_id": [1, 2, 3], "genres": ["Drama|Comedy", "Drama", "War"],
    ...                       "year": [1990, 2000, 2010]})
    >>> encoded = ItemFeatures().fit(items).encode([1, 7])  # item 7 has no metadata row
    >>> isinstance(encoded, EncodedItems), encoded.n_without_metadata
    (True, 1)
    >>> encoded.codes["genres"]  # two labels of item 1; "missing" (1) for item 7
    array([[3, 2],
           [1, 0]])
    >>> encoded.values["year"]  # standardised; 0.0 where missing
    array([-1.2247,  0.    ], dtype=float32)
    """

    codes: dict
    values: dict
    n_without_metadata: int


class ItemFeatures(BaseEstimator):
    """Type and encode item metadata for a ranker that embeds every field.

    ``fit`` reads a DataFrame with one row per item and decides a :class:`Field` for each
    usable column; ``encode`` turns item ids into codes (0 padding, 1 missing, 2.. values
    or buckets) with one vectorised lookup.

    Column types, unless ``feature_types`` names them:

    - bool columns are categorical; int and float columns are numeric (quantile buckets
      plus a standardised value); object columns holding only numbers are typed like
      numbers, only booleans like booleans;
    - text (str, object, category) columns are multilabel if any value contains
      ``multilabel_sep`` (labels are stripped, empty ones ignored), else categorical;
      a text column with more than 50 % and more than 100 distinct values looks like free
      text or an id and is not used (warned);
    - datetime and other dtypes are not used (warned).

    Parameters
    ----------
    item_col : str, default="item_id"
        The id column; never a feature.
    feature_types : dict of str to str, default=None
        ``{column: kind}`` with kind ``"categorical"``, ``"multilabel"``, ``"numeric"`` or
        ``"ignore"``. When given, columns it does not name are not used (warned).
    n_buckets : int, default=10
        Most quantile buckets per numeric field (duplicate cut points collapse).
    multilabel_sep : str, default="|"
        What joins the labels of a multilabel value.

    Attributes
    ----------
    fields_ : list of Field
        The used columns, in the frame's column order.
    item_ids_ : ndarray
        The metadata's item ids, in the frame's row order, with their dtype (category ids
        become an array of their categories' dtype).

    Examples
    --------
    >>> import pandas as pd
    >>> items = pd.DataFrame({"item_id": [10, 20, 30],
    ...                       "genres": ["Drama|Comedy", "Drama", "Horror"],
    ...                       "year": [1990, 2000, 2010]})
    >>> features = ItemFeatures().fit(items)
    >>> [(field.name, field.kind, field.n_codes) for field in features.fields_]
    [('genres', 'multilabel', 5), ('year', 'numeric', 5)]
    >>> encoded = features.encode([20, 10, 99])
    >>> encoded.codes["genres"]
    array([[3, 0],
           [3, 2],
           [1, 0]])
    >>> encoded.codes["year"].ravel(), encoded.values["year"]
    (array([3, 2, 1]), array([ 0.    , -1.2247,  0.    ], dtype=float32))
    >>> encoded.n_without_metadata
    1
    """

    _doc_link_module = "skseqrec"
    _doc_link_template = doc_link_template("skseqrec.features")

    _param_specs = {
        "item_col": P.String(),
        "n_buckets": P.Interval(int, 1),
        "multilabel_sep": P.String(),
    }

    def __init__(self, *, item_col="item_id", feature_types=None, n_buckets=10, multilabel_sep="|"):
        self.item_col = item_col
        self.feature_types = feature_types
        self.n_buckets = n_buckets
        self.multilabel_sep = multilabel_sep

    def _check_params(self) -> dict | None:
        """Validate the parameters; return ``feature_types`` as a plain dict (or None)."""
        P.validate_params(self, self._param_specs)
        if self.feature_types is None:
            return None
        owner = type(self).__name__
        if not isinstance(self.feature_types, Mapping):
            raise InvalidParameterError(
                f"{owner}: feature_types must be None or a dict {{column: kind}}, got "
                f"{self.feature_types!r}."
            )
        feature_types = {}
        for column, kind in self.feature_types.items():
            if not isinstance(column, str) or not column:
                raise InvalidParameterError(
                    f"{owner}: feature_types keys must be column names (non-empty str), got "
                    f"{column!r}."
                )
            if not isinstance(kind, str) or kind not in FEATURE_TYPES:
                raise InvalidParameterError(
                    f"{owner}: feature_types[{column!r}] must be one of "
                    f"{list(FEATURE_TYPES)!r}, got {kind!r}."
                )
            feature_types[column] = kind
        if feature_types.get(self.item_col, "ignore") != "ignore":
            raise InvalidParameterError(
                f"{owner}: feature_types[{self.item_col!r}] names the id column (item_col), "
                "which is never a feature."
            )
        return feature_types

    def fit(self, frame, *, name="item_features") -> ItemFeatures:
        """Type every column of ``frame`` and encode its rows.

        Parameters
        ----------
        frame : pandas.DataFrame or polars.DataFrame
            One row per item: ``item_col`` and the metadata columns.
        name : str, default="item_features"
            How to call ``frame`` in messages.

        Returns
        -------
        self : ItemFeatures

        Raises
        ------
        TypeError
            ``frame`` is not a DataFrame; ids are neither int nor str; a column mixes value
            types (e.g. str and int); a column named in ``feature_types`` cannot have its kind.
        ValueError
            Bad parameters; no ``item_col`` column, or a ``feature_types`` column missing;
            empty frame; missing or duplicated ids; infinite numbers; no usable column.

        Warns
        -----
        DataDropWarning
            Columns not used (free text or ids, unsupported dtypes, columns not named in
            ``feature_types``), with their count; rows with missing values (code 1), with
            the count per column.
        """
        feature_types = self._check_params()
        frame = _as_frame(frame, name)
        ids = _item_ids(
            check_column(frame, self.item_col, role="item", name=name), self.item_col, name
        )
        columns = [column for column in frame.columns if column != self.item_col]
        duplicated = pd.Index(columns)[pd.Index(columns).duplicated()]
        if len(duplicated):
            raise ValueError(
                f"{name} has more than one column named {duplicated[0]!r}; column names must "
                "be unique."
            )
        unused, n_unused = [], 0  # why columns are not used, how many
        if feature_types is not None:
            absent = [column for column in feature_types if column not in frame.columns]
            if absent:
                raise ValueError(
                    f"feature_types names {len(absent)} column(s) absent from {name}: "
                    f"{absent!r}; its columns are {list(frame.columns)!r}."
                )
            unnamed = [column for column in columns if column not in feature_types]
            if unnamed:
                unused.append(f"{_names(unnamed)} not named in feature_types")
                n_unused += len(unnamed)
            columns = [column for column in columns if feature_types.get(column) in KINDS]
        fields, codes, values, n_missing = [], {}, {}, {}
        for column in columns:
            if not isinstance(column, str):
                raise TypeError(
                    f"Column {column!r} of {name} has a {type(column).__name__} name; feature "
                    "columns need str names (frame.columns = frame.columns.astype(str))."
                )
            kind = None if feature_types is None else feature_types[column]
            typed = _type_column(frame[column], column, kind, self, name)
            if isinstance(typed, str):
                unused.append(typed)
                n_unused += 1
                continue
            field = typed
            fields.append(field)
            codes[column] = field.encode(frame[column])
            if field.kind == "numeric":
                values[column] = field.standardise(frame[column])
            n_missing[column] = int((codes[column][:, 0] == MISSING).sum())
        if not fields:
            why = f": {'; '.join(unused)}" if unused else ""
            raise ValueError(
                f"{name} has no usable feature column besides {self.item_col!r} "
                f"(columns: {list(frame.columns)!r}){why}."
            )
        n_candidates = len(frame.columns) - 1
        warn_dropped(
            f"columns of {name}",
            n_unused,
            n_candidates,
            "are not used as features: " + "; ".join(unused),
        )
        missing_rows = np.zeros(len(ids), dtype=bool)
        for column in codes:
            missing_rows |= codes[column][:, 0] == MISSING
        warn_dropped(
            f"rows of {name}",
            int(missing_rows.sum()),
            len(ids),
            "have missing feature values, encoded as 1 (missing): "
            + ", ".join(
                f"{column!r} {count} row(s)" for column, count in n_missing.items() if count
            ),
        )
        self._set_state(ids, fields, codes, values)
        return self

    def _set_state(self, ids, fields, codes, values) -> None:
        """Store the fitted state; the rows get one more row for ids without metadata."""
        self._codes, self._values = {}, {}
        for field in fields:
            table = codes[field.name]
            absent = np.zeros((1, table.shape[1]), dtype=np.int64)
            absent[0, 0] = MISSING
            self._codes[field.name] = np.concatenate([table, absent])
            if field.kind == "numeric":
                self._values[field.name] = np.append(values[field.name], np.float32(0.0))
        self._index = pd.Index(ids)
        self.item_ids_ = ids
        self.fields_ = list(fields)

    def encode(self, item_ids, *, name="items") -> EncodedItems:
        """Codes of the given items, in their order.

        Parameters
        ----------
        item_ids : array-like of shape (n,)
            Item ids (same type as the metadata's ids). Ids without a metadata row get code
            1 in every field and are counted; this method does not warn.
        name : str, default="items"
            How to call ``item_ids`` in messages.

        Returns
        -------
        EncodedItems

        Raises
        ------
        NotFittedError
            ``fit`` was not called.
        TypeError
            ``item_ids`` are str while the metadata's ids are numbers, or the reverse.
        ValueError
            ``item_ids`` is not one-dimensional.
        """
        check_is_fitted(self, "fields_")
        if isinstance(item_ids, (pd.Series, pd.Index)):
            ids = item_ids.to_numpy()
        else:
            ids = np.asarray(item_ids)
            if ids.dtype.kind in "US":
                ids = ids.astype(object)
        if ids.ndim != 1:
            raise ValueError(f"{name} must be one-dimensional, got shape {ids.shape}.")
        given, fitted = _id_kind(ids), _id_kind(self.item_ids_)
        if given and fitted and given != fitted:
            raise TypeError(
                f"{name} holds {given} ids (e.g. {_plain(ids[0])!r}) but the metadata's ids are "
                f"{fitted} (e.g. {_plain(self.item_ids_[0])!r}); no id can match. Convert one "
                "side, e.g. with .astype(str)."
            )
        positions = self._index.get_indexer(ids)
        absent = positions < 0
        rows = np.where(absent, len(self.item_ids_), positions)
        return EncodedItems(
            codes={column: table[rows] for column, table in self._codes.items()},
            values={column: table[rows] for column, table in self._values.items()},
            n_without_metadata=int(absent.sum()),
        )

    def to_dict(self) -> dict:
        """The fitted state as plain JSON types (str, int, float, bool, None, list, dict).

        Returns
        -------
        dict
            Parameters, item ids and their dtype, the fields and each item's codes and
            standardised values; :meth:`from_dict` rebuilds an identical encoder.

        Raises
        ------
        NotFittedError
            ``fit`` was not called.

        Examples
        --------
        >>> import json, pandas as pd
        >>> items = pd.DataFrame({"item_id": ["a", "b"], "color": ["red", "blue"]})
        >>> features = ItemFeatures().fit(items)
        >>> state = json.loads(json.dumps(features.to_dict()))
        >>> ItemFeatures.from_dict(state).encode(["b", "z"]).codes["color"].ravel()
        array([2, 1])
        """
        check_is_fitted(self, "fields_")
        n = len(self.item_ids_)
        return {
            "version": STATE_VERSION,
            "params": {
                "item_col": self.item_col,
                "feature_types": None
                if self.feature_types is None
                else {str(k): str(v) for k, v in self.feature_types.items()},
                "n_buckets": int(self.n_buckets),
                "multilabel_sep": self.multilabel_sep,
            },
            "item_ids": self.item_ids_.tolist(),
            "item_ids_dtype": str(self.item_ids_.dtype),
            "fields": [field.to_dict() for field in self.fields_],
            "codes": {column: table[:n].tolist() for column, table in self._codes.items()},
            "values": {column: table[:n].tolist() for column, table in self._values.items()},
        }

    @classmethod
    def from_dict(cls, state: dict) -> ItemFeatures:
        """Rebuild a fitted encoder from :meth:`to_dict`'s output.

        Parameters
        ----------
        state : dict

        Returns
        -------
        ItemFeatures

        Raises
        ------
        ValueError
            ``state`` is malformed (missing or unknown keys, wrong types, inconsistent
            shapes or codes); the message says what.
        """
        keys = {"version", "params", "item_ids", "item_ids_dtype", "fields", "codes", "values"}
        _expect(isinstance(state, Mapping), f"state must be a dict, got {type(state).__name__}")
        _expect(
            set(state) == keys,
            f"state keys must be {sorted(keys)!r}, got {sorted(map(str, state))!r}",
        )
        _expect(
            state["version"] == STATE_VERSION,
            f"state version must be {STATE_VERSION}, got {state['version']!r}",
        )
        params = state["params"]
        param_keys = {"item_col", "feature_types", "n_buckets", "multilabel_sep"}
        _expect(
            isinstance(params, Mapping) and set(params) == param_keys,
            f"state['params'] must be a dict with keys {sorted(param_keys)!r}",
        )
        features = cls(**params)
        features._check_params()
        ids = _state_ids(state["item_ids"], state["item_ids_dtype"])
        fields = state["fields"]
        _expect(isinstance(fields, list) and fields, "state['fields'] must be a non-empty list")
        built = []
        for entry in fields:
            _expect(isinstance(entry, Mapping), f"each field must be a dict, got {entry!r}")
            try:
                built.append(Field(**entry))
            except TypeError as exc:
                raise ValueError(f"Malformed ItemFeatures state: field {entry!r}: {exc}") from None
        names = [field.name for field in built]
        _expect(len(set(names)) == len(names), f"field names must be unique, got {names!r}")
        numeric = [field.name for field in built if field.kind == "numeric"]
        for key, expected in (("codes", names), ("values", numeric)):
            _expect(
                isinstance(state[key], Mapping) and set(state[key]) == set(expected),
                f"state[{key!r}] must be a dict with keys {sorted(expected)!r}",
            )
        codes = {
            field.name: _state_codes(state["codes"][field.name], field, len(ids)) for field in built
        }
        values = {name: _state_values(state["values"][name], name, len(ids)) for name in numeric}
        features._set_state(ids, built, codes, values)
        return features


# ---------------------------------------------------------------------------- fit helpers
def _as_frame(frame, name: str) -> pd.DataFrame:
    try:
        return to_pandas(frame, name=name)
    except TypeError:
        raise TypeError(
            f"{name} must be a pandas (or polars) DataFrame of item metadata (one row per "
            f"item), got {type(frame).__name__}."
        ) from None


def _names(columns) -> str:
    shown = ", ".join(repr(c) for c in columns[:10])
    more = f" and {len(columns) - 10} more" if len(columns) > 10 else ""
    return f"{len(columns)} column(s) {shown}{more}"


def _id_kind(ids: np.ndarray) -> str | None:
    """'numeric' or 'str' ids; None when unknown (empty, mixed)."""
    if ids.dtype.kind in "iuf":
        return "numeric"
    if ids.dtype.kind == "O" and len(ids):
        inferred = pd.api.types.infer_dtype(ids, skipna=True)
        return {"string": "str", "integer": "numeric", "floating": "numeric"}.get(inferred)
    return None


def _item_ids(series: pd.Series, column: str, name: str) -> np.ndarray:
    """The ids of a metadata frame as an array: int or str, no NaN, no duplicate."""
    n = len(series)
    if n == 0:
        raise ValueError(f"{name} is empty (0 rows); it needs one row per item.")
    missing = series.isna().to_numpy()
    if missing.any():
        raise ValueError(
            f"Column {column!r} of {name} has {int(missing.sum())} missing id(s) (NaN/None) out "
            f"of {n} rows, the first at row position {int(np.flatnonzero(missing)[0])}; every "
            "metadata row needs an item id."
        )
    dtype = series.dtype
    if isinstance(dtype, pd.CategoricalDtype):
        categories = dtype.categories.dtype
        as_numpy = categories if isinstance(categories, np.dtype) else object
        ids = series.to_numpy(dtype=as_numpy)
    elif pd.api.types.is_bool_dtype(dtype):
        raise TypeError(f"Column {column!r} of {name} holds booleans; ids must be int or str.")
    elif pd.api.types.is_integer_dtype(dtype) or pd.api.types.is_float_dtype(dtype):
        numpy_dtype = getattr(dtype, "numpy_dtype", dtype)
        ids = series.to_numpy(dtype=numpy_dtype)
        if ids.dtype.kind == "f":
            fractional = ~np.isfinite(ids) | (ids != np.floor(ids))
            if fractional.any():
                raise TypeError(
                    f"Column {column!r} of {name} holds non-integer floats (e.g. "
                    f"{_plain(ids[fractional][0])!r}, {int(fractional.sum())} rows); ids must be "
                    "int or str."
                )
    elif pd.api.types.is_string_dtype(dtype) or dtype == np.dtype(object):
        ids = series.to_numpy(dtype=object)
    else:
        raise TypeError(f"Column {column!r} of {name} has dtype {dtype}; ids must be int or str.")
    if ids.dtype == object and pd.api.types.infer_dtype(ids) not in ("string", "integer"):
        _raise_mixed(ids, column, name, what="ids must be all int or all str")
    duplicated = pd.Index(ids).duplicated(keep=False)
    if duplicated.any():
        repeated = pd.Series(ids[duplicated]).value_counts(sort=False)
        raise ValueError(
            f"Column {column!r} of {name} has {len(repeated)} duplicated id(s) in "
            f"{int(duplicated.sum())} of {n} rows (e.g. {_plain(repeated.index[0])!r}, "
            f"{int(repeated.iloc[0])} times); each item needs exactly one metadata row."
        )
    return ids


def _raise_mixed(values: np.ndarray, column: str, name: str, what: str):
    """TypeError naming one example and the row count of each value type."""
    present = values[~pd.isna(values)]
    types = pd.Series([type(v).__name__ for v in present])  # error path only
    counts = types.value_counts(sort=False)
    examples = {t: present[types.eq(t).to_numpy()][0] for t in counts.index}
    listed = ", ".join(f"{t} in {int(c)} row(s) (e.g. {examples[t]!r})" for t, c in counts.items())
    if len(counts) == 1:
        raise TypeError(f"Column {column!r} of {name} holds {listed}; {what}.")
    raise TypeError(
        f"Column {column!r} of {name} mixes value types: {listed}, out of {len(values)} rows "
        f"({len(values) - len(present)} missing); {what}. Convert the column to one type, "
        f"e.g. frame[{column!r}].astype(str)."
    )


def _type_column(series: pd.Series, column: str, kind: str | None, params, name: str):
    """The :class:`Field` of a column, or a str saying why it is not used (auto typing)."""
    auto = kind is None
    dtype = series.dtype
    category = isinstance(dtype, pd.CategoricalDtype)
    values = series.astype(object) if category else series
    if pd.api.types.is_bool_dtype(dtype):
        base = "bool"
    elif category or pd.api.types.is_string_dtype(dtype) or dtype == np.dtype(object):
        array = values.to_numpy(dtype=object)
        inferred = pd.api.types.infer_dtype(array, skipna=True)
        if inferred in ("mixed", "mixed-integer"):
            _raise_mixed(array, column, name, what="a feature column holds one type of value")
        base = {
            "string": "text",
            "empty": "empty",
            "boolean": "bool",
            "integer": "number",
            "floating": "number",
            "mixed-integer-float": "number",
            "decimal": "number",
        }.get(inferred, f"other:{dtype} holding {inferred} values")
        if category and base == "number":
            base = "category"  # the user chose categories: numbers are labels, not amounts
    elif pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_complex_dtype(dtype):
        base = "number"
    else:
        base = f"other:{dtype}"

    if base.startswith("other:"):
        if kind is None:
            return f"{column!r} (unsupported dtype {base[6:]})"
        raise TypeError(
            f"Column {column!r} of {name} has dtype {base[6:]}, which cannot be {kind}; "
            "convert it to numbers or strings first."
        )
    allowed = {
        "numeric": ("number", "bool", "empty", "category"),
        "multilabel": ("text", "empty"),
        "categorical": ("number", "bool", "empty", "text", "category"),
    }
    present = values[values.notna()]
    if kind is not None and base not in allowed[kind]:
        example = f" (e.g. {_plain(present.iloc[0])!r})" if len(present) else ""
        raise TypeError(
            f"Column {column!r} of {name} has dtype {dtype}{example}; it cannot "
            f"be {kind} (feature_types). Use one of "
            f"{[k for k in KINDS if base in allowed[k]]!r} or convert the column."
        )
    if kind is None:
        if base == "empty" or not len(present):
            return f"{column!r} (only missing values)"
        if base == "number":
            kind = "numeric"
        elif base in ("bool", "category"):
            kind = "categorical"
        else:  # text
            text = values.astype(object)
            has_sep = text.str.contains(params.multilabel_sep, regex=False)
            kind = "multilabel" if has_sep.fillna(False).astype(bool).any() else "categorical"
    if kind == "numeric":
        return _numeric_field(values, column, params.n_buckets, name)
    if kind == "multilabel":
        text = values.astype(object)
        rows, labels = _split_labels(text, params.multilabel_sep)
        vocabulary = np.unique(labels) if len(labels) else labels
        n_distinct, n_seen = len(vocabulary), len(labels)
        width = max(1, int(np.bincount(rows).max()) if len(rows) else 1)
        field = Field(
            column,
            "multilabel",
            n_codes=len(vocabulary) + FIRST_CODE,
            width=width,
            vocabulary=tuple(vocabulary.tolist()),
            separator=params.multilabel_sep,
        )
        what = "labels among"
    else:
        present = values.to_numpy(dtype=object)
        present = present[~pd.isna(present)]
        if base == "text":
            present = present[pd.Series(present).str.strip().ne("").to_numpy(dtype=bool)]
        vocabulary = pd.unique(pd.Series(present))
        vocabulary = sorted(_plain(v) for v in vocabulary)  # distinct values only
        n_distinct, n_seen = len(vocabulary), len(present)
        field = Field(
            column, "categorical", n_codes=n_distinct + FIRST_CODE, vocabulary=tuple(vocabulary)
        )
        what = "values in"
    looks_free = n_distinct > FREE_TEXT_MIN and n_distinct > FREE_TEXT_SHARE * n_seen
    if auto and base in ("text", "category") and looks_free:
        return (
            f"{column!r} looks like free text or an id ({n_distinct} distinct {what} "
            f"{n_seen}); to use it anyway, pass feature_types={{{column!r}: 'categorical', ...}} "
            "naming every column to use"
        )
    return field


def _numeric_field(values: pd.Series, column: str, n_buckets: int, name: str) -> Field:
    x = _to_float(values)
    infinite = np.isinf(x)
    if infinite.any():
        raise ValueError(
            f"Column {column!r} of {name} has {int(infinite.sum())} infinite value(s) (e.g. "
            f"{_plain(x[infinite][0])!r}) out of {len(x)} rows; replace them by NaN to mark them "
            "missing."
        )
    present = x[~np.isnan(x)]
    if len(present):
        # bucket b starts at the b/n_buckets quantile; "higher" picks data points, so every
        # bucket holds a fitted value, and ties collapse into one bucket
        lower = np.quantile(present, np.arange(n_buckets) / n_buckets, method="higher")
        edges = tuple(np.unique(lower)[1:].tolist())
        mean, std = float(present.mean()), float(present.std())
    else:
        edges, mean, std = (), 0.0, 1.0
    if not np.isfinite(std) or std <= 0:
        std = 1.0
    return Field(
        column, "numeric", n_codes=len(edges) + FIRST_CODE + 1, edges=edges, mean=mean, std=std
    )


# ---------------------------------------------------------------------------- state checks
def _expect(condition: bool, why: str) -> None:
    if not condition:
        raise ValueError(f"Malformed ItemFeatures state: {why}.")


def _state_ids(ids, dtype_name) -> np.ndarray:
    _expect(isinstance(ids, list) and ids, "item_ids must be a non-empty list")
    try:
        dtype = np.dtype(dtype_name)
    except TypeError:
        dtype = None
    _expect(
        isinstance(dtype_name, str) and dtype is not None and dtype.kind in "iufO",
        f"item_ids_dtype must name an int, float or object dtype, got {dtype_name!r}",
    )
    if dtype.kind == "O":
        ok = all(isinstance(i, str) for i in ids) or all(
            isinstance(i, int) and not isinstance(i, bool) for i in ids
        )
        _expect(ok, "object item_ids must be all str or all int")
        array = np.empty(len(ids), dtype=object)
        array[:] = ids
    else:
        _expect(all(_is_number(i) for i in ids), f"{dtype_name} item_ids must be numbers")
        array = np.asarray(ids, dtype=dtype)
        _expect(
            bool(
                np.all(array == np.asarray(ids, dtype=np.float64 if dtype.kind == "f" else object))
            ),
            f"item_ids do not fit {dtype_name}",
        )
        _expect(bool(np.all(np.isfinite(array.astype(np.float64)))), "item_ids must be finite")
    _expect(not pd.Index(array).has_duplicates, "item_ids must be unique")
    return array


def _state_codes(codes, field: Field, n: int) -> np.ndarray:
    what = f"codes of field {field.name!r}"
    _expect(isinstance(codes, list) and len(codes) == n, f"{what} must be a list of {n} rows")
    try:
        array = np.asarray(codes)
    except ValueError:
        array = None
    _expect(
        array is not None and array.shape == (n, field.width) and array.dtype.kind == "i",
        f"{what} must be {n} lists of {field.width} ints",
    )
    array = array.astype(np.int64)
    _expect(
        bool(((array >= 0) & (array < field.n_codes)).all()),
        f"{what} must lie in [0, {field.n_codes})",
    )
    # padding only after the labels, never in the first slot
    pad = array == PADDING
    _expect(
        not pad[:, 0].any() and not (pad[:, :-1] & ~pad[:, 1:]).any(),
        f"{what}: padding (0) may only follow the labels",
    )
    return array


def _state_values(values, column: str, n: int) -> np.ndarray:
    _expect(
        isinstance(values, list) and len(values) == n and all(_is_number(v) for v in values),
        f"values of field {column!r} must be a list of {n} numbers",
    )
    array = np.asarray(values, dtype=np.float32)
    _expect(bool(np.isfinite(array).all()), f"values of field {column!r} must be finite")
    return array
