"""
Quick start: fit, evaluate, recommend, save
===========================================

The whole workflow on MovieLens "latest-small", which ships with skseqrec: hold out each
user's last rating (Protocol LOO), fit a sequential transformer with a progress bar,
compare it with the popularity baseline, recommend movies, and save the model to a file
that :func:`skseqrec.load` reads back without unpickling anything.

``examples/quickstart.py`` is the same walk-through as a plain script (no plot, saved with
``joblib``).
"""

import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

import skseqrec
from skseqrec import PopularityRecommender, SequentialTransformerEstimator, evaluate
from skseqrec.datasets import load_ml_latest_small
from skseqrec.model_selection import LeaveLastOut
from skseqrec.plotting import plot_comparison, plot_history

ratings, movies = load_ml_latest_small(return_items=True)
print(
    f"{len(ratings):,} ratings, {ratings.user_id.nunique()} users, "
    f"{ratings.item_id.nunique():,} movies"
)
print(ratings.head(3).to_string(index=False))

# %%
# Protocol LOO: each user's last rating is the test target
# ---------------------------------------------------------
# :class:`~skseqrec.model_selection.LeaveLastOut` yields row positions: the training rows
# (everything but each user's last event) and the test rows (each test user's history
# plus its last event, the target).
cv = LeaveLastOut()
train_rows, test_rows = next(cv.split(ratings))
train = ratings.iloc[train_rows]
print(cv.split_info(ratings)[["n_train_rows", "n_test_rows", "n_test_users"]].to_string())

# %%
# Fit, with a progress bar
# ------------------------
# ``verbose=1`` draws a tqdm progress bar over the epochs with the latest training loss
# (in a terminal; in a notebook, a widget). The same figures stay in ``history_``, one
# row per round (each epoch end, and every ``validation_interval`` = 50 steps), printed
# below. The model is :class:`~skseqrec.SequentialTransformerEstimator` (RoPE
# positions, SwiGLU, RMSNorm, InfoNCE on cosine scores) at its 64 x 2 blocks x 2 heads
# default size, with two changes for a quick CPU run: 256 negatives shared by each
# batch instead of a softmax over all 9,724 movies, and a fixed budget of 20 epochs
# without early stopping (``early_stopping_steps=None``; the presets otherwise validate
# on users they hold out and stop by themselves, see the training-curves example).
model = SequentialTransformerEstimator(
    negative_sampling="shared",
    num_negatives=256,
    epochs=20,
    early_stopping_steps=None,
    verbose=1,
    random_state=0,
)
started = time.perf_counter()
model.fit(train)
print(f"fitted in {time.perf_counter() - started:.0f} s: {model.n_epochs_} epochs")
print(
    model.history_[["epoch", "step", "train_loss", "seconds"]]
    .iloc[[0, 1, 2, -3, -2, -1]]
    .to_string(index=False, float_format=lambda v: f"{v:.3f}")
)

# %%
# Evaluate against popularity
# ---------------------------
# :func:`skseqrec.evaluate` with ``fit=False`` ranks the whole catalogue for every test
# user of the same LOO split (seen movies excluded) and scores the held-out rating. The
# popularity baseline recommends the most rated movies the user has not seen.
popularity = PopularityRecommender().fit(train)
results = {
    name: evaluate(estimator, ratings, protocol="loo", k=(10, 20), fit=False)
    for name, estimator in [("SequentialTransformer", model), ("popularity", popularity)]
}
table = pd.concat(results, names=["model"]).reset_index(level=0)
print(
    table.pivot_table(index=["metric", "k"], columns="model", values="value")
    .loc[["hit_rate", "ndcg", "mrr"]]
    .to_string(float_format=lambda v: f"{v:.4f}")
)
print(f"test users: {int(table['n_users'].iloc[0])}, protocol: {table['protocol'].iloc[0]}")

# %%
# The training loss and the comparison
# ------------------------------------
fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
plot_history(model, ax=left)
left.set_title("training loss (InfoNCE)")
plot_comparison(results, metric="ndcg", k=10, ax=right)
fig.tight_layout()
plt.show()

# %%
# Recommend
# ---------
# ``recommend(X)`` conditions on the histories in ``X`` (any users, also new ones) and
# returns ``top_k`` rows per user; here the five next movies for two users, with titles.
recommendations = model.recommend(train, top_k=5, users=[1, 2])
print(
    recommendations.merge(movies[["item_id", "title"]], on="item_id").to_string(
        index=False, float_format=lambda v: f"{v:.3f}"
    )
)

# %%
# Save and load
# -------------
# :func:`skseqrec.save` writes the weights in safetensors and everything else in JSON
# (``pip install "skseqrec[safe]"``); :func:`skseqrec.load` never unpickles, so a model
# file from someone else cannot run code. ``joblib.dump`` works too.
with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "model.safetensors"
    skseqrec.save(model, path)
    loaded = skseqrec.load(path)
    again = loaded.recommend(train, top_k=5, users=[1, 2])
    pd.testing.assert_frame_equal(again, recommendations)
    print(
        f"saved {path.stat().st_size / 1024:.0f} KiB; the loaded model gives identical "
        "recommendations"
    )
