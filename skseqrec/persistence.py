"""Save fitted estimators to a file that loads without running code, and load them back.

``pickle``/``joblib`` files run code while they load, so a model file from someone else
is only as safe as its sender. :func:`save` writes a file that :func:`load` reads without
unpickling anything, without importing anything named in the file and without building
anything it has not checked first.

The format (``FORMAT_VERSION`` 1) is one `safetensors <https://huggingface.co/docs/safetensors>`_
file:

* tensors: the torch module's ``state_dict`` as ``module.<name>`` and the estimator's
  numeric arrays (item counts, int/float ids) as ``attributes.<attribute>[.<part>]``;
  string ids as one UTF-8 byte tensor plus a tensor of lengths, so the header stays small
  for any catalogue;
* the header's metadata, under the key ``"skseqrec"``: a JSON document with ``format``
  (``"skseqrec-model"``), ``format_version``, ``skseqrec_version``, ``estimator`` (a class
  name, resolved only among the public skseqrec estimators), ``params`` (``get_params()``)
  and ``attributes`` (the rest of the estimator's state, each entry tagged with its kind:
  ``json``, ``numpy_scalar``, ``ndarray``, ``id_encoder`` with its classes and the caller's
  dtype, ``history``, ``random_state``, ``module_state``).

:func:`load` checks the document, the parameters (as ``fit`` would), every tensor's name,
dtype and shape (against the module built for these parameters on the ``meta`` device,
which allocates nothing) before it builds the model, and raises
:class:`~skseqrec.exceptions.ModelFormatError` (a ``ValueError``) on anything else.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pandas as pd
import torch

from . import estimators
from ._version import __version__
from .data import IdEncoder
from .estimators import BaseRecommender
from .exceptions import ModelFormatError
from .training import History, resolve_device

__all__ = ["FORMAT_VERSION", "load", "save"]

#: Version of the file layout; :func:`load` refuses files from a newer layout.
FORMAT_VERSION = 1

_FORMAT_NAME = "skseqrec-model"
_METADATA_KEY = "skseqrec"
_MODULE_PREFIX = "module."
_ATTRIBUTE_PREFIX = "attributes."
_MODULE_STATE = "_module_state"
_VERSION_STATE = "_skseqrec_version"
#: numpy kinds stored as tensors: bool, signed/unsigned int, float
_NUMERIC_KINDS = "biuf"
_NUMPY_ID_KINDS = "iufO"


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
    """The allowlist: public skseqrec estimators by class name. Nothing else is resolved."""
    classes = {}
    for name in estimators.__all__:
        cls = getattr(estimators, name)
        if (
            isinstance(cls, type)
            and issubclass(cls, BaseRecommender)
            and cls is not BaseRecommender
        ):
            classes[name] = cls
    return classes


# ---------------------------------------------------------------------- save
def save(estimator, path) -> None:
    """Write ``estimator`` to ``path`` in skseqrec's safe format (no pickle).

    The file is a safetensors file: the module's weights and numeric arrays as tensors,
    everything else (class name, parameters, id encoders with their dtypes, history,
    versions) as JSON in its metadata. :func:`load` reads it back without executing
    anything from the file. Use it to share models; ``joblib.dump`` is fine for files you
    only load yourself.

    Parameters
    ----------
    estimator : BaseRecommender
        A skseqrec estimator (fitted or not). Subclasses defined elsewhere are refused:
        :func:`load` only resolves skseqrec's own classes.
    path : str or path-like
        Destination file, overwritten if it exists. ``.safetensors`` is a good suffix.

    Raises
    ------
    TypeError
        ``estimator`` is not a skseqrec estimator, or holds a parameter or attribute of a
        type the format cannot store (the message names it).

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
    state = dict(estimator.get_state())
    version = state.pop(_VERSION_STATE, __version__)
    params = estimator.get_params(deep=False)
    tensors: dict[str, torch.Tensor] = {}
    document = {
        "format": _FORMAT_NAME,
        "format_version": FORMAT_VERSION,
        "skseqrec_version": version,
        "estimator": cls.__name__,
        "params": {
            name: _encode_value(value, f"parameter {name!r}") for name, value in params.items()
        },
        "attributes": {
            name: _encode_attribute(name, value, tensors)
            for name, value in state.items()
            if name not in params
        },
    }
    metadata = {_METADATA_KEY: json.dumps(document)}
    Path(os.fspath(path)).write_bytes(safetensors.torch.save(tensors, metadata=metadata))


