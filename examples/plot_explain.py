"""
Which movies of a history drove a recommendation
================================================

:func:`skseqrec.explain` attributes a recommendation to the events of the history it was
made from: for each movie a user rated, how strongly the score of the recommended movie
depends on it (gradient x input on the model's input item embeddings; the function's
documentation says what the number means and where it can mislead).

We fit a small :class:`~skseqrec.SASRecClassifierEstimator` on the bundled ml-latest-small
(a short training, so that the example runs in well under a minute on one CPU core),
explain one user's top recommendation, and draw the attribution of every movie the model
read.
"""

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from skseqrec import SASRecClassifierEstimator, explain
from skseqrec.datasets import load_ml_latest_small

ratings, movies = load_ml_latest_small(return_items=True)
# Movies with at least 20 ratings: a catalogue 7x smaller, a faster fit.
counts = ratings["item_id"].value_counts()
ratings = ratings[ratings["item_id"].isin(counts.index[counts >= 20])]
n_movies, n_users = ratings["item_id"].nunique(), ratings["user_id"].nunique()
print(f"{len(ratings):,} ratings of {n_movies:,} movies by {n_users} users")

# %%
# A quick model
# -------------
# The most recent 20 ratings of a user are the model's input (``max_len``), and every
# other movie of the catalogue is a negative of each training position.
model = SASRecClassifierEstimator(
    hidden_units=32,
    max_len=20,
    loss="softmax",
    negative_sampling="full",
    epochs=8,
    batch_size=64,
    random_state=0,
    device="cpu",
).fit(ratings)

# %%
# One user's top recommendation, explained
# ----------------------------------------
# ``explain`` returns one row per event of the history, oldest first; events older than
# the model's window get 0.0 (the model never reads them).
user = 414
history = ratings[ratings["user_id"] == user]
result = explain(model, history).merge(movies[["item_id", "title"]], on="item_id", how="left")
recommended = movies.set_index("item_id").loc[result["explained_item"].iloc[0], "title"]
print(f"user {user}: {len(history)} ratings; top recommendation: {recommended}")
window = result.tail(model.max_len)
print(window[["position", "title", "attribution"]].to_string(index=False))

# %%
# The attributions
# ----------------
# The window in time order, its oldest movie at the top. A bar's length is the movie's
# influence on the score; its sign says whether growing that movie's embedding would
# raise the score. Here the most recent movie outweighs all others together.
fig, ax = plt.subplots(figsize=(8, 6), layout="constrained")
colors = ["tab:blue" if value > 0 else "tab:red" for value in window["attribution"]]
ax.barh(range(len(window)), window["attribution"], color=colors)
labels = [title if len(title) <= 40 else title[:39] + "…" for title in window["title"]]
ax.set_yticks(range(len(window)), labels, fontsize=8)
ax.invert_yaxis()
ax.axvline(0.0, color="black", linewidth=0.8)
ax.set_xlabel("attribution (gradient x input)")
ax.set_title(f"Why user {user} gets {recommended!r}", fontsize=10)

# %%
# Does the model always lean on the last movie?
# ---------------------------------------------
# The same question for 100 users: the share of users whose most influential movie is
# their most recent one, and the median share of the window's total influence
# (sum of ``|attribution|``) that goes to that movie. A SASRec trained this briefly leans
# mostly on the last movie; the earlier ones nudge the ranking.
last_is_largest, last_share = [], []
for other in ratings["user_id"].unique()[:100]:
    size = explain(model, ratings[ratings["user_id"] == other])["attribution"].abs()
    size = size.tail(model.max_len).to_numpy()
    last_is_largest.append(size.argmax() == len(size) - 1)
    last_share.append(size[-1] / size.sum())
print(
    f"most recent movie the most influential for {np.mean(last_is_largest):.0%} of users; "
    f"median share of the influence: {np.median(last_share):.0%}"
)
