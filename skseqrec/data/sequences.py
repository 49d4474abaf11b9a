"""Ragged per-user sequences, built without a Python loop per user.

A :class:`Sequences` holds every user's events concatenated in chronological
order (ascending time, ties by row order) plus ``offsets`` so that user ``u``'s
events are ``items[offsets[u]:offsets[u + 1]]``.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

import numpy as np

__all__ = ["Sequences", "build_sequences", "chronological_order", "pad_windows"]


def chronological_order(user_codes: np.ndarray, times: np.ndarray) -> np.ndarray:
    """Row order grouping users (ascending code), then time, ties by row position.

    Two stable sorts: by time, then by user; stability keeps earlier rows first.
    """
    order = np.argsort(times, kind="stable")
    return order[np.argsort(user_codes[order], kind="stable")]


@dataclass
class Sequences:
    """Chronological item sequences of several users.

    Attributes
    ----------
    users : ndarray of int64, shape (n_sequences,)
        User code of each sequence (ascending).
    offsets : ndarray of int64, shape (n_sequences + 1,)
        Sequence ``s`` is ``items[offsets[s]:offsets[s + 1]]``.
    items : ndarray of int64, shape (n_events,)
        Item codes (0 = unknown item).
    times : ndarray, shape (n_events,)
        Event times, same order as ``items``.
    rows : ndarray of int64, shape (n_events,)
        Position of each event in the source frame.
    weights : ndarray of float32 or None
        Per-event target (soft label or rating), same order as ``items``.
    request_times : ndarray of float64, shape (n_sequences,), or None
        When each sequence is a history for a request (in the units of ``times``; NaN
        where unknown); None: unknown for every sequence. Models that read the time to
        the request (``gap_conditioning``) read it; see :meth:`with_request_times`.

    Examples
    --------
    >>> import numpy as np
    >>> from skseqrec.data import Sequences, build_sequences
    >>> s = build_sequences(user_codes=np.array([1, 1, 2, 1]), item_codes=np.array([5, 6, 7, 8]),
    ...                     times=np.array([0, 1, 0, 2]))
    >>> isinstance(s, Sequences), len(s), s.n_events
    (True, 2, 4)
    >>> s.users.tolist(), s.offsets.tolist(), s.lengths.tolist()
    ([1, 2], [0, 3, 4], [3, 1])
    >>> s.items[s.offsets[0]:s.offsets[1]].tolist()  # user 1's items, oldest first
    [5, 6, 8]
    >>> s.padded(2).tolist()  # the two most recent events, left-padded with 0
    [[6, 8], [0, 7]]
    >>> s.drop_last().items.tolist(), s.select([1]).users.tolist()
    ([5, 6], [2])
    """

    users: np.ndarray
    offsets: np.ndarray
    items: np.ndarray
    times: np.ndarray
    rows: np.ndarray
    weights: np.ndarray | None = None
    request_times: np.ndarray | None = None

    @property
    def lengths(self) -> np.ndarray:
        return np.diff(self.offsets)

    def __len__(self) -> int:
        return len(self.users)

    @property
    def n_events(self) -> int:
        return len(self.items)

    def select(self, mask_or_index) -> Sequences:
        """Sub-collection of sequences (by boolean mask or index array)."""
        index = np.asarray(mask_or_index)
        if index.dtype == bool:
            index = np.flatnonzero(index)
        index = index.astype(np.int64, copy=False)  # an empty list is float64
        starts, ends = self.offsets[index], self.offsets[index + 1]
        request_times = None if self.request_times is None else self.request_times[index]
        return self._regroup(self.users[index], ends - starts, _ranges(starts, ends), request_times)

    def with_request_times(self, when) -> Sequences:
        """The same sequences as histories for requests at ``when`` (a scalar for all,
        or one value per sequence, in the units of ``times``; NaN: unknown).

        >>> s = build_sequences(np.array([1, 2]), np.array([5, 6]), np.array([3, 4]))
        >>> s.with_request_times(10).request_times.tolist()
        [10.0, 10.0]
        """
        when = np.broadcast_to(np.asarray(when, dtype=np.float64), (len(self),)).copy()
        return dataclasses.replace(self, request_times=when)

    def _regroup(self, users, lengths, events, request_times) -> Sequences:
        """Sequences of ``users`` with ``lengths`` events taken, in order, at ``events``
        (positions or a boolean mask into this collection's events), requested at
        ``request_times``."""
        return Sequences(
            users=users,
            offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            items=self.items[events],
            times=self.times[events],
            rows=self.rows[events],
            weights=None if self.weights is None else self.weights[events],
            request_times=request_times,
        )

    def drop_last(self, n: int = 1) -> Sequences:
        """Each sequence without its last ``n`` events (sequences may become empty)."""
        lengths = np.maximum(self.lengths - n, 0)
        positions = _ranges(self.offsets[:-1], self.offsets[:-1] + lengths)
        return self._regroup(self.users, lengths, positions, self.request_times)

    def last(self, n: int = 1) -> np.ndarray:
        """Positions (into ``items``) of the ``n``-th last event of each sequence."""
        return self.offsets[1:] - n

    def filter_events(self, keep: np.ndarray) -> Sequences:
        """The same sequences holding only the events where ``keep`` (n_events,) is True."""
        keep = np.asarray(keep, dtype=bool)
        user_index = np.repeat(np.arange(len(self)), self.lengths)
        lengths = np.bincount(user_index[keep], minlength=len(self))
        return self._regroup(self.users, lengths, keep, self.request_times)

    def select_users(self, user_codes: np.ndarray) -> Sequences:
        """Sequences of exactly ``user_codes`` (sorted); users absent here get empty ones."""
        user_codes = np.asarray(user_codes, dtype=np.int64)
        position = np.searchsorted(self.users, user_codes)
        clipped = np.minimum(position, max(len(self.users) - 1, 0))
        present = (position < len(self.users)) & (
            self.users[clipped] == user_codes if len(self.users) else False
        )
        lengths = np.zeros(len(user_codes), dtype=np.int64)
        lengths[present] = self.lengths[position[present]]
        present_positions = position[present]
        starts, ends = self.offsets[present_positions], self.offsets[present_positions + 1]
        request_times = None
        if self.request_times is not None:
            request_times = np.full(len(user_codes), np.nan)
            request_times[present] = self.request_times[present_positions]
        return self._regroup(user_codes, lengths, _ranges(starts, ends), request_times)

    @classmethod
    def concat(cls, parts: list[Sequences]) -> Sequences:
        """Sequences of several collections, one after the other (weights kept if all have)."""
        if len(parts) == 1:
            return parts[0]
        lengths = np.concatenate([p.lengths for p in parts])
        weights = None
        if all(p.weights is not None for p in parts):
            weights = np.concatenate([p.weights for p in parts])
        request_times = None
        if any(p.request_times is not None for p in parts):
            request_times = np.concatenate(
                [
                    np.full(len(p), np.nan) if p.request_times is None else p.request_times
                    for p in parts
                ]
            )
        return cls(
            users=np.concatenate([p.users for p in parts]),
            offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
            items=np.concatenate([p.items for p in parts]),
            times=np.concatenate([p.times for p in parts]),
            rows=np.concatenate([p.rows for p in parts]),
            weights=weights,
            request_times=request_times,
        )

    def append(self, item_codes: np.ndarray) -> Sequences:
        """Each sequence with one more event at its end (``item_codes``; 0 = none added).

        The new event takes its sequence's last time ("now") and row -1 (no source row).
        """
        item_codes = np.asarray(item_codes, dtype=np.int64)
        add = item_codes > 0
        lengths = self.lengths + add
        offsets = np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64)
        new_positions = offsets[1:][add] - 1
        old = np.ones(offsets[-1], dtype=bool)
        old[new_positions] = False
        items = np.empty(offsets[-1], dtype=np.int64)
        items[old], items[new_positions] = self.items, item_codes[add]
        times = np.empty(offsets[-1], dtype=self.times.dtype)
        times[old] = self.times
        if len(self.times):
            last_times = self.times[np.maximum(self.offsets[1:] - 1, 0)]
        else:
            last_times = np.zeros(len(self), dtype=self.times.dtype)
        times[new_positions] = last_times[add]
        rows = np.full(offsets[-1], -1, dtype=np.int64)
        rows[old] = self.rows
        return Sequences(
            users=self.users,
            offsets=offsets,
            items=items,
            times=times,
            rows=rows,
            weights=None,
            request_times=self.request_times,
        )

    def padded(self, max_len: int, *, values: np.ndarray | None = None, fill=0) -> np.ndarray:
        """Left-padded (n_sequences, width) matrix of the most recent ``max_len`` events.

        ``width = min(max_len, longest sequence)``.
        """
        values = self.items if values is None else values
        return pad_windows(values, self.offsets[:-1], self.offsets[1:], max_len, fill=fill)


def _ranges(starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, e)`` for every pair, vectorised."""
    lengths = np.asarray(ends - starts, dtype=np.int64)
    total = int(lengths.sum())
    if total == 0:
        return np.zeros(0, dtype=np.int64)
    cum = np.cumsum(lengths)
    # int32 positions while they fit, summed in place: 8 bytes an event at the peak of
    # a selection instead of 24 (only ever used to index arrays)
    fits = total < 2**31 and int(np.max(ends, initial=0)) < 2**31
    dtype = np.int32 if fits else np.int64
    base = np.repeat((np.asarray(starts, dtype=np.int64) - (cum - lengths)).astype(dtype), lengths)
    base += np.arange(total, dtype=dtype)
    return base


def pad_windows(
    values: np.ndarray,
    starts: np.ndarray,
    ends: np.ndarray,
    max_len: int,
    *,
    width: int | None = None,
    fill=0,
) -> np.ndarray:
    """Left-padded windows ``values[max(start, end - max_len):end]``, one row per window.

    Parameters
    ----------
    values : ndarray, shape (n_events,)
    starts, ends : ndarray of int, shape (n_windows,)
        Window bounds (``end`` exclusive); only the last ``max_len`` values are kept.
    max_len : int
    width : int, default=None
        Number of columns; defaults to the longest kept window (at least 1).
    fill : scalar, default=0

    Returns
    -------
    ndarray, shape (n_windows, width)

    Examples
    --------
    >>> pad_windows(np.array([5, 6, 7, 8]), np.array([0, 2]), np.array([3, 4]), 2).tolist()
    [[6, 7], [7, 8]]
    """
    # positions in int32 when ``values`` is shorter than 2**31: the (n_windows, width)
    # index matrix and its valid entries take half the memory (a full-data padding at
    # 1e7 events peaked at 33 bytes an event above its output)
    position = np.int32 if len(values) < 2**31 else np.int64
    starts = np.asarray(starts, dtype=np.int64)
    ends = np.asarray(ends, dtype=np.int64)
    lengths = np.minimum(ends - starts, max_len)
    if width is None:
        width = max(int(lengths.max(initial=0)), 1)
    columns = np.arange(width, dtype=np.int64) - width  # -width..-1, relative to end
    index = ends.astype(position)[:, None] + columns.astype(position)[None, :]
    valid = columns[None, :] >= -lengths[:, None]
    out = np.full(index.shape, fill, dtype=values.dtype)
    out[valid] = values[index[valid]]
    return out


def build_sequences(
    user_codes: np.ndarray,
    item_codes: np.ndarray,
    times: np.ndarray,
    weights: np.ndarray | None = None,
) -> Sequences:
    """Group events into chronological per-user sequences.

    Parameters
    ----------
    user_codes : ndarray of int, shape (n_events,)
    item_codes : ndarray of int, shape (n_events,)
    times : ndarray, shape (n_events,)
        Sortable times; ties keep row order.
    weights : ndarray, default=None
        Per-event target carried along.

    Returns
    -------
    Sequences

    Examples
    --------
    >>> s = build_sequences(np.array([2, 1, 2]), np.array([7, 8, 9]), np.array([5, 0, 1]))
    >>> s.users.tolist(), s.items.tolist(), s.offsets.tolist()
    ([1, 2], [8, 9, 7], [0, 1, 3])
    """
    user_codes = np.asarray(user_codes, dtype=np.int64)
    order = chronological_order(user_codes, times)
    sorted_users = user_codes[order]
    boundaries = np.flatnonzero(sorted_users[1:] != sorted_users[:-1]) + 1
    # no events -> no sequences (offsets == [0], not [0, 0])
    starts = np.concatenate([[0] if len(order) else [], boundaries]).astype(np.int64)
    return Sequences(
        users=sorted_users[starts] if len(order) else np.zeros(0, dtype=np.int64),
        offsets=np.concatenate([starts, [len(order)]]).astype(np.int64),
        items=np.asarray(item_codes, dtype=np.int64)[order],
        times=np.asarray(times)[order],
        rows=order.astype(np.int64, copy=False),  # argsort's int64: no second copy
        weights=None if weights is None else np.asarray(weights, dtype=np.float32)[order],
    )
