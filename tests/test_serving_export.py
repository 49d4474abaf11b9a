"""skseqrec.serving: exported vectors reproduce recommend's ranking through a plain inner
product (brute force here, faiss when installed), ids aligned, seen items dropped."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.pipeline import make_pipeline

from skseqrec import (
    BERT4RecEstimator,
    ESASRecEstimator,
    GSASRecEstimator,
    HSTUEstimator,
    PopularityRecommender,
    SASRecClassifierEstimator,
    SASRecRegressorEstimator,
    SequentialTransformerEstimator,
)
from skseqrec.datasets import make_sequential_world
from skseqrec.exceptions import DataDropWarning
from skseqrec.preprocessing import InteractionFilter
from skseqrec.serving import ServingVectors, export_vectors

K = 5
TINY = dict(hidden_units=8, num_heads=1, max_len=10, epochs=2, batch_size=16, random_state=0)
MODELS = {
    "sasrec": lambda: SASRecClassifierEstimator(**TINY),
    "esasrec": lambda: ESASRecEstimator(**TINY, num_negatives=8),
    "gsasrec": lambda: GSASRecEstimator(**TINY, num_negatives=8),
    "bert4rec": lambda: BERT4RecEstimator(**TINY),
    "hstu": lambda: HSTUEstimator(**TINY, num_negatives=8),  # cosine, reads times
    "sequential_transformer": lambda: SequentialTransformerEstimator(**TINY),  # cosine
    "regressor": lambda: SASRecRegressorEstimator(**TINY),  # mean + <h, e> + b
    "cosine_regressor": lambda: SASRecRegressorEstimator(**TINY, similarity="cosine"),
}
NEW_USER, COLD_USER = 1000, 1001  # unseen in fit; the second has only unknown items


@pytest.fixture(scope="module")
def X():
    return make_sequential_world(n_users=30, n_items=40, max_length=20, random_state=0)


@pytest.fixture(scope="module")
def X_serve(X):
    """The training users, a new user with a repeated item, a user with only unknown items."""
    extra = pd.DataFrame(
        {
            "user_id": [NEW_USER] * 3 + [COLD_USER] * 2,
            "item_id": [3, 5, 3, 999, 998],
            "timestamp": [100, 101, 102, 100, 101],
        }
    )
    return pd.concat([X, extra], ignore_index=True)


@pytest.fixture(scope="module", params=sorted(MODELS))
def fitted(request, X):
    est = MODELS[request.param]()
    if isinstance(est, SASRecRegressorEstimator):
        return est.fit(X, np.random.default_rng(0).integers(1, 6, len(X)).astype(float))
    return est.fit(X)


def _export_and_recommend(est, X_serve):
    with pytest.warns(DataDropWarning):  # COLD_USER's items are unknown
        vectors = export_vectors(est, X_serve)
    with pytest.warns(DataDropWarning):
        served = est.recommend(X_serve, top_k=K)
    return vectors, served


def _as_matrix(served, vectors):
    """recommend's frame as (n_users, K) item rows and scores, users as in the vectors."""
    users = np.searchsorted(vectors.user_ids, served["user_id"].to_numpy())
    items = np.searchsorted(vectors.item_ids, served["item_id"].to_numpy())
    assert (vectors.user_ids[users] == served["user_id"]).all()
    assert (vectors.item_ids[items] == served["item_id"]).all()
    rows = np.full((len(vectors.user_ids), K), -1)
    scores = np.full((len(vectors.user_ids), K), np.nan)
    rows[users, served["rank"] - 1] = items
    scores[users, served["rank"] - 1] = served["score"]
    assert (rows >= 0).all()
    return rows, scores


def _brute_force(vectors, k):
    """Exact top-k of the inner product (+ offset), each user's seen items removed."""
    scores = vectors.user_vectors.astype(np.float64) @ vectors.item_vectors.T.astype(np.float64)
    scores += vectors.score_offset
    user_of_seen = np.repeat(np.arange(len(scores)), np.diff(vectors.seen_offsets))
    scores[user_of_seen, vectors.seen_items] = -np.inf
    top = np.argsort(-scores, axis=1, kind="stable")[:, :k]
    return top, np.take_along_axis(scores, top, axis=1), scores


