"""Where the time of one training step goes (torch.profiler, CPU), through the public API.

Example::

    python -m benchmarks.profile_step --model esasrec --threads 2

Builds full-width training rows from ml-1m-users1-2999's catalogue (1,024 users with
``max_len + 1`` random items each: the worst case, no padding, batches of 128), trains one
epoch as a warm-up, then times and profiles one more epoch (``partial_fit``; eight steps;
a callback records each step's time) and writes the operator table to
benchmarks/results/profile_<model>_<threads>threads.txt.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd
import torch
from torch.profiler import ProfilerActivity, profile

from skseqrec import ESASRecEstimator, SASRecClassifierEstimator
from skseqrec.training import Callback

from .run import RESULTS, load_dataset

MODELS = {
    "esasrec": lambda: ESASRecEstimator(epochs=1, random_state=0),
    "sasrec": lambda: SASRecClassifierEstimator(epochs=1, max_len=200, random_state=0),
}
N_USERS = 1024


class StepTimer(Callback):
    """Wall time of every optimiser step (the loss is read, so the step has finished)."""

    def on_epoch_begin(self, trainer):
        self.seconds = []
        self.last = time.perf_counter()

    def on_batch_end(self, trainer, batch, loss):
        float(loss)
        now = time.perf_counter()
        self.seconds.append(now - self.last)
        self.last = now


def full_width_rows(items: np.ndarray, width: int, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    return pd.DataFrame(
        {
            "user_id": np.repeat(np.arange(N_USERS), width),
            "item_id": rng.choice(items, N_USERS * width),
            "timestamp": np.tile(np.arange(width), N_USERS),
        }
    )


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="esasrec")
    parser.add_argument("--dataset", default="ml-1m-users1-2999")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    frame, _, _ = load_dataset(args.dataset)
    timer = StepTimer()
    model = MODELS[args.model]().set_params(batch_size=128, callbacks=[timer])
    X = full_width_rows(frame["item_id"].unique(), model.max_len + 1)
    model.fit(X)  # warm-up epoch
    model.partial_fit(X)
    per_step = float(np.median(timer.seconds))
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        model.partial_fit(X)
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20)
    header = (
        f"{args.model}, batch 128 x {model.max_len + 1}, {args.threads} threads: "
        f"{per_step * 1000:.0f} ms per step (median of {len(timer.seconds)}, unprofiled)\n"
    )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"profile_{args.model}_{args.threads}threads.txt"
    out.write_text(header + table)
    print(header + table)


if __name__ == "__main__":
    main()
