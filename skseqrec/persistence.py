"""Save fitted estimators to a file that loads without running code, and load them back.

``pickle``/``joblib`` files run code while they load, so a model file from someone else
is only as safe as its sender. :func:`save` writes a file that :func:`load` reads without
unpickling anything, without importing anything named in the file and without building
anything it has not checked first.

The format (``FORMAT_VERSION`` 1) is one `safetensors <https://huggingface.co/docs/safetensors>`_
file:

* the header's metadata, under the key ``"skseqrec"``: a JSON document with ``format``
  (``"skseqrec-model"``), ``format_version``, ``skseqrec_version`` and the estimator's
  description: ``estimator`` (a class name, resolved only among skseqrec's own estimators),
  ``params`` (``get_params(deep=False)``) and ``attributes`` (the rest of its state). Each
  parameter and attribute is tagged with its kind: ``json``, ``numpy_scalar``, ``tuple``,
  ``random_state``, ``torch_device``, ``ndarray``, ``ids``, ``id_encoder`` (its classes
  and the caller's dtype), ``history``, ``module_state``, ``frame``, ``item_features`` or
  ``estimator``;
* tensors, named after where they belong. An estimator described under the prefix ``p``
  keeps its torch module's ``state_dict`` as ``p + "module.<name>"`` and the arrays of a
  parameter or attribute ``x`` as ``p + "params.x[.<part>]"`` or
  ``p + "attributes.x[.<part>]"``; the top level has ``p = ""``. String ids are one UTF-8
  byte tensor plus a tensor of lengths, so the header stays small for any catalogue.

An ``estimator`` value (the stages of :class:`~skseqrec.TwoStageRecommender`, fitted or
not) is described exactly as the top level is, under the prefix of its own place, e.g.
``attributes.retriever_.``, so that no two names collide. A ``frame`` (a DataFrame such as
``item_features``) keeps its column names in JSON and each column, by position, as tensors
under ``<place>.columns.<i>``: bool, int and float columns as a tensor of their dtype,
pandas' nullable ones (``Int64``, ``boolean``...) as values plus a missing mask,
categorical ones as categories plus codes, str/object columns of strings as UTF-8 plus a
code per row saying which missing value (None, NaN, NA) a row holds; a ``RangeIndex`` is
kept as start/stop/step, another index like a column. ``item_features`` is
:meth:`skseqrec.features.ItemFeatures.to_dict` with its item ids, codes and values as
tensors.

:func:`load` checks the document, the parameters (as ``fit`` would), every tensor's name,
dtype and shape (against the module built for these parameters on the ``meta`` device,
which allocates nothing) before it builds each model, and raises
:class:`~skseqrec.exceptions.ModelFormatError` (a ``ValueError``) on anything else.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from sklearn.base import BaseEstimator

from . import estimators
from ._version import __version__
from .data import IdEncoder
from .estimators import BaseRecommender, MLPRankerEstimator, TwoStageRecommender
from .exceptions import ModelFormatError
from .features import ItemFeatures
from .nn.ranker import PairRanker
from .training import History, resolve_device

__all__ = ["FORMAT_VERSION", "load", "save"]

#: Version of the file layout; :func:`load` refuses files from a newer layout.
FORMAT_VERSION = 1

_FORMAT_NAME = "skseqrec-model"
_METADATA_KEY = "skseqrec"
_MODULE_PREFIX = "module."
_PARAM_PREFIX = "params."
_ATTRIBUTE_PREFIX = "attributes."
_MODULE_STATE = "_module_state"
#: MLPRankerEstimator's state holds its module's tensors and structure under these names
_RANKER_MODULE_STATE = "_module_cpu"
_RANKER_MODULE_INIT = "_module_init"
_VERSION_STATE = "_skseqrec_version"
#: estimators inside estimators (the stages of a TwoStageRecommender) nest at most this deep
_MAX_DEPTH = 4
#: numpy kinds stored as tensors: bool, signed/unsigned int, float
_NUMERIC_KINDS = "biuf"
_NUMPY_ID_KINDS = "iufO"
#: pandas' nullable dtypes, stored as their values plus a missing mask
_NULLABLE_DTYPES = (
    *(f"{sign}Int{bits}" for sign in ("", "U") for bits in (8, 16, 32, 64)),
    "Float32",
    "Float64",
    "boolean",
)
#: the missing values of str columns, by the code stored for their rows (0: a string)
_MISSING_STRINGS = {1: None, 2: np.nan, 3: pd.NA}


def _safetensors():
    try:
        import safetensors
        import safetensors.torch
    except ImportError as exc:  # pragma: no cover - a dependency; this guards old installs
        raise ImportError(
            'skseqrec.save/load need the safetensors package: pip install "skseqrec[safe]" (or safetensors)'
        ) from exc
    return safetensors


def _estimator_classes() -> dict[str, type]:
    """The allowlist: skseqrec's public estimators by class name (the recommenders and
    :class:`MLPRankerEstimator`, the ranker of a two-stage model). Nothing else is resolved."""
    classes = {}
    for name in estimators.__all__:
        cls = getattr(estimators, name)
        if isinstance(cls, type) and (
            (issubclass(cls, BaseRecommender) and cls is not BaseRecommender)
            or cls is MLPRankerEstimator
        ):
            classes[name] = cls
    return classes


def _module_key(cls) -> str:
    """The state entry that holds the class's torch weights (see ``__getstate__``)."""
    return _RANKER_MODULE_STATE if issubclass(cls, MLPRankerEstimator) else _MODULE_STATE


