"""What a second-stage ranker reads: candidate lists per user and a table per item."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

__all__ = ["CandidateLists", "ItemSide"]


@dataclass
class CandidateLists:
    """One list of candidate items per user, with what the retriever said about each.

    Attributes
    ----------
    user_vectors : ndarray of float32, shape (n_lists, d)
        The retriever's vector of each user's history.
    items : ndarray of int64, shape (n_lists, L)
        Candidate item codes of the catalogue; 0 marks an empty slot.
    scores : ndarray of float32, shape (n_lists, L)
        The retriever's score of each candidate (0 where it has none: cold items).
    ranks : ndarray of int64, shape (n_lists, L)
        The retriever's rank of each candidate, 1-based; 0 = not among its candidates.
    positives : ndarray of int64, shape (n_lists,), or None
        Slot of each list's target (training lists only).
    masked : ndarray of bool, shape (n_lists, L), or None
        Slots always shown to the ranker without their id part (as cold items are).

    Examples
    --------
    >>> import numpy as np
    >>> from skseqrec.data.candidates import CandidateLists
    >>> lists = CandidateLists(
    ...     user_vectors=np.zeros((2, 4), np.float32),
    ...     items=np.array([[3, 1, 2], [2, 5, 0]]),  # 0: an empty slot
    ...     scores=np.array([[0.9, 0.5, 0.1], [0.7, 0.2, 0.0]], np.float32),
    ...     ranks=np.array([[1, 2, 3], [1, 2, 0]]),
    ...     positives=np.array([0, 1]))
    >>> len(lists), lists.select([1]).items.tolist()
    (2, [[2, 5, 0]])
    >>> wider = CandidateLists(np.ones((1, 4), np.float32), np.array([[4, 5, 6, 7]]),
    ...                        np.ones((1, 4), np.float32), np.array([[1, 2, 3, 4]]))
    >>> both = CandidateLists.concat([lists, wider])  # narrower lists are padded
    >>> both.items.tolist(), both.positives
    ([[3, 1, 2, 0], [2, 5, 0, 0], [4, 5, 6, 7]], None)
    """

    user_vectors: np.ndarray
    items: np.ndarray
    scores: np.ndarray
    ranks: np.ndarray
    positives: np.ndarray | None = None
    masked: np.ndarray | None = None

    def __len__(self) -> int:
        return len(self.items)

    def select(self, index) -> CandidateLists:
        """Sub-collection of lists (boolean mask or index array)."""
        return CandidateLists(
            self.user_vectors[index],
            self.items[index],
            self.scores[index],
            self.ranks[index],
            None if self.positives is None else self.positives[index],
            None if self.masked is None else self.masked[index],
        )

    @classmethod
    def concat(cls, parts: list[CandidateLists]) -> CandidateLists:
        """Lists of several collections, one after the other (narrower ones padded)."""
        width = max(p.items.shape[1] for p in parts)

        def stack(name, fill):
            arrays = []
            for part in parts:
                value = getattr(part, name)
                if value is None:
                    value = np.full(part.items.shape, fill)
                pad = width - value.shape[1]
                arrays.append(np.pad(value, ((0, 0), (0, pad)), constant_values=fill))
            return np.concatenate(arrays)

        positives = None
        if all(p.positives is not None for p in parts):
            positives = np.concatenate([p.positives for p in parts])
        return cls(
            np.concatenate([p.user_vectors for p in parts]),
            stack("items", 0),
            stack("scores", 0.0).astype(np.float32),
            stack("ranks", 0),
            positives,
            stack("masked", False) if any(p.masked is not None for p in parts) else None,
        )


@dataclass
class ItemSide:
    """Per item code (row 0 = padding): what the ranker knows about every catalogue item.

    Attributes
    ----------
    vectors : ndarray of float32, shape (n_items + 1, d)
        The retriever's item vectors; zero rows for items unknown to it.
    popularity : ndarray of float32, shape (n_items + 1,)
        ``log1p(count) / log1p(max count)`` over the retriever's training events.
    unknown : ndarray of bool, shape (n_items + 1,)
        Items the retriever never saw in training (cold items).
    max_rank : int
        The retriever's candidate count.
    metadata_codes : list of ndarray of int64, shape (n_items + 1, m_f)
        Codes of each metadata field (see :class:`skseqrec.features.EncodedItems`).
    metadata_values : list of (ndarray of float32, shape (n_items + 1,)) or None
        Normalised values of numeric fields (None for the others).
    metadata_sizes : list of int
        Number of codes of each field.

    Examples
    --------
    >>> import numpy as np
    >>> from skseqrec.data.candidates import ItemSide
    >>> side = ItemSide(
    ...     vectors=np.array([[0, 0], [1, 0], [0, 1], [0, 0]], np.float32),
    ...     popularity=np.array([0.0, 1.0, 0.5, 0.0], np.float32),
    ...     unknown=np.array([True, False, False, True]),  # row 0: padding; item 3: cold
    ...     max_rank=2)
    >>> side.n_items, side.unknown[1:].tolist(), side.metadata_sizes
    (3, [False, False, True], [])
    """

    vectors: np.ndarray
    popularity: np.ndarray
    unknown: np.ndarray
    max_rank: int
    metadata_codes: list = field(default_factory=list)
    metadata_values: list = field(default_factory=list)
    metadata_sizes: list = field(default_factory=list)

    @property
    def n_items(self) -> int:
        return len(self.vectors) - 1
