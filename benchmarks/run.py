"""Train, evaluate under a PROTOCOL.md protocol and write a JSON record.

Example::

    python -m benchmarks.run --dataset ml-100k --protocol loo --model sasrec --seeds 0 1 2

Protocols (../shared/PROTOCOL.md), full-catalogue ranking, seen items excluded:

* ``loo``: test target = each user's last event; the model is fitted on everything before
  each user's last two events and early-stopped on the second-to-last (``X_valid``); at test
  time the input is the whole history before the target (validation event included).
* ``time``: cut-off T leaves the last 5 % of events at or after it (the package's rule,
  :func:`skseqrec.protocol.time_cutoff`); train on events before T
  (early stopping carves its validation set out of that with the same rule); test users
  have events on both sides; target = first event at/after T, input = all events before T.
"""

from __future__ import annotations

import argparse
import hashlib
import inspect
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
from sklearn.base import clone

import skseqrec
from skseqrec import protocol
from skseqrec.model_selection import GlobalTemporalSplit, LeaveLastOut
from skseqrec.training import EarlyStopping, TimeBudget

from .data import shared_data_path
from .models import MODELS

RESULTS = Path(__file__).resolve().parent / "results"


def load_dataset(name: str) -> tuple[pd.DataFrame, str, str]:
    """(interactions, file path, sha256) of a dataset in ../shared/data."""
    folder = shared_data_path(name)
    if folder is None:
        sys.exit(f"dataset {name!r} not found under shared/data (set SKSEQREC_SHARED_DATA)")
    path = folder / (
        "ratings.csv.gz" if (folder / "ratings.csv.gz").exists() else "interactions.csv.gz"
    )
    frame = pd.read_csv(path)
    if "timestamp" not in frame.columns:  # order-only sets: position is the time
        frame = frame.rename(columns={"seq_index": "timestamp"})
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    return frame[["user_id", "item_id", "timestamp"]], str(path), digest


def split(frame, protocol, test_quantile=0.05):
    """The protocol's test split, made by the package's splitters (one cut rule).

    Returns ``(fit, valid, context, targets, test_fold, cutoff)``: ``fit`` trains the
    model-selection model and ``valid`` is its ``X_valid`` (LOO; None under TIME, where
    the estimator carves its validation out of ``fit`` with the same rule); ``context``
    is the final model's training data and the test users' input; ``targets`` one row
    per test user; ``test_fold`` the rows ``skseqrec.evaluate`` scores.
    """
    if protocol == "loo":
        splitter = LeaveLastOut()
    else:
        splitter = GlobalTemporalSplit(test_quantile=test_quantile)
    train_index, test_index = next(splitter.split(frame))
    context = frame.iloc[train_index]
    test_fold = frame.iloc[test_index]
    targets = frame.iloc[np.setdiff1d(test_index, train_index)]
    cutoff = None
    if protocol == "loo":
        # model selection: the same rule one event earlier (second-to-last = validation)
        fit_index, _ = next(LeaveLastOut().split(context))
        return context.iloc[fit_index], context, context, targets, test_fold, cutoff
    cutoff = splitter.get_cutoffs(frame)[0]
    return context, None, context, targets, test_fold, cutoff


def split_loo(frame):
    """(fit data, validation frame, test context, test targets) under Protocol LOO."""
    fit, valid, context, targets, _, _ = split(frame, "loo")
    return fit, valid, context, targets


def split_time(frame, test_quantile=0.05):
    """(fit data, None, test context, test targets, cut-off) under Protocol TIME."""
    fit, valid, context, targets, _, cutoff = split(frame, "time", test_quantile)
    test_users = targets["user_id"].unique()
    return fit, valid, context[context["user_id"].isin(test_users)], targets, cutoff


KEYS = {"hit_rate": "hr", "ndcg": "ndcg", "mrr": "mrr"}


def evaluate(model, frame, protocol, ks=(10, 20)):
    """(HR/NDCG@ks and MRR@10, number of test users) of a fitted model: ``skseqrec.evaluate``
    with ``fit=False`` on the protocol's test fold of ``frame``, the package's own number."""
    table = skseqrec.evaluate(model, frame, protocol, k=ks, fit=False)
    out = {}
    for row in table.itertuples():
        if row.metric in KEYS and (row.metric != "mrr" or row.k == 10):
            out[f"{KEYS[row.metric]}@{row.k}"] = float(row.value)
    return dict(sorted(out.items(), key=lambda kv: ("mrr" in kv[0], kv[0]))), int(
        table["n_users"].iloc[0]
    )


