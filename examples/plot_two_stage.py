"""
Two stages: a sequential retriever, a ranker that reads metadata, and new items
===============================================================================

A :class:`~skseqrec.TwoStageRecommender` retrieves candidates with a transformer and
re-ranks them with an :class:`~skseqrec.MLPRankerEstimator` that also sees each movie's
genres and year. Because the ranker is trained with *ID dropout* (some candidates are
shown to it without anything learned from their interactions), it can rank movies that
have no interaction at all from their metadata: the *cold items*.

We simulate new releases on the bundled ml-latest-small: 40 movies that are some test
user's next rating (so that enough users have a cold target to measure on) and that have
at least 20 ratings are removed from the training data and from every history, and kept
only in the metadata table. Evaluation is Protocol LOO (each user's last rating is the
target). ``benchmarks/two_stage.py`` measures the same on larger data with randomly drawn
cold items.
"""

import warnings

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from skseqrec import (
    MLPRankerEstimator,
    PopularityRecommender,
    SequentialTransformerEstimator,
    TwoStageRecommender,
)
from skseqrec.datasets import load_ml_latest_small
from skseqrec.exceptions import DataDropWarning
from skseqrec.model_selection import LeaveLastOut
from skseqrec.protocol import frame_holdout

warnings.simplefilter("ignore", DataDropWarning)  # counts of ignored rows, said once below

ratings, items = load_ml_latest_small(return_items=True)
ratings = ratings.drop(columns="rating")
train_index, test_index = next(LeaveLastOut().split(ratings))
train, test = ratings.iloc[train_index], ratings.iloc[test_index]

# %%
# New movies: nobody rated them before the test targets
# -----------------------------------------------------
counts = train["item_id"].value_counts()
targets = test.sort_values(["user_id", "timestamp"]).groupby("user_id").tail(1)
popular = counts.index[counts >= 20]
rng = np.random.default_rng(0)
cold = rng.choice(
    np.sort(targets["item_id"][targets["item_id"].isin(popular)].unique()), 40, replace=False
)
train = train[~train["item_id"].isin(cold)]
test = test[test.index.isin(targets.index) | ~test["item_id"].isin(cold)]
print(
    f"{len(train):,} training ratings; {len(cold)} cold movies, the target of "
    f"{targets['item_id'].isin(cold).sum()} of {len(targets)} users"
)

# %%
# Fit: the retriever learns from all but each user's last training event, the ranker
# learns to put that event first among the retriever's candidates and random movies.
model = TwoStageRecommender(
    # the quick start's retriever: 256 negatives shared by each batch, 20 epochs
    retriever=SequentialTransformerEstimator(
        negative_sampling="shared", num_negatives=256, epochs=20, early_stopping_steps=None
    ),
    ranker=MLPRankerEstimator(epochs=10),
    n_candidates=100,
).fit(train, item_features=items)
print(f"catalogue: {len(model.classes_)} movies, of which cold: {len(model.cold_items_)}")
print(model.ranker_.history_[["epoch", "train_loss", "valid_ndcg@10"]].tail(3).to_string())

# %%
# Accuracy: popularity, the retriever alone, the two stages
# ---------------------------------------------------------
popularity = PopularityRecommender().fit(train)
scores = {
    "popularity": popularity.score(test),
    "retriever": model.retriever_.score(test),
    "two stages": model.score(test),
}
for name, value in scores.items():
    print(f"NDCG@10 {name:>11}: {value:.4f}")

# %%
# Cold movies: rank the 40 new movies for the users whose target is one of them
# ------------------------------------------------------------------------------
holdout = frame_holdout(model, test)
cold_codes = model.item_encoder_.encode(cold)
allowed = np.zeros(model.n_items_ + 1, dtype=bool)
allowed[cold_codes] = True
is_cold = np.isin(holdout.targets, cold_codes)
ranked, _ = model.rank(holdout.history.select(is_cold), 10, allowed=allowed)
hit_rate = (ranked == holdout.targets[is_cold][:, None]).any(axis=1).mean()
chance = 10 / len(cold)
print(f"HR@10 among the cold movies: {hit_rate:.3f} (chance {chance:.3f})")

# %%
# One user's lists: the full catalogue, and the cold movies alone
# -----------------------------------------------------------------
# In the full list cold movies rise above known ones only as far as the ranker's held-out
# users showed that new items pay (``model.ranker_.cold_offset_``): here nobody's held-out
# event was a new movie, so the known movies come first. ``items=`` ranks the cold
# movies among themselves, from their metadata.
user = targets.loc[targets["item_id"].isin(cold), "user_id"].iloc[0]
history = test[test["user_id"] == user]
titles = items[["item_id", "title"]]
full = model.recommend(history, top_k=5).merge(titles, on="item_id")
new = model.recommend(history, top_k=5, items=cold).merge(titles, on="item_id")
print(f"cold offset: {model.ranker_.cold_offset_:g}")
print("full catalogue:\n" + full[["rank", "title"]].to_string(index=False))
print("cold movies only:\n" + new[["rank", "title"]].to_string(index=False))

# %%
fig, (left, right) = plt.subplots(1, 2, figsize=(9, 3.5))
left.bar(list(scores), list(scores.values()), color=["#999", "#4c72b0", "#dd8452"])
left.set_ylabel("NDCG@10 (Protocol LOO)")
left.set_title("All test users")
right.bar(["chance", "two stages"], [chance, hit_rate], color=["#999", "#dd8452"])
right.set_ylabel("HR@10 among the 40 cold movies")
right.set_title(f"{is_cold.sum()} users whose target is cold")
fig.tight_layout()
plt.show()
