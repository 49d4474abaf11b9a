#!/usr/bin/env python
"""Fit a peer library's model on given rows and write its top-20 lists (no split, no metrics).

Run with the PEER's venv python (imports only numpy, pandas, torch, the peer library and the
standard library; never skseqrec)::

    OMP_NUM_THREADS=1 .venv-rectools/bin/python benchmarks/peer_adapter.py --peer rectools \
        --variant esasrec --fit FIT.csv --context CONTEXT.csv --users USERS.csv --epochs 1 \
        --out RECS.csv --meta META.json

``benchmarks/peers.py --protocol loo|time`` writes the CSVs from our own split and scores
RECS.csv with our metric code; this script only drives the peer's public API.

* FIT.csv: training rows ``user_id,item_id,timestamp``, in our chronological order (per user,
  ascending time, ties in file order). Every row is an implicit interaction (weight 1).
* CONTEXT.csv: the histories the model reads at test time (same columns and order).
* USERS.csv: column ``user_id``, the users to recommend for.
* RECS.csv: ``user_id,item_id,rank``, top ``--k`` (20) per user, rank 1..k, items already in
  the user's context history excluded. Users the peer cannot serve get no rows (counted in META).
* META.json: epochs trained, seconds per epoch (list and median), fit and recommend seconds,
  peak RSS, torch threads, versions, config, and counts of everything dropped on the way
  (context rows whose item the fitted model does not know, users left without a list).

Peers and variants (the configurations of ../shared/peers/rectools_bench.py and
skrec_bench.py):

* ``rectools``: ``sasrec_softmax``, ``esasrec``, ``sasrec_ss``, ``sasrec_gbce``, ``bert4rec``;
  64 factors, 2 blocks, max len 200 (``--max-len``). Recommendations come from
  ``model.recommend(users, dataset=Dataset built from CONTEXT, k, filter_viewed=True)``;
  RecTools drops context items the fitted model does not know, and this script counts them.
* ``skrec``: ``sasrec_defaults``, SASRecClassifierEstimator as skrec_bench.py builds it
  (50 hidden units, 2 blocks, BCE with 1 negative, batch 128, lr 1e-3, max len 200). Scores
  come from ``SequentialRecommender.score_items`` on the context rows (in chunks of users);
  skrec does not exclude seen items, so the user's context items are masked here. Context
  items unknown to the model are dropped before scoring (skrec would map them to its padding
  index in the middle of the sequence) and counted. skrec sorts by TIMESTAMP with an unstable
  sort, so the TIMESTAMP it gets is each row's position in our order (ties stay in file order).

Threads: ``torch.set_num_threads(OMP_NUM_THREADS)`` when that variable is set, one inter-op
thread. ``--time-budget S`` stops training after the epoch that would overrun S seconds of
training (as the reference scripts do). Training runs on CPU, as in the reference scripts.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import sys
import tempfile
import time
import warnings

import numpy as np
import pandas as pd
import torch

if os.environ.get("OMP_NUM_THREADS"):
    torch.set_num_threads(int(os.environ["OMP_NUM_THREADS"]))
try:
    torch.set_num_interop_threads(1)
except RuntimeError:
    pass

VARIANTS = {
    "rectools": ("sasrec_softmax", "esasrec", "sasrec_ss", "sasrec_gbce", "bert4rec"),
    "skrec": ("sasrec_defaults",),
}
DEFAULT_VARIANT = {"rectools": "esasrec", "skrec": "sasrec_defaults"}


def _median(values):
    return float(np.median(values)) if len(values) else None


def _read(path):
    frame = pd.read_csv(path)
    missing = {"user_id", "item_id", "timestamp"} - set(frame.columns)
    if missing:
        raise SystemExit(f"{path}: missing columns {sorted(missing)}")
    return frame


class _Budget:
    """Per-epoch wall times; says when the next epoch would overrun the time budget."""

    def __init__(self, budget):
        self.budget = budget
        self.seconds = []
        self.stop_reason = None

    def add(self, seconds):
        self.seconds.append(seconds)
        if self.budget is None:
            return False
        elapsed = sum(self.seconds)
        if elapsed + elapsed / len(self.seconds) > self.budget:
            self.stop_reason = (
                f"time budget: {self.budget:g}s reached after {len(self.seconds)} epochs"
            )
            return True
        return False


# ------------------------------------------------------------------------------ RecTools
def run_rectools(args, fit, context, users, budget):
    import rectools
    from pytorch_lightning import Callback, Trainer, seed_everything
    from rectools import Columns
    from rectools.dataset import Dataset
    from rectools.models import BERT4RecModel, SASRecModel
    from rectools.models.nn.item_net import IdEmbeddingsItemNet
    from rectools.models.nn.transformers.ligr import LiGRLayers

    class EpochTimer(Callback):
        def on_train_epoch_start(self, trainer, pl_module):
            self.t0 = time.perf_counter()

        def on_train_epoch_end(self, trainer, pl_module):
            seconds = time.perf_counter() - self.t0
            loss = trainer.callback_metrics.get("train_loss")
            print(
                f"  epoch {len(budget.seconds) + 1}: {seconds:.1f}s train_loss="
                f"{None if loss is None else float(loss)}",
                flush=True,
            )
            if budget.add(seconds):
                print(f"  {budget.stop_reason}", flush=True)
                trainer.should_stop = True

    global get_trainer  # RecTools keeps the trainer factory by import path

    def get_trainer():
        return Trainer(
            accelerator="cpu",
            devices=1,
            max_epochs=args.epochs,
            min_epochs=1,
            deterministic=False,
            enable_checkpointing=False,
            logger=False,
            enable_progress_bar=False,
            enable_model_summary=False,
            callbacks=[EpochTimer()],
        )

    def to_rectools(frame):
        # unix seconds (or integer order) -> datetime64, as rectools_bench.py does; the rows
        # arrive in our order and RecTools sorts them by time with a stable sort
        return pd.DataFrame(
            {
                Columns.User: frame["user_id"].to_numpy(),
                Columns.Item: frame["item_id"].to_numpy(),
                Columns.Weight: 1.0,
                Columns.Datetime: pd.to_datetime(frame["timestamp"].to_numpy(), unit="s"),
            }
        )

    common = dict(
        session_max_len=args.max_len,
        n_blocks=2,
        n_factors=64,
        item_net_block_types=(IdEmbeddingsItemNet,),
        get_trainer_func=get_trainer,
        recommend_torch_device="cpu",
    )
    variant = args.variant
    if variant == "sasrec_softmax":
        model = SASRecModel(n_heads=1, dropout_rate=0.1, loss="softmax", **common)
    elif variant == "esasrec":
        model = SASRecModel(
            transformer_layers_type=LiGRLayers,
            use_key_padding_mask=True,
            n_heads=1,
            dropout_rate=0.1,
            loss="sampled_softmax",
            n_negatives=256,
            **common,
        )
    elif variant == "sasrec_ss":
        model = SASRecModel(
            n_heads=1, dropout_rate=0.1, loss="sampled_softmax", n_negatives=256, **common
        )
    elif variant == "sasrec_gbce":
        model = SASRecModel(
            n_heads=1, dropout_rate=0.1, loss="gBCE", gbce_t=0.75, n_negatives=256, **common
        )
    else:  # bert4rec: library defaults with the shared size
        model = BERT4RecModel(**common)

    seed_everything(args.seed, workers=True)
    fit_ds = Dataset.construct(to_rectools(fit))
    started = time.perf_counter()
    model.fit(fit_ds)
    fit_seconds = time.perf_counter() - started

    known = pd.Index(model.data_preparator.get_known_item_ids())
    unknown_rows = ~context["item_id"].isin(known)
    known_users = context.loc[~unknown_rows, "user_id"].unique()
    user_ids = users["user_id"].to_numpy()
    context_ds = Dataset.construct(to_rectools(context))
    started = time.perf_counter()
    reco = model.recommend(
        users=user_ids,
        dataset=context_ds,
        k=args.k,
        filter_viewed=True,
        on_unsupported_targets="warn",
    )
    recommend_seconds = time.perf_counter() - started
    recs = pd.DataFrame(
        {
            "user_id": reco[Columns.User].to_numpy(),
            "item_id": reco[Columns.Item].to_numpy(),
            "rank": reco[Columns.Rank].to_numpy().astype(int),
        }
    )
    config = {
        k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v))
        for k, v in model.get_params(simple_types=True).items()
        if k
        in (
            "n_blocks",
            "n_heads",
            "n_factors",
            "dropout_rate",
            "session_max_len",
            "loss",
            "n_negatives",
            "gbce_t",
            "lr",
            "batch_size",
            "transformer_layers_type",
            "use_key_padding_mask",
            "use_causal_attn",
            "mask_prob",
            "train_min_user_interactions",
        )
    }
    config["max_len"] = args.max_len
    return recs, {
        "library_version": rectools.__version__,
        "config": config,
        "n_params": int(sum(p.numel() for p in model.torch_model.parameters())),
        "fit_seconds": fit_seconds,
        "recommend_seconds": recommend_seconds,
        "fit_items": int(fit["item_id"].nunique()),
        "known_items": int(len(known)),
        "fit_items_unknown_to_model": int((~pd.Index(fit["item_id"].unique()).isin(known)).sum()),
        "context_rows_unknown_items": int(unknown_rows.sum()),
        "context_users_without_known_items": int(len(np.setdiff1d(user_ids, known_users))),
    }


# ----------------------------------------------------------------------------- scikit-rec
class _BudgetReached(Exception):
    pass


class _EpochHook(logging.Handler):
    """Times skrec's "Epoch [k/N]" log lines (it has no callback API); enforces the budget."""

    def __init__(self, budget):
        super().__init__(level=logging.INFO)
        self.budget = budget
        self.t_last = time.perf_counter()

    def emit(self, record):
        message = record.getMessage()
        if not message.startswith("Epoch ["):
            return
        now = time.perf_counter()
        seconds, self.t_last = now - self.t_last, now
        print(f"  epoch {len(self.budget.seconds) + 1}: {seconds:.1f}s {message}", flush=True)
        if self.budget.add(seconds):
            raise _BudgetReached(self.budget.stop_reason)


