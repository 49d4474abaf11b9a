"""
Quick start as a plain script (the README's first command)
==========================================================

Fits a sequential transformer on MovieLens "latest-small" (shipped with skseqrec) with a
progress bar, evaluates it against the popularity baseline under Protocol LOO (each
user's last event is the target, full-catalogue ranking, seen items excluded), prints
recommendations and saves/loads the model with joblib. ``plot_quickstart.py`` is the same
walk-through with plots and :func:`skseqrec.save`.
"""

import tempfile
import time
from pathlib import Path

import joblib
import pandas as pd

from skseqrec import PopularityRecommender, SequentialTransformerEstimator, evaluate
from skseqrec.datasets import load_ml_latest_small
from skseqrec.model_selection import LeaveLastOut

started = time.perf_counter()
ratings = load_ml_latest_small()
print(
    f"{len(ratings):,} ratings, {ratings.user_id.nunique()} users, "
    f"{ratings.item_id.nunique():,} items"
)

# Protocol LOO: every user's last event is held out.
train_rows, test_rows = next(LeaveLastOut().split(ratings))
train = ratings.iloc[train_rows]

# verbose=1: a progress bar over the 20 epochs. 256 negatives shared by each batch (instead
# of a softmax over all 9,724 items) and a fixed budget without early stopping keep the
# fit short on a CPU.
model = SequentialTransformerEstimator(
    negative_sampling="shared",
    num_negatives=256,
    epochs=20,
    early_stopping_steps=None,
    verbose=1,
    random_state=0,
)
fit_started = time.perf_counter()
model.fit(train)
print(f"fitted in {time.perf_counter() - fit_started:.0f} s: {model.n_epochs_} epochs")
print(model.history_.tail(3).to_string(index=False, float_format=lambda v: f"{v:.3f}"))

# evaluate(fit=False) ranks the full catalogue for every test user of the same LOO split
# (seen items excluded); targets never seen in training count as misses.
popularity = PopularityRecommender().fit(train)
for name, estimator in [("SequentialTransformer", model), ("popularity", popularity)]:
    result = evaluate(estimator, ratings, protocol="loo", k=10, fit=False).set_index("metric")
    print(
        f"LOO @10 {name:>21}: NDCG {result.loc['ndcg', 'value']:.4f}  "
        f"HR {result.loc['hit_rate', 'value']:.4f}  ({result.loc['ndcg', 'n_users']} users)"
    )

recommendations = model.recommend(train, top_k=5, users=[1, 2])
print(recommendations.to_string(index=False))

with tempfile.TemporaryDirectory() as folder:
    path = Path(folder) / "model.joblib"
    joblib.dump(model, path)
    loaded = joblib.load(path)
    same = loaded.recommend(train, top_k=5, users=[1, 2])
    pd.testing.assert_frame_equal(same, recommendations)
    print(
        f"saved {path.stat().st_size / 1024:.0f} KiB; reloaded model gives identical "
        "recommendations"
    )
print(f"total {time.perf_counter() - started:.0f} s")
