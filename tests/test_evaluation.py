"""Multi-step (autoregressive) evaluation: predictions are fed back, true events never."""

from __future__ import annotations

import pandas as pd
import pytest

from skseqrec import PopularityRecommender, evaluate
from skseqrec.exceptions import DataDropWarning


def _frame():
    rows = []
    for u in range(6):  # popularity donors; their held-out (last two) events are "y"
        for t, item in enumerate(["a", "b", "a", "y", "y"]):
            rows.append((f"p{u}", item, t))
    for u in range(3):  # history [d]; held out [c, b] ("c" is unknown to the model)
        for t, item in enumerate(["d", "c", "b"]):
            rows.append((f"u{u}", item, t))
    return pd.DataFrame(rows, columns=["user_id", "item_id", "timestamp"])


def test_predictions_not_truths_are_fed_back():
    X = _frame()
    with pytest.warns(DataDropWarning, match="15 of 18 held-out events are items unknown"):
        result = evaluate(PopularityRecommender(), X, k=1, n_steps=2)
    hits = result[result["metric"] == "hit_rate"].set_index("step")["value"]
    # step 1: everyone gets "a" (most popular unseen): no hit.
    assert hits[1] == 0.0
    # step 2: u* had "a" fed back, so "b" comes next and hits; had the truth "c" been fed
    # back, "a" would come first and miss. p* get "d" and miss "y".
    assert hits[2] == pytest.approx(3 / 9)
    assert set(result["n_targets"]) == {18} and set(result["n_users"]) == {9}
    assert set(result["n_train_rows"]) == {len(X) - 18}


def test_n_steps_is_validated():
    with pytest.raises(ValueError, match="n_steps"):
        evaluate(PopularityRecommender(), _frame(), n_steps=0)
    with pytest.raises(ValueError, match="protocol='loo'"):
        evaluate(PopularityRecommender(), _frame(), protocol="time", n_steps=2)
