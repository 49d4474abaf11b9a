"""User and item vectors of the torch estimators: encode, score_pairs, item_embeddings_,
transform and recommend_similar agree with each other and with ranking."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.exceptions import NotFittedError

from skseqrec import (
    BERT4RecEstimator,
    HSTUEstimator,
    SASRecClassifierEstimator,
    SASRecRegressorEstimator,
)
from skseqrec.datasets import make_sequential_world
from skseqrec.estimators import _base as base
from skseqrec.exceptions import DataDropWarning

HIDDEN = 16
# max_len below the longest history: windows are cut, as in real use
TINY = dict(hidden_units=HIDDEN, max_len=12, epochs=2, batch_size=16)


def _world(id_type="int"):
    return make_sequential_world(
        n_users=40, n_items=30, min_length=2, max_length=20, random_state=0, id_type=id_type
    )


@pytest.fixture(scope="module")
def X():
    return _world()


@pytest.fixture(scope="module")
def models(X):
    y = np.random.default_rng(0).integers(1, 6, len(X)).astype(float)
    return {
        "dot": SASRecClassifierEstimator(**TINY).fit(X),
        "cosine": HSTUEstimator(**TINY, num_negatives=8).fit(X),
        "bert4rec": BERT4RecEstimator(**TINY).fit(X),
        "regressor": SASRecRegressorEstimator(**TINY).fit(X, y),
    }


RANKERS = ["dot", "cosine", "bert4rec"]


def _normalise(vectors):
    return vectors / np.linalg.norm(vectors, axis=-1, keepdims=True)


def _numpy_scores(model, user_vectors, item_vectors):
    """What score_all computes, from the public vectors."""
    if model.similarity == "cosine":
        user_vectors, item_vectors = _normalise(user_vectors), _normalise(item_vectors)
    return user_vectors @ item_vectors.T


def _assert_ranked_like(found_codes, found_scores, scores):
    """``found_*`` are the best items of each row of ``scores`` (n, n_items), best first;
    items may swap only inside near-ties (float32 rounding of other matrix shapes)."""
    k = found_codes.shape[1]
    # barely trained models score on a small scale: tolerances relative to it
    tol = 1e-5 * np.abs(scores[np.isfinite(scores)]).max()
    order = np.argsort(-scores, axis=1, kind="stable")
    expected = np.take_along_axis(scores, order[:, :k], 1)
    np.testing.assert_allclose(found_scores, expected, rtol=1e-5, atol=tol)
    np.testing.assert_allclose(
        np.take_along_axis(scores, found_codes - 1, 1), expected, rtol=1e-5, atol=tol
    )
    ranked = np.take_along_axis(scores, order, 1)
    gap = -np.diff(ranked, axis=1)
    clear = np.ones(ranked.shape, dtype=bool)
    clear[:, :-1] &= gap > 10 * tol
    clear[:, 1:] &= gap > 10 * tol
    clear = clear[:, :k]
    assert clear.mean() > 0.9  # the comparison below is not vacuous
    np.testing.assert_array_equal(found_codes[clear], order[:, :k][clear] + 1)


# ------------------------------------------------------------------ item_embeddings_
@pytest.mark.parametrize("name", [*RANKERS, "regressor"])
def test_item_embeddings_are_the_scoring_table_aligned_with_classes(models, name):
    model = models[name]
    vectors = model.item_embeddings_
    assert vectors.shape == (model.n_items_, HIDDEN) and vectors.dtype == np.float32
    # row j is the vector of item classes_[j] (code j + 1); BERT4Rec's [MASK] is not an item
    codes = model.item_encoder_.encode(model.classes_)
    table = model.module_.output_weight.detach().numpy()
    np.testing.assert_array_equal(vectors, table[codes])
    vectors[:] = 0.0  # a copy: the model keeps its weights
    assert np.abs(model.item_embeddings_).sum() > 0


# ------------------------------------------------ encode, score_pairs and ranking agree
@pytest.mark.parametrize("name", RANKERS)
def test_recommend_ranks_by_encode_and_item_embeddings(models, X, name):
    model = models[name]
    _, users, sequences = model.encode_history(X)
    user_vectors = model.encode(sequences)
    assert user_vectors.shape == (len(sequences), HIDDEN) and user_vectors.dtype == np.float32
    scores = _numpy_scores(model, user_vectors, model.item_embeddings_)
    every_item = np.arange(1, model.n_items_ + 1)
    np.testing.assert_allclose(
        model.score_pairs(sequences, every_item), scores, rtol=1e-4, atol=1e-5
    )

    k = 5
    recs = model.recommend(X, top_k=k, exclude_seen=False)
    assert len(recs) == k * len(sequences)  # sorted by user then rank
    found = model.item_encoder_.encode(recs["item_id"].to_numpy()).reshape(-1, k)
    _assert_ranked_like(found, recs["score"].to_numpy().reshape(-1, k), scores)


@pytest.mark.parametrize("name", [*RANKERS, "regressor"])
def test_score_pairs_equals_the_columns_of_the_full_scores(models, X, name):
    model = models[name]
    _, users, sequences = model.encode_history(X)
    # one more user without history: scored by the fallback, in rank as in score_pairs
    sequences = sequences.select_users(np.arange(1, len(users) + 2))
    n = model.n_items_
    codes, values = model.rank(sequences, n, exclude_seen=False)
    full = np.empty((len(sequences), n), dtype=np.float32)
    np.put_along_axis(full, codes - 1, values, 1)

    candidates = np.random.default_rng(0).integers(0, n + 1, (len(sequences), 7))
    candidates[:, 0] = 0  # code 0 in every row
    pairs = model.score_pairs(sequences, candidates)
    assert pairs.shape == candidates.shape and pairs.dtype == np.float32
    known = candidates > 0
    expected = np.take_along_axis(full, np.maximum(candidates - 1, 0), 1)
    np.testing.assert_allclose(pairs[known], expected[known], rtol=1e-5, atol=1e-5)
    assert np.isneginf(pairs[~known]).all()
    # the empty history gets exactly the popularity scores rank gives it
    np.testing.assert_array_equal(pairs[-1][known[-1]], expected[-1][known[-1]])
    # the same items for every row (a 1-D array) give the same scores
    shared = model.score_pairs(sequences, candidates[3])
    np.testing.assert_allclose(shared[3], pairs[3], rtol=1e-5, atol=1e-6)


def test_score_pairs_rejects_bad_codes(models, X):
    model = models["dot"]
    _, _, sequences = model.encode_history(X)
    with pytest.raises(ValueError, match=r"0\.\.n_items_=30; 1 of 1 are not \(e\.g\. 31\)"):
        model.score_pairs(sequences, [31])
    with pytest.raises(ValueError, match=r"shape \(len\(sequences\), k\)"):
        model.score_pairs(sequences, np.ones((3, 2), dtype=np.int64))
    with pytest.raises(TypeError, match="integer item codes"):
        model.score_pairs(sequences, [1.5])


def test_bert4rec_encodes_a_mask_after_the_history(models, X):
    model = models["bert4rec"]
    _, _, sequences = model.encode_history(X)
    windows = sequences.padded(model.max_len - 1)  # the window leaves room for [MASK]
    assert windows.shape[1] == model.max_len - 1
    mask = np.full((len(windows), 1), model.n_items_ + 1)
    # gap_conditioning: each position's gap since the previous event (none after
    # padding); the [MASK]'s is the request's, unknown here
    times = sequences.padded(model.max_len - 1, values=sequences.times).astype(np.float64)
    gaps = np.full((len(windows), windows.shape[1] + 1), np.nan)
    gaps[:, 1:-1] = np.where(windows[:, :-1] > 0, np.diff(times, axis=1), np.nan)
    with torch.no_grad():
        direct = model.module_.encode_last(
            torch.as_tensor(np.hstack([windows, mask])), None, torch.as_tensor(gaps)
        )
    np.testing.assert_allclose(model.encode(sequences), direct.numpy(), rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("name", ["cosine", "bert4rec"])  # BERT4Rec: [MASK] alone
def test_encode_chunks_and_empty_histories(models, X, monkeypatch, name):
    model = models[name]
    _, users, sequences = model.encode_history(X)
    sequences = sequences.select_users(np.arange(0, len(users) + 1))  # code 0: empty
    whole = model.encode(sequences)
    assert not whole[0].any() and np.abs(whole[1:]).sum(axis=1).min() > 0
    monkeypatch.setattr(base, "SCORING_CHUNK_BYTES", 4 * model.n_items_ * 3)
    assert model._chunk_size() == 3
    np.testing.assert_allclose(model.encode(sequences), whole, rtol=1e-5, atol=1e-6)


# ---------------------------------------------------------------------- transform
@pytest.mark.parametrize("id_type", ["int", "str"])
def test_transform_gives_one_row_per_user(id_type):
    X = _world(id_type)
    model = SASRecClassifierEstimator(**{**TINY, "epochs": 1}).fit(X)
    out = model.transform(X)
    names = model.get_feature_names_out()
    assert isinstance(names, np.ndarray) and names.tolist() == [
        f"embedding_{i}" for i in range(HIDDEN)
    ]
    assert out.columns.tolist() == names.tolist()
    assert (out.dtypes == np.float32).all()
    assert out.index.name == "user_id" and out.index.dtype == X["user_id"].dtype
    assert out.index.tolist() == sorted(X["user_id"].unique())
    _, _, sequences = model.encode_history(X)
    np.testing.assert_array_equal(out.to_numpy(), model.encode(sequences))


def test_transform_ignores_unknown_items(models, X):
    model = models["dot"]
    extra = pd.DataFrame({"user_id": [0, 1000], "item_id": [-5, -5], "timestamp": [10_000, 10_000]})
    with pytest.warns(DataDropWarning) as record:
        out = model.transform(pd.concat([X, extra], ignore_index=True))
    messages = [str(w.message) for w in record]
    assert f"2 of {len(X) + 2} rows of X have items unknown" in messages[0]
    assert "1 of 41 users of X have no item known to the model" in messages[1]
    # the unknown row is left out of user 0's history; user 1000 gets a zero vector
    pd.testing.assert_frame_equal(out.iloc[:-1], model.transform(X))
    assert out.index[-1] == 1000 and not out.iloc[-1].any()


def test_a_pickled_model_transforms_the_same(models, X):
    model = models["cosine"]
    restored = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(restored.transform(X), model.transform(X))
    np.testing.assert_array_equal(restored.item_embeddings_, model.item_embeddings_)


# --------------------------------------------------------------- recommend_similar
@pytest.mark.parametrize(
    ("name", "similarity"),
    [("dot", None), ("dot", "cosine"), ("cosine", None), ("cosine", "dot"), ("bert4rec", None)],
)
def test_recommend_similar_ranks_by_the_stated_similarity(models, name, similarity):
    model = models[name]
    k = 4
    queries = model.classes_[[5, 0, 17, 5]]  # unsorted, one duplicate
    similar = model.recommend_similar(queries, top_k=k, similarity=similarity)
    assert similar.columns.tolist() == ["target_item_id", "item_id", "score", "rank"]
    targets = np.sort(model.classes_[[0, 5, 17]])
    assert similar["target_item_id"].tolist() == np.repeat(targets, k).tolist()
    assert similar["rank"].tolist() == [1, 2, 3, 4] * 3
    assert (similar["target_item_id"] != similar["item_id"]).all()
    assert similar["item_id"].dtype == similar["target_item_id"].dtype == model.classes_.dtype

    vectors = model.item_embeddings_
    if (similarity or model.similarity) == "cosine":
        vectors = _normalise(vectors)
    query_codes = model.item_encoder_.encode(targets)
    scores = vectors[query_codes - 1] @ vectors.T
    scores[np.arange(len(query_codes)), query_codes - 1] = -np.inf  # never the query
    found = model.item_encoder_.encode(similar["item_id"].to_numpy()).reshape(-1, k)
    _assert_ranked_like(found, similar["score"].to_numpy().reshape(-1, k), scores)


def test_recommend_similar_forced_similarities_differ(models):
    model = models["dot"]
    query = model.classes_[0]
    dot = model.recommend_similar(query, top_k=5, similarity="dot")
    cosine = model.recommend_similar(query, top_k=5, similarity="cosine")
    assert cosine["score"].max() <= 1.0 + 1e-6
    assert not np.allclose(dot["score"], cosine["score"])


def test_recommend_similar_takes_a_single_id_and_chunks(models, monkeypatch):
    model = models["cosine"]
    query = model.classes_[3]
    single = model.recommend_similar(query, top_k=3)
    pd.testing.assert_frame_equal(single, model.recommend_similar([query], top_k=3))
    every = model.recommend_similar(model.classes_, top_k=3)
    assert len(every) == 3 * model.n_items_
    monkeypatch.setattr(base, "SCORING_CHUNK_BYTES", 4 * model.n_items_ * 2)
    assert model._chunk_size() == 2
    chunked = model.recommend_similar(model.classes_, top_k=3)
    pd.testing.assert_frame_equal(chunked.drop(columns="score"), every.drop(columns="score"))
    np.testing.assert_allclose(chunked["score"], every["score"], rtol=1e-6)


def test_recommend_similar_caps_top_k_at_the_other_items(models):
    model = models["dot"]
    similar = model.recommend_similar(model.classes_[0], top_k=1000)
    assert len(similar) == model.n_items_ - 1
    assert similar["item_id"].nunique() == model.n_items_ - 1


def test_recommend_similar_warns_about_unknown_ids_and_refuses_bad_input(models):
    model = models["dot"]
    known = model.classes_[2]
    with pytest.warns(DataDropWarning, match=r"1 of 2 ids in `items` are unknown"):
        similar = model.recommend_similar([known, -7], top_k=2)
    assert similar["target_item_id"].tolist() == [known, known]
    with pytest.raises(ValueError, match=r"None of the 2 ids .* \(e\.g\. -7\)"):
        model.recommend_similar([-7, -8])
    with pytest.raises(ValueError, match="similarity must be 'cosine', 'dot' or None"):
        model.recommend_similar(known, similarity="euclidean")
    with pytest.raises(ValueError, match="top_k must be a positive int"):
        model.recommend_similar(known, top_k=0)


# ------------------------------------------------------------------------ not fitted
def test_every_addition_needs_a_fitted_model(models, X):
    sequences = models["dot"].encode_history(X)[2]
    model = SASRecClassifierEstimator(**TINY)
    with pytest.raises(NotFittedError):
        model.item_embeddings_  # noqa: B018
    for call in (
        lambda: model.encode(sequences),
        lambda: model.score_pairs(sequences, [1]),
        lambda: model.transform(X),
        lambda: model.get_feature_names_out(),
        lambda: model.recommend_similar([1]),
    ):
        with pytest.raises(NotFittedError):
            call()
    assert not hasattr(model, "item_embeddings_")
