"""
Serving top-k from an approximate nearest-neighbour index
=========================================================

Every torch estimator ranks items by an inner product of a user vector and an item vector
(after L2-normalising both for the cosine models; the rating regressor adds an item bias).
:func:`skseqrec.serving.export_vectors` writes those vectors out as NumPy arrays whose
inner product *is* the score of :meth:`~skseqrec.estimators.BaseRecommender.recommend`, so
a maximum-inner-product index can serve the model: here faiss (``pip install
"skseqrec[ann]"``), an HNSW graph on the bundled ml-latest-small, then an IVF index on a
catalogue ten times larger, where an index starts to pay.

We measure recall@10 against the exact ``recommend(..., top_k=10)`` and the time of each
way to the same lists. Everything runs on **one thread** (torch and faiss alike), and each
time is the best of three runs; on a shared machine the times move, the recalls do not.
"""

import time

import faiss
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
import torch

from skseqrec import SASRecClassifierEstimator
from skseqrec.datasets import load_ml_latest_small
from skseqrec.serving import export_vectors

threads = torch.get_num_threads(), faiss.omp_get_max_threads()
torch.set_num_threads(1)
faiss.omp_set_num_threads(1)


def best_of_three(run):
    """(the result of ``run()``, its best wall time of three runs in seconds)."""
    times = []
    for _ in range(3):
        start = time.perf_counter()
        result = run()
        times.append(time.perf_counter() - start)
    return result, min(times)


def recall_at_10(found, reference):
    """Share of the reference lists' items that ``found`` also lists (row by row)."""
    return float((found[:, :, None] == reference[:, None, :]).any(axis=2).mean())


ratings = load_ml_latest_small()
model = SASRecClassifierEstimator(
    hidden_units=32, max_len=50, epochs=3, batch_size=128, random_state=0, device="cpu"
).fit(ratings)

# %%
# Vectors out
# -----------
# ``export_vectors(model, X)`` gives the item vectors (row ``j`` is item ``item_ids[j]``,
# the model's ``classes_``), one vector per user of ``X`` (his history, as ``recommend``
# reads it) and each user's seen items, which an index knows nothing about.
vectors, export_seconds = best_of_three(lambda: export_vectors(model, ratings))
print(
    f"{len(vectors.item_ids):,} item vectors, {len(vectors.user_ids)} user vectors of "
    f"dimension {vectors.item_vectors.shape[1]}, metric {vectors.metric!r}; "
    f"seen items per user: median {np.median(vectors.n_seen):.0f}, max {vectors.n_seen.max()}"
)

# %%
# The exact lists
# ---------------
# ``recommend`` encodes every history and scores the whole catalogue with torch. The same
# lists come from the exported vectors with an exact (flat) inner-product index:
# :meth:`~skseqrec.serving.ServingVectors.top_k` asks it for ``10 + n_seen`` neighbours
# per user (rounded up to a power of two, one batched search per size) and drops the
# seen ones, which is what ``recommend``'s ``exclude_seen=True`` does.
served, recommend_seconds = best_of_three(lambda: model.recommend(ratings, top_k=10))
exact = np.searchsorted(vectors.item_ids, served["item_id"]).reshape(-1, 10)

dimension = vectors.item_vectors.shape[1]
flat = faiss.IndexFlatIP(dimension)
flat.add(vectors.item_vectors)
flat_found, flat_seconds = best_of_three(
    lambda: vectors.top_k(lambda queries, n: flat.search(queries, n)[1], k=10)
)
print(f"flat index: recall@10 against recommend {recall_at_10(flat_found, exact):.3f}")

