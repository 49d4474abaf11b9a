"""Every trainable estimator, at its defaults, learns something real on real data.

``python -m pytest -m slow tests/test_slow_real_data.py`` (the default suite deselects
these: ``setup.cfg`` has ``-m "not slow and not gpu"``). On the bundled MovieLens
ml-latest-small (610 users, 9,724 movies) under Protocol LOO (each user's last event is the
target, full-catalogue ranking, seen items excluded, ``skseqrec.evaluate``), each next-item
estimator at its defaults, with only ``epochs`` set and ``random_state=0``, must beat
:class:`~skseqrec.PopularityRecommender`'s NDCG@10 (0.0194) by at least
``MIN_RATIO_TO_POPULARITY``. (``SASRecRegressorEstimator`` predicts ratings, not the next
item, and has no test here: at its defaults it predicts the held-out last ratings worse
than their training mean.)

The presets early-stop on their own validation users and restore the best round's
weights, but not before 1,000 optimiser steps (gSASRec 2,000), about 50 epochs of batches
of 32 on 610 users, so a budget below that is the stopping rule here. Each budget includes
the round at which that estimator's unbounded default fit found its best validation
NDCG@10, or was measured to clear the bar (the figures next to ``BUDGETS``). The whole
file takes about 17 minutes on 2 idle CPU threads, half of it gSASRec's.
"""

from __future__ import annotations

import pytest

from skseqrec import (
    BERT4RecEstimator,
    ESASRecEstimator,
    GSASRecEstimator,
    HSTUEstimator,
    PopularityRecommender,
    SASRecClassifierEstimator,
    SequentialTransformerEstimator,
    evaluate,
)
from skseqrec.datasets import load_ml_latest_small

pytestmark = pytest.mark.slow

#: a model must reach this multiple of popularity's NDCG@10 (one seed, 610 test users: the
#: standard error of NDCG@10 is about 0.006, a third of popularity's 0.0194)
MIN_RATIO_TO_POPULARITY = 1.15

# estimator class -> epochs; everything else at the class defaults. The figures quoted are
# LOO NDCG@10 at random_state=0 (popularity 0.0194), from runs of these budgets or from
# the unbounded default fits of ``python -m benchmarks.defaults`` (docs/results.rst),
# whose best validation round the budget includes; times are for 2 idle CPU threads.
BUDGETS = {
    # no early stopping: scikit-rec's 200 epochs of batches of 128 are 1,000 steps on 610
    # users and score 0.0223 (1.15x, the defaults table in results.rst); 300 epochs
    # (1,500 steps) measured 0.0358 (1.84x), about 2 min. The test asks that it learns
    # given the steps; the defaults table shows what the fixed default gives here.
    SASRecClassifierEstimator: 300,
    # measured: best round at epoch 23 (step 450), 0.0295, about 2 min
    ESASRecEstimator: 25,
    # gSASRec learns slowly at its defaults (dropout 0.5, 256 negatives per position):
    # 40 epochs gave 0.0213 (1.10x); its default fit's best round is epoch 123, 0.0385;
    # about 8 min, the longest test here
    GSASRecEstimator: 125,
    # measured: 60 epochs give 0.0247 (best round 58), about 1.1 min
    BERT4RecEstimator: 60,
    # measured: best round at epoch 35 (step 700), 0.0350, about 2.5 min
    HSTUEstimator: 36,
    # measured: best round at epoch 23 (step 450), 0.0408, about 2.3 min
    SequentialTransformerEstimator: 25,
}


@pytest.fixture(scope="module")
def ratings():
    return load_ml_latest_small()


@pytest.fixture(scope="module")
def popularity_ndcg(ratings):
    result = evaluate(PopularityRecommender(), ratings, protocol="loo", k=10)
    return float(result.loc[result["metric"] == "ndcg", "value"].iloc[0])


@pytest.mark.parametrize("cls", list(BUDGETS), ids=lambda cls: cls.__name__)
def test_default_estimator_beats_popularity(ratings, popularity_ndcg, cls):
    estimator = cls(epochs=BUDGETS[cls], random_state=0)
    result = evaluate(estimator, ratings, protocol="loo", k=10)
    row = result[result["metric"] == "ndcg"].iloc[0]
    assert row["n_users"] == ratings["user_id"].nunique()
    ratio = row["value"] / popularity_ndcg
    assert ratio >= MIN_RATIO_TO_POPULARITY, (
        f"{cls.__name__}(epochs={BUDGETS[cls]}) LOO NDCG@10 {row['value']:.4f} is "
        f"{ratio:.2f}x popularity's {popularity_ndcg:.4f} (needs "
        f"{MIN_RATIO_TO_POPULARITY}x); fit took {row['fit_seconds']:.0f} s"
    )