# ---------------------------------------------------------------------- save
def save(estimator, path) -> None:
    """Write ``estimator`` to ``path`` in skseqrec's safe format (no pickle).

    The file is a safetensors file: the module's weights and numeric arrays as tensors,
    everything else (class name, parameters, id encoders with their dtypes, history,
    versions) as JSON in its metadata. Estimators inside the estimator (the stages of a
    :class:`~skseqrec.TwoStageRecommender`) are stored the same way. :func:`load` reads it
    back without executing anything from the file. Use it to share models;
    ``joblib.dump`` is fine for files you only load yourself.

    Parameters
    ----------
    estimator : BaseRecommender or MLPRankerEstimator
        A skseqrec estimator (fitted or not). Subclasses defined elsewhere are refused:
        :func:`load` only resolves skseqrec's own classes.
    path : str or path-like
        Destination file, overwritten if it exists. ``.safetensors`` is a good suffix.

    Raises
    ------
    TypeError
        ``estimator`` is not a skseqrec estimator, or holds a parameter or attribute of a
        type the format cannot store (the message names it), such as a column of
        ``item_features`` of a dtype other than bool, int, float, str or categorical.

    Examples
    --------
    >>> import pandas as pd
    >>> from skseqrec import PopularityRecommender, load, save
    >>> X = pd.DataFrame({"user_id": [1, 1, 2, 3], "item_id": ["a", "b", "b", "c"],
    ...                   "timestamp": [0, 1, 2, 3]})
    >>> est = PopularityRecommender().fit(X)
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "popularity.safetensors")
    >>> save(est, path)
    >>> load(path).recommend(X, top_k=1)["item_id"].tolist()
    ['c', 'a', 'b']
    """
    safetensors = _safetensors()
    cls = type(estimator)
    allowed = _estimator_classes()
    if allowed.get(cls.__name__) is not cls:
        raise TypeError(
            f"save() stores skseqrec's estimators ({', '.join(sorted(allowed))}); got "
            f"{cls.__module__}.{cls.__qualname__}. Use joblib.dump for other objects (and load "
            "such pickles only from sources you trust)."
        )
    tensors: dict[str, torch.Tensor] = {}
    document = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "skseqrec_version": __version__,
        **_encode_estimator(estimator, "", tensors),
    }
    metadata = {_METADATA_KEY: json.dumps(document)}
    Path(os.fspath(path)).write_bytes(safetensors.torch.save(tensors, metadata=metadata))


def _encode_estimator(estimator, prefix: str, tensors: dict) -> dict:
    """Describe an allowlisted estimator; its tensors go to ``tensors`` under ``prefix``."""
    # what pickle stores: BaseRecommender.get_state; MLPRankerEstimator's module as
    # _module_cpu (tensors) and _module_init (its structure)
    state = dict(estimator.__getstate__())
    state.pop(_VERSION_STATE, None)  # the document says it once, for the whole file
    params = estimator.get_params(deep=False)
    module_key = _module_key(type(estimator))
    attributes = {}
    for name, value in state.items():
        if name in params:
            continue
        if name == module_key:
            _encode_module(value, prefix + _MODULE_PREFIX, tensors)
            attributes[name] = {"kind": "module_state"}
        else:
            where = f"attribute {name!r}"
            attributes[name] = _encode_value(
                value, prefix + _ATTRIBUTE_PREFIX + name, tensors, where
            )
    return {
        "estimator": type(estimator).__name__,
        "params": {
            name: _encode_value(
                value, prefix + _PARAM_PREFIX + name, tensors, f"parameter {name!r}"
            )
            for name, value in params.items()
        },
        "attributes": attributes,
    }


def _encode_module(module_state: dict, prefix: str, tensors: dict) -> None:
    seen = set()
    for key, tensor in module_state.items():
        tensor = tensor.detach().to("cpu").contiguous()
        if tensor.untyped_storage().data_ptr() in seen:  # safetensors refuses shared memory
            tensor = tensor.clone()
        seen.add(tensor.untyped_storage().data_ptr())
        tensors[prefix + key] = tensor


def _is_plain_json(value) -> bool:
    """True for values that JSON gives back unchanged (exact builtin types only)."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) is list:
        return all(_is_plain_json(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _is_plain_json(v) for k, v in value.items())
    return False


def _encode_value(value, name: str, tensors: dict, where: str) -> dict:
    """Tag a parameter's or attribute's value with its kind; its arrays go under ``name``."""
    if _is_plain_json(value):
        return {"kind": "json", "value": value}
    if isinstance(value, np.generic) and value.dtype.kind in _NUMERIC_KINDS:
        return {"kind": "numpy_scalar", "dtype": value.dtype.str, "value": value.item()}
    if isinstance(value, np.random.RandomState):
        bit_generator, keys, position, has_gauss, cached_gaussian = value.get_state(legacy=True)
        return {
            "kind": "random_state",
            "bit_generator": str(bit_generator),
            "keys": keys.tolist(),
            "pos": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        }
    if isinstance(value, torch.device):
        return {"kind": "torch_device", "value": str(value)}
    if type(value) is tuple and all(_is_plain_json(v) for v in value):
        return {"kind": "tuple", "value": list(value)}  # e.g. betas=(0.9, 0.98)
    if isinstance(value, IdEncoder):
        return {
            "kind": "id_encoder",
            "classes": _encode_ids(value.classes, name + ".classes", tensors, where),
            "dtype": _encode_dtype(value.dtype, name + ".dtype", tensors, where),
        }
    if isinstance(value, History):
        records = [
            {key: _encode_scalar(v, f"{where}, epoch record {key!r}") for key, v in r.items()}
            for r in value.records
        ]
        batch_losses = [[float(v) for v in losses] for losses in value.batch_losses]
        return {"kind": "history", "records": records, "batch_losses": batch_losses}
    if isinstance(value, np.ndarray) and value.dtype.kind in _NUMERIC_KINDS:
        tensors[name] = _array_tensor(value)
        return {"kind": "ndarray", "dtype": value.dtype.str}
    if isinstance(value, np.ndarray) and value.dtype == object and value.ndim == 1:
        return {"kind": "ids", **_encode_ids(value, name, tensors, where)}  # e.g. str item ids
    if isinstance(value, pd.DataFrame):
        return _encode_frame(value, name, tensors, where)
    if isinstance(value, ItemFeatures):
        return _encode_item_features(value, name, tensors, where)
    if isinstance(value, BaseEstimator) and _estimator_classes().get(type(value).__name__) is type(
        value
    ):
        try:
            return {"kind": "estimator", **_encode_estimator(value, name + ".", tensors)}
        except TypeError as exc:
            raise TypeError(f"{where}: {exc}") from exc
    raise TypeError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which skseqrec's "
        "safe format cannot store; use joblib.dump for this estimator."
    )


def _encode_scalar(value, where):
    if isinstance(value, np.generic) and value.dtype.kind in _NUMERIC_KINDS:
        value = value.item()
    if value is None or type(value) in (bool, int, float, str):
        return value
    raise TypeError(f"{where} is a {type(value).__qualname__}; history records hold scalars.")


def _encode_ids(values: np.ndarray, name: str, tensors: dict, where: str) -> dict:
    """Store a 1-d array of ids: numeric ones as a tensor, str ones as UTF-8 bytes."""
    values = np.asarray(values)
    if values.dtype.kind in _NUMERIC_KINDS:
        tensors[name] = _array_tensor(values)
        return {"storage": "tensor", "dtype": values.dtype.str}
    if values.dtype == object:
        if all(isinstance(v, str) for v in values):
            _encode_strings(values, name, tensors)
            return {"storage": "utf8"}
        if all(isinstance(v, (int, np.integer)) and not isinstance(v, bool) for v in values):
            try:
                as_int = np.array([int(v) for v in values], dtype=np.int64)
            except OverflowError as exc:
                raise TypeError(f"{where} holds ids beyond the int64 range.") from exc
            tensors[name] = torch.from_numpy(as_int)
            return {"storage": "object_int"}
    raise TypeError(
        f"{where} holds ids of dtype {values.dtype} that are neither numbers nor strings; "
        "the safe format cannot store them."
    )


def _encode_strings(values, name: str, tensors: dict) -> None:
    """Strings as one UTF-8 byte tensor ``name.utf8`` and their lengths ``name.lengths``."""
    encoded = [v.encode("utf-8", "surrogatepass") for v in values]
    lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
    tensors[name + ".utf8"] = torch.from_numpy(
        np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
    )
    tensors[name + ".lengths"] = torch.from_numpy(lengths)


def _array_tensor(array: np.ndarray) -> torch.Tensor:
    # torch.from_numpy shares memory and warns on read-only arrays (pandas hands those out)
    return torch.from_numpy(np.require(array, requirements=("C", "W")))


def _encode_dtype(dtype, name: str, tensors: dict, where: str, categorical: bool = True) -> dict:
    """Describe the caller's id dtype so that it comes back equal, without pickle."""
    if isinstance(dtype, np.dtype):
        if dtype.kind not in _NUMPY_ID_KINDS:
            raise TypeError(f"{where} has ids of dtype {dtype}, which the safe format refuses.")
        return {"kind": "numpy", "name": dtype.str}
    if isinstance(dtype, pd.CategoricalDtype) and categorical:
        if dtype.categories is None:
            raise TypeError(f"{where} has a categorical dtype without categories.")
        return {
            "kind": "categorical",
            "ordered": bool(dtype.ordered),
            "categories": _encode_ids(
                dtype.categories.to_numpy(), name + ".categories", tensors, where
            ),
            "categories_dtype": _encode_dtype(
                dtype.categories.dtype, name, tensors, where, categorical=False
            ),
        }
    if isinstance(dtype, pd.StringDtype):
        na_value = getattr(dtype, "na_value", pd.NA)
        return {
            "kind": "string",
            "storage": dtype.storage,
            "na_value": "NA" if na_value is pd.NA else "nan",
        }
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and not isinstance(
        dtype, pd.CategoricalDtype
    ):
        return {"kind": "extension", "name": str(dtype)}
    raise TypeError(f"{where} has ids of dtype {dtype!r}, which the safe format cannot store.")


