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
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from skseqrec.datasets import shared_data_path

from .run import RESULTS

ROOT = Path(__file__).resolve().parents[1]
VENVS = {"rectools": ROOT / ".venv-rectools", "skrec": ROOT / ".venv-skrec"}
SCRIPTS = {"rectools": "rectools_bench.py", "skrec": "skrec_bench.py"}


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--peer", choices=sorted(VENVS), required=True)
    parser.add_argument("--variant", default="esasrec", help="RecTools variant (see its script)")
    parser.add_argument("--dataset", default="ml-1m-users1-2999")
    parser.add_argument("--epochs", type=int, default=1)
    parser.add_argument("--threads", type=int, default=1)
    args = parser.parse_args(argv)
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
        "command": "python -m benchmarks.peers " + " ".join(sys.argv[1:] if argv is None else argv),
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"peer_{args.dataset}_{args.peer}_{model}.json"
    path.write_text(json.dumps(record, indent=1, default=str))
    print(f"{args.peer} {model}: {per_epoch} s/epoch, HR@10 {hr}, NDCG@10 {ndcg} -> {path}")


if __name__ == "__main__":
    main()
