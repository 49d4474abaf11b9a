"""Turn ``benchmarks/results/*.json`` records into the docs' results tables.

Usage::

    python -m benchmarks.report            # rewrites docs/results_tables.rst

One table per (dataset, protocol), and one per (dataset, protocol, budget) for the
equal-budget runs of ``benchmarks/side_by_side.sh`` (ours and the peers'): model, NDCG@10 and
HR@10 (mean ± std over seeds), epochs trained and why training stopped, seconds per epoch, fit
seconds, peak RSS and the command that produced the row; and per table a plot of accuracy
against training minutes (docs/images/curve_*.png): each skseqrec run's validation NDCG@10
after every epoch (cumulative epoch seconds on the x axis) and every run's test NDCG@10 at its
fit time. Peer rows (records with ``"library"``) sit beside ours: those of
``benchmarks.peers --protocol loo|time`` (our split and metric code) in the table of their
dataset, protocol and budget, the older shared-script runs under protocol ``loo-fixed-epochs``.
"""

from __future__ import annotations

import json
from collections import defaultdict
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "results"
OUT = Path(__file__).resolve().parents[1] / "docs" / "results_tables.rst"
IMAGES = OUT.parent / "images"


def _fmt(stats, key):
    if key not in stats:
        return "—"
    mean, std = stats[key]["mean"], stats[key]["std"]
    return f"{mean:.4f} ± {std:.4f}" if std else f"{mean:.4f}"


def _row(record):
    runs = record.get("runs", [])
    epochs = [r.get("epochs_trained") for r in runs if r.get("epochs_trained") is not None]
    per_epoch = [r["seconds_per_epoch_median"] for r in runs if "seconds_per_epoch_median" in r]
    stops = sorted({r.get("stop_reason", "") for r in runs if r.get("stop_reason")})
    fit = [r["fit_seconds"] for r in runs if "fit_seconds" in r]
    library = record.get("library", "skseqrec")
    max_len = (runs[0].get("config") or {}).get("max_len") if runs else None
    window = f" [max_len {max_len}]" if max_len else ""
    stops = sorted({s.split(":")[0] for s in stops})  # "early stopping" / "reached epochs=N"
    if library != "skseqrec":
        tested = "fit data"
    elif any("selection" in r for r in runs):
        tested = "refit " + "/".join(str(r["selection"]["epochs"]) for r in runs) + " ep"
    elif epochs or "selection" in (runs[0].get("final_model", "") if runs else ""):
        tested = "selection"  # trained before the validation targets (early-stopped model)
    else:
        tested = "final data"
    return [
        f"{library}: {record['model']}{window}",
        _fmt(record["summary"], "ndcg@10"),
        _fmt(record["summary"], "hr@10"),
        "/".join(str(e) for e in epochs) or "—",
        "; ".join(stops) or "—",
        tested,
        f"{sum(per_epoch) / len(per_epoch):.2f}" if per_epoch else "—",
        f"{sum(fit) / len(fit):.0f}" if fit else "—",
        f"{record.get('peak_rss_mib', 0):.0f}",
        f"``{record.get('command', '')}``",
    ]


def _table(rows, header):
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("=" * w for w in widths)
    out = [line, "  ".join(h.ljust(w) for h, w in zip(header, widths)), line]
    out += ["  ".join(str(c).ljust(w) for c, w in zip(r, widths)) for r in rows]
    return "\n".join([*out, line])


def _label(record):
    runs = record.get("runs") or [{}]
    max_len = (runs[0].get("config") or {}).get("max_len")
    window = f" [max_len {max_len}]" if max_len else ""
    return f"{record.get('library', 'skseqrec')}: {record['model']}{window}"


def plot_curves(dataset, protocol, records, budget=0):
    """Validation NDCG@10 against cumulative training minutes; test NDCG@10 at fit time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 5.5))
    for index, record in enumerate(records):
        color = f"C{index % 10}"
        for run in record.get("runs", [])[:1]:  # first seed: one curve per record
            history = run.get("history") or {}
            if history.get("valid_ndcg@10") and history.get("seconds"):
                minutes, total = [], 0.0
                for seconds in history["seconds"]:
                    total += seconds
                    minutes.append(total / 60)
                ax.plot(minutes, history["valid_ndcg@10"], color=color, lw=1, alpha=0.8)
        fits = [r["fit_seconds"] / 60 for r in record.get("runs", []) if r.get("fit_seconds")]
        if fits and "ndcg@10" in record["summary"]:
            marker = "s" if "library" in record else "o"
            ax.scatter(
                [sum(fits) / len(fits)],
                [record["summary"]["ndcg@10"]["mean"]],
                color=color,
                marker=marker,
                label=_label(record),
                zorder=3,
            )
    ax.set_xlabel("training minutes (cumulative epoch time)")
    ax.set_ylabel("NDCG@10 (lines: validation per epoch; markers: test)")
    budget_text = f", {budget / 60:g}-minute budget" if budget else ""
    ax.set_title(
        f"{dataset}, Protocol {protocol.upper()}{budget_text}: accuracy per training minute"
    )
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    IMAGES.mkdir(exist_ok=True)
    path = IMAGES / f"curve_{dataset}_{protocol}{f'_budget{budget:g}' if budget else ''}.png"
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def main():
    groups = defaultdict(list)
    for path in sorted(RESULTS.glob("*.json")):
        record = json.loads(path.read_text())
        if "summary" not in record or "protocol" not in record:
            continue
        # an equal-budget run (benchmarks/side_by_side.sh) goes to its budget's own table
        budget = record.get("time_budget_seconds") or 0.0
        groups[(record["dataset"], record["protocol"], budget)].append(record)
    header = [
        "model",
        "NDCG@10",
        "HR@10",
        "epochs",
        "stopped",
        "tested model",
        "s/epoch",
        "fit s",
        "RSS MiB",
        "command",
    ]
    parts = [
        ".. Generated by ``python -m benchmarks.report`` from benchmarks/results/*.json.",
        "",
    ]
    for (dataset, protocol, budget), records in sorted(groups.items()):
        records.sort(key=lambda r: -r["summary"].get("ndcg@10", {"mean": 0})["mean"])
        title = f"{dataset}, Protocol {protocol.upper()}"
        if budget:
            title += f", equal training budget of {budget / 60:g} minutes"
        sha = {
            (r.get("sha256") or r.get("raw", {}).get("data_sha256") or "?")[:12] for r in records
        }
        hardware = records[0].get("hardware", {})
        # peers' records (benchmarks.peers) may use other thread counts than ours
        threads = sorted({str(r.get("hardware", {}).get("torch_threads", "?")) for r in records})
        parts += [
            title,
            "-" * len(title),
            "",
            f"Full-catalogue ranking, seen items excluded. Data sha256 {', '.join(sorted(sha))}; "
            f"{hardware.get('cpu_count', '?')} CPU cores, {'/'.join(threads)} "
            f"torch threads{', GPU ' + hardware['gpu'] if 'gpu' in hardware else ''}.",
            "",
            _table([_row(r) for r in records], header),
            "",
        ]
        if protocol in ("loo", "time"):
            image = plot_curves(dataset, protocol, records, budget)
            parts += [
                f".. figure:: images/{image.name}",
                "   :width: 90%",
                "",
                f"   {title}: accuracy against training minutes (validation NDCG@10 per epoch "
                "as lines, test NDCG@10 at fit time as markers; squares are peers).",
                "",
            ]
    OUT.write_text("\n".join(parts))
    print(f"wrote {OUT} ({sum(len(v) for v in groups.values())} records)")


if __name__ == "__main__":
    main()
