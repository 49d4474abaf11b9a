"""Two-stage recommendation (retriever + MLP ranker with item metadata), and cold items.

Example (2 threads, one job at a time, nothing else running)::

    python -m benchmarks.two_stage --threads 2
    python -m benchmarks.two_stage --datasets ml-latest-small --protocols loo --cold 0

For each dataset with an ``items.csv.gz`` (ml-1m-users1-2999, ml-latest-small) and each
protocol (../shared/PROTOCOL.md: LOO, TIME), one ``TwoStageRecommender`` at its defaults
(seed only; retriever ``SequentialTransformerEstimator``, ranker ``MLPRankerEstimator``,
200 candidates) is fitted on the protocol's training data with the items' genres and year,
and the test users are ranked (full catalogue, seen items excluded) by:

* ``popularity``: ``PopularityRecommender`` on the same training data;
* ``retriever``: the two-stage model's own retriever alone (the candidate generator: fitted
  on the training data without each user's last event, the ranker's targets);
* ``two_stage``: retriever + ranker;
* ``ranker_ids_masked``: the ranker alone over the whole catalogue with every item's id
  part hidden (``rank_from_metadata``): the cold-start view of every item.

Each figure is also given on the users whose target is a *warm* item (known to the
retriever). The cold-item experiment (``--cold N``, LOO): N random items with at least 20
events are removed from the training data and from the histories (new items nobody has
seen); their events stay only as test targets, and their metadata stays in
``item_features``. On the users whose target is such a cold item: HR@10 of the two-stage
model over the full catalogue, and HR@10/NDCG@10 of ranking the cold items alone against
chance (10 / N) and a metadata-popularity baseline (an item's mean genre share of the
training events, the same list for every user). One JSON record per (dataset, protocol,
experiment) goes to ``results/two_stage/``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch

import skseqrec
from skseqrec import PopularityRecommender, TwoStageRecommender
from skseqrec.model_selection import GlobalTemporalSplit, LeaveLastOut
from skseqrec.protocol import frame_holdout, metric_values

from .data import shared_data_path
from .run import load_dataset

RESULTS = Path(__file__).resolve().parent / "results" / "two_stage"
DATASETS = ("ml-latest-small", "ml-1m-users1-2999")
MIN_COLD_EVENTS = 20


def load_items(name: str) -> pd.DataFrame:
    """``item_id, genres, year`` of a dataset's items.csv.gz (the title is free text)."""
    items = pd.read_csv(shared_data_path(name) / "items.csv.gz")
    return items[["item_id", "genres", "year"]]


def test_split(frame: pd.DataFrame, protocol: str):
    """(training rows, test fold, target per test user sorted by user id)."""
    splitter = LeaveLastOut() if protocol == "loo" else GlobalTemporalSplit(test_quantile=0.05)
    train_index, test_index = next(splitter.split(frame))
    fold = frame.iloc[test_index]
    ordered = fold.sort_values(["user_id", "timestamp"], kind="stable")
    targets = ordered.groupby("user_id").tail(1).set_index("user_id")["item_id"]
    return frame.iloc[train_index], fold, targets[ordered.groupby("user_id").size() >= 2]


class _MetadataView:
    """A fitted two-stage model whose ``rank`` is its ``rank_from_metadata``."""

    def __init__(self, model):
        self.model = model

    def __getattr__(self, name):
        return getattr(self.model, name)

    def rank(self, sequences, top_k=10, *, exclude_seen=True, allowed=None):
        return self.model.rank_from_metadata(
            sequences, top_k, exclude_seen=exclude_seen, allowed=allowed
        )


def ranked_ids(model, fold: pd.DataFrame, k: int = 10, allowed_ids=None) -> np.ndarray:
    """Top-k item ids (object array, None where empty) of each test user, sorted by user."""
    holdout = frame_holdout(model, fold)
    allowed = None
    if allowed_ids is not None:
        allowed = np.zeros(model.n_items_ + 1, dtype=bool)
        codes = model.item_encoder_.encode(np.asarray(allowed_ids))
        allowed[codes[codes > 0]] = True
    codes, _ = model.rank(holdout.history, k, exclude_seen=True, allowed=allowed)
    ids = np.empty(codes.shape, dtype=object)
    ids[:] = None
    ids[codes > 0] = model.item_encoder_.decode(codes[codes > 0])
    return ids


