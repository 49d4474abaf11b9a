"""
Training curves: loss, validation NDCG@10 and early stopping
============================================================

Fits an :class:`~skseqrec.ESASRecEstimator` on the bundled ml-latest-small and draws its
``history_`` with :func:`skseqrec.plotting.plot_history`: the training loss against
optimiser steps (left axis), the validation NDCG@10 with a band of one standard error
(right axis), and the round whose weights early stopping kept.

The estimator keeps its defaults except a smaller budget, and the catalogue is cut to the
movies with at least 20 ratings, so that the example runs in well under a minute on a laptop
CPU (the last section says what each budget parameter means).
"""

import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from skseqrec import ESASRecEstimator
from skseqrec.datasets import load_ml_latest_small
from skseqrec.plotting import plot_history

ratings = load_ml_latest_small()
# Movies with at least 20 ratings (1,297 of 9,724, two thirds of the ratings): the
# softmax over the catalogue, most of a step's cost on a CPU, is 7x smaller.
counts = ratings["item_id"].value_counts()
ratings = ratings[ratings["item_id"].isin(counts.index[counts >= 20])]
print(
    f"ml-latest-small, movies with >= 20 ratings: {len(ratings):,} ratings, "
    f"{ratings.user_id.nunique()} users, {ratings.item_id.nunique():,} movies"
)

# %%
# A fit with a small budget
# -------------------------
# The defaults validate every 50 optimiser steps and stop after 400 steps plus half the
# step of the best validation without a better validation NDCG@10, but never before
# 1,000 steps; after 400 steps plus a quarter of that step they cut the learning rate to
# 0.3x first. Here: 150 steps instead of 400, never before 300.
est = ESASRecEstimator(early_stopping_min_steps=300, early_stopping_steps=150, random_state=0)
started = time.perf_counter()
est.fit(ratings)
print(f"fit: {time.perf_counter() - started:.0f} s, {est.stop_reason_}")

history = est.history_
validated = history[history["valid_ndcg@10"].notna()]
print(validated.to_string(index=False, float_format=lambda v: f"{v:.4f}"))

# %%
# The curves
# ----------
ax = plot_history(est)
ax.figure.tight_layout()
plt.show()

# %%
# Reading the plot
# ----------------
# - **validation_interval** (50 here, the default): the validation set is ranked every
#   50 optimiser steps, so the NDCG@10 curve has a point every 50 steps. An epoch here
#   is only about 20 steps (batches of 32 of the 610 users), so validating at every
#   epoch end (``validation_interval=None``) would rank the validation users 2.5 times
#   as often. Rows of ``history_`` at epoch ends between validations have the training
#   loss only (NaN validation columns); the loss curve uses them, the NDCG@10 curve not.
# - **early_stopping_steps** (150 here): training stops when 150 optimiser steps have
#   passed since the best validation NDCG@10 (counted in steps, so it means the same on
#   small and large data), but never before ``early_stopping_min_steps`` (300 here).
#   The weights of the best round are restored (``restore_best_weights=True``): the
#   dotted line and the star mark that round (``best_epoch_``), the one the fitted
#   model recommends with.
# - **The shaded band** is plus/minus one standard error of the validation NDCG@10
#   (``valid_ndcg@10_se``), its spread over the validation users divided by the square
#   root of their number. Rises of the curve that stay inside the band may be noise of
#   that particular set of users; ``early_stopping_tol="se"`` asks an improvement to
#   exceed one standard error before it counts.