def _is_plain_json(value) -> bool:
    """True for values that JSON gives back unchanged (exact builtin types only)."""
    if value is None or type(value) in (bool, int, float, str):
        return True
    if type(value) is list:
        return all(_is_plain_json(v) for v in value)
    if type(value) is dict:
        return all(type(k) is str and _is_plain_json(v) for k, v in value.items())
    return False


def _encode_value(value, where: str) -> dict:
    if _is_plain_json(value):
        return {"kind": "json", "value": value}
    if isinstance(value, np.generic) and value.dtype.kind in _NUMERIC_KINDS:
        return {"kind": "numpy_scalar", "dtype": value.dtype.str, "value": value.item()}
    if isinstance(value, np.random.RandomState):
        name, keys, position, has_gauss, cached_gaussian = value.get_state(legacy=True)
        return {
            "kind": "random_state",
            "bit_generator": str(name),
            "keys": keys.tolist(),
            "pos": int(position),
            "has_gauss": int(has_gauss),
            "cached_gaussian": float(cached_gaussian),
        }
    if isinstance(value, torch.device):
        return {"kind": "torch_device", "value": str(value)}
    if type(value) is tuple and all(_is_plain_json(v) for v in value):
        return {"kind": "tuple", "value": list(value)}  # e.g. betas=(0.9, 0.98)
    raise TypeError(
        f"{where} is a {type(value).__module__}.{type(value).__qualname__}, which skseqrec's "
        "safe format cannot store; use joblib.dump for this estimator."
    )


def _encode_attribute(name: str, value, tensors: dict) -> dict:
    where = f"attribute {name!r}"
    prefix = _ATTRIBUTE_PREFIX + name
    if name == _MODULE_STATE:
        seen = set()
        for key, tensor in value.items():
            tensor = tensor.detach().to("cpu").contiguous()
            if tensor.untyped_storage().data_ptr() in seen:  # safetensors refuses shared memory
                tensor = tensor.clone()
            seen.add(tensor.untyped_storage().data_ptr())
            tensors[_MODULE_PREFIX + key] = tensor
        return {"kind": "module_state"}
    if isinstance(value, IdEncoder):
        return {
            "kind": "id_encoder",
            "classes": _encode_ids(value.classes, prefix + ".classes", tensors, where),
            "dtype": _encode_dtype(value.dtype, prefix + ".dtype", tensors, where),
        }
    if isinstance(value, History):
        records = [
            {key: _encode_scalar(v, f"{where}, epoch record {key!r}") for key, v in r.items()}
            for r in value.records
        ]
        batch_losses = [[float(v) for v in losses] for losses in value.batch_losses]
        return {"kind": "history", "records": records, "batch_losses": batch_losses}
    if isinstance(value, np.ndarray) and value.dtype.kind in _NUMERIC_KINDS:
        tensors[prefix] = _array_tensor(value)
        return {"kind": "ndarray", "dtype": value.dtype.str}
    return _encode_value(value, where)


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
            encoded = [v.encode("utf-8", "surrogatepass") for v in values]
            lengths = np.fromiter(map(len, encoded), dtype=np.int64, count=len(encoded))
            tensors[name + ".utf8"] = torch.from_numpy(
                np.frombuffer(b"".join(encoded), dtype=np.uint8).copy()
            )
            tensors[name + ".lengths"] = torch.from_numpy(lengths)
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


