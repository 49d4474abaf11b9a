"""Standard errors of single-target ranking metrics, and score_holdout(standard_errors=True)."""

from __future__ import annotations

import math

import numpy as np
import pytest

from skseqrec import PopularityRecommender
from skseqrec.datasets import make_sequential_world
from skseqrec.protocol import Holdout, frame_holdout, score_holdout, standard_error

# five users; ranks of their targets in the full lists: 1, 3, absent, 2, 4 (beyond k=3)
RANKED = np.array(
    [
        [4, 1, 2, 3],
        [1, 2, 4, 3],
        [1, 2, 3, 4],
        [2, 5, 1, 3],
        [2, 3, 1, 6],
    ]
)
TARGETS = np.array([4, 4, 9, 5, 6])
K = 3
# per-user gains at k = 3, by hand
GAINS = {
    "ndcg": [1.0, 1 / math.log2(4), 0.0, 1 / math.log2(3), 0.0],
    "hit_rate": [1.0, 1.0, 0.0, 1.0, 0.0],
    "mrr": [1.0, 1 / 3, 0.0, 1 / 2, 0.0],
}


@pytest.mark.parametrize("metric", sorted(GAINS))
def test_standard_error_is_the_sample_std_of_per_user_gains_over_sqrt_n(metric):
    gains = np.array(GAINS[metric])
    expected = gains.std(ddof=1) / math.sqrt(len(gains))
    assert standard_error(RANKED, TARGETS, metric, K) == pytest.approx(expected, rel=1e-12)
    # the cut-off counts: at k = 4 user 5's target (rank 4) is a hit
    at_4 = standard_error(RANKED, TARGETS, metric, 4)
    assert at_4 != pytest.approx(expected)


def test_standard_error_takes_lists():
    assert standard_error(RANKED.tolist(), TARGETS.tolist(), "hit_rate", K) == pytest.approx(
        np.std([1, 1, 0, 1, 0], ddof=1) / math.sqrt(5)
    )


def test_standard_error_is_nan_without_two_users_or_a_known_gain():
    assert math.isnan(standard_error(RANKED[:1], TARGETS[:1], "ndcg", K))
    assert math.isnan(standard_error(RANKED, TARGETS, "precision", K))
    assert math.isnan(standard_error(RANKED, TARGETS, "coverage", K))
    # equal gains: zero spread, zero error
    assert standard_error(RANKED, RANKED[:, 0], "ndcg", K) == 0.0


def test_cold_targets_are_misses():
    # a cold target (-1 under "miss") never matches an empty slot (0)
    ranked = np.array([[1, 0], [2, 0], [3, 1]])
    assert standard_error(ranked, np.array([1, -1, 1]), "hit_rate", 2) == pytest.approx(
        np.std([1, 0, 1], ddof=1) / math.sqrt(3)
    )


@pytest.fixture(scope="module")
def scored():
    X = make_sequential_world(
        n_users=60, n_items=20, min_length=4, max_length=8, noise=0.5, random_state=0
    )
    order = X.sort_values(["user_id", "timestamp"], kind="stable")
    last = order.groupby("user_id").cumcount(ascending=False) == 0
    model = PopularityRecommender().fit(order[~last])
    return model, frame_holdout(model, order)


def test_score_holdout_puts_a_standard_error_per_metric_and_cutoff(scored):
    model, holdout = scored
    metrics, ks = ("ndcg", "hit_rate", "mrr"), (5, 10)
    scores = score_holdout(model, holdout, metrics, ks, standard_errors=True)
    assert set(scores.extra) == {f"{m}@{k}_se" for m in metrics for k in ks}
    ranked, _ = model.rank(holdout.history, max(ks))
    targets = np.where(holdout.targets == 0, -1, holdout.targets)
    for m in metrics:
        for k in ks:
            got = scores.extra[f"{m}@{k}_se"]
            assert got == pytest.approx(standard_error(ranked, targets, m, k))
            assert 0 < got < 0.2
    # by hand for one of them: the gains whose mean is the metric itself
    top = ranked[:, :10]
    hit = (top == targets[:, None]).any(1)
    rank = (top == targets[:, None]).argmax(1) + 1
    gains = np.where(hit, 1 / np.log2(rank + 1), 0.0)
    assert scores.values["ndcg@10"] == pytest.approx(gains.mean())
    assert scores.extra["ndcg@10_se"] == pytest.approx(gains.std(ddof=1) / math.sqrt(len(gains)))
    # the values themselves do not change
    plain = score_holdout(model, holdout, metrics, ks)
    assert plain.values == scores.values and plain.extra == {}


def test_score_holdout_standard_errors_follow_the_cold_target_policy(scored):
    model, holdout = scored
    targets = holdout.targets.copy()
    targets[::4] = 0  # a quarter of the targets unknown to the model
    cold = Holdout(holdout.history, targets)
    ranked, _ = model.rank(holdout.history, 10)
    miss = score_holdout(model, cold, ("hit_rate",), (10,), standard_errors=True)
    assert miss.extra["hit_rate@10_se"] == pytest.approx(
        standard_error(ranked, np.where(targets == 0, -1, targets), "hit_rate", 10)
    )
    excluded = score_holdout(
        model,
        cold,
        ("hit_rate",),
        (10,),
        cold_targets="exclude",
        warn=False,
        standard_errors=True,
    )
    known = targets > 0
    assert excluded.extra["hit_rate@10_se"] == pytest.approx(
        standard_error(ranked[known], targets[known], "hit_rate", 10)
    )
    assert excluded.extra["hit_rate@10_se"] != pytest.approx(miss.extra["hit_rate@10_se"])
