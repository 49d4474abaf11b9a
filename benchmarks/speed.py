"""Training seconds per epoch and top-10 inference time, skseqrec alone (peers: peers.py).

Example::

    python -m benchmarks.speed --dataset ml-1m-users1-2999 --threads 2 --epochs 2

For each configuration it fits ``--epochs`` epochs (no validation) and reports the median
seconds per epoch and events per second, then times ``recommend(X, top_k=10)`` for every
user with history excluded (median of ``--repeats``), and the peak RSS of the process.
Configurations: the eSASRec ML-1M config (shared negatives; per-position negatives as
RecTools draws them) and scikit-rec's SASRec defaults at max_len 200 (as
../shared/peers/skrec_bench.py runs it).
"""

from __future__ import annotations

import argparse
import json
import platform
import resource
import sys
import time

import numpy as np
import torch

import skseqrec
from skseqrec import ESASRecEstimator, SASRecClassifierEstimator

from .run import RESULTS, hardware, load_dataset

#: no validation, no early stopping: an epoch is one pass of training windows
TIMING_ONLY = dict(
    validation=None,
    validation_interval=None,
    early_stopping_patience=None,
    early_stopping_steps=None,
    random_state=0,
)


def epoch_seconds(history):
    """Seconds of each epoch of a ``history_`` (an epoch may hold several records:
    ``validation_interval`` rounds), indexed by epoch."""
    return history.groupby("epoch")["seconds"].sum()


#: the eSASRec paper's ML-1M shape (as RecTools runs it in ../shared/peers)
ESASREC_ML1M = dict(
    hidden_units=64,
    num_blocks=2,
    num_heads=1,
    dropout_rate=0.1,
    max_len=200,
    batch_size=128,
    loss="sampled_softmax",
    num_negatives=256,
)

CONFIGS = {
    "esasrec_ml1m": lambda epochs: ESASRecEstimator(
        epochs=epochs, negative_sampling="shared", **ESASREC_ML1M, **TIMING_ONLY
    ),
    # users of similar length batched together, each batch cut to its longest row (the
    # default until 7cef602; random batches learn more per epoch and cost more per epoch)
    "esasrec_ml1m_bucketed": lambda epochs: ESASRecEstimator(
        epochs=epochs,
        negative_sampling="shared",
        batching="bucketed",
        **ESASREC_ML1M,
        **TIMING_ONLY,
    ),
    "esasrec_ml1m_uniform": lambda epochs: ESASRecEstimator(
        epochs=epochs, negative_sampling="uniform", **ESASREC_ML1M, **TIMING_ONLY
    ),
    # scikit-rec's defaults at the window its benchmark script uses (max_len 200)
    "sasrec_skrec_config": lambda epochs: SASRecClassifierEstimator(
        epochs=epochs, max_len=200, **TIMING_ONLY
    ),
}


def measure(name, frame, epochs, repeats):
    model = CONFIGS[name](epochs)
    started = time.perf_counter()
    model.fit(frame)
    fit_seconds = time.perf_counter() - started
    per_epoch = float(np.median(epoch_seconds(model.history_)))
    n_events = int(np.minimum(frame.groupby("user_id").size(), model.max_len + 1).sum())
    timings = []
    for _ in range(repeats):
        started = time.perf_counter()
        recs = model.recommend(frame, top_k=10)
        timings.append(time.perf_counter() - started)
    return {
        "config": name,
        "params": {k: v for k, v in model.get_params().items() if not k.endswith("_col")},
        "epochs": epochs,
        "fit_seconds": fit_seconds,
        "seconds_per_epoch": per_epoch,
        "events_per_second": n_events / per_epoch,
        "recommend_seconds_median": float(np.median(timings)),
        "recommend_seconds": timings,
        "n_users_recommended": int(recs["user_id"].nunique()),
    }


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dataset", default="ml-1m-users1-2999")
    parser.add_argument("--configs", nargs="+", default=sorted(CONFIGS), choices=sorted(CONFIGS))
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    frame, path, digest = load_dataset(args.dataset)
    rows = []
    for name in args.configs:
        row = measure(name, frame, args.epochs, args.repeats)
        rows.append(row)
        print(
            f"{name:28s} {row['seconds_per_epoch']:6.2f} s/epoch "
            f"({row['events_per_second']:,.0f} events/s), recommend top-10 for "
            f"{row['n_users_recommended']} users {row['recommend_seconds_median']:.2f} s",
            flush=True,
        )
    record = {
        "dataset": args.dataset,
        "sha256": digest,
        "rows": rows,
        "threads": args.threads,
        "hardware": hardware(),
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "versions": {"skseqrec": skseqrec.__version__, "torch": torch.__version__},
        "python": platform.python_version(),
        "command": "python -m benchmarks.speed " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"speed_{args.dataset}_{args.threads}threads.json"
    out.write_text(json.dumps(record, indent=1, default=str))
    print(f"peak RSS {record['peak_rss_mib']:.0f} MiB -> {out}")


if __name__ == "__main__":
    main()
