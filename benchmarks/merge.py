"""Merge single-seed records of one configuration into one record (runs side by side).

Seeds that ran as separate processes (for example one per core) each write a record; this
joins their runs, recomputes the summary (mean and std over seeds) and keeps every command::

    python -m benchmarks.merge OUT.json seed0.json seed1.json seed2.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from .run import summarise


def merge(records: list[dict]) -> dict:
    first = records[0]
    for record in records[1:]:
        for key in ("dataset", "sha256", "protocol", "model"):
            if record.get(key) != first.get(key):
                raise SystemExit(
                    f"cannot merge: {key} differs ({first.get(key)!r} vs {record.get(key)!r})"
                )
    runs = [run for record in records for run in record["runs"]]
    seeds = [run["seed"] for run in runs]
    if len(set(seeds)) != len(seeds):
        raise SystemExit(f"cannot merge: repeated seeds {seeds}")
    summary = summarise(runs)
    merged = {k: v for k, v in first.items() if k not in ("runs", "summary", "command")}
    merged.update(
        {
            "summary": summary,
            "runs": runs,
            "peak_rss_mib": max(r.get("peak_rss_mib", 0) for r in records),
            "command": " ; ".join(r["command"] for r in records),
        }
    )
    return merged


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out")
    parser.add_argument("records", nargs="+")
    args = parser.parse_args(argv)
    merged = merge([json.loads(Path(p).read_text()) for p in args.records])
    Path(args.out).write_text(json.dumps(merged, indent=1, default=str))
    for key, stats in merged["summary"].items():
        print(f"  {key:8s} {stats['mean']:.4f} ± {stats['std']:.4f}")
    print(f"{len(merged['runs'])} runs -> {args.out}")


if __name__ == "__main__":
    main()