def run_skrec(args, fit, context, users, budget):
    import skrec
    from skrec.dataset.interactions_dataset import InteractionsDataset
    from skrec.estimator.sequential import SASRecClassifierEstimator
    from skrec.recommender.sequential import SequentialRecommender
    from skrec.scorer.sequential import SequentialScorer

    def to_skrec(frame):
        # TIMESTAMP = position in our order: skrec's sort on (USER_ID, TIMESTAMP) is not
        # stable, so equal timestamps could otherwise be reordered
        return pd.DataFrame(
            {
                "USER_ID": frame["user_id"].to_numpy(),
                "ITEM_ID": frame["item_id"].to_numpy(),
                "OUTCOME": 1.0,
                "TIMESTAMP": np.arange(len(frame), dtype=np.int64),
            }
        )

    torch.manual_seed(args.seed)  # the estimator seeds torch and numpy from random_state too
    estimator = SASRecClassifierEstimator(
        hidden_units=50,
        num_blocks=2,
        num_heads=1,
        dropout_rate=0.2,
        num_negatives=1,
        max_len=args.max_len,
        learning_rate=0.001,
        epochs=args.epochs,
        batch_size=128,
        optimizer_name="adam",
        loss_fn_name="bce",
        early_stopping_patience=None,
        restore_best_weights=True,
        device="cpu",
        random_state=args.seed,
        verbose=1,  # the per-epoch log line is what times the epochs
    )
    recommender = SequentialRecommender(SequentialScorer(estimator), max_len=args.max_len)
    hook = _EpochHook(budget)
    est_logger = logging.getLogger("skrec.estimator.sequential.sasrec_estimator")
    est_logger.addHandler(hook)
    started = time.perf_counter()
    hook.t_last = started
    with tempfile.TemporaryDirectory(prefix="skrec-adapter-") as scratch:
        fit_csv = os.path.join(scratch, "fit.csv")  # skrec datasets read files
        to_skrec(fit).to_csv(fit_csv, index=False)
        try:
            recommender.train(interactions_ds=InteractionsDataset(data_location=fit_csv))
        except _BudgetReached:
            pass  # the model keeps the weights of the last finished epoch
    fit_seconds = time.perf_counter() - started
    est_logger.removeHandler(hook)

    # catalogue: skrec keys items by str(item_id); map back to the original ids
    names = np.asarray(recommender.scorer.item_names).astype(str)
    original = {str(i): i for i in fit["item_id"].unique()}
    catalogue = np.array([original[n] for n in names])
    column = pd.Series(np.arange(len(names)), index=catalogue)
    known = context["item_id"].isin(column.index)
    wanted = context["user_id"].isin(users["user_id"])
    scored = context[known & wanted]  # also the seen items to mask (unknown ones never rank)

    started = time.perf_counter()
    user_ids = np.sort(scored["user_id"].unique())
    rows = []
    chunk = max(1, args.score_chunk)
    for start in range(0, len(user_ids), chunk):
        part_users = user_ids[start : start + chunk]
        part = scored[scored["user_id"].isin(part_users)]
        frame = to_skrec(part).drop(columns="OUTCOME")
        # skrec's row order is that of its own sequence building (as its notebook asks it)
        order = recommender._build_sequences(frame)["USER_ID"].to_numpy()
        scores = recommender.score_items(interactions=frame).to_numpy(dtype=np.float32)
        if scores.shape[0] != len(order) or not np.array_equal(np.sort(order), np.sort(part_users)):
            raise SystemExit("skrec returned scores for an unexpected set of users")
        row_of = pd.Series(np.arange(len(order)), index=order)
        mask = part
        scores[
            row_of.loc[mask["user_id"]].to_numpy(), column.loc[mask["item_id"]].to_numpy()
        ] = -np.inf
        k = min(args.k, scores.shape[1])
        top = np.argpartition(-scores, k - 1, axis=1)[:, :k]
        top_scores = np.take_along_axis(scores, top, axis=1)
        top = np.take_along_axis(top, np.argsort(-top_scores, axis=1, kind="stable"), axis=1)
        top_scores = np.take_along_axis(scores, top, axis=1)
        keep = np.isfinite(top_scores)  # never recommend a masked (seen) item
        user_col = np.repeat(order, k).reshape(len(order), k)
        rank_col = np.tile(np.arange(1, k + 1), (len(order), 1))
        rows.append(
            pd.DataFrame(
                {
                    "user_id": user_col[keep],
                    "item_id": catalogue[top[keep]],
                    "rank": rank_col[keep],
                }
            )
        )
    recommend_seconds = time.perf_counter() - started
    recs = (
        pd.concat(rows, ignore_index=True)
        if rows
        else pd.DataFrame({"user_id": [], "item_id": [], "rank": []})
    )
    version = getattr(skrec, "__version__", None)
    if version is None:
        from importlib.metadata import version as _version

        version = _version("scikit-rec")
    config = {
        k: (v if isinstance(v, (int, float, str, bool, type(None))) else str(v))
        for k, v in (estimator.get_config() | {"max_len": estimator.max_len}).items()
    }
    return recs, {
        "library_version": version,
        "config": config,
        "n_params": int(sum(p.numel() for p in estimator.model.parameters())),
        "fit_seconds": fit_seconds,
        "recommend_seconds": recommend_seconds,
        "fit_items": int(fit["item_id"].nunique()),
        "known_items": int(len(names)),
        "fit_items_unknown_to_model": int(len(set(original) - set(names))),
        "context_rows_unknown_items": int((~known).sum()),
        "context_users_without_known_items": int(
            len(np.setdiff1d(users["user_id"].to_numpy(), user_ids))
        ),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", choices=sorted(VARIANTS), required=True)
    parser.add_argument("--variant", default=None, help="default: esasrec / sasrec_defaults")
    parser.add_argument("--fit", required=True)
    parser.add_argument("--context", required=True)
    parser.add_argument("--users", required=True)
    parser.add_argument("--epochs", type=int, required=True)
    parser.add_argument("--time-budget", type=float, default=None, help="seconds of training")
    parser.add_argument("--max-len", type=int, default=200)
    parser.add_argument("--k", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--score-chunk", type=int, default=1024, help="skrec: users per call")
    parser.add_argument("--out", required=True)
    parser.add_argument("--meta", required=True)
    args = parser.parse_args(argv)
    args.variant = args.variant or DEFAULT_VARIANT[args.peer]
    if args.variant not in VARIANTS[args.peer]:
        parser.error(f"--variant for {args.peer}: one of {', '.join(VARIANTS[args.peer])}")
    warnings.filterwarnings("ignore", category=UserWarning)

    fit = _read(args.fit)
    context = _read(args.context)
    users = pd.read_csv(args.users)
    budget = _Budget(args.time_budget)
    started = time.perf_counter()
    runner = run_rectools if args.peer == "rectools" else run_skrec
    recs, meta = runner(args, fit, context, users, budget)
    total = time.perf_counter() - started

    recs = recs.sort_values(["user_id", "rank"], kind="stable")
    recs.to_csv(args.out, index=False)
    meta = {
        "peer": args.peer,
        "variant": args.variant,
        "library": args.peer,
        "seed": args.seed,
        "max_epochs": args.epochs,
        "time_budget_s": args.time_budget,
        "epochs_trained": len(budget.seconds),
        "stop_reason": budget.stop_reason or f"reached epochs={args.epochs}",
        "seconds_per_epoch": [round(s, 3) for s in budget.seconds],
        "seconds_per_epoch_median": _median(budget.seconds),
        **meta,
        "adapter_seconds": total,
        "fit_rows": int(len(fit)),
        "context_rows": int(len(context)),
        "users_requested": int(len(users)),
        "users_with_recs": int(recs["user_id"].nunique()),
        "users_without_recs": int((~users["user_id"].isin(recs["user_id"])).sum()),
        "users_with_short_list": int((recs.groupby("user_id").size() < args.k).sum()),
        "k": args.k,
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "torch_threads": torch.get_num_threads(),
        "omp_num_threads": os.environ.get("OMP_NUM_THREADS"),
        "versions": {
            args.peer: meta["library_version"],
            "torch": torch.__version__,
            "numpy": np.__version__,
            "pandas": pd.__version__,
            "python": platform.python_version(),
        },
        "device": "cpu",
    }
    with open(args.meta, "w") as handle:
        json.dump(meta, handle, indent=1, default=str)
    print(
        f"{args.peer} {args.variant}: {meta['epochs_trained']} epochs, fit "
        f"{meta['fit_seconds']:.1f}s, recommend {meta['recommend_seconds']:.1f}s, "
        f"{meta['users_with_recs']}/{meta['users_requested']} users with a list, "
        f"{meta['context_rows_unknown_items']} context rows with unknown items",
        flush=True,
    )


if __name__ == "__main__":
    sys.exit(main())