def _encode_frame(frame: pd.DataFrame, name: str, tensors: dict, where: str) -> dict:
    """A DataFrame column by column (see the module docstring)."""
    columns = list(frame.columns)
    if isinstance(frame.columns, pd.MultiIndex) or not all(type(c) in (str, int) for c in columns):
        bad = next(c for c in columns if type(c) not in (str, int))
        raise TypeError(
            f"{where} has a column named {bad!r} ({type(bad).__name__}); the safe format stores "
            "DataFrames whose column names are str (or int)."
        )
    if len(set(columns)) != len(columns):
        repeated = pd.Index(columns)[pd.Index(columns).duplicated()][0]
        raise TypeError(f"{where} has two columns named {repeated!r}; name them apart to save it.")
    index = frame.index
    if isinstance(index, pd.MultiIndex) or type(index.name) not in (str, int, type(None)):
        raise TypeError(
            f"{where} has an index the safe format cannot store ({type(index).__name__} named "
            f"{index.name!r}); reset it first (frame.reset_index(drop=True))."
        )
    if isinstance(index, pd.RangeIndex):
        index_spec = {
            "storage": "range",
            "start": index.start,
            "stop": index.stop,
            "step": index.step,
        }
    else:
        index_spec = _encode_column(index, name + ".index", tensors, f"{where}, index")
    return {
        "kind": "frame",
        "n_rows": len(frame),
        "columns": [
            {
                "name": column,
                "values": _encode_column(
                    frame.iloc[:, position],
                    f"{name}.columns.{position}",
                    tensors,
                    f"{where}, column {column!r}",
                ),
            }
            for position, column in enumerate(columns)
        ],
        "index": index_spec,
        "index_name": index.name,
    }


def _encode_column(values, name: str, tensors: dict, where: str) -> dict:
    """One column (Series) or index of a frame: its dtype, values and missing values."""
    dtype = values.dtype
    if isinstance(dtype, np.dtype) and dtype.kind in _NUMERIC_KINDS:
        tensors[name] = _array_tensor(values.to_numpy())
        return {"storage": "numeric", "dtype": dtype.str}
    if isinstance(dtype, pd.CategoricalDtype):
        codes = np.asarray(values.array.codes)
        tensors[name + ".codes"] = _array_tensor(codes)
        return {
            "storage": "categorical",
            "dtype": _encode_dtype(dtype, name + ".dtype", tensors, where),
            "codes_dtype": codes.dtype.str,
        }
    if isinstance(dtype, pd.StringDtype) or dtype == np.dtype(object):
        array = values.to_numpy(dtype=object)
        missing = pd.isna(array)
        present = array[~missing]
        other = next((v for v in present if not isinstance(v, str)), None)
        if other is not None:
            raise TypeError(
                f"{where} holds {type(other).__name__} values (e.g. {other!r}) among "
                f"{len(array)} rows; the safe format stores object columns of strings and "
                "missing values only. Convert it (e.g. .astype(str)) or drop it."
            )
        codes = np.zeros(len(array), dtype=np.uint8)
        codes[missing] = [_missing_code(v, where) for v in array[missing]]
        _encode_strings(present, name + ".values", tensors)
        tensors[name + ".missing"] = torch.from_numpy(codes)
        return {
            "storage": "strings",
            "dtype": _encode_dtype(dtype, name + ".dtype", tensors, where, categorical=False),
        }
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) and str(dtype) in _NULLABLE_DTYPES:
        numpy_dtype = dtype.numpy_dtype
        tensors[name] = _array_tensor(
            values.to_numpy(dtype=numpy_dtype, na_value=numpy_dtype.type(0))
        )
        tensors[name + ".missing"] = torch.from_numpy(np.asarray(values.isna(), dtype=np.uint8))
        return {"storage": "nullable", "dtype": str(dtype)}
    raise TypeError(
        f"{where} has dtype {dtype}, which the safe format cannot store (it stores bool, int, "
        "float, nullable, str and categorical columns); convert it or drop it."
    )