# %%
# An HNSW graph
# -------------
# A graph index for inner products (faiss ``IndexHNSWFlat``, ``M=16``); ``efSearch`` trades
# recall for speed. A user with a long history needs many neighbours (``10 + n_seen``),
# and a graph search for thousands of neighbours visits a good part of a catalogue of
# 9,724 movies: on a catalogue this small an index saves little.
hnsw = faiss.IndexHNSWFlat(dimension, 16, faiss.METRIC_INNER_PRODUCT)
start = time.perf_counter()
hnsw.add(vectors.item_vectors)
hnsw_build_seconds = time.perf_counter() - start
rows = [
    ("recommend", recommend_seconds, 1.0),
    ("flat index", flat_seconds, recall_at_10(flat_found, exact)),
]
for ef_search in (16, 64):
    hnsw.hnsw.efSearch = ef_search
    found, seconds = best_of_three(
        lambda: vectors.top_k(lambda queries, n: hnsw.search(queries, n)[1], k=10)
    )
    rows.append((f"HNSW efSearch={ef_search}", seconds, recall_at_10(found, exact)))
print(
    f"one thread; export_vectors (encodes the 610 histories) {export_seconds * 1e3:.0f} ms, "
    f"HNSW build {hnsw_build_seconds:.2f} s"
)
print(f"{'610 users, top-10':20s} {'time':>9s} {'recall@10':>10s} {'speed-up':>9s}")
for name, seconds, recall in rows:
    print(f"{name:20s} {seconds * 1e3:6.1f} ms {recall:10.3f} {recommend_seconds / seconds:8.1f}x")

# %%
# ``recommend`` encodes the histories and ranks in one call; the index rows time the
# search alone, on vectors exported beforehand (``export_vectors`` costs about what
# ``recommend`` does: both encode every history). The speed-up column is against
# ``recommend``.

# %%
# A larger catalogue
# ------------------
# Where an index pays: the same 610 user vectors against 100,000 items drawn from a normal
# distribution with the mean and covariance of the model's item vectors (the synthetic
# items are no one's seen items, so each user needs 10 neighbours). An IVF index
# (``IndexIVFFlat``, 1,024 k-means cells, the 16 cells nearest a query searched) against
# the flat index, which reads all 100,000 vectors per user.
rng = np.random.default_rng(0)
catalogue = rng.multivariate_normal(
    vectors.item_vectors.mean(axis=0), np.cov(vectors.item_vectors.T), size=100_000
).astype(np.float32)
big_flat = faiss.IndexFlatIP(dimension)
big_flat.add(catalogue)
(_, big_exact), big_flat_seconds = best_of_three(lambda: big_flat.search(vectors.user_vectors, 10))
ivf = faiss.IndexIVFFlat(faiss.IndexFlatIP(dimension), dimension, 1024, faiss.METRIC_INNER_PRODUCT)
start = time.perf_counter()
ivf.train(catalogue)
ivf.add(catalogue)
ivf_build_seconds = time.perf_counter() - start
ivf.nprobe = 16
(_, ivf_found), ivf_seconds = best_of_three(lambda: ivf.search(vectors.user_vectors, 10))
big_recall = recall_at_10(ivf_found, big_exact)
print(
    f"100,000 items, one thread: flat {big_flat_seconds * 1e3:.0f} ms, IVF "
    f"{ivf_seconds * 1e3:.1f} ms (build {ivf_build_seconds:.1f} s): "
    f"{big_flat_seconds / ivf_seconds:.0f}x faster, recall@10 {big_recall:.3f}"
)

# %%
# The times side by side
# ----------------------
# Serving 610 users, one thread, log scale.
labels = [name for name, _, _ in rows] + ["100k items: flat index", "100k items: IVF"]
seconds = [s for _, s, _ in rows] + [big_flat_seconds, ivf_seconds]
fig, ax = plt.subplots(figsize=(8, 3.5), layout="constrained")
ax.barh(range(len(labels)), np.asarray(seconds) * 1e3, color="tab:blue")
ax.set_yticks(range(len(labels)), labels, fontsize=8)
ax.invert_yaxis()
ax.set_xscale("log")
ax.set_xlabel("milliseconds for 610 users (top-10, seen items dropped on ml-latest-small)")

torch.set_num_threads(threads[0])  # later examples of the gallery run in this process
faiss.omp_set_num_threads(threads[1])
