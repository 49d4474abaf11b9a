"""
Tuning SASRec with GridSearchCV and a leak-free temporal split
==============================================================

Grid-searches ``hidden_units`` and ``learning_rate`` of :class:`SASRecClassifierEstimator`
with :class:`~skseqrec.model_selection.GlobalTemporalSplit` (Protocol TIME: train on events
before a cut-off, score each test user's first event after it) and plots NDCG@10 / HR@10.
Early stopping carves its validation data out of each training fold, so no fold's test
events reach training.

Uses MovieLens 100K from the team's ``shared/data`` when present (set
``SKSEQREC_SHARED_DATA``), otherwise the bundled ml-latest-small.
"""

import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd
from sklearn.model_selection import GridSearchCV

from skseqrec import SASRecClassifierEstimator
from skseqrec.datasets import load_ml_latest_small, load_movielens, shared_data_path
from skseqrec.model_selection import GlobalTemporalSplit, make_ranking_scorer

folder = shared_data_path("ml-100k")
ratings = load_movielens(folder) if folder is not None else load_ml_latest_small()
name = "ml-100k" if folder is not None else "ml-latest-small"
print(f"{name}: {len(ratings):,} ratings, {ratings.user_id.nunique()} users")

# Rolling origin: two successive cut-offs, each leaving the next 5 % of events as test window.
cv = GlobalTemporalSplit(n_splits=2, test_quantile=0.05)
print(
    cv.split_info(ratings)[["fold", "cutoff", "n_train_rows", "n_test_users"]].to_string(
        index=False
    )
)

search = GridSearchCV(
    SASRecClassifierEstimator(
        max_len=50,
        epochs=30,
        num_negatives=16,
        early_stopping_patience=3,
        validation="time",
        random_state=0,
    ),
    param_grid={"hidden_units": [32, 64], "learning_rate": [0.001, 0.003]},
    scoring={
        "ndcg": make_ranking_scorer("ndcg", k=10),
        "hr": make_ranking_scorer("hit_rate", k=10),
    },
    refit="ndcg",
    cv=cv,
)
started = time.perf_counter()
search.fit(ratings)
print(f"search took {time.perf_counter() - started:.0f} s")

results = pd.DataFrame(search.cv_results_)
table = results[
    [
        "param_hidden_units",
        "param_learning_rate",
        "mean_test_ndcg",
        "std_test_ndcg",
        "mean_test_hr",
        "mean_fit_time",
    ]
]
print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
print("best:", search.best_params_, f"NDCG@10 {search.best_score_:.4f}")

fig, axes = plt.subplots(1, 2, figsize=(9, 3.5), sharey=False)
for axis, metric in zip(axes, ["ndcg", "hr"]):
    for rate, group in results.groupby("param_learning_rate"):
        axis.errorbar(
            group["param_hidden_units"].astype(int),
            group[f"mean_test_{metric}"],
            yerr=group[f"std_test_{metric}"],
            marker="o",
            capsize=3,
            label=f"lr={rate}",
        )
    axis.set_xlabel("hidden_units")
    axis.set_title(f"{'NDCG' if metric == 'ndcg' else 'HR'}@10, Protocol TIME ({name})")
    axis.legend()
fig.tight_layout()
fig.savefig("grid_search.png", dpi=100)
print("saved grid_search.png")
