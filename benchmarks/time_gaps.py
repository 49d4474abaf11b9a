"""What Protocol TIME asks of a next-item model, measured on a dataset of ../shared/data.

Under Protocol TIME the target is a test user's first event after the cut-off and the
input is everything before it, so a target often comes long after the user's last event;
a model trained on next events learns mostly from events a few seconds or minutes apart.
This script prints, for one dataset:

- the gap between each test user's last event before the cut-off and the target
  (quantiles, in days), against the share of training next-event pairs that are more than
  one day or 30 days apart;
- NDCG@10 / HR@10 of :class:`skseqrec.PopularityRecommender` counting every training event
  and only the events of the last ``--periods`` days before the cut-off (a drift check:
  when recent popularity beats every-event popularity, what is popular just before the
  cut-off matters more than what a user watched last);
- the same for popularity counted over the training events that came more than
  ``--gaps`` days after the user's previous event ("what returning users pick"): the
  signal a model told the gap before the item it predicts could learn, measured without
  any model.

The figures go to ``results/time_gaps_<dataset>.json`` with the command. Example::

    python -m benchmarks.time_gaps --dataset ml-1m-users1-2999 --periods 7 30 90 180 --gaps 1 7 30
"""

from __future__ import annotations

import argparse
import json
import sys

import numpy as np
import pandas as pd

import skseqrec
from skseqrec import PopularityRecommender

from .run import RESULTS, load_dataset, split_time

DAY = 86_400  # the shared datasets' timestamps are epoch seconds


def gap_figures(fit: pd.DataFrame, context: pd.DataFrame, targets: pd.DataFrame) -> dict:
    """Target gaps of the test users and next-event gaps of the training data, in days."""
    last = context.groupby("user_id")["timestamp"].max()
    gaps = (targets["timestamp"].to_numpy() - last.loc[targets["user_id"]].to_numpy()) / DAY
    ordered = fit.sort_values(["user_id", "timestamp"], kind="stable")
    steps = ordered.groupby("user_id")["timestamp"].diff().dropna().to_numpy() / DAY
    quantiles = (10, 25, 50, 75, 90)
    return {
        "test_users": int(targets["user_id"].nunique()),
        "target_gap_days_quantiles": dict(
            zip(map(str, quantiles), np.percentile(gaps, quantiles).round(2).tolist())
        ),
        "training_span_days": float((fit["timestamp"].max() - fit["timestamp"].min()) / DAY),
        "training_pairs": int(len(steps)),
        "training_pairs_over_1_day": float(np.mean(steps > 1)),
        "training_pairs_over_30_days": float(np.mean(steps > 30)),
    }


def popularity_figures(frame: pd.DataFrame, periods) -> list[dict]:
    """NDCG@10 / HR@10 under Protocol TIME of popularity over every event and per period."""
    rows = []
    for days in [None, *periods]:
        model = PopularityRecommender(period=None if days is None else days * DAY)
        table = skseqrec.evaluate(model, frame, "time", k=10)
        values = table.set_index("metric")["value"]
        rows.append(
            {
                "period_days": days,
                "ndcg@10": float(values["ndcg"]),
                "hr@10": float(values["hit_rate"]),
            }
        )
    return rows


def return_popularity_figures(frame: pd.DataFrame, fit: pd.DataFrame, gaps) -> list[dict]:
    """NDCG@10 / HR@10 under Protocol TIME of popularity over the training events that
    followed the user's previous event by more than ``gap`` days (targets of items it
    never counted are misses)."""
    ordered = fit.sort_values(["user_id", "timestamp"], kind="stable")
    steps = ordered.groupby("user_id")["timestamp"].diff().to_numpy() / DAY
    rows = []
    for days in gaps:
        returning = ordered[steps > days]
        model = PopularityRecommender().fit(returning)
        table = skseqrec.evaluate(model, frame, "time", k=10, fit=False)
        values = table.set_index("metric")["value"]
        rows.append(
            {
                "min_gap_days": days,
                "events": int(len(returning)),
                "ndcg@10": float(values["ndcg"]),
                "hr@10": float(values["hit_rate"]),
            }
        )
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--dataset", default="ml-1m-users1-2999")
    parser.add_argument("--periods", nargs="+", type=float, default=[7, 30, 90, 180])
    parser.add_argument("--gaps", nargs="+", type=float, default=[1, 7, 30])
    args = parser.parse_args(argv)
    frame, path, digest = load_dataset(args.dataset)
    fit, _, context, targets, cutoff = split_time(frame)
    record = {
        "dataset": args.dataset,
        "file": path,
        "sha256": digest,
        "protocol": "time",
        "cutoff": pd.to_datetime(cutoff, unit="s").isoformat(),
        **gap_figures(fit, context, targets),
        "popularity": popularity_figures(frame, args.periods),
        "returning_popularity": return_popularity_figures(frame, fit, args.gaps),
        "command": "python -m benchmarks.time_gaps "
        + " ".join(sys.argv[1:] if argv is None else argv),
    }
    print(json.dumps({k: v for k, v in record.items() if k not in ("file", "sha256")}, indent=1))
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / f"time_gaps_{args.dataset}.json").write_text(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
