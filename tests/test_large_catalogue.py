"""Ranking a catalogue in blocks of items is exact; the data layer's int32 positions.

Large catalogues are ranked a block of items at a time (``BaseRecommender.rank``): seen
items are written as -inf into each block (:func:`skseqrec.nn.mask_scores` with
``start``) and each block is merged into a running top-k (:func:`skseqrec.nn.topk_items`
with ``previous``). These tests shrink the blocks to a few items so that small data takes
every path (first block, skipped blocks, candidate groups, ragged last groups).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch

import skseqrec.estimators._base as base
from skseqrec import (
    ESASRecEstimator,
    HSTUEstimator,
    PopularityRecommender,
    SASRecRegressorEstimator,
    SequentialTransformerEstimator,
)
from skseqrec.data import IdEncoder, build_sequences, pad_windows
from skseqrec.datasets import make_sequential_world
from skseqrec.nn import mask_scores, topk_items


def brute_force_topk(scores, exclude, k, allowed=None):
    """Top-k per row with numpy: excluded (and not allowed) items at -inf, ties to the
    lower code, code 0 where only -inf is left."""
    scores = scores.astype(np.float64).copy()
    n_rows, n_items = scores.shape
    for row in range(n_rows):
        codes = exclude[row][exclude[row] > 0]
        scores[row, codes - 1] = -np.inf
    if allowed is not None:
        scores[:, ~allowed] = -np.inf
    codes = np.arange(1, n_items + 1)
    values = np.zeros((n_rows, k))
    found = np.zeros((n_rows, k), dtype=np.int64)
    for row in range(n_rows):
        order = np.lexsort((codes, -scores[row]))[:k]
        values[row] = scores[row, order]
        found[row] = np.where(np.isinf(values[row]), 0, codes[order])
    return values, found


def blockwise_topk(scores, exclude, k, block, allowed=None, device="cpu"):
    scores = torch.as_tensor(scores, device=device)
    exclude = torch.as_tensor(exclude, device=device)
    allowed = None if allowed is None else torch.as_tensor(allowed, device=device)
    n_rows, n_items = scores.shape
    best = (
        torch.full((n_rows, k), -torch.inf, device=device),
        torch.zeros((n_rows, k), dtype=torch.long, device=device),
    )
    for start in range(0, n_items, block):
        chunk = scores[:, start : start + block].clone()
        chunk_allowed = None if allowed is None else allowed[start : start + block]
        mask_scores(chunk, exclude, chunk_allowed, start=start)
        best = topk_items(chunk, k, start=start, previous=best)
    values, codes = best
    return values.cpu().numpy(), torch.where(torch.isinf(values), 0, codes).cpu().numpy()


def random_case(seed, n_rows, n_items, history):
    rng = np.random.default_rng(seed)
    scores = rng.standard_normal((n_rows, n_items)).astype(np.float32)
    # codes 0 (padding), 1 and the last item, repeats, and random ones
    exclude = rng.integers(0, n_items + 1, (n_rows, history))
    exclude[0, :3] = [1, 0, 1]
    exclude[-1, :2] = [n_items, n_items]
    return rng, scores, exclude


@pytest.mark.parametrize("block", [1, 7, 128, 300, 1024])
@pytest.mark.parametrize("k", [1, 10])
@pytest.mark.parametrize("seed", [0, 1])
def test_topk_over_blocks_equals_brute_force(block, k, seed):
    rng, scores, exclude = random_case(seed, n_rows=9, n_items=3000, history=40)
    scores[1] = np.sort(scores[1])  # increasing: every block beats the previous ones
    scores[2, :] = -np.inf  # nothing admissible at all
    expected = brute_force_topk(scores, exclude, k)
    values, codes = blockwise_topk(scores, exclude, k, block)
    np.testing.assert_array_equal(codes, expected[1])
    np.testing.assert_array_equal(values, expected[0].astype(np.float32))
    # the whole catalogue as one block gives the same
    whole = blockwise_topk(scores, exclude, k, block=scores.shape[1])
    np.testing.assert_array_equal(whole[1], codes)


@pytest.mark.parametrize("block", [5, 256])
def test_topk_over_blocks_with_allowed_items_and_short_lists(block):
    rng, scores, exclude = random_case(2, n_rows=6, n_items=700, history=20)
    allowed = np.zeros(700, dtype=bool)
    allowed[rng.choice(700, size=8, replace=False)] = True
    expected = brute_force_topk(scores, exclude, 10, allowed)
    values, codes = blockwise_topk(scores, exclude, 10, block, allowed)
    assert (codes == 0).any()  # fewer admissible items than k: empty slots stay 0
    np.testing.assert_array_equal(codes, expected[1])
    np.testing.assert_array_equal(values, expected[0].astype(np.float32))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("block", [7, 1024])
def test_topk_over_blocks_on_cuda_equals_brute_force(block):
    # an accelerator merges every row of every block (no filter: no synchronisation)
    rng, scores, exclude = random_case(3, n_rows=9, n_items=3000, history=40)
    allowed = rng.random(3000) < 0.5
    expected = brute_force_topk(scores, exclude, 10, allowed)
    values, codes = blockwise_topk(scores, exclude, 10, block, allowed, device="cuda")
    np.testing.assert_array_equal(codes, expected[1])
    np.testing.assert_array_equal(values, expected[0].astype(np.float32))


def test_ties_between_blocks_keep_the_earlier_item():
    scores = torch.tensor([[5.0, 4.0, 3.0, 5.0, 4.0, 3.0]])
    best = (torch.full((1, 3), -torch.inf), torch.zeros((1, 3), dtype=torch.long))
    for start in (0, 3):
        best = topk_items(scores[:, start : start + 3], 3, start=start, previous=best)
    assert best[0].tolist() == [[5.0, 5.0, 4.0]]
    assert best[1].tolist() == [[1, 4, 2]]


def test_mask_scores_writes_only_inside_its_block():
    exclude = torch.tensor([[3, 4, 0, 4], [6, 1, 1, 0]])
    block = mask_scores(torch.ones(2, 3), exclude, start=3)  # codes 4, 5, 6
    assert block.tolist() == [[-np.inf, 1.0, 1.0], [1.0, 1.0, -np.inf]]
    allowed = torch.tensor([True, False, True])
    block = mask_scores(torch.ones(2, 3), exclude, allowed, start=0)  # codes 1, 2, 3
    assert block.tolist() == [[1.0, -np.inf, -np.inf], [-np.inf, -np.inf, 1.0]]


# ------------------------------------------------------------------- estimators
ESTIMATORS = {
    "esasrec": lambda: ESASRecEstimator(hidden_units=8, num_negatives=8, epochs=1),
    "cosine": lambda: SequentialTransformerEstimator(hidden_units=8, epochs=1),
    "hstu": lambda: HSTUEstimator(hidden_units=8, epochs=1),  # reads times
    "regressor": lambda: SASRecRegressorEstimator(hidden_units=8, epochs=1),  # item biases
}


@pytest.fixture(scope="module")
def world():
    X = make_sequential_world(n_users=200, n_items=3000, random_state=0)
    y = np.random.default_rng(0).integers(1, 6, len(X)).astype(float)
    return X, y


@pytest.mark.parametrize("name", sorted(ESTIMATORS))
@pytest.mark.parametrize("block", [37, 256, 640])
def test_recommend_in_item_blocks_equals_whole_rows(world, name, block, monkeypatch):
    X, y = world
    model = ESTIMATORS[name]().set_params(random_state=0, device="cpu")
    model.fit(X, y if name == "regressor" else None)
    assert model.n_items_ > 2000
    assert model._ranking_chunks() == (model._chunk_size(), model.n_items_)
    new_user = X["user_id"].max() + 1
    users = [*X["user_id"].unique()[:150], new_user]  # and one without history
    some_items = model.classes_[::7]
    calls = [
        dict(top_k=10, users=users),
        dict(top_k=10, exclude_seen=False),
        dict(top_k=5, items=some_items),
    ]
    with pytest.warns(match="no history"):
        expected = [model.recommend(X, **kwargs) for kwargs in calls[:1]]
    expected += [model.recommend(X, **kwargs) for kwargs in calls[1:]]
    # 150 windows (more than the 64 a CPU encodes at once) x ``block`` items at a time
    monkeypatch.setattr(base, "_CPU_RANKING_ROWS", 150)
    monkeypatch.setattr(base, "_CPU_RANKING_BLOCK_BYTES", 4 * 150 * block)
    assert model._ranking_chunks() == (150, block)
    with pytest.warns(match="no history"):
        got = [model.recommend(X, **kwargs) for kwargs in calls[:1]]
    got += [model.recommend(X, **kwargs) for kwargs in calls[1:]]
    for blocked, whole in zip(got, expected):
        pd.testing.assert_frame_equal(blocked.drop(columns="score"), whole.drop(columns="score"))
        np.testing.assert_allclose(blocked["score"], whole["score"], rtol=1e-5, atol=1e-6)


def test_models_without_item_blocks_rank_whole_rows(world, monkeypatch):
    X, _ = world
    model = PopularityRecommender().fit(X)
    monkeypatch.setattr(base, "_CPU_RANKING_BLOCK_BYTES", 64)
    assert model._ranking_chunks() == (model._chunk_size(), model.n_items_)


# ------------------------------------------------------------------- data layer
def test_pad_windows_int32_positions_give_the_int64_answer():
    rng = np.random.default_rng(0)
    values = rng.integers(0, 10**12, 5000)  # int64 values: the output keeps their dtype
    ends = np.sort(rng.integers(0, 5001, 300))
    starts = np.maximum(ends - rng.integers(0, 40, 300), 0)
    out = pad_windows(values, starts, ends, 25)
    assert out.dtype == np.int64
    for row, (start, end) in enumerate(zip(starts, ends)):
        kept = values[max(start, end - 25) : end]
        assert out[row, out.shape[1] - len(kept) :].tolist() == kept.tolist()
        assert not out[row, : out.shape[1] - len(kept)].any()


def test_selection_positions_and_codes_keep_their_dtypes():
    encoder = IdEncoder.from_values(np.array([30, 10, 20], dtype=np.int32))
    codes = encoder.encode(np.array([10, 99, 30], dtype=np.int32))
    assert codes.dtype == np.int64 and codes.tolist() == [1, 0, 3]
    sequences = build_sequences(np.array([2, 1, 2, 1]), np.array([5, 6, 7, 8]), np.arange(4))
    picked = sequences.select([1, 0])
    assert picked.items.tolist() == [5, 7, 6, 8] and picked.rows.tolist() == [0, 2, 1, 3]
    for array in (picked.users, picked.offsets, picked.items, picked.rows):
        assert array.dtype == np.int64
    assert sequences.drop_last().items.tolist() == [6, 5]


def test_int32_ids_round_trip(world):
    X, _ = world
    narrow = X.astype({"user_id": np.int32, "item_id": np.int32})
    model = PopularityRecommender().fit(narrow)
    recs = model.recommend(narrow, top_k=3)
    assert recs["user_id"].dtype == np.int32 and recs["item_id"].dtype == np.int32
    wide = PopularityRecommender().fit(X).recommend(X, top_k=3)
    np.testing.assert_array_equal(recs["item_id"].to_numpy(), wide["item_id"].to_numpy())
    np.testing.assert_array_equal(recs["user_id"].to_numpy(), wide["user_id"].to_numpy())