def _missing_code(value, where: str) -> int:
    if value is None:
        return 1
    if isinstance(value, float):  # NaN: pd.isna said it is missing
        return 2
    if value is pd.NA:
        return 3
    raise TypeError(f"{where} holds the missing value {value!r}; only None, NaN and NA are stored.")


def _encode_item_features(features: ItemFeatures, name: str, tensors: dict, where: str) -> dict:
    """``features.to_dict()`` with its per-item lists moved to tensors (a small header)."""
    state = features.to_dict()
    codes, values = state.pop("codes"), state.pop("values")
    del state["item_ids"]
    if not _is_plain_json(state):  # pragma: no cover - to_dict promises plain JSON
        raise TypeError(f"{where}: ItemFeatures.to_dict() returned values JSON cannot hold.")
    for position, rows in enumerate(codes.values()):
        table = np.asarray(rows, dtype=np.int64).reshape(len(rows), -1)
        tensors[f"{name}.codes.{position}"] = torch.from_numpy(table)
    for position, numbers in enumerate(values.values()):
        tensors[f"{name}.values.{position}"] = torch.from_numpy(np.asarray(numbers, np.float32))
    return {
        "kind": "item_features",
        "state": state,
        "item_ids": _encode_ids(features.item_ids_, name + ".item_ids", tensors, where),
        "codes": list(codes),
        "values": list(values),
    }


# ---------------------------------------------------------------------- load
def load(path, *, device=None):
    """Read an estimator written by :func:`save`; nothing in the file is executed.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save`.
    device : str or torch.device, default=None
        Where to put the model (and the models inside it, such as the stages of a
        :class:`~skseqrec.TwoStageRecommender`). ``None``: the device each was fitted on,
        or the CPU with a :class:`~skseqrec.exceptions.DeviceWarning` when that is a GPU
        this machine lacks (as with pickles). ``"cpu"``, ``"cuda"``, ``"auto"``: that
        device.

    Returns
    -------
    estimator : BaseRecommender or MLPRankerEstimator
        The estimator, fitted as it was saved, with identical recommendations.

    Raises
    ------
    FileNotFoundError
        No file at ``path``.
    ModelFormatError
        The file is not a skseqrec model (a pickle, random bytes, another safetensors file)
        or was altered: unknown estimator class, malformed JSON, invalid parameters,
        missing, unexpected or wrongly shaped tensors. Nothing is built from such a file.

    Warns
    -----
    VersionMismatchWarning
        The file was written by another skseqrec version.
    DeviceWarning
        The model was fitted on a GPU that is not available here.
    """
    safetensors = _safetensors()
    if device is not None:
        device = str(resolve_device(device))  # the caller's mistake: a plain ValueError
    path = Path(os.fspath(path))
    if not path.is_file():
        raise FileNotFoundError(f"No model file at {str(path)!r}.")
    try:
        with safetensors.safe_open(path, framework="pt", device="cpu") as file:
            metadata = file.metadata()
            document = _parse_document(metadata, path)
            tensors = {key: file.get_tensor(key) for key in file.keys()}
    except ModelFormatError:
        raise
    except Exception as exc:  # any failure of safetensors' own parser: not our format
        raise ModelFormatError(
            f"{str(path)!r} is not a skseqrec model file (expected a safetensors file written by "
            f"skseqrec.save): {exc}"
        ) from exc
    try:
        return _build(document, _Tensors(tensors), device)
    except ModelFormatError as exc:
        raise ModelFormatError(f"{str(path)!r}: {exc}") from exc.__cause__
    except (KeyError, TypeError, ValueError, IndexError, AttributeError, OverflowError) as exc:
        raise ModelFormatError(f"{str(path)!r} holds a malformed skseqrec model: {exc!r}") from exc


def _parse_document(metadata, path: Path) -> dict:
    if not metadata or _METADATA_KEY not in metadata:
        raise ModelFormatError(
            f"{str(path)!r} is a safetensors file without skseqrec metadata; it was not written "
            "by skseqrec.save."
        )
    try:
        document = json.loads(metadata[_METADATA_KEY])
    except (ValueError, RecursionError) as exc:
        raise ModelFormatError(f"{str(path)!r} holds malformed JSON metadata: {exc}") from exc
    if not isinstance(document, dict) or document.get("format") != _FORMAT_NAME:
        raise ModelFormatError(f"{str(path)!r} is not a skseqrec model (format field missing).")
    version = document.get("format_version")
    if type(version) is not int or version < 1:
        raise ModelFormatError(f"{str(path)!r} has an invalid format_version {version!r}.")
    if version > FORMAT_VERSION:
        raise ModelFormatError(
            f"{str(path)!r} uses format version {version}, written by skseqrec "
            f"{document.get('skseqrec_version')!r}; this skseqrec ({__version__}) reads up to "
            f"{FORMAT_VERSION}. Upgrade skseqrec to load it."
        )
    return document


class _Tensors:
    """The file's tensors; each must be used exactly once."""

    def __init__(self, tensors: dict):
        self._tensors = tensors
        self._used: set[str] = set()

    def take(self, name: str, where: str) -> torch.Tensor:
        if name not in self._tensors:
            raise ModelFormatError(f"{where}: tensor {name!r} is missing from the file.")
        if name in self._used:
            raise ModelFormatError(f"{where}: tensor {name!r} is referenced twice.")
        self._used.add(name)
        return self._tensors[name]

    def array(self, name: str, dtype: str, where: str, ndim: int | None = 1) -> np.ndarray:
        tensor = self.take(name, where)
        if tensor.dtype == torch.bfloat16:
            raise ModelFormatError(f"{where}: tensor {name!r} is bfloat16, expected {dtype}.")
        array = tensor.numpy()
        if array.dtype.str != dtype:
            raise ModelFormatError(
                f"{where}: tensor {name!r} has dtype {array.dtype.str}, the document says {dtype!r}."
            )
        if ndim is not None and array.ndim != ndim:
            raise ModelFormatError(
                f"{where}: tensor {name!r} has {array.ndim} dimensions, expected {ndim}."
            )
        return array

    def take_prefix(self, prefix: str) -> dict:
        names = [name for name in self._tensors if name.startswith(prefix)]
        return {name[len(prefix) :]: self.take(name, "module") for name in names}

    def check_all_used(self) -> None:
        unused = sorted(set(self._tensors) - self._used)
        if unused:
            raise ModelFormatError(
                f"the file has {len(unused)} tensor(s) the document does not describe "
                f"(e.g. {unused[0]!r})."
            )


