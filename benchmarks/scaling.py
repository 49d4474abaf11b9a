"""Scaling: time and peak memory as the catalogue and the number of events grow.

    python -m benchmarks.scaling --threads 2             # the grid below
    python -m benchmarks.scaling --threads 2 --large     # + 3e7 and 1e8 events
    python -m benchmarks.scaling --quick                 # a tiny grid: checks the script
    python -m benchmarks.scaling --point 1000000 3000000 --skip-training   # one point

Grid: items 1e4, 1e5, 1e6 at 3e6 events, and events 1e6, 3e6, 1e7 (``--large``: 3e7,
1e8) at 1e5 items. Each point runs in a fresh Python process (so that its peak memory is
its own) which generates synthetic events (:func:`generate_events`: Zipf-like item
popularity, users with log-normal history lengths) and measures

* ``prepare``: ``fit`` with ``epochs=0``: validation, id encoding, sequences, the model
  and the training windows, everything but the epochs;
* ``epoch``: one training epoch (``history_["seconds"]`` of a fit with ``epochs=1``);
  eSASRec at 32 dimensions, shared negatives, no validation;
* ``top10``: ``recommend(top_k=10)`` for 2,000 users (their whole histories as ``X``);

and the peak resident memory (RSS) of each stage above what the process held before it
(the generated frame included) and of the whole process (Linux: the peak is reset before
each stage through ``/proc/self/clear_refs``; elsewhere ``getrusage`` and no stages). Growth
exponents: the slope of ``log(measure)`` against ``log(items)`` (or ``log(events)``),
``np.polyfit``; 1 is linear. Writes ``benchmarks/results/scaling/scaling.json``
(``scaling_quick.json``) and ``docs/benchmarks/scaling_table.rst``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results" / "scaling"
TABLE = ROOT / "docs" / "benchmarks" / "scaling_table.rst"

#: (items, events) of each axis; the other axis' size is fixed.
GRID = {
    "items": {"sizes": [10_000, 100_000, 1_000_000], "fixed_events": 3_000_000},
    "events": {"sizes": [1_000_000, 3_000_000, 10_000_000], "fixed_items": 100_000},
}
LARGE_EVENTS = [30_000_000, 100_000_000]
QUICK = {
    "items": {"sizes": [1_000, 3_000, 10_000], "fixed_events": 30_000},
    "events": {"sizes": [10_000, 30_000, 100_000], "fixed_items": 1_000},
}
TOP_USERS = 2_000
MEASURES = ("prepare", "epoch", "top10")


def generate_events(n_events, n_items, *, mean_length=50, zipf=1.0, random_state=0):
    """Synthetic interactions: Zipf-like item popularity, users of varied history lengths.

    Item ``r``-th most popular has weight ``1 / (r + 1) ** zipf``; popularity ranks are
    assigned to item ids at random. When ``n_events >= n_items`` every item occurs at least
    once (one event in ``n_events // n_items`` is a catalogue item in turn), so the
    catalogue has exactly ``n_items`` items. History lengths are log-normal (sigma 1) with
    mean about ``mean_length``, at least 2; times are random, so each user's order is
    random. Drawn in chunks of 10M events (vectorised NumPy).

    Returns
    -------
    DataFrame
        ``user_id``, ``item_id``, ``timestamp`` (int64), grouped by user.
    """
    import pandas as pd

    rng = np.random.default_rng(random_state)
    weights = 1.0 / np.arange(1, n_items + 1, dtype=np.float64) ** zipf
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    item_of_rank = rng.permutation(n_items)
    items = np.empty(n_events, dtype=np.int64)
    chunk = 10_000_000
    for begin in range(0, n_events, chunk):
        draws = np.searchsorted(cdf, rng.random(min(chunk, n_events - begin)))
        items[begin : begin + len(draws)] = item_of_rank[np.minimum(draws, n_items - 1)]
    if n_events >= n_items:
        items[:: n_events // n_items][:n_items] = rng.permutation(n_items)
    # log-normal lengths: mean exp(mu + 1/2) = mean_length
    mu = np.log(max(mean_length, 2)) - 0.5
    lengths = np.zeros(0, dtype=np.int64)
    while lengths.sum() < n_events:
        more = np.maximum(2, np.round(rng.lognormal(mu, 1.0, n_events // mean_length + 16)))
        lengths = np.concatenate([lengths, more.astype(np.int64)])
    ends = np.cumsum(lengths)
    n_users = int(np.searchsorted(ends, n_events)) + 1
    lengths = lengths[:n_users]
    lengths[-1] -= ends[n_users - 1] - n_events
    users = np.repeat(np.arange(n_users, dtype=np.int64), lengths)
    times = rng.integers(0, 2**31, n_events, dtype=np.int64)
    return pd.DataFrame({"user_id": users, "item_id": items, "timestamp": times})


def _memory_mib(key: str) -> float | None:
    """``VmRSS`` or ``VmHWM`` (peak) of this process in MiB; None off Linux."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(key + ":"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def _reset_peak() -> bool:
    """Reset this process' peak RSS (Linux >= 4.0: writing 5 to clear_refs)."""
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
        return True
    except OSError:
        return False


class _Stage:
    """Seconds and peak RSS above the RSS at the start of a stage.

    Resetting the peak also resets what ``getrusage`` reports, so the process' peak is
    the largest peak seen at the end of a stage or before a reset (``peak_process_mib``).
    """

    def __init__(self, record: dict, name: str):
        self.record, self.name = record, name

    def _track_process_peak(self):
        peak = _memory_mib("VmHWM")
        if peak is not None:
            self.record["peak_process_mib"] = max(self.record.get("peak_process_mib", 0), peak)
        return peak

    def __enter__(self):
        self._track_process_peak()
        self.resettable = _reset_peak()
        self.rss = _memory_mib("VmRSS")
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc):
        self.record["seconds"][self.name] = time.perf_counter() - self.started
        peak = self._track_process_peak() if self.resettable else None
        self.record["rss_before_mib"][self.name] = self.rss
        self.record["peak_above_mib"][self.name] = (
            None if peak is None or self.rss is None else peak - self.rss
        )


