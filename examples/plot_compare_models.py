"""
Comparing models on one protocol, with error bars over seeds
============================================================

Fits HSTU and SASRec three times each (``random_state`` 0, 1, 2) and the popularity
baseline once, all under Protocol LOO (each user's last rating is the target,
full-catalogue ranking, seen items excluded) with :func:`skseqrec.evaluate`, and draws
the results with :func:`skseqrec.plotting.plot_comparison` (mean and standard deviation
over the seeds) and :func:`skseqrec.plotting.plot_metric_at_k`.

To keep the example within a minute on a laptop CPU the catalogue is cut to the movies
with at least 20 ratings (the data are filtered once, before splitting, so every model
sees the same targets) and each model gets a small fixed budget: 15 epochs in batches of
32 over each user's last 20 ratings.
"""

import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import pandas as pd

from skseqrec import HSTUEstimator, PopularityRecommender, SASRecClassifierEstimator, evaluate
from skseqrec.datasets import load_ml_latest_small
from skseqrec.plotting import plot_comparison, plot_metric_at_k

ratings = load_ml_latest_small()
counts = ratings["item_id"].value_counts()
ratings = ratings[ratings["item_id"].isin(counts.index[counts >= 20])]
print(
    f"ml-latest-small, movies with >= 20 ratings: {len(ratings):,} ratings, "
    f"{ratings.user_id.nunique()} users, {ratings.item_id.nunique():,} movies"
)

# %%
# The models
# ----------
# Two presets with the same budget. HSTU reads the time column (a time-gap bias in its
# pointwise attention) and scores by cosine similarity; SASRec here uses rotary
# positions (``positional="rope"``), the setting ``docs/results.rst`` found best for it.
# Popularity is deterministic: one run is enough.
budget = dict(max_len=20, epochs=15, batch_size=32)
models = {
    "HSTU": HSTUEstimator(
        negative_sampling="shared", num_negatives=256, early_stopping_steps=None, **budget
    ),
    "SASRec (RoPE)": SASRecClassifierEstimator(positional="rope", **budget),
}
seeds = [0, 1, 2]
k = (5, 10, 20)

started = time.perf_counter()
results = {
    name: [
        evaluate(model.set_params(random_state=seed), ratings, protocol="loo", k=k)
        for seed in seeds
    ]
    for name, model in models.items()
}
results["popularity"] = [evaluate(PopularityRecommender(), ratings, protocol="loo", k=k)]
print(
    f"{sum(len(runs) for runs in results.values())} fits in {time.perf_counter() - started:.0f} s"
)

# %%
# The figures
# -----------
# One row per model and metric at k = 10: the mean over the seeds, their standard
# deviation (``ddof=1``) and every seed's value.
rows = []
for name, runs in results.items():
    values = pd.concat([run.assign(seed=seed) for seed, run in enumerate(runs)])
    for metric, group in values[values["k"] == 10].groupby("metric", sort=False):
        rows.append(
            {
                "model": name,
                "metric": f"{metric}@10",
                "mean": group["value"].mean(),
                "sd": group["value"].std(ddof=1),
                "runs": ", ".join(f"{v:.4f}" for v in group["value"]),
            }
        )
    fit = values.drop_duplicates("seed")["fit_seconds"]
    print(f"{name}: fit {fit.mean():.1f} s on average, {int(values['n_users'].iloc[0])} test users")
table = pd.DataFrame(rows)
print(table.to_string(index=False, float_format=lambda v: f"{v:.4f}", na_rep="-"))

# %%
# Plots
# -----
# Left: NDCG@10, the bars are the means and the error bars one standard deviation over
# the seeds. Right: hit rate at k = 5, 10 and 20, with a band of plus/minus one
# standard deviation.
fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4))
plot_comparison(results, metric="ndcg", k=10, ax=left)
plot_metric_at_k(results, metric="hit_rate", ax=right)
fig.tight_layout()
plt.show()

# %%
# What the error bars do and do not say
# -------------------------------------
# The spread over seeds is the noise of *training* (initialisation, batch order,
# negatives). It is not the whole uncertainty: the 610 test users are a sample too, and
# one run's NDCG@10 over them has a standard error of roughly 0.005 to 0.01 here. A
# difference between two models deserves trust when it exceeds both; here the printed
# means of both sequential models are well above popularity, by more than either.
# With only three seeds the standard deviation itself is rough; for a decision, add
# seeds or test users (a larger dataset), not decimals.
ndcg = table[table["metric"] == "ndcg@10"].set_index("model")["mean"]
for name in models:
    print(f"{name}: NDCG@10 {ndcg[name] / ndcg['popularity']:.2f}x popularity")
