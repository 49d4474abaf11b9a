"""Ranking metrics: hand-computed cases, a pure-Python reference, error messages.

The reference implementations below are written from the docstring formulas with plain
loops over users (no numpy), so that they share no code path with ``skseqrec.metrics``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import skseqrec.metrics as M
from skseqrec.metrics import (
    METRICS,
    coverage_at_k,
    get_metric,
    hit_rate_at_k,
    mrr_at_k,
    ndcg_at_k,
    precision_at_k,
    rank_of_targets,
    recall_at_k,
    sampled_hit_rate_at_k,
    sampled_ndcg_at_k,
)

TOL = 1e-12
SINGLE = [hit_rate_at_k, ndcg_at_k, mrr_at_k, recall_at_k, precision_at_k]


# --------------------------------------------------------------------------- reference
def ref_rank(row, target, k):
    """1-based rank of target in row[:k], 0 when absent (first occurrence counts)."""
    for i in range(k):
        if row[i] == target:
            return i + 1
    return 0


def ref_hit_rate(ranked, targets, k):
    total = 0.0
    for row, t in zip(ranked, targets, strict=True):
        total += 1.0 if ref_rank(row, t, k) > 0 else 0.0
    return total / len(ranked)


def ref_ndcg(ranked, targets, k):
    total = 0.0
    for row, t in zip(ranked, targets, strict=True):
        r = ref_rank(row, t, k)
        total += 1.0 / math.log2(r + 1) if r > 0 else 0.0
    return total / len(ranked)


def ref_mrr(ranked, targets, k):
    total = 0.0
    for row, t in zip(ranked, targets, strict=True):
        r = ref_rank(row, t, k)
        total += 1.0 / r if r > 0 else 0.0
    return total / len(ranked)


def _kept(ranked, lists):
    """(row, set of relevant items) for users with at least one relevant item."""
    return [(row, set(rel)) for row, rel in zip(ranked, lists, strict=True) if len(set(rel))]


def ref_recall(ranked, lists, k):
    kept = _kept(ranked, lists)
    return sum(len(set(row[:k]) & rel) / len(rel) for row, rel in kept) / len(kept)


def ref_precision(ranked, lists, k):
    kept = _kept(ranked, lists)
    return sum(len(set(row[:k]) & rel) / k for row, rel in kept) / len(kept)


def ref_ndcg_multi(ranked, lists, k):
    values = []
    for row, rel in _kept(ranked, lists):
        dcg, seen = 0.0, set()
        for i in range(k):
            if row[i] in rel and row[i] not in seen:
                dcg += 1.0 / math.log2(i + 2)
            seen.add(row[i])
        ideal = sum(1.0 / math.log2(i + 2) for i in range(min(k, len(rel))))
        values.append(dcg / ideal)
    return sum(values) / len(values)


def ref_coverage(ranked, k, n_items):
    shown = set()
    for row in ranked:
        for i in range(k):
            shown.add(row[i])
    return len(shown) / n_items


def ref_sampled_rank(positive, negatives):
    """The positive ranked among its own negatives; ties count against it."""
    return 1 + sum(1 for n in negatives if n >= positive)


def ref_sampled_hit_rate(pos, neg, k):
    return sum(1.0 if ref_sampled_rank(p, n) <= k else 0.0 for p, n in zip(pos, neg)) / len(pos)


def ref_sampled_ndcg(pos, neg, k):
    total = 0.0
    for p, n in zip(pos, neg, strict=True):
        r = ref_sampled_rank(p, n)
        total += 1.0 / math.log2(r + 1) if r <= k else 0.0
    return total / len(pos)


def _random_case(rng, n_users, width, n_items, duplicates):
    if duplicates:
        ranked = rng.integers(0, n_items, size=(n_users, width))
    else:
        ranked = np.stack([rng.choice(n_items, width, replace=False) for _ in range(n_users)])
    targets = rng.integers(0, n_items, size=n_users)
    lists = [rng.integers(0, n_items, size=rng.integers(0, 6)) for _ in range(n_users)]
    lists[0] = np.append(lists[0], ranked[0, 0])  # at least one user has a relevant item
    return ranked, targets, lists


def _as_lists(a):
    return [[x.item() if hasattr(x, "item") else x for x in row] for row in a]


# --------------------------------------------------------------------------- exports
def test_public_names_are_all_tested_here():
    # a new export must get tests: extend this set together with the tests
    assert set(M.__all__) == {
        "METRICS",
        "coverage_at_k",
        "get_metric",
        "hit_rate_at_k",
        "mrr_at_k",
        "ndcg_at_k",
        "precision_at_k",
        "rank_of_targets",
        "recall_at_k",
        "sampled_hit_rate_at_k",
        "sampled_ndcg_at_k",
    }
    for name in M.__all__:
        assert getattr(M, name) is not None


# --------------------------------------------------------------------------- hand-computed
RANKED = np.array([[7, 3, 5, 9], [1, 2, 3, 4], [4, 8, 6, 2], [5, 6, 7, 8]])
# user 0: target 7 at rank 1; user 1: target 3 at rank 3; user 2: target 2 at rank 4;
# user 3: target 11 absent
TARGETS = np.array([7, 3, 2, 11])


def test_rank_of_targets_hand():
    assert rank_of_targets(RANKED, TARGETS).tolist() == [1, 3, 4, 0]
    # the first occurrence counts when an id repeats
    assert rank_of_targets([[5, 2, 2]], [2]).tolist() == [2]


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, (1 + 0 + 0 + 0) / 4),
        (3, (1 + 1 + 0 + 0) / 4),  # rank 3 == k is a hit
        (4, (1 + 1 + 1 + 0) / 4),
    ],
)
def test_hit_rate_hand(k, expected):
    assert hit_rate_at_k(RANKED, TARGETS, k=k) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(
    ("k", "expected"),
    [
        (1, (1 / math.log2(2)) / 4),
        (3, (1 / math.log2(2) + 1 / math.log2(4)) / 4),
        (4, (1 / math.log2(2) + 1 / math.log2(4) + 1 / math.log2(5)) / 4),
    ],
)
def test_ndcg_hand(k, expected):
    assert ndcg_at_k(RANKED, TARGETS, k=k) == pytest.approx(expected, abs=TOL)


@pytest.mark.parametrize(
    ("k", "expected"),
    [(1, (1 / 1) / 4), (3, (1 / 1 + 1 / 3) / 4), (4, (1 / 1 + 1 / 3 + 1 / 4) / 4)],
)
def test_mrr_hand(k, expected):
    assert mrr_at_k(RANKED, TARGETS, k=k) == pytest.approx(expected, abs=TOL)


def test_single_target_recall_and_precision_hand():
    # one relevant item each: recall = hit rate; precision = hits / k
    assert recall_at_k(RANKED, TARGETS, k=3) == pytest.approx((1 + 1 + 0 + 0) / 4, abs=TOL)
    assert precision_at_k(RANKED, TARGETS, k=3) == pytest.approx(
        (1 / 3 + 1 / 3 + 0 + 0) / 4, abs=TOL
    )


def test_docstring_example_values():
    assert ndcg_at_k([[1, 2], [3, 4]], [2, 5], k=2) == pytest.approx(
        (1 / math.log2(3) + 0) / 2, abs=TOL
    )
    assert sampled_ndcg_at_k([0.9], [[0.5, 0.95]], k=2) == pytest.approx(1 / math.log2(3), abs=TOL)


def test_only_top_k_counts():
    # the target at column 3 is a miss at k=2 even though the array is wider
    for metric in SINGLE:
        assert metric([[1, 2, 3]], [3], k=2) == 0.0
    assert hit_rate_at_k([[1, 2, 3]], [3], k=3) == 1.0


def test_all_hits_and_all_misses():
    ranked = np.arange(12).reshape(4, 3)
    for metric in (hit_rate_at_k, ndcg_at_k, mrr_at_k, recall_at_k):
        assert metric(ranked, ranked[:, 0], k=3) == 1.0
        assert metric(ranked, np.full(4, 99), k=3) == 0.0


def test_returns_python_float():
    for metric in SINGLE:
        assert type(metric(RANKED, TARGETS, k=2)) is float
    assert type(coverage_at_k(RANKED, k=2, n_items=20)) is float
    assert type(sampled_hit_rate_at_k([1.0], [[0.0]], k=1)) is float
    assert type(sampled_ndcg_at_k([1.0], [[0.0]], k=1)) is float


def test_padding_zero_is_an_ordinary_id():
    # the estimators fill short top-k lists with code 0; the metrics compare ids as given,
    # so 0 entries simply never match a positive target
    ranked = np.array([[4, 0, 0], [2, 6, 0]])
    assert hit_rate_at_k(ranked, [6, 6], k=3) == pytest.approx((0 + 1) / 2, abs=TOL)
    assert ndcg_at_k(ranked, [6, 6], k=3) == pytest.approx((0 + 1 / math.log2(3)) / 2, abs=TOL)
    assert mrr_at_k(ranked, [-1, 4], k=3) == 0.0


def test_string_and_object_ids():
    ranked = np.array([["a", "b", "c"], ["d", "e", "f"]])
    assert hit_rate_at_k(ranked, ["c", "x"], k=3) == 0.5
    assert mrr_at_k(ranked, ["c", "e"], k=3) == pytest.approx((1 / 3 + 1 / 2) / 2, abs=TOL)
    obj = ranked.astype(object)
    assert ndcg_at_k(obj, np.array(["b", "d"], dtype=object), k=2) == pytest.approx(
        (1 / math.log2(3) + 1) / 2, abs=TOL
    )
    assert recall_at_k(obj, [["a", "z"], ["f"]], k=3) == pytest.approx((1 / 2 + 1) / 2, abs=TOL)


def test_inputs_as_lists_series_and_arrays_agree():
    expected = ndcg_at_k(RANKED, TARGETS, k=4)
    series = pd.Series(TARGETS, index=[10, 11, 12, 13])  # no label 0
    for targets in (TARGETS.tolist(), series, TARGETS.astype(np.int32)):
        assert ndcg_at_k(RANKED.tolist(), targets, k=4) == pytest.approx(expected, abs=TOL)
        assert recall_at_k(RANKED, targets, k=4) == hit_rate_at_k(RANKED, TARGETS, k=4)
        assert precision_at_k(RANKED, targets, k=4) == precision_at_k(RANKED, TARGETS, k=4)
    lists = pd.Series([[7], [3, 1], [], [5]], index=list("abcd"))
    assert recall_at_k(RANKED, lists, k=2) == pytest.approx((1 + 1 / 2 + 1) / 3, abs=TOL)


# --------------------------------------------------------------------------- several targets
MULTI_RANKED = np.array([[1, 2, 3, 4, 5], [6, 7, 8, 9, 10], [1, 2, 3, 4, 5]])
# user 0: relevant {2, 4, 99} -> hits at ranks 2 and 4; user 1: relevant {} (left out);
# user 2: relevant {1} -> hit at rank 1
MULTI_TARGETS = [[2, 4, 99], [], [1]]


def test_recall_several_targets_hand():
    assert recall_at_k(MULTI_RANKED, MULTI_TARGETS, k=5) == pytest.approx(
        (2 / 3 + 1 / 1) / 2, abs=TOL
    )
    assert recall_at_k(MULTI_RANKED, MULTI_TARGETS, k=3) == pytest.approx(
        (1 / 3 + 1 / 1) / 2, abs=TOL
    )


def test_precision_several_targets_hand():
    assert precision_at_k(MULTI_RANKED, MULTI_TARGETS, k=5) == pytest.approx(
        (2 / 5 + 1 / 5) / 2, abs=TOL
    )
    assert precision_at_k(MULTI_RANKED, MULTI_TARGETS, k=2) == pytest.approx(
        (1 / 2 + 1 / 2) / 2, abs=TOL
    )


def test_ndcg_several_targets_hand():
    d = [1 / math.log2(i + 2) for i in range(5)]  # discounts of ranks 1..5
    user0 = (d[1] + d[3]) / (d[0] + d[1] + d[2])  # 3 relevant, ideal fills ranks 1..3
    user2 = d[0] / d[0]
    assert ndcg_at_k(MULTI_RANKED, MULTI_TARGETS, k=5) == pytest.approx(
        (user0 + user2) / 2, abs=TOL
    )
    # k=2: ideal DCG of min(k, n_relevant) = 2 hits
    user0_k2 = d[1] / (d[0] + d[1])
    assert ndcg_at_k(MULTI_RANKED, MULTI_TARGETS, k=2) == pytest.approx((user0_k2 + 1) / 2, abs=TOL)


def test_repeated_relevant_items_count_once():
    ranked = [[1, 2, 3]]
    assert recall_at_k(ranked, [[2, 2, 9]], k=3) == pytest.approx(1 / 2, abs=TOL)
    assert ndcg_at_k(ranked, [np.array([2, 2])], k=3) == pytest.approx(
        (1 / math.log2(3)) / (1 / math.log2(2)), abs=TOL
    )


def test_repeated_ranked_items_count_once():
    # |top-k ∩ relevant| is a set intersection: a duplicated id is one hit, at its first rank
    ranked = [[2, 2, 3]]
    assert recall_at_k(ranked, [[2]], k=3) == 1.0
    assert recall_at_k(ranked, [2], k=3) == hit_rate_at_k(ranked, [2], k=3)
    assert precision_at_k(ranked, [[2]], k=3) == pytest.approx(1 / 3, abs=TOL)
    assert ndcg_at_k(ranked, [[2, 9]], k=3) == pytest.approx(
        (1 / math.log2(2)) / (1 / math.log2(2) + 1 / math.log2(3)), abs=TOL
    )
    assert ndcg_at_k(ranked, [[2]], k=3) == ndcg_at_k(ranked, [2], k=3) == 1.0


def test_two_dimensional_target_array_is_several_targets():
    targets = np.array([[2, 4], [6, 99], [0, 5]])
    assert recall_at_k(MULTI_RANKED, targets, k=5) == pytest.approx(
        (2 / 2 + 1 / 2 + 1 / 2) / 3, abs=TOL
    )
    assert ndcg_at_k(MULTI_RANKED, targets, k=5) == pytest.approx(
        ref_ndcg_multi(MULTI_RANKED.tolist(), targets.tolist(), 5), abs=TOL
    )
    object_targets = np.empty(3, dtype=object)
    object_targets[:] = [np.array([2, 4]), np.array([6, 99]), np.array([0, 5])]
    assert recall_at_k(MULTI_RANKED, object_targets, k=5) == recall_at_k(MULTI_RANKED, targets, k=5)


def test_singleton_lists_match_single_targets():
    lists = [[t] for t in TARGETS]
    assert ndcg_at_k(RANKED, lists, k=3) == pytest.approx(ndcg_at_k(RANKED, TARGETS, k=3))


# --------------------------------------------------------------------------- coverage
def test_coverage_hand():
    ranked = np.array([[1, 2, 3], [1, 4, 5]])
    assert coverage_at_k(ranked, k=2, n_items=10) == pytest.approx(3 / 10, abs=TOL)  # {1,2,4}
    assert coverage_at_k(ranked, k=3, n_items=10) == pytest.approx(5 / 10, abs=TOL)
    assert coverage_at_k(ranked, k=3, n_items=np.int64(5)) == 1.0
    assert coverage_at_k.needs_catalogue is True


# --------------------------------------------------------------------------- sampled
def test_sampled_hand():
    pos = [0.9, 0.5, 0.1, 0.4]
    neg = [
        [0.1, 0.2, 0.3],  # rank 1
        [0.6, 0.5, 0.0],  # 0.6 above, 0.5 ties (counts against) -> rank 3
        [0.2, 0.3, 0.4],  # rank 4
        [-np.inf, 0.4, np.inf],  # tie + inf above -> rank 3
    ]
    assert sampled_hit_rate_at_k(pos, neg, k=1) == pytest.approx(1 / 4, abs=TOL)
    assert sampled_hit_rate_at_k(pos, neg, k=3) == pytest.approx(3 / 4, abs=TOL)
    assert sampled_hit_rate_at_k(pos, neg, k=4) == 1.0
    assert sampled_ndcg_at_k(pos, neg, k=3) == pytest.approx(
        (1 / math.log2(2) + 1 / math.log2(4) + 0 + 1 / math.log2(4)) / 4, abs=TOL
    )
    # k beyond n_negatives + 1 is allowed: every positive is then within the cut-off
    assert sampled_hit_rate_at_k(pos, neg, k=100) == 1.0


def test_sampled_equals_full_metrics_on_the_sampled_candidates():
    # rank the positive (id 0) with its negatives (ids 1..n); ties -> negatives first
    rng = np.random.default_rng(3)
    pos = rng.integers(0, 5, 30).astype(float)
    neg = rng.integers(0, 5, (30, 6)).astype(float)
    scores = np.concatenate([neg, pos[:, None]], axis=1)
    ids = np.concatenate([np.arange(1, 7)[None].repeat(30, 0), np.zeros((30, 1), int)], axis=1)
    order = np.argsort(-scores, axis=1, kind="stable")
    ranked = np.take_along_axis(ids, order, axis=1)
    for k in (1, 3, 7):
        assert sampled_hit_rate_at_k(pos, neg, k=k) == pytest.approx(
            hit_rate_at_k(ranked, np.zeros(30, int), k=k), abs=TOL
        )
        assert sampled_ndcg_at_k(pos, neg, k=k) == pytest.approx(
            ndcg_at_k(ranked, np.zeros(30, int), k=k), abs=TOL
        )


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_sampled_against_reference(seed):
    rng = np.random.default_rng(seed)
    n_users, n_neg = 50, 100
    # coarse scores, so ties are common
    pos = rng.integers(0, 20, n_users) / 4
    neg = rng.integers(0, 20, (n_users, n_neg)) / 4
    for k in (1, 5, 10, 101):
        assert sampled_hit_rate_at_k(pos, neg, k=k) == pytest.approx(
            ref_sampled_hit_rate(pos.tolist(), neg.tolist(), k), abs=TOL
        )
        assert sampled_ndcg_at_k(pos, neg, k=k) == pytest.approx(
            ref_sampled_ndcg(pos.tolist(), neg.tolist(), k), abs=TOL
        )


# --------------------------------------------------------------------------- get_metric
def test_get_metric():
    assert METRICS == {
        "hit_rate": hit_rate_at_k,
        "ndcg": ndcg_at_k,
        "mrr": mrr_at_k,
        "recall": recall_at_k,
        "precision": precision_at_k,
    }
    for name, function in METRICS.items():
        assert get_metric(name) is function
    assert get_metric(ndcg_at_k) is ndcg_at_k

    def custom(ranked, targets, k=10):
        return 0.5

    assert get_metric(custom) is custom
    with pytest.raises(ValueError, match=r"Unknown metric 'hr'.*'hit_rate'.*'ndcg'"):
        get_metric("hr")
    with pytest.raises(ValueError, match="Unknown metric"):
        get_metric("NDCG")


# --------------------------------------------------------------------------- reference
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("duplicates", [False, True])
def test_against_reference_random(seed, duplicates):
    rng = np.random.default_rng(seed)
    n_users, width, n_items = 60, 12, 25
    ranked, targets, lists = _random_case(rng, n_users, width, n_items, duplicates)
    r, t, ls = ranked.tolist(), targets.tolist(), [x.tolist() for x in lists]
    for k in (1, 2, 5, width):
        assert hit_rate_at_k(ranked, targets, k=k) == pytest.approx(ref_hit_rate(r, t, k), abs=TOL)
        assert ndcg_at_k(ranked, targets, k=k) == pytest.approx(ref_ndcg(r, t, k), abs=TOL)
        assert mrr_at_k(ranked, targets, k=k) == pytest.approx(ref_mrr(r, t, k), abs=TOL)
        singles = [[x] for x in t]
        assert recall_at_k(ranked, targets, k=k) == pytest.approx(
            ref_recall(r, singles, k), abs=TOL
        )
        assert precision_at_k(ranked, targets, k=k) == pytest.approx(
            ref_precision(r, singles, k), abs=TOL
        )
        assert recall_at_k(ranked, lists, k=k) == pytest.approx(ref_recall(r, ls, k), abs=TOL)
        assert precision_at_k(ranked, lists, k=k) == pytest.approx(ref_precision(r, ls, k), abs=TOL)
        assert ndcg_at_k(ranked, lists, k=k) == pytest.approx(ref_ndcg_multi(r, ls, k), abs=TOL)
        assert coverage_at_k(ranked, k=k, n_items=n_items) == pytest.approx(
            ref_coverage(r, k, n_items), abs=TOL
        )
        assert rank_of_targets(ranked[:, :k], targets).tolist() == [
            ref_rank(row, x, k) for row, x in zip(r, t, strict=True)
        ]


def test_against_reference_string_ids():
    rng = np.random.default_rng(7)
    ranked, targets, lists = _random_case(rng, 30, 8, 15, duplicates=True)
    name = np.vectorize(lambda x: f"item{x}")
    s_ranked, s_targets = name(ranked), name(targets)
    s_lists = [[f"item{x}" for x in row] for row in lists]
    r = s_ranked.tolist()
    for k in (1, 4, 8):
        assert ndcg_at_k(s_ranked, s_targets, k=k) == pytest.approx(
            ref_ndcg(r, s_targets.tolist(), k), abs=TOL
        )
        assert recall_at_k(s_ranked, s_lists, k=k) == pytest.approx(
            ref_recall(r, s_lists, k), abs=TOL
        )
        assert ndcg_at_k(s_ranked, s_lists, k=k) == pytest.approx(
            ref_ndcg_multi(r, s_lists, k), abs=TOL
        )


@st.composite
def ranking_cases(draw):
    n_users = draw(st.integers(1, 6))
    width = draw(st.integers(1, 7))
    k = draw(st.integers(1, width))
    ids = st.integers(-1, 9)  # small id range: many hits, duplicates and -1 fillers
    ranked = draw(
        st.lists(st.lists(ids, min_size=width, max_size=width), min_size=n_users, max_size=n_users)
    )
    targets = draw(st.lists(ids, min_size=n_users, max_size=n_users))
    lists = draw(st.lists(st.lists(ids, max_size=4), min_size=n_users, max_size=n_users))
    return ranked, targets, lists, k


@settings(max_examples=150, deadline=None)
@given(ranking_cases())
def test_against_reference_property(case):
    ranked, targets, lists, k = case
    a = np.array(ranked)
    hr = hit_rate_at_k(a, targets, k=k)
    ndcg = ndcg_at_k(a, targets, k=k)
    mrr = mrr_at_k(a, targets, k=k)
    assert hr == pytest.approx(ref_hit_rate(ranked, targets, k), abs=TOL)
    assert ndcg == pytest.approx(ref_ndcg(ranked, targets, k), abs=TOL)
    assert mrr == pytest.approx(ref_mrr(ranked, targets, k), abs=TOL)
    assert 0.0 <= mrr <= ndcg <= hr <= 1.0  # 1/r <= 1/log2(r+1) <= 1 for r >= 1
    assert recall_at_k(a, targets, k=k) == pytest.approx(hr, abs=TOL)  # HR = Recall, 1 target
    if any(lists):
        recall = recall_at_k(a, lists, k=k)
        assert recall == pytest.approx(ref_recall(ranked, lists, k), abs=TOL)
        assert 0.0 <= recall <= 1.0
        assert precision_at_k(a, lists, k=k) == pytest.approx(
            ref_precision(ranked, lists, k), abs=TOL
        )
        multi_ndcg = ndcg_at_k(a, lists, k=k)
        assert multi_ndcg == pytest.approx(ref_ndcg_multi(ranked, lists, k), abs=TOL)
        assert 0.0 <= multi_ndcg <= 1.0 + TOL
    assert coverage_at_k(a, k=k, n_items=11) == pytest.approx(ref_coverage(ranked, k, 11), abs=TOL)
    if k > 1:  # metrics never decrease with k
        assert hit_rate_at_k(a, targets, k=k - 1) <= hr
        assert mrr_at_k(a, targets, k=k - 1) <= mrr


@settings(max_examples=100, deadline=None)
@given(
    st.integers(1, 5).flatmap(
        lambda n: st.tuples(
            st.lists(st.integers(-3, 3).map(float), min_size=n, max_size=n),
            st.integers(0, 6).flatmap(
                lambda m: st.lists(
                    st.lists(st.integers(-3, 3).map(float), min_size=m, max_size=m),
                    min_size=n,
                    max_size=n,
                )
            ),
        )
    ),
    st.integers(1, 8),
)
def test_sampled_against_reference_property(scores, k):
    pos, neg = scores
    neg_array = np.array(neg, dtype=float).reshape(len(pos), -1)
    assert sampled_hit_rate_at_k(pos, neg_array, k=k) == pytest.approx(
        ref_sampled_hit_rate(pos, neg, k), abs=TOL
    )
    assert sampled_ndcg_at_k(pos, neg_array, k=k) == pytest.approx(
        ref_sampled_ndcg(pos, neg, k), abs=TOL
    )


# --------------------------------------------------------------------------- errors
@pytest.mark.parametrize("k", [0, -1, 2.0, True, "3", None])
def test_bad_k(k):
    for metric in SINGLE:
        with pytest.raises(ValueError, match="k must be a positive int"):
            metric(RANKED, TARGETS, k=k)
    with pytest.raises(ValueError, match="k must be a positive int"):
        recall_at_k(RANKED, [[1]] * 4, k=k)
    with pytest.raises(ValueError, match="k must be a positive int"):
        coverage_at_k(RANKED, k=k, n_items=10)
    for metric in (sampled_hit_rate_at_k, sampled_ndcg_at_k):
        with pytest.raises(ValueError, match="k must be a positive int"):
            metric([1.0], [[0.0]], k=k)


def test_numpy_integer_k_is_accepted():
    assert hit_rate_at_k(RANKED, TARGETS, k=np.int64(3)) == hit_rate_at_k(RANKED, TARGETS, k=3)


def test_k_larger_than_width():
    for metric in SINGLE:
        with pytest.raises(ValueError, match=r"ranked has 4 columns but k=5"):
            metric(RANKED, TARGETS, k=5)
    with pytest.raises(ValueError, match=r"ranked has 4 columns but k=5"):
        ndcg_at_k(RANKED, [[1]] * 4, k=5)
    with pytest.raises(ValueError, match=r"ranked has 4 columns but k=5"):
        coverage_at_k(RANKED, k=5, n_items=10)


@pytest.mark.parametrize("ranked", [[1, 2, 3], np.zeros((2, 2, 2), int), 5])
def test_ranked_not_two_dimensional(ranked):
    for metric in SINGLE:
        with pytest.raises(ValueError, match="ranked must be a 2-D array"):
            metric(ranked, [1], k=1)
    with pytest.raises(ValueError, match="ranked must be a 2-D array"):
        coverage_at_k(ranked, k=1, n_items=3)
    with pytest.raises(ValueError, match="ranked must be a 2-D array"):
        rank_of_targets(ranked, [1])


def test_empty_input():
    for metric in SINGLE:
        with pytest.raises(ValueError, match="no rows"):
            metric(np.empty((0, 10), dtype=int), np.empty(0, dtype=int), k=10)
        with pytest.raises(ValueError, match="2-D"):
            metric([], [], k=1)
    with pytest.raises(ValueError, match="no rows"):
        coverage_at_k(np.empty((0, 3), int), k=3, n_items=5)
    for metric in (sampled_hit_rate_at_k, sampled_ndcg_at_k):
        with pytest.raises(ValueError, match="0 users"):
            metric(np.empty(0), np.empty((0, 100)), k=10)


def test_targets_length_mismatch():
    for metric in (hit_rate_at_k, ndcg_at_k, mrr_at_k):
        with pytest.raises(ValueError, match=r"one item per row of ranked \(4\).*\(3,\)"):
            metric(RANKED, TARGETS[:3], k=2)
    with pytest.raises(ValueError, match=r"one item per row of ranked \(4\).*\(4, 1\)"):
        hit_rate_at_k(RANKED, TARGETS[:, None], k=2)
    for metric in (recall_at_k, precision_at_k):
        with pytest.raises(ValueError, match="targets has 3 entries but ranked has 4 rows"):
            metric(RANKED, TARGETS[:3], k=2)
    with pytest.raises(ValueError, match="targets has 2 entries but ranked has 4 rows"):
        ndcg_at_k(RANKED, [[1], [2]], k=2)
    with pytest.raises(ValueError, match="one item per row"):
        rank_of_targets(RANKED, [1, 2])


def test_no_relevant_items():
    for metric in (recall_at_k, precision_at_k, ndcg_at_k):
        with pytest.raises(ValueError, match="No user has a relevant item"):
            metric(RANKED, [[], [], [], []], k=2)


def test_numbers_against_strings():
    # 3 == "3" is False for numpy, but a joint encoding would cast them alike
    for metric in SINGLE:
        with pytest.raises(TypeError, match=r"int64 ids but targets hold <U1 ids"):
            metric(RANKED, np.array(["7", "3", "2", "1"]), k=2)
    with pytest.raises(TypeError, match="same kind"):
        recall_at_k(RANKED, [["7"], [], ["2"], []], k=2)
    with pytest.raises(TypeError, match="same kind"):
        ndcg_at_k(np.array([["a", "b"]]), [1], k=2)


@pytest.mark.parametrize("n_items", [None, 0, -3, 2.5, True])
def test_coverage_bad_catalogue(n_items):
    with pytest.raises(ValueError, match="n_items .the catalogue size. must be a positive int"):
        coverage_at_k(RANKED, k=2, n_items=n_items)


def test_sampled_errors():
    for metric in (sampled_hit_rate_at_k, sampled_ndcg_at_k):
        with pytest.raises(ValueError, match=r"got \(2,\) and \(3, 4\)"):
            metric([1.0, 2.0], np.zeros((3, 4)), k=1)
        with pytest.raises(ValueError, match=r"negative_scores \(n_users, n_negatives\)"):
            metric([1.0], [0.0, 0.5], k=1)
        with pytest.raises(ValueError, match="NaN"):
            metric([np.nan], [[0.0, 1.0]], k=1)
        with pytest.raises(ValueError, match="NaN"):
            metric([0.5], [[np.nan, 1.0]], k=1)
        with pytest.raises(ValueError, match="could not convert string to float"):
            metric(["high"], [[0.0]], k=1)