def score_recommendations(recs, targets, ks=(10, 20)):
    """(HR/NDCG@ks and MRR@10, number of test users) of a peer's ``user_id,item_id,rank`` lists.

    One target per user (``targets``: ``user_id,item_id``); the mean is over every target
    user, a user without a list (or with a short one) counts as a miss where it has none.
    The metric loop is the package's (:func:`skseqrec.protocol.metric_values`).
    """
    width = max(ks)
    ranked = recs.pivot(index="user_id", columns="rank", values="item_id")
    ranked = ranked.reindex(index=np.sort(targets["user_id"].unique()), columns=range(1, width + 1))
    truth = targets.set_index("user_id")["item_id"].loc[ranked.index].to_numpy()
    ranked = ranked.to_numpy()
    filled = np.where(pd.isna(ranked), -1, ranked)
    values = protocol.metric_values(filled, truth, ("hit_rate", "ndcg"), ks, n_items=1)
    values.update(protocol.metric_values(filled, truth, ("mrr",), (10,), n_items=1))
    out = {f"{KEYS[key.split('@')[0]]}@{key.split('@')[1]}": v for key, v in values.items()}
    return out, len(truth)


def summarise(runs: list[dict]) -> dict:
    """Mean and std over seeds of every metric of ``runs`` (each with a ``metrics`` dict)."""
    summary = {}
    for key in runs[0]["metrics"]:
        values = np.array([run["metrics"][key] for run in runs])
        summary[key] = {"mean": float(values.mean()), "std": float(values.std())}
    return summary


def hardware() -> dict:
    info = {
        "cpu_count": os.cpu_count(),
        "torch_threads": torch.get_num_threads(),
        "platform": platform.platform(),
    }
    if torch.cuda.is_available():
        info["gpu"] = torch.cuda.get_device_name(0)
    return info


def _parse_override(item: str):
    name, _, text = item.partition("=")
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        value = text  # a bare string such as post_norm
    return name, value


