"""A diagnostic, never a result: the test fold's NDCG@10 along training.

A default fit validates on a carve-out of its training data and keeps its best round;
when its test score disappoints, this tells whether the model never learned more (the
test curve stays low) or the choice of the round lost it (the test curve is higher
elsewhere). The estimator is fitted at its defaults (seed only; ``--min-steps`` keeps it
training) on the protocol's training data with ``X_valid`` set to the whole dataset, so
its "validation" score is the test fold's: the monitoring reads the test fold, and the
round it keeps is chosen on it. Never report these figures as accuracy.

Only Protocol LOO (the test fold is each user's last event). The curve goes to
``results/diagnostics/test_curve_<dataset>_<model>.json`` with the command::

    python -m benchmarks.test_curve --dataset s3rec-lastfm --model esasrec --min-steps 3000
"""

from __future__ import annotations

import argparse
import json
import sys

import torch

from .defaults import MODELS, RESULTS, validation_curve
from .run import load_dataset, split


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--model", required=True, choices=sorted(set(MODELS) - {"popularity"}))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--min-steps", type=int, default=3000, help="early_stopping_min_steps (presets)"
    )
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    frame, _, digest = load_dataset(args.dataset)
    _, _, context, _, _, _ = split(frame, "loo")
    estimator = MODELS[args.model](random_state=args.seed)
    if estimator.early_stopping_steps is not None:
        estimator.set_params(early_stopping_min_steps=args.min_steps)
    else:  # no early stopping (the SASRec classifier): its epochs, scored every 50 steps
        estimator.set_params(validation_interval=50)
    estimator.fit(context, X_valid=frame)
    curve = validation_curve(estimator.history_)  # the "validation" rows score the test fold
    record = {
        "dataset": args.dataset,
        "sha256": digest,
        "protocol": "loo",
        "model": args.model,
        "seed": args.seed,
        "note": "test fold monitored: a diagnostic, not an accuracy figure",
        "step": curve["step"],
        "test_ndcg@10": curve["valid_ndcg@10"],
        "command": "python -m benchmarks.test_curve " + " ".join(argv or sys.argv[1:]),
    }
    out = RESULTS.parent / "diagnostics" / f"test_curve_{args.dataset}_{args.model}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps({k: record[k] for k in ("model", "step", "test_ndcg@10")}))


if __name__ == "__main__":
    main()
