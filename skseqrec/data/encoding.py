"""External ids <-> contiguous integer codes, 0 reserved for padding."""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["IdEncoder"]


class IdEncoder:
    """Map external ids to codes ``1..n`` in sorted id order; 0 means padding/unknown.

    Parameters
    ----------
    classes : array-like
        Known ids; sorted and de-duplicated.
    dtype : dtype, default=None
        The caller's dtype, restored by :meth:`decode`.

    Examples
    --------
    >>> enc = IdEncoder.from_values(["b", "a", "b"])
    >>> enc.encode(["a", "b", "zz"]).tolist()
    [1, 2, 0]
    >>> list(enc.decode([2, 1]))
    ['b', 'a']
    """

    def __init__(self, classes, dtype=None):
        classes = np.asarray(classes)
        if classes.dtype.kind in "US":
            classes = classes.astype(object)
        self.classes = classes
        self.dtype = dtype if dtype is not None else classes.dtype
        self._index = None

    @classmethod
    def from_values(cls, values, dtype=None) -> IdEncoder:
        """Build an encoder from the ids seen in ``values``."""
        values = np.asarray(values)
        if values.dtype.kind in "US":
            values = values.astype(object)
        uniques = pd.unique(values)
        return cls(np.sort(uniques), dtype)

    def __len__(self) -> int:
        return len(self.classes)

    def __getstate__(self):
        return {"classes": self.classes, "dtype": self.dtype}

    def __setstate__(self, state):
        self.classes = state["classes"]
        self.dtype = state["dtype"]
        self._index = None

    @property
    def index(self) -> pd.Index:
        if self._index is None:
            self._index = pd.Index(self.classes)
        return self._index

    def encode(self, values) -> np.ndarray:
        """Codes ``1..n`` for known ids, 0 for unknown ones (int64)."""
        values = np.asarray(values)
        if len(values) == 0:
            return np.zeros(0, dtype=np.int64)
        try:
            positions = self.index.get_indexer(values)
        except TypeError:
            positions = np.full(len(values), -1)
        # one new int64 array (an astype copy and then a sum had made two: 16 bytes a row)
        return np.add(positions, 1, dtype=np.int64)

    def decode(self, codes):
        """External ids for codes ``1..n``, in the caller's dtype."""
        values = self.classes[np.asarray(codes, dtype=np.int64) - 1]
        return _restore_dtype(values, self.dtype)

    def extend(self, values) -> tuple[IdEncoder, np.ndarray]:
        """Encoder over the current ids plus unseen ids in ``values``, still sorted.

        Returns the new encoder and ``new_codes``, where ``new_codes[c]`` is the new
        code of current code ``c`` (``new_codes[0] == 0``), so embedding rows can be
        moved without disturbing known ids.
        """
        values = np.asarray(values)
        new = values[self.encode(values) == 0]
        if len(new) == 0:  # concatenating an empty float array would make int classes float
            return IdEncoder(self.classes, self.dtype), np.arange(len(self) + 1, dtype=np.int64)
        dtype = self.dtype
        if isinstance(dtype, pd.CategoricalDtype):  # new ids must decode, not become NaN
            extra = pd.Index(pd.unique(new)).difference(dtype.categories, sort=False)
            if len(extra):
                dtype = pd.CategoricalDtype(dtype.categories.append(extra), dtype.ordered)
        merged = IdEncoder.from_values(np.concatenate([self.classes, pd.unique(new)]), dtype)
        new_codes = np.concatenate([[0], merged.encode(self.classes)])
        return merged, new_codes


def _restore_dtype(values, dtype):
    if isinstance(dtype, pd.CategoricalDtype):
        return pd.Categorical(values, dtype=dtype)
    if isinstance(dtype, np.dtype):
        return values.astype(dtype, copy=False)
    # pandas extension dtypes (string, nullable ints): keep them
    return pd.array(values, dtype=dtype)