def test_inner_product_reproduces_recommend(fitted, X_serve):
    vectors, served = _export_and_recommend(fitted, X_serve)
    rows, served_scores = _as_matrix(served, vectors)
    top, top_scores, scores = _brute_force(vectors, K)
    history = vectors.n_seen > 0  # COLD_USER has none: recommend gives him popular items
    assert history.sum() == len(history) - 1
    rows, served_scores = rows[history], served_scores[history]
    top, top_scores, scores = top[history], top_scores[history], scores[history]
    # the inner product is recommend's score, for every recommended item...
    np.testing.assert_allclose(np.take_along_axis(scores, rows, 1), served_scores, atol=1e-5)
    # ...and recommend's list is the exact top-k: any difference is a tie
    differs = top != rows
    np.testing.assert_allclose(top_scores[differs], served_scores[differs], atol=1e-5)
    assert differs.mean() < 0.1


def test_users_without_history_get_the_popular_items(fitted, X_serve):
    vectors, served = _export_and_recommend(fitted, X_serve)
    popular = fitted.recommend(None, top_k=len(fitted.classes_), users=[COLD_USER])
    np.testing.assert_array_equal(vectors.item_ids[vectors.fallback_items], popular["item_id"])
    cold = served[served["user_id"] == COLD_USER]
    np.testing.assert_array_equal(vectors.item_ids[vectors.fallback_items[:K]], cold["item_id"])


def test_ids_and_seen_items_are_aligned(fitted, X_serve):
    with pytest.warns(DataDropWarning):
        vectors = export_vectors(fitted, X_serve)
    assert vectors.metric == "inner_product"
    assert vectors.similarity == fitted.similarity
    regressor = isinstance(fitted, SASRecRegressorEstimator)
    assert vectors.score_offset == (fitted.rating_mean_ if regressor else 0.0)
    assert vectors.item_vectors.shape[1] == fitted.hidden_units + regressor  # bias column
    np.testing.assert_array_equal(vectors.item_ids, fitted.classes_)
    np.testing.assert_array_equal(vectors.user_ids, np.unique(X_serve["user_id"]))
    n_users, d = len(vectors.user_ids), vectors.item_vectors.shape[1]
    assert vectors.user_vectors.shape == (n_users, d)
    assert vectors.item_vectors.shape == (len(fitted.classes_), d)
    for array in (vectors.user_vectors, vectors.item_vectors):
        assert array.dtype == np.float32 and array.flags.c_contiguous
    known = X_serve[X_serve["item_id"].isin(fitted.classes_)]
    expected = known.groupby("user_id")["item_id"].unique()
    for u, user in enumerate(vectors.user_ids):
        seen = vectors.seen_items[vectors.seen_offsets[u] : vectors.seen_offsets[u + 1]]
        want = np.sort(expected.get(user, np.array([], dtype=int)))
        np.testing.assert_array_equal(vectors.item_ids[seen], want)
    assert vectors.n_seen[vectors.user_ids == NEW_USER].tolist() == [2]  # item 3 twice
    assert vectors.n_seen[vectors.user_ids == COLD_USER].tolist() == [0]


def test_raw_vectors_are_transform_and_item_embeddings(X):
    """A dot model's vectors are its own."""
    est = MODELS["sasrec"]().fit(X)
    vectors = export_vectors(est, X)
    np.testing.assert_array_equal(vectors.item_vectors, est.item_embeddings_)
    np.testing.assert_array_equal(vectors.user_vectors, est.transform(X).to_numpy())


def test_top_k_with_an_exact_search_is_recommend(fitted, X_serve):
    vectors, served = _export_and_recommend(fitted, X_serve)
    rows, served_scores = _as_matrix(served, vectors)
    calls = []

    def search(queries, n):
        calls.append(n)
        return np.argsort(-(queries @ vectors.item_vectors.T), axis=1, kind="stable")[:, :n]

    found = vectors.top_k(search, K)
    _, _, scores = _brute_force(vectors, K)
    history = vectors.n_seen > 0  # the others get fallback_items (tested above)
    np.testing.assert_allclose(
        np.take_along_axis(scores, found, 1)[history], served_scores[history], atol=1e-5
    )
    assert len(calls) == len(set(calls)) < 5  # one batched search per width


def _line_world():
    """Item ``j`` scores ``n_items - j`` for every user: the best unseen items are known."""
    n_items = 20
    return ServingVectors(
        item_ids=np.arange(100, 100 + n_items),
        item_vectors=np.arange(n_items, 0, -1, dtype=np.float32)[:, None],
        fallback_items=np.arange(n_items)[::-1],
        similarity="dot",
        user_ids=np.array(["a", "b", "c", "d"]),
        user_vectors=np.ones((4, 1), dtype=np.float32),
        seen_offsets=np.array([0, 1, 11, 30, 30]),
        seen_items=np.concatenate([[19], np.arange(0, 20, 2), np.arange(19)]),
    )