# ---------------------------------------------------------------------- load
def load(path, *, device=None) -> BaseRecommender:
    """Read an estimator written by :func:`save`; nothing in the file is executed.

    Parameters
    ----------
    path : str or path-like
        A file written by :func:`save` (or :meth:`BaseRecommender.save`).
    device : str or torch.device, default=None
        Where to put the model. ``None``: the device it was fitted on, or the CPU with a
        :class:`~skseqrec.exceptions.DeviceWarning` when that is a GPU this machine lacks
        (as with pickles). ``"cpu"``, ``"cuda"``, ``"auto"``: that device.

    Returns
    -------
    estimator : BaseRecommender
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


def _build(document: dict, tensors: _Tensors, device) -> BaseRecommender:
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
    decoded = {key: _decode_value(spec, f"parameter {key!r}") for key, spec in params.items()}
    param_names = set(cls._get_param_names())
    unknown = sorted(set(decoded) - param_names)
    if unknown:
        raise ModelFormatError(
            f"{name} has no parameter {unknown[0]!r} in this skseqrec ({__version__}); the file "
            f"was written by skseqrec {document.get('skseqrec_version')!r}."
        )
    estimator = cls(**decoded)
    _check_params(estimator)

    state = {}
    for key, spec in attributes.items():
        _check_attribute_name(cls, key, param_names)
        state[key] = _decode_attribute(key, spec, tensors)
    has_module = state.pop(_MODULE_STATE, None) is not None
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
        if encoder is None or not hasattr(estimator, "build_module"):
            raise ModelFormatError(f"the file holds module weights that {name} cannot use.")
        module_state = tensors.take_prefix(_MODULE_PREFIX)
        _check_module_state(estimator, len(encoder), module_state)
        state[_MODULE_STATE] = module_state
    tensors.check_all_used()
    if "device_" in state:
        if not isinstance(state["device_"], str):
            raise ModelFormatError(f"device_ must be a string, got {state['device_']!r}.")
        try:
            torch.device(state["device_"])
        except (RuntimeError, TypeError) as exc:
            raise ModelFormatError(f"device_ {state['device_']!r} is not a device.") from exc
        if device is not None:
            state["device_"] = device
    version = document.get("skseqrec_version")
    if not isinstance(version, str):
        raise ModelFormatError(f"skseqrec_version must be a string, got {version!r}.")
    state[_VERSION_STATE] = version
    # the same restore path as unpickling: version warning, module rebuild, device fallback
    estimator.set_state(state)
    return estimator


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
    """Refuse names that would shadow methods, properties, parameters or dunders."""
    if (
        not isinstance(key, str)
        or not key.isidentifier()
        or (key.startswith("__") and key.endswith("__"))
        or key in param_names
        or key == _VERSION_STATE
        or hasattr(cls, key)
    ):
        raise ModelFormatError(f"attribute name {key!r} is not allowed in a {cls.__name__}.")


def _decode_value(spec, where: str):
    kind = _kind(spec, where)
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
    raise ModelFormatError(f"{where}: unknown kind {kind!r}.")


def _decode_attribute(key: str, spec, tensors: _Tensors):
    where = f"attribute {key!r}"
    prefix = _ATTRIBUTE_PREFIX + key
    kind = _kind(spec, where)
    if (kind == "module_state") != (key == _MODULE_STATE):
        raise ModelFormatError(f"{where}: module weights must be stored as {_MODULE_STATE!r}.")
    if kind == "module_state":
        return True  # the tensors are taken once the module's expected shapes are known
    if kind == "id_encoder":
        classes = _decode_ids(spec["classes"], prefix + ".classes", tensors, where)
        dtype = _decode_dtype(spec["dtype"], prefix + ".dtype", tensors, where)
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
        return tensors.array(prefix, str(spec["dtype"]), where, ndim=None)
    return _decode_value(spec, where)


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
    if storage == "object_int":
        values = tensors.array(name, np.dtype(np.int64).str, where)
        return _object_array(values.tolist())
    raise ModelFormatError(f"{where}: unknown id storage {storage!r}.")


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


def _check_module_state(estimator, n_items: int, module_state: dict) -> None:
    """Compare the file's weights with the module these parameters build, allocating nothing."""
    try:
        with torch.random.fork_rng(devices=[]), torch.device("meta"):
            expected = estimator.build_module(n_items).state_dict()
    except Exception as exc:  # a module the saved parameters cannot build
        raise ModelFormatError(
            f"cannot build the {type(estimator).__name__} module from the saved parameters: {exc}"
        ) from exc
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
