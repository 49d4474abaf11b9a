"""
Quick start: fit, evaluate, recommend, save
===========================================

Fits SASRec on MovieLens "latest-small" (shipped with skseqrec), evaluates it against the
popularity baseline under Protocol LOO (each user's last event is the target, full-catalogue
ranking, seen items excluded), prints recommendations and saves/loads the model.
"""

import tempfile
import time
from pathlib import Path

import joblib
import pandas as pd

from skseqrec import PopularityRecommender, SASRecClassifierEstimator
from skseqrec.datasets import load_ml_latest_small

ratings = load_ml_latest_small()
print(
    f"{len(ratings):,} ratings, {ratings.user_id.nunique()} users, "
    f"{ratings.item_id.nunique():,} items"
)

# Protocol LOO: hold out every user's last event.
ordered = ratings.sort_values(["user_id", "timestamp"], kind="stable")
is_last = ordered.groupby("user_id").cumcount(ascending=False) == 0
train = ordered[~is_last]

started = time.perf_counter()
# Small data (610 users): small batches give enough optimiser steps per epoch.
model = SASRecClassifierEstimator(max_len=100, batch_size=32, epochs=40, random_state=0)
model.fit(train)
print(
    f"fitted in {time.perf_counter() - started:.1f} s: {model.n_epochs_} epochs, "
    f"{model.stop_reason_}"
)
print(model.history_.tail(3).to_string(index=False))

# score(X): NDCG@10 of each user's last event in X given the events before it
# (targets never seen in training count as misses; skseqrec.evaluate reports how many
# in its n_cold_targets column).
popularity = PopularityRecommender().fit(train)
print(f"LOO NDCG@10  SASRec {model.score(ordered):.4f}  popularity {popularity.score(ordered):.4f}")

recommendations = model.recommend(train, top_k=5, users=[1, 2])
print(recommendations.to_string(index=False))

with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "sasrec.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    same = loaded.recommend(train, top_k=5, users=[1, 2])
    pd.testing.assert_frame_equal(same, recommendations)
    print(
        f"saved {path.stat().st_size / 1024:.0f} KiB; reloaded model gives identical "
        "recommendations"
    )