def metrics(ids: np.ndarray, targets: np.ndarray, mask=None) -> dict:
    """HR@10 and NDCG@10 of id lists against target ids (optionally on a subset)."""
    if mask is not None:
        ids, targets = ids[mask], targets[mask]
    if not len(targets):
        return {"hr@10": float("nan"), "ndcg@10": float("nan"), "n_users": 0}
    index = pd.Index(pd.unique(np.concatenate([targets, ids[ids != None].ravel()])))  # noqa: E711
    # ids -> codes 1.. over the ids present
    filled = ids != None  # noqa: E711
    codes = np.zeros(ids.shape, dtype=np.int64)  # 0: an empty slot
    codes[filled] = index.get_indexer(ids[filled]) + 1
    values = metric_values(
        codes, index.get_indexer(targets) + 1, ("hit_rate", "ndcg"), (10,), n_items=len(index)
    )
    return {"hr@10": values["hit_rate@10"], "ndcg@10": values["ndcg@10"], "n_users": len(targets)}


def genre_popularity_list(items: pd.DataFrame, train: pd.DataFrame, pool) -> np.ndarray:
    """``pool`` ordered by each item's mean genre share of the training events."""
    genres = items.set_index("item_id")["genres"].fillna("").str.split("|")
    events = genres.reindex(train["item_id"]).explode()
    share = events.value_counts(normalize=True)
    pool_genres = genres.reindex(pool).explode()
    score = pool_genres.map(share).fillna(0.0).groupby(level=0).mean()
    return score.reindex(pool).fillna(0.0).sort_values(ascending=False, kind="stable").index


def run_warm(dataset: str, protocol: str, seed: int) -> dict:
    frame, path, digest = load_dataset(dataset)
    items = load_items(dataset)
    train, fold, targets = test_split(frame, protocol)
    record = _header(dataset, protocol, "warm", path, digest, frame, train)
    started = time.perf_counter()
    model = TwoStageRecommender(random_state=seed).fit(train, item_features=items)
    record["fit_seconds"] = time.perf_counter() - started
    popularity = PopularityRecommender().fit(train)
    truth = targets.to_numpy()
    warm = np.isin(truth, model.retriever_.classes_)
    for name, estimator in (
        ("popularity", popularity),
        ("retriever", model.retriever_),
        ("two_stage", model),
        ("ranker_ids_masked", _MetadataView(model)),
    ):
        started = time.perf_counter()
        ids = ranked_ids(estimator, fold)
        record["models"][name] = {
            "all": metrics(ids, truth),
            "warm_targets": metrics(ids, truth, warm),
            "rank_seconds": time.perf_counter() - started,
        }
    record["ranker"] = _ranker_summary(model)
    return record


def run_cold(dataset: str, seed: int, n_cold: int) -> dict:
    frame, path, digest = load_dataset(dataset)
    items = load_items(dataset)
    train, fold, targets = test_split(frame, "loo")
    counts = train["item_id"].value_counts()
    eligible = np.sort(counts.index[counts >= MIN_COLD_EVENTS].to_numpy())
    eligible = eligible[np.isin(eligible, items["item_id"])]
    cold = np.random.default_rng(seed).choice(eligible, size=n_cold, replace=False)
    target_rows = (
        fold.sort_values(["user_id", "timestamp"], kind="stable").groupby("user_id").tail(1)
    )
    is_target = fold.index.isin(target_rows.index)
    train = train[~train["item_id"].isin(cold)]
    fold = fold[is_target | ~fold["item_id"].isin(cold)]
    targets = targets.loc[
        targets.index.isin(fold.groupby("user_id").size().loc[lambda s: s >= 2].index)
    ]
    record = _header(dataset, "loo", f"cold{n_cold}", path, digest, frame, train)
    started = time.perf_counter()
    model = TwoStageRecommender(random_state=seed).fit(train, item_features=items)
    record["fit_seconds"] = time.perf_counter() - started
    truth = targets.to_numpy()
    cold_target = np.isin(truth, cold)
    record["n_cold_items"] = int(n_cold)
    record["n_cold_target_users"] = int(cold_target.sum())
    full = ranked_ids(model, fold)
    only_cold = ranked_ids(model, fold, allowed_ids=cold)
    retriever = ranked_ids(model.retriever_, fold)
    baseline = np.asarray(genre_popularity_list(items, train, cold)[:10], dtype=object)
    baseline_ids = np.broadcast_to(baseline, (len(truth), len(baseline)))
    record["models"] = {
        "two_stage_full_catalogue": {
            "cold_targets": metrics(full, truth, cold_target),
            "warm_targets": metrics(full, truth, ~cold_target),
            "share_of_cold_items_in_top10": float(np.isin(full, cold).mean()),
        },
        "retriever_full_catalogue": {
            "cold_targets": metrics(retriever, truth, cold_target),
            "warm_targets": metrics(retriever, truth, ~cold_target),
        },
        "two_stage_cold_items_only": {"cold_targets": metrics(only_cold, truth, cold_target)},
        "genre_popularity_cold_items_only": {
            "cold_targets": metrics(baseline_ids, truth, cold_target)
        },
        "chance_cold_items_only": {"cold_targets": {"hr@10": 10 / n_cold}},
    }
    record["ranker"] = _ranker_summary(model)
    return record