@dataclass(frozen=True)
class _Reading:
    """What decoding a value needs besides the value: the tensors, the caller's device, the
    version that wrote the file and how deep among nested estimators the value is."""

    tensors: _Tensors
    device: str | None
    version: str
    depth: int = 0


def _build(document: dict, tensors: _Tensors, device):
    version = document.get("skseqrec_version")
    if not isinstance(version, str):
        raise ModelFormatError(f"skseqrec_version must be a string, got {version!r}.")
    estimator, state = _decode_estimator(document, "", _Reading(tensors, device, version))
    tensors.check_all_used()
    if isinstance(estimator, BaseRecommender):
        state[_VERSION_STATE] = version  # warns once, for the whole file
    _restore(estimator, state, device)
    return estimator


def _decode_estimator(document: dict, prefix: str, reading: _Reading):
    """Check an estimator's description under ``prefix``; return the estimator built from
    its parameters and the state to restore (nested estimators are already restored)."""
    allowed = _estimator_classes()
    name = document.get("estimator")
    if not isinstance(name, str) or name not in allowed:
        raise ModelFormatError(
            f"estimator {name!r} is not a skseqrec estimator; this version loads "
            f"{', '.join(sorted(allowed))}."
        )
    cls = allowed[name]
    params = _mapping(document.get("params"), "params")
    attributes = _mapping(document.get("attributes"), "attributes")
    param_names = set(cls._get_param_names())
    unknown = sorted(set(params) - param_names)
    if unknown:
        raise ModelFormatError(
            f"{name} has no parameter {unknown[0]!r} in this skseqrec ({__version__}); the file "
            f"was written by skseqrec {reading.version!r}."
        )
    decoded = {
        key: _decode_value(spec, prefix + _PARAM_PREFIX + key, f"parameter {key!r}", reading)
        for key, spec in params.items()
    }
    # a parameter added since the file was written: the value that keeps its behaviour
    legacy = getattr(cls, "_saved_before_param", {})
    decoded = {**{k: v for k, v in legacy.items() if k in param_names}, **decoded}
    estimator = cls(**decoded)
    _check_params(estimator)

    module_key = _module_key(cls)
    state = {}
    has_module = False
    for key, spec in attributes.items():
        _check_attribute_name(cls, key, param_names)
        where = f"attribute {key!r}"
        if (_kind(spec, where) == "module_state") != (key == module_key):
            raise ModelFormatError(f"{where}: module weights must be stored as {module_key!r}.")
        if key == module_key:
            has_module = True  # the tensors are taken once the expected shapes are known
        else:
            state[key] = _decode_value(spec, prefix + _ATTRIBUTE_PREFIX + key, where, reading)
    encoder = state.get("item_encoder_")
    if encoder is not None and not isinstance(encoder, IdEncoder):
        raise ModelFormatError("attribute 'item_encoder_' is not an id encoder.")
    counts = state.get("item_counts_")
    if counts is not None and encoder is not None and counts.shape != (len(encoder) + 1,):
        raise ModelFormatError(
            f"item_counts_ has shape {counts.shape}, expected ({len(encoder) + 1},) for "
            f"{len(encoder)} items."
        )
    if has_module:
        module_state = reading.tensors.take_prefix(prefix + _MODULE_PREFIX)
        if isinstance(estimator, MLPRankerEstimator):
            _check_ranker_module(state.get(_RANKER_MODULE_INIT), module_state)
        elif encoder is not None and hasattr(estimator, "build_module"):
            # fitted attributes that decide the module's structure, for the check
            for key in getattr(estimator, "_module_attributes", ()):
                if key in state:
                    setattr(estimator, key, state[key])
            _check_module_state(estimator, len(encoder), module_state)
        else:
            raise ModelFormatError(f"the file holds module weights that {name} cannot use.")
        state[module_key] = module_state
    if isinstance(estimator, TwoStageRecommender):
        _check_two_stage(state)
    if "device_" in state:
        if not isinstance(state["device_"], str):
            raise ModelFormatError(f"device_ must be a string, got {state['device_']!r}.")
        try:
            torch.device(state["device_"])
        except (RuntimeError, TypeError) as exc:
            raise ModelFormatError(f"device_ {state['device_']!r} is not a device.") from exc
    return estimator, state


def _restore(estimator, state: dict, device) -> None:
    """The same restore path as unpickling: version warning, module rebuild, device."""
    if device is not None and "device_" in state:
        state["device_"] = device
    with torch.random.fork_rng(devices=[]):
        estimator.__setstate__(state)


def _mapping(value, where: str) -> dict:
    if not isinstance(value, dict):
        raise ModelFormatError(f"{where} must be a JSON object, got {type(value).__name__}.")
    return value


def _check_params(estimator) -> None:
    try:
        estimator.check_params()
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(
            f"the saved parameters of {type(estimator).__name__} are invalid: {exc}"
        ) from exc


def _check_attribute_name(cls, key, param_names) -> None:
    """Refuse names that would shadow methods, properties, parameters, dunders or the module
    (built from checked weights only)."""
    if (
        not isinstance(key, str)
        or not key.isidentifier()
        or (key.startswith("__") and key.endswith("__"))
        or key in param_names
        or key in (_VERSION_STATE, "module_")
        or hasattr(cls, key)
    ):
        raise ModelFormatError(f"attribute name {key!r} is not allowed in a {cls.__name__}.")


