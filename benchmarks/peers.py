"""Run a peer library's benchmark script (../shared/peers) in its own venv; keep a record.

Example::

    bash benchmarks/peers_env.sh          # once: .venv-rectools, .venv-skrec
    python -m benchmarks.peers --peer rectools --variant esasrec --epochs 1
    python -m benchmarks.peers --peer skrec --epochs 1

The peers' scripts use Protocol LOO with a fixed number of epochs (no validation split)
and one torch thread (RecTools' script pins it; scikit-rec's follows OMP_NUM_THREADS).
Their accuracy after a fixed number of epochs is recorded under the protocol name
``loo-fixed-epochs`` so it is never mixed with early-stopped figures; the speed figures
(seconds per epoch, fit seconds, peak memory) are what the comparison uses. skseqrec's
side of the same comparison: ``python -m benchmarks.speed --threads 1``.

With ``--protocol loo|time`` the peers are compared on ACCURACY with exactly our split and
our metric code instead: the dataset is loaded and split by ``benchmarks.run``
(``load_dataset``, ``split_loo`` / ``split_time``), the rows are written to CSV files, and
``benchmarks/peer_adapter.py`` runs in the peer's venv (fit on FIT, recommend top 20 for the
test users from their CONTEXT histories, seen items excluded); the lists are scored by
``run.score_recommendations``, the function ``run.evaluate`` uses for our models::

    python -m benchmarks.peers --peer rectools --variant esasrec --protocol loo \
        --dataset ml-100k --epochs 200 --time-budget 3600 --threads 1 --seeds 0 1 2

* LOO: the peer trains on ``fit`` = all but each user's last two events (what our estimators
  train on; they also early-stop on the second-to-last, the peers train a fixed number of
  epochs or a time budget), and reads ``context`` = all but the last event.
* TIME: the peer trains on every event before the cut; context = the test users' events
  before the cut.

The record goes to ``benchmarks/results/peer_{dataset}_{protocol}_{peer}_{variant}.json``
(``..._budget{S}.json`` with ``--time-budget S``; ``--out`` to write elsewhere) with the
fields of ``benchmarks.run``'s records plus
``library``; ``benchmarks.report`` puts it in the table of that dataset and protocol.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import skseqrec

from .data import shared_data_path
from .run import RESULTS, load_dataset, score_recommendations, split_loo, split_time, summarise

ROOT = Path(__file__).resolve().parents[1]
VENVS = {"rectools": ROOT / ".venv-rectools", "skrec": ROOT / ".venv-skrec"}
SCRIPTS = {"rectools": "rectools_bench.py", "skrec": "skrec_bench.py"}
ADAPTER = Path(__file__).resolve().parent / "peer_adapter.py"
DEFAULT_VARIANT = {"rectools": "esasrec", "skrec": "sasrec_defaults"}


def _command(argv):
    return "python -m benchmarks.peers " + " ".join(sys.argv[1:] if argv is None else argv)


def run_protocol(args, argv):
    """Accuracy under our split and metric code (``--protocol loo|time``)."""
    import pandas as pd

    python = VENVS[args.peer] / "bin" / "python"
    if not python.exists():
        sys.exit(f"{python} missing: run bash benchmarks/peers_env.sh first")
    variant = args.variant or DEFAULT_VARIANT[args.peer]
    frame, path, digest = load_dataset(args.dataset)
    if args.protocol == "loo":
        fit, _valid, context, targets = split_loo(frame)
        cut = None
    else:
        fit, _valid, context, targets, cut = split_time(frame)
    users = np.sort(targets["user_id"].unique())
    fit_items = set(fit["item_id"].unique())
    env = {
        **os.environ,
        "OMP_NUM_THREADS": str(args.threads),
        "MKL_NUM_THREADS": str(args.threads),
    }
    runs = []
    with tempfile.TemporaryDirectory(prefix="peer-") as tmp:
        tmp = Path(tmp)
        columns = ["user_id", "item_id", "timestamp"]
        fit[columns].to_csv(tmp / "fit.csv", index=False)
        context[columns].to_csv(tmp / "context.csv", index=False)
        pd.DataFrame({"user_id": users}).to_csv(tmp / "users.csv", index=False)
        for seed in args.seeds:
            command = [
                str(python),
                str(ADAPTER),
                "--peer",
                args.peer,
                "--variant",
                variant,
                "--fit",
                str(tmp / "fit.csv"),
                "--context",
                str(tmp / "context.csv"),
                "--users",
                str(tmp / "users.csv"),
                "--epochs",
                str(args.epochs),
                "--seed",
                str(seed),
                "--out",
                str(tmp / "recs.csv"),
                "--meta",
                str(tmp / "meta.json"),
            ]
            command += ["--max-len", str(args.max_len)] if args.max_len else []
            command += ["--time-budget", str(args.time_budget)] if args.time_budget else []
            started = time.perf_counter()
            subprocess.run(command, check=True, env=env, cwd=tmp)
            wall = time.perf_counter() - started
            meta = json.loads((tmp / "meta.json").read_text())
            recs = pd.read_csv(tmp / "recs.csv")
            values, n_users = score_recommendations(recs, targets)
            # sanity: lists must not repeat context items, nor items/ranks within a list
            in_context = recs.merge(context[["user_id", "item_id"]].drop_duplicates())
            duplicates = int(recs.duplicated(["user_id", "item_id"]).sum())
            duplicates += int(recs.duplicated(["user_id", "rank"]).sum())
            if len(in_context) or duplicates:
                sys.exit(
                    f"{args.peer} {variant}: {len(in_context)} recommended items already in "
                    f"the user's context, {duplicates} duplicate items/ranks"
                )
            run = {
                "seed": seed,
                "config": meta["config"],
                "metrics": values,
                "n_test_users": n_users,
                "n_test_targets": n_users,
                "test_targets_not_in_fit": int((~targets["item_id"].isin(fit_items)).sum()),
                "fit_seconds": meta["fit_seconds"],
                "recommend_seconds": meta["recommend_seconds"],
                "epochs_trained": meta["epochs_trained"],
                "stop_reason": meta["stop_reason"],
                "seconds_per_epoch_median": meta["seconds_per_epoch_median"],
                "history": {"seconds": meta["seconds_per_epoch"]},
                "peak_rss_mib": meta["peak_rss_mib"],
                "wall_seconds": wall,
                "adapter_meta": meta,
            }
            if cut is not None:
                run["cutoff"] = float(cut)
            runs.append(run)
    summary = summarise(runs)
    meta = runs[-1]["adapter_meta"]
    record = {
        "dataset": args.dataset,
        "file": path,
        "sha256": digest,
        "protocol": args.protocol,
        "ranking": "full catalogue, seen items excluded",
        "library": args.peer,
        "model": variant,
        "summary": summary,
        "runs": runs,
        "hardware": {
            "cpu_count": os.cpu_count(),
            "torch_threads": meta["torch_threads"],
            "platform": platform.platform(),
            "device": meta["device"],
        },
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "versions": {**meta["versions"], "skseqrec (split, metrics)": skseqrec.__version__},
        "command": _command(argv),
    }
    name = f"peer_{args.dataset}_{args.protocol}_{args.peer}_{variant}"
    if args.time_budget:
        # an equal-budget run (benchmarks/side_by_side.sh) sits beside our runs of that budget
        record["time_budget_seconds"] = float(args.time_budget)
        record["tag"] = f"budget{args.time_budget:g}"
        name += f"_{record['tag']}"
    out = Path(args.out) if args.out else RESULTS / f"{name}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(record, indent=1, default=str))
    print(f"{args.peer} {variant} on {args.dataset} ({args.protocol}), seeds {args.seeds}:")
    for key, stats in summary.items():
        print(f"  {key:8s} {stats['mean']:.4f} ± {stats['std']:.4f}")
    for r in runs:
        m = r["adapter_meta"]
        print(
            f"  seed {r['seed']}: {r['epochs_trained']} epochs ({r['stop_reason']}), "
            f"{r['seconds_per_epoch_median']:.2f} s/epoch, fit {r['fit_seconds']:.1f} s, "
            f"recommend {r['recommend_seconds']:.1f} s; {m['users_without_recs']} of "
            f"{m['users_requested']} users without a list, {m['context_rows_unknown_items']} "
            f"context rows with items unknown to the model, {r['test_targets_not_in_fit']} "
            "targets not in fit"
        )
    print(f"  peak RSS {record['peak_rss_mib']:.0f} MiB -> {out}")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", choices=sorted(VENVS), required=True)
    parser.add_argument(
        "--variant",
        default=None,
        help="RecTools: sasrec_softmax, esasrec (default), sasrec_ss, sasrec_gbce, bert4rec; "
        "scikit-rec: sasrec_defaults",
    )
    parser.add_argument("--dataset", default="ml-1m-users1-2999")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument(
        "--protocol",
        choices=["loo", "time"],
        default=None,
        help="accuracy under our split and metrics via benchmarks/peer_adapter.py "
        "(without it: the shared peer scripts, for speed figures)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="with --protocol")
    parser.add_argument("--time-budget", type=float, default=None, help="with --protocol")
    parser.add_argument("--max-len", type=int, default=None, help="with --protocol (200)")
    parser.add_argument("--out", default=None, help="record path (with --protocol)")
    args = parser.parse_args(argv)
    if args.protocol:
        return run_protocol(args, argv)
    args.variant = args.variant or "esasrec"
    folder = shared_data_path(args.dataset)
    if folder is None:
        sys.exit(f"dataset {args.dataset!r} not found under shared/data")
    script = folder.parent.parent / "peers" / SCRIPTS[args.peer]
    python = VENVS[args.peer] / "bin" / "python"
    if not python.exists():
        sys.exit(f"{python} missing: run bash benchmarks/peers_env.sh first")
    data = folder / "ratings.csv.gz"
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "peer.json"
        command = [str(python), str(script), str(data)]
        command += [args.variant] if args.peer == "rectools" else []
        command += [str(args.epochs), "--out", str(out)]
        env = {
            **os.environ,
            "OMP_NUM_THREADS": str(args.threads),
            "MKL_NUM_THREADS": str(args.threads),
        }
        started = time.perf_counter()
        subprocess.run(command, check=True, env=env, cwd=tmp)
        wall = time.perf_counter() - started
        raw = json.loads(out.read_text())
    final = raw.get("final_metrics") or {}  # scikit-rec's script
    hr = raw.get("HR@10", final.get("HR@10"))
    ndcg = raw.get("NDCG@10", final.get("NDCG@10"))
    per_epoch = raw.get("sec_per_epoch_median")
    model = args.variant if args.peer == "rectools" else "sasrec_defaults"
    record = {
        "library": args.peer,
        "model": model,
        "dataset": args.dataset,
        "protocol": "loo-fixed-epochs",
        "summary": {
            k: {"mean": float(v), "std": 0.0}
            for k, v in (("hr@10", hr), ("ndcg@10", ndcg))
            if v is not None
        },
        "runs": [
            {
                "epochs_trained": raw.get("epochs_trained", args.epochs),
                "stop_reason": f"reached epochs={args.epochs}",
                "seconds_per_epoch_median": per_epoch,
                "fit_seconds": raw.get(
                    "fit_seconds_total", raw.get("fit_seconds_total_incl_evals")
                ),
                "recommend_seconds": raw.get("recommend_seconds_all_users_top10"),
            }
        ],
        "peak_rss_mib": raw.get("peak_rss_mib_self"),
        "wall_seconds": wall,
        "hardware": {"cpu_count": os.cpu_count(), "torch_threads": raw.get("torch_threads")},
        "raw": raw,
        "command": _command(argv),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"peer_{args.dataset}_{args.peer}_{model}.json"
    path.write_text(json.dumps(record, indent=1, default=str))
    print(f"{args.peer} {model}: {per_epoch} s/epoch, HR@10 {hr}, NDCG@10 {ndcg} -> {path}")


if __name__ == "__main__":
    main()
