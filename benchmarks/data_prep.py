"""Time the data layer on synthetic events: validation, id encoding, sequences, padding.

    python -m benchmarks.data_prep --events 10000000

Prints seconds per stage and writes benchmarks/results/data_prep.json.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np
import pandas as pd

from skseqrec.data import IdEncoder, build_sequences, check_interactions

RESULTS = Path(__file__).resolve().parent / "results"


def main(argv=None):
    parser = argparse.ArgumentParser()
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--items", type=int, default=50_000)
    parser.add_argument("--max-len", type=int, default=50)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "user_id": rng.integers(0, args.users, args.events),
            "item_id": rng.integers(0, args.items, args.events),
            "timestamp": rng.integers(0, 10**9, args.events),
        }
    )
    timings = {}
    started = time.perf_counter()
    data = check_interactions(frame)
    timings["validate"] = time.perf_counter() - started
    started = time.perf_counter()
    users = IdEncoder.from_values(data.users)
    items = IdEncoder.from_values(data.items)
    user_codes, item_codes = users.encode(data.users), items.encode(data.items)
    timings["encode_ids"] = time.perf_counter() - started
    started = time.perf_counter()
    sequences = build_sequences(user_codes, item_codes, data.times)
    timings["build_sequences"] = time.perf_counter() - started
    started = time.perf_counter()
    padded = sequences.padded(args.max_len + 1)
    timings["pad_last_max_len"] = time.perf_counter() - started
    timings["total"] = sum(timings.values())
    record = {
        "events": args.events,
        "users": len(sequences),
        "items": len(items),
        "padded_shape": list(padded.shape),
        "seconds": timings,
        "command": f"python -m benchmarks.data_prep --events {args.events}",
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / "data_prep.json").write_text(json.dumps(record, indent=1))
    for stage, seconds in timings.items():
        print(f"{stage:18s} {seconds:7.2f} s")


if __name__ == "__main__":
    main()