def _decode_value(spec, name: str, where: str, reading: _Reading):
    """The value ``spec`` describes; its arrays are the tensors under ``name``."""
    kind = _kind(spec, where)
    tensors = reading.tensors
    if kind == "json":
        value = spec["value"]
        if not _is_plain_json(value):
            raise ModelFormatError(f"{where}: not a JSON value.")
        return value
    if kind == "numpy_scalar":
        dtype = _numpy_dtype(spec["dtype"], where, _NUMERIC_KINDS)
        value = spec["value"]
        if type(value) not in (bool, int, float):
            raise ModelFormatError(f"{where}: a numpy scalar must be a number, got {value!r}.")
        return dtype.type(value)
    if kind == "random_state":
        keys = spec["keys"]
        if not isinstance(keys, list) or not all(type(k) is int for k in keys):
            raise ModelFormatError(f"{where}: random state keys must be a list of ints.")
        random_state = np.random.RandomState()
        random_state.set_state(
            (
                str(spec["bit_generator"]),
                np.array(keys, dtype=np.uint32),
                int(spec["pos"]),
                int(spec["has_gauss"]),
                float(spec["cached_gaussian"]),
            )
        )
        return random_state
    if kind == "tuple":
        value = spec.get("value")
        if type(value) is not list or not all(_is_plain_json(v) for v in value):
            raise ModelFormatError(f"{where}: a tuple must hold a list of plain values.")
        return tuple(value)
    if kind == "torch_device":
        try:
            return torch.device(str(spec["value"]))
        except (RuntimeError, TypeError) as exc:
            raise ModelFormatError(f"{where}: {spec['value']!r} is not a device.") from exc
    if kind == "id_encoder":
        classes = _decode_ids(spec["classes"], name + ".classes", tensors, where)
        dtype = _decode_dtype(spec["dtype"], name + ".dtype", tensors, where)
        index = pd.Index(classes)
        if len(classes) == 0 or not (index.is_unique and index.is_monotonic_increasing):
            raise ModelFormatError(f"{where}: ids must be non-empty, unique and sorted.")
        return IdEncoder(classes, dtype)
    if kind == "history":
        records = spec.get("records")
        if not isinstance(records, list) or not all(_is_record(r) for r in records):
            raise ModelFormatError(f"{where}: history records must be objects of scalars.")
        batch_losses = spec.get("batch_losses", [])
        if not isinstance(batch_losses, list) or not all(
            isinstance(losses, list) and all(type(v) in (int, float) for v in losses)
            for losses in batch_losses
        ):
            raise ModelFormatError(f"{where}: batch losses must be lists of numbers.")
        return History(records, batch_losses)
    if kind == "ndarray":
        return tensors.array(name, str(spec["dtype"]), where, ndim=None)
    if kind == "ids":
        return _decode_ids(spec, name, tensors, where)
    if kind == "frame":
        return _decode_frame(spec, name, tensors, where)
    if kind == "item_features":
        return _decode_item_features(spec, name, tensors, where)
    if kind == "estimator":
        if reading.depth >= _MAX_DEPTH:
            raise ModelFormatError(f"{where}: estimators nest at most {_MAX_DEPTH} deep.")
        try:
            estimator, state = _decode_estimator(
                spec, name + ".", replace(reading, depth=reading.depth + 1)
            )
        except ModelFormatError as exc:
            raise ModelFormatError(f"{where}: {exc}") from exc.__cause__
        _restore(estimator, state, reading.device)
        return estimator
    raise ModelFormatError(f"{where}: unknown kind {kind!r}.")


def _is_record(record) -> bool:
    return type(record) is dict and all(
        type(k) is str and (v is None or type(v) in (bool, int, float, str))
        for k, v in record.items()
    )


def _kind(spec, where: str) -> str:
    if not isinstance(spec, dict) or not isinstance(spec.get("kind"), str):
        raise ModelFormatError(f"{where}: expected an object with a 'kind', got {spec!r:.80}.")
    return spec["kind"]


def _numpy_dtype(name, where: str, kinds: str) -> np.dtype:
    if not isinstance(name, str):
        raise ModelFormatError(f"{where}: dtype must be a string, got {name!r}.")
    try:
        dtype = np.dtype(name)
    except TypeError as exc:
        raise ModelFormatError(f"{where}: {name!r} is not a numpy dtype.") from exc
    if dtype.kind not in kinds or dtype.fields is not None or dtype.shape:
        raise ModelFormatError(f"{where}: dtype {name!r} is not allowed here.")
    return dtype


def _decode_ids(spec, name: str, tensors: _Tensors, where: str) -> np.ndarray:
    if not isinstance(spec, dict):
        raise ModelFormatError(f"{where}: malformed id array.")
    storage = spec.get("storage")
    if storage == "tensor":
        dtype = _numpy_dtype(spec.get("dtype"), where, _NUMERIC_KINDS)
        return tensors.array(name, dtype.str, where)
    if storage == "utf8":
        return _decode_strings(name, tensors, where)
    if storage == "object_int":
        values = tensors.array(name, np.dtype(np.int64).str, where)
        return _object_array(values.tolist())
    raise ModelFormatError(f"{where}: unknown id storage {storage!r}.")


def _decode_strings(name: str, tensors: _Tensors, where: str) -> np.ndarray:
    """The str array of :func:`_encode_strings` (object dtype)."""
    buffer = tensors.array(name + ".utf8", np.dtype(np.uint8).str, where)
    lengths = tensors.array(name + ".lengths", np.dtype(np.int64).str, where)
    if (lengths < 0).any() or int(lengths.sum()) != len(buffer):
        raise ModelFormatError(f"{where}: string lengths do not match the byte buffer.")
    ends = np.cumsum(lengths)
    raw = buffer.tobytes()
    try:
        strings = [
            raw[start:end].decode("utf-8", "surrogatepass")
            for start, end in zip((ends - lengths).tolist(), ends.tolist())
        ]
    except UnicodeDecodeError as exc:
        raise ModelFormatError(f"{where}: ids are not valid UTF-8.") from exc
    return _object_array(strings)


def _object_array(values: list) -> np.ndarray:
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return array


def _decode_dtype(spec, name: str, tensors: _Tensors, where: str, categorical: bool = True):
    kind = _kind(spec, where)
    if kind == "numpy":
        return _numpy_dtype(spec.get("name"), where, _NUMPY_ID_KINDS)
    if kind == "categorical" and categorical:
        categories = _decode_ids(spec["categories"], name + ".categories", tensors, where)
        categories_dtype = _decode_dtype(
            spec["categories_dtype"], name, tensors, where, categorical=False
        )
        index = pd.Index(categories, dtype=categories_dtype)
        if not index.is_unique:
            raise ModelFormatError(f"{where}: categories must be unique.")
        ordered = spec["ordered"]
        if type(ordered) is not bool:
            raise ModelFormatError(f"{where}: 'ordered' must be true or false.")
        return pd.CategoricalDtype(index, ordered=ordered)
    if kind == "string":
        storage, na_value = spec.get("storage"), spec.get("na_value")
        if storage not in ("python", "pyarrow") or na_value not in ("NA", "nan"):
            raise ModelFormatError(f"{where}: malformed string dtype {spec!r:.80}.")
        try:
            if na_value == "NA":
                return pd.StringDtype(storage)
            return pd.StringDtype(storage, na_value=np.nan)
        except ImportError as exc:
            raise ModelFormatError(
                f"{where}: ids were saved as {storage}-backed strings, which need pyarrow "
                "here; install it to load this model."
            ) from exc
    if kind == "extension":
        dtype_name = spec.get("name")
        if not isinstance(dtype_name, str):
            raise ModelFormatError(f"{where}: malformed extension dtype.")
        try:
            dtype = pd.api.types.pandas_dtype(dtype_name)
        except (TypeError, ValueError, ImportError) as exc:
            raise ModelFormatError(f"{where}: {dtype_name!r} is not a pandas dtype here.") from exc
        if (
            not isinstance(dtype, pd.api.extensions.ExtensionDtype)
            or isinstance(dtype, (pd.CategoricalDtype, pd.StringDtype))
            or str(dtype) != dtype_name
        ):
            raise ModelFormatError(f"{where}: dtype {dtype_name!r} is not allowed here.")
        return dtype
    raise ModelFormatError(f"{where}: unknown dtype kind {kind!r}.")


