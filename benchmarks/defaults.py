"""Every next-item estimator at its defaults (seed only) on every shared dataset.

Example (2 threads, one job at a time, nothing else running)::

    python -m benchmarks.defaults --threads 2
    python -m benchmarks.defaults --datasets ml-latest-small --protocols loo --models esasrec

Each (dataset, protocol, model) is fitted once with ``random_state=seed`` and nothing else
changed, on the protocol's training data (Protocol LOO: every event but each user's last;
Protocol TIME: events before the cut-off; ../shared/PROTOCOL.md); the estimator carves its
own validation data out of it where its defaults early-stop. The test is the package's
``skseqrec.evaluate(fit=False)`` (full catalogue, seen items excluded). Order-only datasets
(no real time) run LOO only. One JSON record per run goes to ``results/defaults/``
(existing records are kept unless ``--force``); ``--table`` rewrites the docs table from
all records. ``--set NAME=VALUE --tag T`` runs an experiment (its records are not the
table's); once its setting is a preset default, ``--adopt T`` makes its records the
defaults records where their parameters are exactly the defaults (the same fit).

Targets (issue 13): NDCG@10 at least 1.5x popularity under LOO and 1.2x under TIME; a
default fit of up to 500k events within 10 minutes on 2 CPU threads.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import platform
import resource
import time
from pathlib import Path

import torch

import skseqrec
from skseqrec import (
    BERT4RecEstimator,
    ESASRecEstimator,
    GSASRecEstimator,
    HSTUEstimator,
    PopularityRecommender,
    SASRecClassifierEstimator,
    SequentialTransformerEstimator,
)
from skseqrec.estimators import TransformerRecommender

from .run import evaluate, load_dataset, split

RESULTS = Path(__file__).resolve().parent / "results" / "defaults"
TABLE = Path(__file__).resolve().parents[1] / "docs" / "benchmarks" / "defaults_table.rst"

#: Datasets of ../shared/data; the order-only ones have no real time (LOO only).
DATASETS = ("ml-latest-small", "ml-100k", "s3rec-lastfm", "s3rec-beauty", "ml-1m-users1-2999")
ORDER_ONLY = {"s3rec-lastfm", "s3rec-beauty"}
MODELS = {
    "popularity": PopularityRecommender,
    "sasrec": SASRecClassifierEstimator,
    "esasrec": ESASRecEstimator,
    "gsasrec": GSASRecEstimator,
    "bert4rec": BERT4RecEstimator,
    "hstu": HSTUEstimator,
    "seqtransformer": SequentialTransformerEstimator,
}
TARGET_RATIO = {"loo": 1.5, "time": 1.2}


def run_one(dataset: str, protocol: str, model: str, seed: int, overrides: dict) -> dict:
    frame, path, digest = load_dataset(dataset)
    _, _, context, _, _, _ = split(frame, protocol)
    params = {"random_state": seed} if model != "popularity" else {}
    params.update(overrides if model != "popularity" else {})
    estimator = MODELS[model](**params)
    started = time.perf_counter()
    estimator.fit(context)
    fit_seconds = time.perf_counter() - started
    metrics, n_users = evaluate(estimator, frame, protocol)
    record = {
        "dataset": dataset,
        "file": path,
        "sha256": digest,
        "protocol": protocol,
        "model": model,
        "estimator": type(estimator).__name__,
        "seed": seed,
        "overrides": overrides,
        "n_events": int(len(frame)),
        "n_train_events": int(len(context)),
        "metrics": metrics,
        "n_test_users": n_users,
        "fit_seconds": fit_seconds,
        "threads": torch.get_num_threads(),
        "load_average_at_end": os.getloadavg()[0],
        "peak_rss_mib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "versions": {"skseqrec": skseqrec.__version__, "torch": torch.__version__},
        "platform": platform.platform(),
    }
    if model != "popularity":
        record["params"] = _recorded(estimator.get_params())
        history = estimator.history_
        record.update(
            n_epochs=int(estimator.n_epochs_),
            n_steps=int(history["step"].iloc[-1]) if len(history) else 0,
            best_epoch=int(estimator.best_epoch_),
            stop_reason=estimator.stop_reason_,
            negative_sampling=getattr(estimator, "negative_sampling_", None),
            validation_curve=validation_curve(history),
        )
    return record


def validation_curve(history) -> dict:
    """``{"step": [...], "<monitor>": [...]}``: every validated row of ``history_``, so a
    record can replay other stopping rules (``python -m benchmarks.patience``)."""
    keys = [c for c in history.columns if c.startswith("valid_") and not c.endswith("_se")]
    if not keys or not len(history):
        return {}
    rows = history.dropna(subset=keys[:1])
    curve = {"step": [int(s) for s in rows["step"]]}
    for key in keys:
        curve[key] = [round(float(v), 6) for v in rows[key]]
    return curve


def _recorded(params: dict) -> dict:
    """Parameters as a record stores them (JSON scalars; anything else as its repr)."""
    return {
        k: v if isinstance(v, (int, float, str, bool, type(None))) else repr(v)
        for k, v in params.items()
        if not k.endswith("_col")
    }


def changed_defaults(record: dict) -> dict:
    """``{name: recorded value}`` where a record's parameters differ from the model's
    defaults now (a parameter added since the record counts at the value it had then,
    the base class default); empty when the record still shows the defaults."""
    if "params" not in record:
        return {}
    estimator = MODELS[record["model"]](random_state=record["seed"], **record["overrides"])
    now = _recorded(estimator.get_params())
    base = _recorded(TransformerRecommender().get_params())
    then = {k: record["params"].get(k, base.get(k)) for k in now}
    return {k: then[k] for k in now if then[k] != now[k]}


def adopt(tag: str) -> list:
    """Make the records of ``tag`` the defaults records where their parameters are the
    defaults now (an experiment whose setting became a preset default: the same fit, no
    rerun). Returns the paths written; a record whose parameters differ is left alone,
    and says which."""
    written = []
    for path in sorted(RESULTS.glob(f"*_{tag}.json")):
        record = json.loads(path.read_text())
        if record.get("tag") != tag:
            continue
        adopted = {**record, "overrides": {}, "tag": None}
        differ = changed_defaults(adopted)
        if differ:
            print(f"{path.name}: not adopted, parameters differ from the defaults: {differ}")
            continue
        adopted["adopted_from"] = {
            "tag": tag,
            "overrides": record["overrides"],
            "command": record.get("command"),
        }
        out = result_path(record["dataset"], record["protocol"], record["model"])
        out.write_text(json.dumps(adopted, indent=1))
        written.append(out)
        print(f"{path.name} -> {out.name}")
    return written


def _stale_note(record: dict) -> str:
    """ "; earlier defaults: name=value, ..." for a record measured before a default
    changed (the values it was measured at); empty otherwise."""
    stale = changed_defaults(record)
    shown = ", ".join(f"{k}={v}" for k, v in sorted(stale.items()))
    return f"; earlier defaults: {shown}" if stale else ""


def result_path(dataset, protocol, model, tag=None) -> Path:
    suffix = f"_{tag}" if tag else ""
    return RESULTS / f"{dataset}_{protocol}_{model}{suffix}.json"


#: fewer test users than this (ml-latest-small under TIME has 20): no ratio, no more runs
MIN_TEST_USERS = 100

#: load average above which a record's fit time is marked as measured on a busy machine
LOADED = 2.5


def write_table() -> str:
    """The docs table (RST) from every record in results/defaults (no tag)."""
    records = [json.loads(p.read_text()) for p in sorted(RESULTS.glob("*.json"))]
    records = [r for r in records if not r.get("tag")]
    by_key = {(r["dataset"], r["protocol"], r["model"]): r for r in records}
    lines = [
        ".. list-table:: NDCG@10 at the defaults (seed 0), ratio to popularity, fit time",
        "   :header-rows: 1",
        "",
        "   * - dataset",
        "     - protocol",
        "     - popularity",
    ]
    models = [m for m in MODELS if m != "popularity"]
    lines += [f"     - {m}" for m in models]
    for dataset in DATASETS:
        for protocol in ("loo", "time"):
            base = by_key.get((dataset, protocol, "popularity"))
            if base is None:
                continue
            pop = base["metrics"]["ndcg@10"]
            n_users = base.get("n_test_users", 0)
            if n_users < MIN_TEST_USERS:  # a ratio over a handful of users says nothing
                lines += [
                    f"   * - {dataset}",
                    f"     - {protocol.upper()}",
                    f"     - {pop:.4f} ({n_users} test users)",
                ]
                lines += [
                    f"     - too few test users ({n_users}) to compare; not run"
                    if by_key.get((dataset, protocol, model)) is None
                    else f"     - {by_key[(dataset, protocol, model)]['metrics']['ndcg@10']:.4f}"
                    f" ({n_users} test users{_stale_note(by_key[(dataset, protocol, model)])})"
                    for model in models
                ]
                continue
            lines += [f"   * - {dataset}", f"     - {protocol.upper()}", f"     - {pop:.4f}"]
            for model in models:
                r = by_key.get((dataset, protocol, model))
                if r is None:
                    lines.append("     - not run")
                    continue
                value = r["metrics"]["ndcg@10"]
                ratio = value / pop if pop else float("nan")
                mark = "" if ratio >= TARGET_RATIO[protocol] else ", below target"
                load = r.get("load_average_at_end", 0.0)
                # a fit beside other jobs: its time says little (one job uses 2 of 2 cores)
                busy = f" at load {load:.1f}" if load > LOADED else ""
                if r.get("threads", 2) != 2:
                    busy = f" ({r['threads']} thread{'s' * (r['threads'] > 1)}){busy}"
                busy += _stale_note(r)
                lines.append(
                    f"     - {value:.4f} ({ratio:.2f}x{mark}), "
                    f"{r['fit_seconds'] / 60:.1f} min{busy}"
                )
    lines += [
        "",
        f'A fit time "at load N" was measured with other jobs running (load above {LOADED} '
        "on 2 cores at its end); the others on a quiet machine. Fits on 2 torch threads "
        "unless the cell says otherwise (a 2-thread job slows down many times over when "
        "other jobs share the cores, so fits beside other jobs ran on 1 thread).",
    ]
    return write_rst(TABLE, lines)


def write_rst(path: Path, lines: list) -> str:
    """Write a generated docs table; return its text."""
    text = "\n".join(lines) + "\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return text


def log_progress() -> None:
    """One line per validation round on stderr: a long fit shows where it is."""
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(message)s")
    logging.getLogger("skseqrec").setLevel(logging.INFO)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--protocols", nargs="+", choices=["loo", "time"], default=["loo", "time"])
    parser.add_argument("--models", nargs="+", choices=sorted(MODELS), default=list(MODELS))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument(
        "--set",
        nargs="*",
        default=[],
        metavar="NAME=VALUE",
        help="parameter overrides (a record with a --tag; not the defaults table)",
    )
    parser.add_argument("--tag", default=None)
    parser.add_argument("--force", action="store_true", help="rerun existing records")
    parser.add_argument("--table", action="store_true", help="only rewrite the docs table")
    parser.add_argument(
        "--adopt",
        metavar="TAG",
        help="make TAG's records the defaults records where their parameters are the "
        "defaults now (a setting that became a default), then stop",
    )
    args = parser.parse_args(argv)
    if args.table:
        print(write_table())
        return
    if args.adopt:
        adopt(args.adopt)
        return
    torch.set_num_threads(args.threads)
    log_progress()
    overrides = {}
    for item in args.set:
        name, _, value = item.partition("=")
        try:
            overrides[name] = json.loads(value)
        except json.JSONDecodeError:
            overrides[name] = value
    if overrides and not args.tag:
        parser.error("--set needs --tag (records with overrides are not the defaults table)")
    RESULTS.mkdir(parents=True, exist_ok=True)
    for dataset in args.datasets:
        for protocol in args.protocols:
            if protocol == "time" and dataset in ORDER_ONLY:
                continue
            for model in args.models:
                out = result_path(dataset, protocol, model, args.tag)
                if out.exists() and not args.force:
                    continue
                base = result_path(dataset, protocol, "popularity")
                if model != "popularity" and base.exists():
                    n_users = json.loads(base.read_text()).get("n_test_users", 0)
                    if n_users < MIN_TEST_USERS:
                        print(f"{dataset} {protocol}: {n_users} test users, {model} skipped")
                        continue
                record = run_one(dataset, protocol, model, args.seed, overrides)
                record["tag"] = args.tag
                record["command"] = "python -m benchmarks.defaults " + " ".join(
                    argv if argv is not None else __import__("sys").argv[1:]
                )
                out.write_text(json.dumps(record, indent=1))
                print(
                    f"{dataset} {protocol} {model}: ndcg@10 {record['metrics']['ndcg@10']:.4f} "
                    f"hr@10 {record['metrics']['hr@10']:.4f} fit {record['fit_seconds']:.0f}s "
                    f"{record.get('stop_reason', '')}",
                    flush=True,
                )
    if not args.tag:
        write_table()


if __name__ == "__main__":
    main()