def run_one(args, frame, seed):
    factory = MODELS[args.model]
    fit, valid, context, targets, _, cut = split(frame, args.protocol)
    model = factory(
        seed=seed,
        epochs=args.epochs,
        patience=args.patience,
        protocol=args.protocol,
        max_len=args.max_len,
    )
    if args.set:
        model.set_params(**dict(_parse_override(item) for item in args.set))
    trained = "epochs" in model.get_params()  # popularity has no epochs to select
    callbacks = []
    if args.time_budget and "callbacks" in model.get_params():
        # equal-CPU-budget comparisons: stop before the epoch that would overrun the budget
        callbacks.append(TimeBudget(args.time_budget))
    if args.patience_steps is not None and trained:
        # patience counted in optimiser steps (validation every epoch)
        model.set_params(
            early_stopping_patience=None,
            early_stopping_steps=args.patience_steps,
            early_stopping_min_steps=args.min_steps,
        )
    if callbacks:
        model.set_params(callbacks=callbacks)
    # PROTOCOL.md: model selection trains before the validation targets; the final test
    # model trains on everything before the test targets (LOO: the validation targets
    # included; TIME: the whole pre-cut-off period, validation carve-out included) for the
    # number of epochs the selection chose.
    final_data = context if args.protocol == "loo" else fit
    selection = selection_history = None
    started = time.perf_counter()
    if args.final_epochs is not None and trained:
        model.set_params(
            epochs=args.final_epochs,
            early_stopping_patience=None,
            early_stopping_steps=None,
            validation=None,
            callbacks=[c for c in callbacks if not isinstance(c, EarlyStopping)],
        )
        model.fit(final_data)
        selection = {"epochs": args.final_epochs, "chosen_by": "--final-epochs"}
    else:
        if valid is not None and "X_valid" in inspect.signature(model.fit).parameters:
            model.fit(fit, X_valid=valid)
        else:
            model.fit(final_data if args.refit else fit)
        if args.refit and trained and model.best_epoch_ is not None:
            history = model.history_
            selection = {
                "epochs": int(model.best_epoch_),
                "chosen_by": model.stop_reason_,
                "epochs_trained": int(model.n_epochs_),
                "seconds": time.perf_counter() - started,
            }
            selection_history = history.to_dict(orient="list")
            model = clone(model).set_params(
                epochs=int(model.best_epoch_),
                early_stopping_patience=None,
                early_stopping_steps=None,
                validation=None,
                callbacks=[c for c in callbacks if not isinstance(c, EarlyStopping)],
            )
            model.fit(final_data)
    fit_seconds = time.perf_counter() - started
    started = time.perf_counter()
    values, n_users = evaluate(model, frame, args.protocol)
    eval_seconds = time.perf_counter() - started
    record = {
        "seed": seed,
        "config": {k: v for k, v in model.get_params().items() if not k.endswith("_col")},
        "final_model": (
            "the model-selection model (trained before the validation targets)"
            if selection is None and trained
            else f"trained on the final training data for {selection['epochs']} epochs"
            if selection is not None
            else "fitted on the final training data"
            if args.refit
            else "fitted on the model-selection training data"
        ),
        "metrics": values,
        "n_test_users": n_users,
        "n_test_targets": n_users,
        "fit_seconds": fit_seconds,
        "recommend_seconds": eval_seconds,
    }
    if selection is not None:
        record["selection"] = selection
    if trained:
        history = selection_history or model.history_.to_dict(orient="list")
        record.update(
            {
                "epochs_trained": int(model.n_epochs_),
                "best_epoch": int(model.best_epoch_),
                "stop_reason": model.stop_reason_,
                "seconds_per_epoch_median": float(np.median(model.history_["seconds"])),
                # the validation curve (selection run when there is one): the report's plot
                "history": history,
            }
        )
    if cut is not None:
        record["cutoff"] = float(cut)
    return record


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--protocol", choices=["loo", "time"], default="loo")
    parser.add_argument("--model", choices=sorted(MODELS), required=True)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=200)
    parser.add_argument(
        "--patience",
        type=int,
        default=None,
        help="in epochs (default: the estimator's own early stopping)",
    )
    parser.add_argument(
        "--patience-steps",
        type=int,
        default=None,
        help="early stopping patience in optimiser steps instead of epochs (LOO only)",
    )
    parser.add_argument("--min-steps", type=int, default=0, help="with --patience-steps")
    parser.add_argument("--max-len", type=int, default=None)
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument(
        "--no-refit",
        dest="refit",
        action="store_false",
        help="test the model-selection model instead of refitting on the final training data "
        "(what the equal-budget side-by-side runs do, like the peers)",
    )
    parser.add_argument(
        "--final-epochs",
        type=int,
        default=None,
        help="skip model selection: train on the final training data for this many epochs "
        "(chosen by an earlier selection run)",
    )
    parser.add_argument(
        "--time-budget",
        type=float,
        default=None,
        metavar="SECONDS",
        help="stop training before the epoch that would end after this many seconds",
    )
    parser.add_argument(
        "--set",
        nargs="+",
        default=[],
        metavar="PARAM=VALUE",
        help="override estimator parameters, e.g. --set batch_size=32 learning_rate=0.003",
    )
    parser.add_argument("--tag", default=None, help="suffix of the result file name")
    parser.add_argument("--out", default=None)
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    frame, path, digest = load_dataset(args.dataset)
    runs = [run_one(args, frame, seed) for seed in args.seeds]
    summary = summarise(runs)
    record = {
        "dataset": args.dataset,
        "file": path,
        "sha256": digest,
        "protocol": args.protocol,
        "ranking": "full catalogue, seen items excluded",
        "model": args.model + (f" ({' '.join(args.set)})" if args.set else ""),
        "tag": args.tag,
        "time_budget_seconds": args.time_budget,
        "summary": summary,
        "runs": runs,
        "hardware": hardware(),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "versions": {
            "skseqrec": skseqrec.__version__,
            "torch": torch.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "python": platform.python_version(),
        },
        "command": "python -m benchmarks.run " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    RESULTS.mkdir(exist_ok=True)
    out = (
        Path(args.out)
        if args.out
        else RESULTS
        / f"{args.dataset}_{args.protocol}_{args.model}{'_' + args.tag if args.tag else ''}.json"
    )
    out.write_text(json.dumps(record, indent=1, default=str))
    print(f"{args.model} on {args.dataset} ({args.protocol}), seeds {args.seeds}:")
    for key, stats in summary.items():
        print(f"  {key:8s} {stats['mean']:.4f} ± {stats['std']:.4f}")
    for r in runs:
        if "epochs_trained" in r:
            print(
                f"  seed {r['seed']}: {r['epochs_trained']} epochs ({r['stop_reason']}), "
                f"{r['seconds_per_epoch_median']:.2f} s/epoch, fit {r['fit_seconds']:.1f} s"
            )
    print(f"  peak RSS {record['peak_rss_mib']:.0f} MiB -> {out}")


if __name__ == "__main__":
    main()
