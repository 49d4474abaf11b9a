"""Where the time of one training step goes (torch.profiler, CPU).

Example::

    python -m benchmarks.profile_step --model esasrec --threads 2

Builds the model on ml-1m-users1-2999's catalogue, runs warm-up steps on a full-width
batch (128 x max_len + 1 random item codes: the worst case, no padding), then profiles
five steps and writes the operator table to benchmarks/results/profile_<model>.txt.
"""

from __future__ import annotations

import argparse
import time

import torch
from torch.profiler import ProfilerActivity, profile

from skseqrec import ESASRecEstimator, SASRecClassifierEstimator

from .run import RESULTS, load_dataset

MODELS = {
    "esasrec": lambda: ESASRecEstimator(epochs=0, random_state=0),
    "sasrec": lambda: SASRecClassifierEstimator(epochs=0, max_len=200, random_state=0),
}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", choices=sorted(MODELS), default="esasrec")
    parser.add_argument("--dataset", default="ml-1m-users1-2999")
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    frame, _, _ = load_dataset(args.dataset)
    model = MODELS[args.model]().fit(frame)  # epochs=0: builds the module only
    module = model.module_.train()
    generator = torch.Generator().manual_seed(0)
    optimizer = model._make_optimizer(module)
    batch = {"sequence": torch.randint(1, model.n_items_ + 1, (128, model.max_len + 1))}

    def step():
        loss = model._loss(module, batch, generator)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    started = time.perf_counter()
    for _ in range(5):
        step()
    per_step = (time.perf_counter() - started) / 5
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(5):
            step()
    table = prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20)
    header = (
        f"{args.model}, batch 128 x {model.max_len + 1}, {args.threads} threads: "
        f"{per_step * 1000:.0f} ms per step (unprofiled)\n"
    )
    RESULTS.mkdir(exist_ok=True)
    out = RESULTS / f"profile_{args.model}_{args.threads}threads.txt"
    out.write_text(header + table)
    print(header + table)


if __name__ == "__main__":
    main()