def _decode_frame(spec: dict, name: str, tensors: _Tensors, where: str) -> pd.DataFrame:
    n_rows, columns = spec.get("n_rows"), spec.get("columns")
    if type(n_rows) is not int or n_rows < 0 or type(columns) is not list:
        raise ModelFormatError(f"{where}: a frame needs a row count and a list of columns.")
    data = {}
    for position, entry in enumerate(columns):
        column = entry.get("name") if isinstance(entry, dict) else None
        if type(column) not in (str, int) or column in data:
            raise ModelFormatError(
                f"{where}: column names must be unique str or int, got {column!r}."
            )
        data[column] = _decode_column(
            entry.get("values"),
            f"{name}.columns.{position}",
            tensors,
            f"{where}, column {column!r}",
            n_rows,
        )
    index_spec, index_name = spec.get("index"), spec.get("index_name")
    if type(index_name) not in (str, int, type(None)):
        raise ModelFormatError(f"{where}: the index name must be a str, an int or null.")
    if isinstance(index_spec, dict) and index_spec.get("storage") == "range":
        bounds = [index_spec.get(key) for key in ("start", "stop", "step")]
        if not all(type(v) is int for v in bounds) or bounds[2] == 0:
            raise ModelFormatError(f"{where}: malformed range index {index_spec!r:.80}.")
        index = pd.RangeIndex(*bounds, name=index_name)
        if len(index) != n_rows:
            raise ModelFormatError(f"{where}: the index has {len(index)} rows, not {n_rows}.")
    else:
        values = _decode_column(index_spec, name + ".index", tensors, f"{where}, index", n_rows)
        index = pd.Index(values, dtype=values.dtype, name=index_name)
    # the dtype said explicitly: pandas would read an object column of strings as str
    columns = {
        column: pd.Series(values, index=index, dtype=values.dtype)
        for column, values in data.items()
    }
    return pd.DataFrame(columns, index=index)


def _decode_column(spec, name: str, tensors: _Tensors, where: str, n_rows: int):
    """The values of :func:`_encode_column`, with ``n_rows`` rows."""
    if not isinstance(spec, dict):
        raise ModelFormatError(f"{where}: malformed column {spec!r:.80}.")
    storage = spec.get("storage")
    if storage == "numeric":
        dtype = _numpy_dtype(spec.get("dtype"), where, _NUMERIC_KINDS)
        values = tensors.array(name, dtype.str, where)
    elif storage == "categorical":
        dtype = _decode_dtype(spec.get("dtype"), name + ".dtype", tensors, where)
        codes_dtype = _numpy_dtype(spec.get("codes_dtype"), where, "i")
        codes = tensors.array(name + ".codes", codes_dtype.str, where)
        if not isinstance(dtype, pd.CategoricalDtype):
            raise ModelFormatError(f"{where}: a categorical column needs a categorical dtype.")
        if len(codes) and (codes.min() < -1 or codes.max() >= len(dtype.categories)):
            raise ModelFormatError(
                f"{where}: codes must lie in [-1, {len(dtype.categories)}), the categories."
            )
        values = pd.Categorical.from_codes(codes, dtype=dtype)
    elif storage == "strings":
        dtype = _decode_dtype(spec.get("dtype"), name + ".dtype", tensors, where, categorical=False)
        present = _decode_strings(name + ".values", tensors, where)
        missing = tensors.array(name + ".missing", np.dtype(np.uint8).str, where)
        if not (isinstance(dtype, pd.StringDtype) or dtype == np.dtype(object)):
            raise ModelFormatError(f"{where}: a str column needs the object or a string dtype.")
        if len(missing) != n_rows:
            raise ModelFormatError(f"{where}: {len(missing)} rows, the frame has {n_rows}.")
        if (missing > max(_MISSING_STRINGS)).any():
            raise ModelFormatError(f"{where}: malformed missing-value codes.")
        if int((missing == 0).sum()) != len(present):
            raise ModelFormatError(
                f"{where}: {len(present)} strings for {int((missing == 0).sum())} present rows."
            )
        values = np.empty(n_rows, dtype=object)
        values[missing == 0] = present
        for code, missing_value in _MISSING_STRINGS.items():
            values[missing == code] = missing_value
        if isinstance(dtype, pd.StringDtype):
            values = pd.array(values, dtype=dtype)
    elif storage == "nullable":
        if spec.get("dtype") not in _NULLABLE_DTYPES:
            raise ModelFormatError(f"{where}: {spec.get('dtype')!r} is not a nullable dtype.")
        dtype = pd.api.types.pandas_dtype(spec["dtype"])
        data = tensors.array(name, dtype.numpy_dtype.str, where)
        missing = tensors.array(name + ".missing", np.dtype(np.uint8).str, where)
        if len(missing) != len(data) or (missing > 1).any():
            raise ModelFormatError(f"{where}: malformed missing mask.")
        values = pd.array(data, dtype=dtype)
        values[missing.astype(bool)] = pd.NA
    else:
        raise ModelFormatError(f"{where}: unknown column storage {storage!r}.")
    if len(values) != n_rows:
        raise ModelFormatError(f"{where}: {len(values)} rows, the frame has {n_rows}.")
    return values