def make_estimator(epochs: int, device: str):
    from skseqrec import ESASRecEstimator

    from .speed import TIMING_ONLY  # no validation: an epoch is one pass of windows

    return ESASRecEstimator(
        hidden_units=32, negative_sampling="shared", epochs=epochs, device=device, **TIMING_ONLY
    )


def measure_point(n_items, n_events, *, threads, device, skip_training, top_users=TOP_USERS):
    """Measure one point in this process; returns its record."""
    import torch

    torch.set_num_threads(threads)
    record = {
        "requested_items": n_items,
        "events": n_events,
        "seconds": {},
        "rss_before_mib": {},
        "peak_above_mib": {},
        "load_average_start": os.getloadavg(),
    }
    # imports and first-call set-up are paid here, not by the first stage
    make_estimator(0, device).fit(generate_events(1_000, 100)).recommend(None, users=[0])
    with _Stage(record, "generate"):
        X = generate_events(n_events, n_items)
    record["users"] = int(X["user_id"].iloc[-1]) + 1
    record["frame_mib"] = float(X.memory_usage(deep=True).sum() / 2**20)
    with _Stage(record, "prepare"):
        model = make_estimator(0, device).fit(X)
    record["items"] = int(model.n_items_)
    if not skip_training:
        del model  # one model at a time: the stage's peak is its own
        with _Stage(record, "epoch"):
            model = make_estimator(1, device).fit(X)
        # the fit's own epoch time; the stage's seconds include its data preparation
        record["seconds"]["fit_1_epoch"] = record["seconds"]["epoch"]
        from .speed import epoch_seconds

        record["seconds"]["epoch"] = float(epoch_seconds(model.history_).iloc[0])
        record["steps_per_epoch"] = int(model.history_["step"].iloc[-1])
    rng = np.random.default_rng(1)
    n_users = record["users"]
    chosen = rng.choice(n_users, size=min(top_users, n_users), replace=False)
    history = X[X["user_id"].isin(chosen)]
    model.recommend(history[history["user_id"] == chosen[0]], top_k=10)  # warm-up
    with _Stage(record, "top10"):
        recommended = model.recommend(history, top_k=10)
    record["top10_users"] = int(recommended["user_id"].nunique())
    if "peak_process_mib" not in record:  # no /proc: getrusage's peak of the process
        record["peak_process_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    record["load_average_end"] = os.getloadavg()
    record["threads"] = threads
    record["device"] = str(model.device_)
    return record


def run_point(n_items, n_events, args) -> dict:
    """One point in a fresh process (peak memory per point)."""
    command = [
        sys.executable,
        "-m",
        "benchmarks.scaling",
        "--point",
        str(n_items),
        str(n_events),
        "--threads",
        str(args.threads),
        "--device",
        args.device,
    ]
    if args.skip_training:
        command.append("--skip-training")
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads)}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"point items={n_items} events={n_events} failed:\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def growth_exponents(records, axis: str) -> dict:
    """Slope of log(measure) against log(size) along one axis (None below 2 sizes)."""
    size_key = "items" if axis == "items" else "events"
    exponents = {}
    for measure in (*MEASURES, "prepare_memory"):
        points = []
        for record in records:
            value = (
                record["peak_above_mib"].get("prepare")
                if measure == "prepare_memory"
                else record["seconds"].get(measure)
            )
            if value is not None and value > 0:
                points.append((record[size_key], value))
        if len({size for size, _ in points}) < 2:
            exponents[measure] = None
            continue
        sizes, values = np.log(np.array(points, dtype=np.float64)).T
        exponents[measure] = float(np.polyfit(sizes, values, 1)[0])
    return exponents


def _fmt(value, digits=2):
    return "-" if value is None else f"{value:.{digits}f}"


