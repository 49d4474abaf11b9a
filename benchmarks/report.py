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
import re
from collections import defaultdict
from pathlib import Path

from skseqrec.estimators import TransformerRecommender

from .models import MODELS

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
        _label(record),
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


def _json(value):
    """A parameter value as a record stores it (``benchmarks.run`` writes JSON, str else)."""
    return json.loads(json.dumps(value, default=str))


def changed_defaults(record) -> dict:
    """``{name: recorded value}`` where a ``benchmarks.run`` record's model differs from
    the one its command builds now: a row measured before a preset's default changed.

    The command's own choices (the runner's window, epochs and validation, ``--set``
    and ``--patience*`` parameters, callbacks) are not defaults and are left out; a
    parameter added since the record counts at the value it had then, the base default.
    """
    runs = record.get("runs") or [{}]
    config = runs[0].get("config") or {}
    name = record["model"].split(" ")[0]
    if "library" in record or name not in MODELS or "epochs" not in config:
        return {}
    now = MODELS[name](
        seed=config.get("random_state"),
        epochs=config["epochs"],
        patience=None,
        protocol=record["protocol"],
        max_len=config.get("max_len"),
    ).get_params()
    chosen = {"callbacks", *re.findall(r"(\w+)=", record["model"].partition(" ")[2])}
    if "--patience" in record.get("command", ""):
        chosen |= {k for k in now if k.startswith("early_stopping")}
    base = TransformerRecommender().get_params()
    changed = {}
    for key, value in now.items():
        then = _json(config.get(key, base.get(key)))
        if key not in chosen and not key.endswith("_col") and then != _json(value):
            changed[key] = then
    return changed


def _label(record, shown_changes=3):
    """ "library: model [max_len N; earlier defaults: name=value, ...]": at most
    ``shown_changes`` of the changed defaults by name, the rest counted."""
    runs = record.get("runs") or [{}]
    max_len = (runs[0].get("config") or {}).get("max_len")
    notes = [f"max_len {max_len}"] if max_len else []
    stale = sorted(changed_defaults(record).items())
    if stale:
        shown = ", ".join(f"{k}={v}" for k, v in stale[:shown_changes])
        more = f" and {len(stale) - shown_changes} more" if len(stale) > shown_changes else ""
        notes.append(
            f"earlier defaults: {shown}{more}" if shown else f"earlier defaults ({len(stale)})"
        )
    shown = f" [{'; '.join(notes)}]" if notes else ""
    return f"{record.get('library', 'skseqrec')}: {record['model']}{shown}"


def plot_curves(dataset, protocol, records, budget=0):
    """Validation NDCG@10 against cumulative training minutes; test NDCG@10 at fit time."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(12, 5.5))
    for index, record in enumerate(records):
        color = plt.cm.tab20(index % 20)
        for run in record.get("runs", [])[:1]:  # first seed: one curve per record
            history = run.get("history") or {}
            if history.get("valid_ndcg@10") and history.get("seconds"):
                minutes, scores, total = [], [], 0.0
                for seconds, score in zip(history["seconds"], history["valid_ndcg@10"]):
                    total += seconds
                    if score is not None and score == score:  # rows without a validation
                        minutes.append(total / 60)
                        scores.append(score)
                ax.plot(minutes, scores, color=color, lw=1, alpha=0.8)
        fits = [r["fit_seconds"] / 60 for r in record.get("runs", []) if r.get("fit_seconds")]
        if fits and "ndcg@10" in record["summary"]:
            marker = "s" if "library" in record else "o"
            ax.scatter(
                [sum(fits) / len(fits)],
                [record["summary"]["ndcg@10"]["mean"]],
                color=color,
                marker=marker,
                label=_label(record, shown_changes=0),
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