def _decode_item_features(spec: dict, name: str, tensors: _Tensors, where: str) -> ItemFeatures:
    state, codes, values = spec.get("state"), spec.get("codes"), spec.get("values")
    if not (
        isinstance(state, dict)
        and all(
            type(names) is list
            and all(type(c) is str for c in names)
            and len(set(names)) == len(names)
            for names in (codes, values)
        )
    ):
        raise ModelFormatError(f"{where}: malformed item features {spec!r:.80}.")
    ids = _decode_ids(spec.get("item_ids"), name + ".item_ids", tensors, where)
    state = {
        **state,
        "item_ids": ids.tolist(),
        "codes": {
            column: tensors.array(f"{name}.codes.{position}", "<i8", where, ndim=2).tolist()
            for position, column in enumerate(codes)
        },
        "values": {
            column: tensors.array(f"{name}.values.{position}", "<f4", where).tolist()
            for position, column in enumerate(values)
        },
    }
    try:
        return ItemFeatures.from_dict(state)
    except (TypeError, ValueError) as exc:
        raise ModelFormatError(f"{where}: {exc}") from exc


def _check_module_state(estimator, n_items: int, module_state: dict) -> None:
    """Compare the file's weights with the module these parameters build, allocating nothing."""
    try:
        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            expected = estimator.build_module(n_items).state_dict()
    except Exception as exc:  # a module the saved parameters cannot build
        raise ModelFormatError(
            f"cannot build the {type(estimator).__name__} module from the saved parameters: {exc}"
        ) from exc
    _compare_module_state(expected, module_state)


def _check_ranker_module(init, module_state: dict) -> None:
    """Compare the file's ranker weights with the PairRanker that ``_module_init`` and the
    item tables' own shapes build on the meta device."""
    keys = ("sizes", "numeric", "hidden", "dropout")
    if type(init) is not dict or set(init) != set(keys):
        raise ModelFormatError(
            f"attribute {_RANKER_MODULE_INIT!r} must be an object with keys {list(keys)}, got "
            f"{init!r:.80}."
        )
    sizes, numeric, hidden, dropout = (init[key] for key in keys)
    if not (
        _positive_ints(sizes)
        and _positive_ints(hidden)
        and type(numeric) is list
        and len(numeric) == len(sizes)
        and all(type(v) is bool for v in numeric)
        and type(dropout) in (int, float)
        and 0 <= dropout < 1
    ):
        raise ModelFormatError(f"attribute {_RANKER_MODULE_INIT!r} is malformed: {init!r:.200}.")
    tables = ["item_vectors", *(f"metadata_codes_{i}" for i in range(len(sizes)))]
    for table in tables:
        if table not in module_state or module_state[table].dim() != 2:
            raise ModelFormatError(f"module weight {table!r} must be a matrix, one row per item.")
    rows, dim = module_state["item_vectors"].shape
    widths = [module_state[table].shape[1] for table in tables[1:]]
    try:
        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            expected = PairRanker(
                torch.empty(rows, dim),
                torch.empty(rows),
                torch.empty(rows, dtype=torch.bool),
                [torch.empty(rows, width, dtype=torch.long) for width in widths],
                [torch.empty(rows) if is_numeric else None for is_numeric in numeric],
                sizes,
                hidden_layer_sizes=tuple(hidden),
                dropout_rate=float(dropout),
            ).state_dict()
    except Exception as exc:  # a module the saved structure cannot build
        raise ModelFormatError(
            f"cannot build the MLPRankerEstimator module from {_RANKER_MODULE_INIT!r}: {exc}"
        ) from exc
    _compare_module_state(expected, module_state)


def _positive_ints(values) -> bool:
    return type(values) is list and all(type(v) is int and v >= 1 for v in values)


def _compare_module_state(expected: dict, module_state: dict) -> None:
    missing = sorted(expected.keys() - module_state.keys())
    unexpected = sorted(module_state.keys() - expected.keys())
    if missing or unexpected:
        raise ModelFormatError(
            f"module weights do not match the model: {len(missing)} missing "
            f"({missing[:3]}), {len(unexpected)} unexpected ({unexpected[:3]})."
        )
    for key, reference in expected.items():
        tensor = module_state[key]
        if tensor.shape != reference.shape or tensor.dtype != reference.dtype:
            raise ModelFormatError(
                f"module weight {key!r} is {tuple(tensor.shape)} {tensor.dtype}; the model "
                f"built from the saved parameters expects {tuple(reference.shape)} "
                f"{reference.dtype}."
            )


def _check_two_stage(state: dict) -> None:
    """The stages and the code maps of a fitted TwoStageRecommender must fit together."""
    if "ranker_" not in state:
        return
    required = ["retriever_", "item_encoder_", "cold_items_", "_to_retriever", "_from_retriever"]
    missing = [key for key in required if key not in state]
    if missing:
        raise ModelFormatError(f"a fitted TwoStageRecommender needs the attribute {missing[0]!r}.")
    retriever, ranker, encoder = state["retriever_"], state["ranker_"], state["item_encoder_"]
    if not (isinstance(ranker, MLPRankerEstimator) and hasattr(ranker, "module_")):
        raise ModelFormatError(f"ranker_ must be a fitted MLPRankerEstimator, got {ranker!r:.80}.")
    if not (
        isinstance(retriever, BaseRecommender)
        and all(callable(getattr(retriever, m, None)) for m in ("encode", "score_pairs", "rank"))
        and hasattr(retriever, "module_")
    ):
        raise ModelFormatError(
            f"retriever_ must be a fitted skseqrec torch estimator, got {retriever!r:.80}."
        )
    n_items, n_retriever = len(encoder), retriever.n_items_
    for key, length, bound in [
        ("_to_retriever", n_items + 1, n_retriever),
        ("_from_retriever", n_retriever + 1, n_items),
    ]:
        codes = state[key]
        if not (
            isinstance(codes, np.ndarray)
            and codes.dtype == np.int64
            and codes.shape == (length,)
            and codes.min() >= 0
            and codes.max() <= bound
        ):
            raise ModelFormatError(f"{key} must be {length} int64 codes in [0, {bound}].")
    rows, dim = ranker.module_.item_vectors.shape
    retriever_dim = retriever.item_embeddings_.shape[1]
    if (rows, dim) != (n_items + 1, retriever_dim):
        raise ModelFormatError(
            f"ranker_ holds {rows - 1} items of {dim} dimensions; the catalogue has {n_items} "
            f"items and the retriever's vectors {retriever_dim} dimensions."
        )
    cold = state["cold_items_"]
    if not (isinstance(cold, np.ndarray) and cold.ndim == 1 and (encoder.encode(cold) > 0).all()):
        raise ModelFormatError("cold_items_ must be items of item_encoder_.")
    features = state.get("item_features_")
    if features is not None and not isinstance(features, ItemFeatures):
        raise ModelFormatError("item_features_ must be an ItemFeatures or null.")