def test_top_k_searches_each_width_once_and_drops_seen_items():
    vectors = _line_world()
    calls = []

    def search(queries, n):
        calls.append((len(queries), n))
        return np.tile(np.arange(n), (len(queries), 1))

    found = vectors.top_k(search, k=3)
    # a: the worst item seen; b: the even items; c: every item but the last; d: no history
    assert found.tolist() == [[0, 1, 2], [1, 3, 5], [19, -1, -1], [19, 18, 17]]
    assert calls == [(1, 4), (1, 16), (1, 20)]  # k + n_seen, rounded up to 2**j, capped
    everything = vectors.top_k(search, k=3, exclude_seen=False).tolist()
    assert everything == [[0, 1, 2]] * 3 + [[19, 18, 17]]


def test_top_k_pads_when_the_index_finds_too_few():
    vectors = _line_world()

    def search(queries, n):  # faiss marks missing neighbours with -1
        found = np.tile(np.arange(n), (len(queries), 1))
        found[:, 2:] = -1
        return found

    found = vectors.top_k(search, k=3).tolist()
    assert found == [[0, 1, -1], [1, -1, -1], [-1, -1, -1], [19, 18, 17]]


def test_top_k_errors():
    vectors = _line_world()
    with pytest.raises(ValueError, match=r"shape \(m, n\) = \(1, 4\), got \(1, 3\)"):
        vectors.top_k(lambda queries, n: np.zeros((len(queries), 3), dtype=int), k=3)
    with pytest.raises(ValueError, match="k must be a positive int, got 0"):
        vectors.top_k(lambda queries, n: None, k=0)


def test_without_X_only_items_are_exported(X):
    est = MODELS["sasrec"]().fit(X)
    vectors = export_vectors(est)
    assert vectors.user_ids is None and vectors.user_vectors is None
    assert vectors.item_vectors.shape == (len(est.classes_), est.hidden_units)
    assert len(vectors.fallback_items) == len(est.classes_)
    with pytest.raises(ValueError, match="needs user vectors"):
        vectors.top_k(lambda queries, n: None)


@pytest.mark.filterwarnings("ignore::skseqrec.exceptions.DataDropWarning")  # the filter's
def test_a_pipeline_exports_what_its_last_step_sees(X):
    pipe = make_pipeline(InteractionFilter(min_item_events=12), MODELS["sasrec"]()).fit(X)
    vectors = export_vectors(pipe, X)
    seen_by_model = pipe[:-1].transform(X)
    assert len(seen_by_model) < len(X)  # the filter drops the rows of rare items
    direct = export_vectors(pipe[-1], seen_by_model)
    np.testing.assert_array_equal(vectors.user_ids, direct.user_ids)
    np.testing.assert_array_equal(vectors.user_vectors, direct.user_vectors)


def test_models_without_vectors_are_refused(X):
    with pytest.raises(TypeError, match="torch estimator.*got PopularityRecommender"):
        export_vectors(PopularityRecommender().fit(X), X)
    with pytest.raises(TypeError, match="skseqrec recommender"):
        export_vectors(make_pipeline(InteractionFilter()), X)


def test_scores_that_are_no_inner_product_are_refused(X):
    est = MODELS["sasrec"]().fit(X)
    score_items = est.module_.score_items
    est.module_.score_items = lambda hidden, codes: score_items(hidden, codes) ** 3
    with pytest.raises(ValueError, match="do not reproduce its scores"):
        export_vectors(est, X)


def test_faiss_indexes_serve_the_exported_vectors(X, X_serve):
    faiss = pytest.importorskip("faiss")
    est = MODELS["sasrec"]().fit(X)
    vectors, served = _export_and_recommend(est, X_serve)
    rows, served_scores = _as_matrix(served, vectors)
    _, _, scores = _brute_force(vectors, K)
    history = vectors.n_seen > 0
    d = vectors.item_vectors.shape[1]

    exact = faiss.IndexFlatIP(d)
    exact.add(vectors.item_vectors)
    found = vectors.top_k(lambda queries, n: exact.search(queries, n)[1], K)
    np.testing.assert_allclose(
        np.take_along_axis(scores, found, 1)[history], served_scores[history], atol=1e-5
    )
    np.testing.assert_array_equal(found[~history], rows[~history])

    hnsw = faiss.IndexHNSWFlat(d, 8, faiss.METRIC_INNER_PRODUCT)
    hnsw.add(vectors.item_vectors)
    found = vectors.top_k(lambda queries, n: hnsw.search(queries, n)[1], K)
    hits = (found[:, :, None] == rows[:, None, :]).any(axis=2).sum()
    assert hits / rows.size >= 0.9  # recall@K against recommend