def _header(dataset, protocol, experiment, path, digest, frame, train) -> dict:
    return {
        "dataset": dataset,
        "protocol": protocol,
        "experiment": experiment,
        "file": path,
        "sha256": digest,
        "n_events": int(len(frame)),
        "n_train_events": int(len(train)),
        "models": {},
        "threads": torch.get_num_threads(),
        "platform": platform.platform(),
        "versions": {"skseqrec": skseqrec.__version__, "torch": torch.__version__},
    }


def _ranker_summary(model) -> dict:
    ranker = model.ranker_
    return {
        "n_lists": int(model.n_ranker_lists_),
        "n_epochs": int(ranker.n_epochs_),
        "best_epoch": int(ranker.best_epoch_),
        "stop_reason": ranker.stop_reason_,
        "best_valid_ndcg@10": float(ranker.history_["valid_ndcg@10"].max()),
        "retriever_stop_reason": model.retriever_.stop_reason_,
        "load_average_at_end": os.getloadavg()[0],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
    }


TABLE = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "two_stage_table.rst"


def write_table() -> str:
    """The docs tables from every record in ``results/two_stage/``."""
    records = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    warm = [r for r in records if r["experiment"] == "warm"]
    cold = [r for r in records if r["experiment"] != "warm"]
    lines = []
    if warm:
        lines += [
            ".. list-table:: NDCG@10 / HR@10, all test users and those with a warm target",
            "   :header-rows: 1",
            "",
            "   * - dataset, protocol",
            "     - model",
            "     - NDCG@10",
            "     - HR@10",
            "     - NDCG@10 warm",
            "     - users (warm)",
        ]
        for r in warm:
            for name, m in r["models"].items():
                lines += [
                    f"   * - {r['dataset']}, {r['protocol'].upper()}",
                    f"     - {name}",
                    f"     - {m['all']['ndcg@10']:.4f}",
                    f"     - {m['all']['hr@10']:.4f}",
                    f"     - {m['warm_targets']['ndcg@10']:.4f}",
                    f"     - {m['all']['n_users']} ({m['warm_targets']['n_users']})",
                ]
        lines.append("")
    if cold:
        lines += [
            ".. list-table:: Cold items (Protocol LOO): users whose target is a cold item",
            "   :header-rows: 1",
            "",
            "   * - dataset (cold items)",
            "     - ranking",
            "     - HR@10",
            "     - NDCG@10",
            "     - users",
        ]
        for r in cold:
            for name, m in r["models"].items():
                values = m["cold_targets"]
                ndcg = values.get("ndcg@10")
                lines += [
                    f"   * - {r['dataset']} ({r['n_cold_items']})",
                    f"     - {name}",
                    f"     - {values['hr@10']:.4f}",
                    f"     - {'' if ndcg is None else f'{ndcg:.4f}'}",
                    f"     - {values.get('n_users', r['n_cold_target_users'])}",
                ]
        lines.append("")
    commands = sorted({r.get("command", "") for r in records})
    lines += ["Commands: " + "; ".join(f"``{c}``" for c in commands if c), ""]
    if records:
        r = records[0]
        lines.append(
            f"{r['threads']} torch threads, one job at a time, {r['platform']}; fit times "
            "are in the JSON records."
        )
    text = "\n".join(lines) + "\n"
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(text)
    return text


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--protocols", nargs="+", default=["loo", "time"], choices=["loo", "time"])
    parser.add_argument("--cold", type=int, default=100, help="cold items (0: no experiment)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--table", action="store_true", help="only rewrite the docs table")
    args = parser.parse_args(argv)
    if args.table:
        print(write_table())
        return
    torch.set_num_threads(args.threads)
    RESULTS.mkdir(parents=True, exist_ok=True)
    command = "python -m benchmarks.two_stage " + " ".join(
        argv if argv is not None else sys.argv[1:]
    )
    jobs = [(d, p, "warm") for d in args.datasets for p in args.protocols]
    if args.cold:
        jobs += [(d, "loo", f"cold{args.cold}") for d in args.datasets]
    for dataset, protocol, experiment in jobs:
        out = RESULTS / f"{dataset}_{protocol}_{experiment}.json"
        if out.exists():
            print(f"{out.name}: exists, skipped")
            continue
        if experiment == "warm":
            record = run_warm(dataset, protocol, args.seed)
        else:
            record = run_cold(dataset, args.seed, args.cold)
        record["command"] = command
        out.write_text(json.dumps(record, indent=1))
        print(json.dumps({k: record[k] for k in ("dataset", "protocol", "experiment", "models")}))
    write_table()


if __name__ == "__main__":
    main()