def table_rows(result) -> list[list[str]]:
    rows = []
    for axis in ("items", "events"):
        for record in result["axes"][axis]["points"]:
            seconds, peak = record["seconds"], record["peak_above_mib"]
            rows.append(
                [
                    axis,
                    f"{record['items']:,}",
                    f"{record['events']:,}",
                    _fmt(seconds.get("prepare")),
                    _fmt(seconds.get("epoch"), 1),
                    _fmt(seconds.get("top10")),
                    _fmt(peak.get("prepare"), 0),
                    _fmt(peak.get("epoch"), 0),
                    _fmt(peak.get("top10"), 0),
                    _fmt(record.get("peak_process_mib"), 0),
                ]
            )
        exponents = result["axes"][axis]["exponents"]
        rows.append(
            [
                f"{axis}: growth exponent",
                "",
                "",
                _fmt(exponents["prepare"]),
                _fmt(exponents["epoch"]),
                _fmt(exponents["top10"]),
                _fmt(exponents["prepare_memory"]),
                "",
                "",
                "",
            ]
        )
    return rows


HEADER = [
    "axis",
    "items",
    "events",
    "prepare s",
    "epoch s",
    "top-10 s",
    "prepare MiB",
    "epoch MiB",
    "top-10 MiB",
    "process MiB",
]


def write_table(result) -> str:
    """The docs table (list-table) of a run."""
    lines = [
        f".. list-table:: {result['title']}",
        "   :header-rows: 1",
        "",
    ]
    for row in [HEADER, *table_rows(result)]:
        lines.append(f"   * - {row[0]}")
        lines.extend(f"     - {cell}".rstrip() for cell in row[1:])
    lines += [
        "",
        f"Command: ``{result['command']}``; {result['threads']} torch thread(s), device "
        f"{result['device']}, {result['hardware']['cpu_count']} CPUs, load average "
        f"{result['load_average'][0]:.1f}-{result['load_average'][1]:.1f} during the run; "
        f"torch {result['versions']['torch']}, skseqrec {result['versions']['skseqrec']}. "
        "MiB columns: peak RSS above what the process held before the stage; process: the "
        "peak of the whole process (generated data included).",
        "",
    ]
    text = "\n".join(lines)
    TABLE.parent.mkdir(parents=True, exist_ok=True)
    TABLE.write_text(text)
    return text


def print_table(result):
    rows = [HEADER, *table_rows(result)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADER))]
    for row in rows:
        print("  ".join(cell.rjust(width) for cell, width in zip(row, widths)))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--threads", type=int, default=2, help="torch.set_num_threads")
    parser.add_argument("--quick", action="store_true", help="a tiny grid (seconds)")
    parser.add_argument("--large", action="store_true", help="also 3e7 and 1e8 events")
    parser.add_argument("--device", default="cpu", help='"cpu", "cuda" or "auto"')
    parser.add_argument(
        "--skip-training",
        action="store_true",
        help="no epoch: data preparation and top-10 only (an untrained model)",
    )
    parser.add_argument(
        "--point",
        nargs=2,
        type=int,
        metavar=("ITEMS", "EVENTS"),
        help="measure one point in this process and print its record as JSON",
    )
    args = parser.parse_args(argv)
    if args.point:
        record = measure_point(
            *args.point,
            threads=args.threads,
            device=args.device,
            skip_training=args.skip_training,
        )
        print(json.dumps(record))
        return record

    import torch

    import skseqrec

    grid = QUICK if args.quick else GRID
    events_sizes = list(grid["events"]["sizes"])
    if args.large and not args.quick:
        events_sizes += LARGE_EVENTS
    points = {
        "items": [(n, grid["items"]["fixed_events"]) for n in grid["items"]["sizes"]],
        "events": [(grid["events"]["fixed_items"], n) for n in events_sizes],
    }
    done = {}
    loads = [os.getloadavg()[0]]
    for pairs in points.values():
        for n_items, n_events in pairs:
            if (n_items, n_events) not in done:
                print(f"items={n_items:,} events={n_events:,} ...", flush=True)
                done[n_items, n_events] = run_point(n_items, n_events, args)
                loads.append(os.getloadavg()[0])
    command = "python -m benchmarks.scaling " + " ".join(argv if argv is not None else sys.argv[1:])
    result = {
        "title": (
            "Scaling, quick grid (a check of the script, not the benchmark)"
            if args.quick
            else "Scaling: eSASRec (32 dims, shared negatives), seconds and peak memory"
        ),
        "command": command.strip(),
        "threads": args.threads,
        "device": args.device,
        "load_average": [min(loads), max(loads)],
        "hardware": {
            "cpu_count": os.cpu_count(),
            "platform": platform.platform(),
            "memory_gib": os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30,
        },
        "versions": {"torch": torch.__version__, "skseqrec": skseqrec.__version__},
        "axes": {},
    }
    for axis, pairs in points.items():
        records = [done[pair] for pair in pairs]
        result["axes"][axis] = {
            "fixed": {k: v for k, v in grid[axis].items() if k != "sizes"},
            "points": records,
            "exponents": growth_exponents(records, axis),
        }
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = "scaling_quick.json" if args.quick else "scaling.json"
    (RESULTS / name).write_text(json.dumps(result, indent=1))
    write_table(result)
    print_table(result)
    return result


if __name__ == "__main__":
    main()
