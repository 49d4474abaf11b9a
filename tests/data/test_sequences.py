"""build_sequences / pad_windows / Sequences against slow pure-Python references."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skseqrec.data import Sequences, build_sequences, chronological_order, pad_windows

FAST = settings(max_examples=50, deadline=None)

# small ranges: many users with several events, many tied times
events = st.lists(st.tuples(st.integers(0, 4), st.integers(0, 6), st.integers(0, 3)), max_size=40)


def columns(rows):
    users = np.array([r[0] for r in rows], dtype=np.int64)
    items = np.array([r[1] for r in rows], dtype=np.int64)
    times = np.array([r[2] for r in rows], dtype=np.int64)
    return users, items, times


def reference(users, times):
    """{user: source rows in chronological order}, one Python loop per user."""
    out = {}
    for user in sorted(set(users.tolist())):
        rows = [r for r in range(len(users)) if users[r] == user]
        rows.sort(key=lambda r: (times[r], r))
        out[user] = rows
    return out


def as_lists(seqs: Sequences, values=None):
    values = seqs.items if values is None else values
    return [values[a:b].tolist() for a, b in zip(seqs.offsets[:-1], seqs.offsets[1:])]


def check_invariants(seqs: Sequences):
    assert len(seqs.offsets) == len(seqs) + 1
    assert seqs.offsets[0] == 0
    assert seqs.offsets[-1] == seqs.n_events
    assert (np.diff(seqs.offsets) >= 0).all()
    assert len(seqs.lengths) == len(seqs)
    for array in (seqs.items, seqs.times, seqs.rows):
        assert len(array) == seqs.n_events
    for array in (seqs.users, seqs.offsets, seqs.items, seqs.rows):
        assert array.dtype == np.int64
    if seqs.weights is not None:
        assert len(seqs.weights) == seqs.n_events


def check_against_reference(seqs, users, items, times, weights=None):
    check_invariants(seqs)
    ref = reference(users, times)
    assert seqs.users.tolist() == list(ref)
    assert as_lists(seqs, seqs.rows) == list(ref.values())
    assert as_lists(seqs) == [items[rows].tolist() for rows in ref.values()]
    assert as_lists(seqs, seqs.times) == [times[rows].tolist() for rows in ref.values()]
    if weights is not None:
        expected = [weights[rows].astype(np.float32).tolist() for rows in ref.values()]
        assert as_lists(seqs, seqs.weights) == expected
        assert seqs.weights.dtype == np.float32


# ------------------------------------------------------------------------ build_sequences


@FAST
@given(events)
def test_build_sequences_matches_reference(rows):
    users, items, times = columns(rows)
    check_against_reference(build_sequences(users, items, times), users, items, times)


@FAST
@given(events, st.randoms(use_true_random=False))
def test_build_sequences_with_float_times_and_weights(rows, random):
    users, items, _ = columns(rows)
    times = np.array([random.choice([-1.5, 0.0, 0.25, 1e9]) for _ in rows], dtype=np.float64)
    weights = np.array([random.random() for _ in rows])
    seqs = build_sequences(users, items, times, weights)
    check_against_reference(seqs, users, items, times, weights)
    assert seqs.times.dtype == np.float64


@FAST
@given(events)
def test_chronological_order_matches_reference(rows):
    users, _, times = columns(rows)
    order = chronological_order(users, times)
    assert order.tolist() == [r for rows in reference(users, times).values() for r in rows]


@FAST
@given(
    st.lists(st.integers(0, 4), max_size=30).flatmap(
        lambda users: st.tuples(
            st.just(users),
            st.lists(st.integers(0, 6), min_size=len(users), max_size=len(users)),
            st.permutations(range(len(users))),  # unique times
            st.permutations(range(len(users))),  # how rows are shuffled
        )
    )
)
def test_shuffling_rows_does_not_change_sequences_with_unique_times(drawn):
    users, items, times, permutation = (np.array(x, dtype=np.int64) for x in drawn)
    seqs = build_sequences(users, items, times)
    shuffled = build_sequences(users[permutation], items[permutation], times[permutation])
    assert shuffled.users.tolist() == seqs.users.tolist()
    assert shuffled.offsets.tolist() == seqs.offsets.tolist()
    assert shuffled.items.tolist() == seqs.items.tolist()
    assert shuffled.times.tolist() == seqs.times.tolist()
    # rows point into the frame they were built from
    assert permutation[shuffled.rows].tolist() == seqs.rows.tolist()


@FAST
@given(st.lists(st.integers(0, 4), max_size=30), st.integers(-3, 3))
def test_ties_keep_row_order(users, time):
    users = np.array(users, dtype=np.int64)
    times = np.full(len(users), time)
    items = np.arange(len(users), dtype=np.int64)
    seqs = build_sequences(users, items, times)
    check_invariants(seqs)
    for rows in as_lists(seqs, seqs.rows):
        assert rows == sorted(rows)
    assert seqs.items.tolist() == seqs.rows.tolist()


def test_ties_keep_row_order_example():
    seqs = build_sequences(
        np.array([7, 3, 7, 7, 3, 7]),
        np.array([10, 20, 30, 40, 50, 60]),
        np.array([5, 1, 2, 5, 1, 2]),
    )
    assert seqs.users.tolist() == [3, 7]
    assert as_lists(seqs) == [[20, 50], [30, 60, 10, 40]]
    assert seqs.rows.tolist() == [1, 4, 2, 5, 0, 3]


def test_ties_with_large_int64_times():
    big = np.iinfo(np.int64).max
    times = np.array([big, big - 1, big, np.iinfo(np.int64).min])
    seqs = build_sequences(np.zeros(4, dtype=np.int64), np.arange(4), times)
    assert seqs.rows.tolist() == [3, 1, 0, 2]


def test_build_sequences_of_nothing():
    seqs = build_sequences(np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), np.zeros(0))
    check_invariants(seqs)
    assert len(seqs) == 0
    assert seqs.offsets.tolist() == [0]
    assert seqs.lengths.tolist() == []
    assert seqs.padded(5).shape == (0, 1)
    assert len(seqs.select([])) == 0
    assert len(seqs.drop_last(1)) == 0


# ---------------------------------------------------------------------------- pad_windows


def pad_reference(values, starts, ends, max_len, width=None, fill=0):
    kept = [list(values[max(s, e - max_len) : e]) for s, e in zip(starts, ends)]
    if width is None:
        width = max([len(k) for k in kept] + [1])
    kept = [k[len(k) - min(len(k), width) :] for k in kept]
    return [[fill] * (width - len(k)) + k for k in kept]


@st.composite
def windows(draw):
    n_values = draw(st.integers(0, 25))
    bounds = st.tuples(st.integers(0, n_values), st.integers(0, n_values)).map(sorted)
    pairs = draw(st.lists(bounds, max_size=12))
    values = np.array(draw(st.lists(st.integers(1, 99), min_size=n_values, max_size=n_values)))
    starts = np.array([p[0] for p in pairs], dtype=np.int64)
    ends = np.array([p[1] for p in pairs], dtype=np.int64)
    return values.astype(np.int64), starts, ends, draw(st.integers(0, 8))


@FAST
@given(windows())
def test_pad_windows_matches_reference(drawn):
    values, starts, ends, max_len = drawn
    out = pad_windows(values, starts, ends, max_len)
    assert out.dtype == values.dtype
    assert out.tolist() == pad_reference(values, starts, ends, max_len)
    assert out.shape[1] == max(1, min(max_len, int((ends - starts).max(initial=0))))


@FAST
@given(windows(), st.integers(1, 10), st.sampled_from([0, -1]))
def test_pad_windows_with_width_and_fill(drawn, width, fill):
    values, starts, ends, max_len = drawn
    out = pad_windows(values, starts, ends, max_len, width=width, fill=fill)
    assert out.shape == (len(starts), width)
    assert out.tolist() == pad_reference(values, starts, ends, max_len, width, fill)


def test_pad_windows_float_values_and_fill():
    values = np.array([0.5, 1.5, 2.5], dtype=np.float32)
    out = pad_windows(values, np.array([0, 1]), np.array([1, 3]), 4, fill=-1.0)
    assert out.dtype == np.float32
    assert out.tolist() == [[-1.0, 0.5], [1.5, 2.5]]


def test_pad_windows_empty_windows():
    values = np.array([5, 6, 7])
    out = pad_windows(values, np.array([1, 3, 0]), np.array([1, 3, 0]), 4)
    assert out.tolist() == [[0], [0], [0]]
    none = pad_windows(values, np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64), 4)
    assert none.shape == (0, 1)
    empty_values = pad_windows(np.zeros(0, dtype=np.int64), np.array([0]), np.array([0]), 3)
    assert empty_values.tolist() == [[0]]


def test_pad_windows_keeps_most_recent():
    values = np.arange(1, 11)
    out = pad_windows(values, np.array([0, 0, 8]), np.array([10, 3, 10]), 4)
    assert out.tolist() == [[7, 8, 9, 10], [0, 1, 2, 3], [0, 0, 9, 10]]


# ------------------------------------------------------------------------------ Sequences


@st.composite
def sequences(draw):
    rows = draw(events)
    users, items, times = columns(rows)
    weights = np.arange(len(rows), dtype=np.float64) / 10
    return build_sequences(users, items, times, weights if draw(st.booleans()) else None)


@FAST
@given(sequences(), st.data())
def test_select_by_mask_and_by_index(seqs, data):
    mask = np.array(data.draw(st.lists(st.booleans(), min_size=len(seqs), max_size=len(seqs))))
    mask = mask.astype(bool)
    index = np.array(
        data.draw(st.lists(st.integers(0, max(len(seqs) - 1, 0)), max_size=6 if len(seqs) else 0)),
        dtype=np.int64,
    )
    whole = as_lists(seqs)
    for chosen, positions in (
        (seqs.select(mask), np.flatnonzero(mask)),
        (seqs.select(index), index),
    ):
        check_invariants(chosen)
        assert chosen.users.tolist() == seqs.users[positions].tolist()
        assert as_lists(chosen) == [whole[p] for p in positions]
        assert as_lists(chosen, chosen.rows) == [as_lists(seqs, seqs.rows)[p] for p in positions]
        assert as_lists(chosen, chosen.times) == [as_lists(seqs, seqs.times)[p] for p in positions]
        if seqs.weights is not None:
            expected = [as_lists(seqs, seqs.weights)[p] for p in positions]
            assert as_lists(chosen, chosen.weights) == expected
        else:
            assert chosen.weights is None


def test_select_empty_list():
    seqs = build_sequences(np.array([1, 2, 2]), np.array([4, 5, 6]), np.array([0, 1, 2]))
    for nothing in ([], np.zeros(2, dtype=bool), np.zeros(0, dtype=np.int64)):
        chosen = seqs.select(nothing)
        check_invariants(chosen)
        assert len(chosen) == 0
        assert chosen.n_events == 0


@FAST
@given(sequences(), st.integers(0, 4))
def test_drop_last(seqs, n):
    dropped = seqs.drop_last(n)
    check_invariants(dropped)
    assert dropped.users.tolist() == seqs.users.tolist()
    assert as_lists(dropped) == [s[: max(len(s) - n, 0)] for s in as_lists(seqs)]
    rows = as_lists(seqs, seqs.rows)
    assert as_lists(dropped, dropped.rows) == [s[: max(len(s) - n, 0)] for s in rows]
    if seqs.weights is not None:
        weights = as_lists(seqs, seqs.weights)
        assert as_lists(dropped, dropped.weights) == [s[: max(len(s) - n, 0)] for s in weights]


@FAST
@given(sequences(), st.integers(1, 3))
def test_last(seqs, n):
    long_enough = seqs.select(seqs.lengths >= n)
    positions = long_enough.last(n)
    assert long_enough.items[positions].tolist() == [s[-n] for s in as_lists(long_enough)]
    assert long_enough.rows[positions].tolist() == [
        s[-n] for s in as_lists(long_enough, long_enough.rows)
    ]


def test_last_then_drop_last_splits_targets_from_history():
    seqs = build_sequences(np.array([1, 1, 1, 2, 2]), np.array([7, 8, 9, 3, 4]), np.arange(5))
    assert seqs.items[seqs.last(1)].tolist() == [9, 4]
    assert seqs.items[seqs.last(2)].tolist() == [8, 3]
    assert as_lists(seqs.drop_last(1)) == [[7, 8], [3]]


@FAST
@given(sequences(), st.integers(1, 6))
def test_padded(seqs, max_len):
    out = seqs.padded(max_len)
    expected = pad_reference(seqs.items, seqs.offsets[:-1], seqs.offsets[1:], max_len)
    assert out.tolist() == expected
    assert out.shape == (len(seqs), max(1, min(max_len, int(seqs.lengths.max(initial=0)))))
    times = seqs.padded(max_len, values=seqs.times, fill=-1)
    assert times.tolist() == pad_reference(
        seqs.times, seqs.offsets[:-1], seqs.offsets[1:], max_len, fill=-1
    )


def test_padded_example():
    seqs = build_sequences(np.array([2, 1, 2, 2]), np.array([5, 6, 7, 8]), np.array([0, 9, 1, 2]))
    assert seqs.padded(2).tolist() == [[0, 6], [7, 8]]
    assert seqs.padded(10).tolist() == [[0, 0, 6], [5, 7, 8]]


@pytest.mark.parametrize("n", [1, 2])
def test_drop_last_can_empty_sequences(n):
    seqs = build_sequences(np.array([1, 2, 2]), np.array([4, 5, 6]), np.array([0, 1, 2]))
    dropped = seqs.drop_last(n)
    assert len(dropped) == 2  # sequences stay, possibly empty
    assert dropped.lengths.tolist() == [0, 2 - n]
    assert dropped.padded(3).tolist() == ([[0], [5]] if n == 1 else [[0], [0]])
