"""Plots of training histories and evaluation results.

matplotlib is an optional dependency (``pip install "skseqrec[plot]"``); it is imported
when a function is called, so ``import skseqrec.plotting`` works without it. Every
function draws on the Axes it is given (``ax=``), or on a new figure, and returns that
Axes.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["plot_comparison", "plot_history", "plot_metric_at_k"]

_INSTALL = 'pip install "skseqrec[plot]"'
#: short names of the metrics of :func:`skseqrec.evaluate` and of the ``monitor`` values
_METRIC_NAMES = {"hit_rate": "HR", "ndcg": "NDCG", "mrr": "MRR", "coverage": "Coverage"}


def _axes(ax, figsize):
    """``ax``, or the Axes of a new figure; the one place matplotlib is imported."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as error:
        raise ImportError(f"skseqrec.plotting needs matplotlib: {_INSTALL}") from error
    if ax is None:
        _, ax = plt.subplots(figsize=figsize)
    return ax


def _metric_name(metric: str) -> str:
    """``"ndcg@10"`` -> ``"NDCG@10"``, ``"hit_rate"`` -> ``"HR"``."""
    name, at, k = metric.partition("@")
    return _METRIC_NAMES.get(name, name) + at + k


# ------------------------------------------------------------------------ history
def _history_of(source):
    """``(history, best_epoch, monitor)`` of a fitted estimator or a history DataFrame."""
    if isinstance(source, pd.DataFrame):
        return source, None, None
    if not hasattr(type(source), "history_"):
        raise TypeError(
            "plot_history needs a fitted skseqrec torch estimator (with history_) or its "
            f"history_ DataFrame, got {type(source).__name__}."
        )
    # an unfitted estimator raises NotFittedError here
    return source.history_, getattr(source, "best_epoch_", None), getattr(source, "monitor", None)


def _validation_metrics(history: pd.DataFrame) -> list[str]:
    """Metrics with a ``valid_<metric>`` column, in column order."""
    return [
        column[len("valid_") :]
        for column in history.columns
        if column.startswith("valid_") and not column.endswith("_se")
    ]


def _chosen_metrics(history: pd.DataFrame, metrics) -> list[str]:
    available = _validation_metrics(history)
    if metrics is None:
        return [m for m in available if history[f"valid_{m}"].notna().any()]
    requested = [metrics] if isinstance(metrics, str) else list(metrics)
    if not requested:
        raise ValueError("metrics is empty: pass None for every validation metric.")
    chosen = []
    for metric in requested:
        metric = metric.removeprefix("valid_")
        column = f"valid_{metric}"
        if column not in history.columns:
            present = available or "none (the model was fitted without validation data)"
            raise ValueError(
                f"history has no column {column!r} for metric {metric!r}; validation "
                f"metrics present: {present}. An estimator records its monitor only."
            )
        if history[column].isna().all():
            raise ValueError(
                f"history column {column!r} has no value in any of its {len(history)} rows "
                "(no round was validated)."
            )
        chosen.append(metric)
    return chosen


def _best_row(history: pd.DataFrame, monitor: str, best_epoch) -> pd.Series:
    """The validated row with the best ``valid_<monitor>`` (lowest for ``"loss"``),
    within epoch ``best_epoch`` when it has validated rows."""
    column = f"valid_{monitor}"
    validated = history[history[column].notna()]
    if best_epoch is not None:
        in_epoch = validated[validated["epoch"] == best_epoch]
        validated = in_epoch if len(in_epoch) else validated
    values = validated[column].astype(float)
    return history.loc[values.idxmin() if monitor == "loss" else values.idxmax()]


def plot_history(estimator_or_history, metrics=None, ax=None):
    """Training loss and validation metrics of a fit, against optimiser steps.

    The training loss of every round is drawn on the left axis; each validation metric,
    at the rounds that were validated, on a right axis, with a shaded band of plus/minus
    one standard error where ``history_`` has ``valid_<metric>_se``. A dotted vertical
    line and a star mark the best round: the best validated round of the estimator's
    ``best_epoch_`` (the weights early stopping kept), or for a DataFrame the round with
    the best value of the first metric plotted (lowest for ``"loss"``).

    Parameters
    ----------
    estimator_or_history : fitted estimator or DataFrame
        A fitted torch estimator (its ``history_``, ``best_epoch_`` and ``monitor`` are
        read), or a ``history_`` DataFrame: ``epoch`` and/or ``step``, ``train_loss``,
        ``valid_<metric>`` columns and optionally ``valid_<metric>_se``.
    metrics : str or list of str, default=None
        Validation metrics to draw, e.g. ``"ndcg@10"`` (``"valid_ndcg@10"`` also works).
        None: every ``valid_<metric>`` column that has a value.
    ax : matplotlib Axes, default=None
        Axes to draw the training loss on; None creates a figure.

    Returns
    -------
    matplotlib Axes
        The training-loss Axes. The validation metrics are on its twin, ``ax.right_ax``
        (None when no metric is drawn). The x axis is ``step`` when every row has one,
        else ``epoch``.

    Raises
    ------
    ValueError
        An empty history, one without ``train_loss`` or without ``step`` and ``epoch``,
        or a requested metric without a ``valid_<metric>`` column or without any value.
    TypeError
        Neither a DataFrame nor an estimator with ``history_``.
    ImportError
        matplotlib is not installed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skseqrec import SASRecClassifierEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> from skseqrec.plotting import plot_history
    >>> X = make_sequential_world(n_users=60, n_items=20, random_state=0)
    >>> est = SASRecClassifierEstimator(
    ...     hidden_units=8, epochs=3, early_stopping_patience=2, random_state=0
    ... ).fit(X)
    >>> ax = plot_history(est)
    >>> ax.get_xlabel(), ax.get_ylabel(), ax.right_ax.get_ylabel()
    ('optimiser step', 'training loss', 'validation NDCG@10')
    >>> [line.get_label() for line in ax.right_ax.get_lines()]
    ['validation NDCG@10', '_best round']
    """
    history, best_epoch, monitor = _history_of(estimator_or_history)
    if history.empty:
        raise ValueError("history is empty: no training round was recorded.")
    x_name = next(
        (c for c in ("step", "epoch") if c in history.columns and history[c].notna().all()),
        None,
    )
    if x_name is None or "train_loss" not in history.columns:
        raise ValueError(
            "history needs a train_loss column and a step or epoch column without missing "
            f"values; it has columns {list(history.columns)}."
        )
    chosen = _chosen_metrics(history, metrics)
    if monitor is None or f"valid_{monitor}" not in history.columns:
        monitor = chosen[0] if chosen else None
    if monitor is not None and history[f"valid_{monitor}"].isna().all():
        monitor = None

    x_label = "optimiser step" if x_name == "step" else "epoch"
    ax = _axes(ax, (7, 4))
    trained = history[history["train_loss"].notna()]
    ax.plot(
        trained[x_name].to_numpy(dtype=float),
        trained["train_loss"].to_numpy(dtype=float),
        color="C0",
        label="training loss",
    )
    ax.set_xlabel(x_label)
    ax.set_ylabel("training loss")
    if not isinstance(estimator_or_history, pd.DataFrame):
        ax.set_title(type(estimator_or_history).__name__)

    right = ax.twinx() if chosen else None
    colors = {}
    for index, metric in enumerate(chosen, start=1):
        colors[metric] = color = f"C{index}"
        name = _metric_name(metric)
        rows = history[history[f"valid_{metric}"].notna()]
        x = rows[x_name].to_numpy(dtype=float)
        value = rows[f"valid_{metric}"].to_numpy(dtype=float)
        right.plot(x, value, color=color, marker=".", label=f"validation {name}")
        se_column = f"valid_{metric}_se"
        if se_column in rows.columns and rows[se_column].notna().any():
            se = rows[se_column].to_numpy(dtype=float)
            right.fill_between(
                x,
                value - se,
                value + se,
                color=color,
                alpha=0.2,
                linewidth=0,
                label=f"±1 SE of {name}",
            )
    if right is not None:
        right.set_ylabel(
            f"validation {_metric_name(chosen[0])}" if len(chosen) == 1 else "validation metric"
        )

    if monitor is not None:
        best = _best_row(history, monitor, best_epoch)
        best_x = float(best[x_name])
        value = float(best[f"valid_{monitor}"])
        where = f"epoch {int(best['epoch'])}"
        where = f"step {best_x:g}, {where}" if x_name == "step" else where
        ax.axvline(
            best_x,
            color="0.4",
            linestyle=":",
            label=f"best round ({where}): {_metric_name(monitor)} {value:.3g}",
        )
        if monitor in colors:
            right.plot(
                [best_x],
                [value],
                marker="*",
                markersize=14,
                linestyle="none",
                color=colors[monitor],
                markeredgecolor="k",
                label="_best round",
            )

    handles, labels = ax.get_legend_handles_labels()
    if right is not None:
        more_handles, more_labels = right.get_legend_handles_labels()
        handles, labels = handles + more_handles, labels + more_labels
    # the legend goes on the top Axes so that the right Axes' lines do not cover it
    (right if right is not None else ax).legend(handles, labels, loc="best", fontsize="small")
    ax.right_ax = right
    return ax


# ------------------------------------------------------------------------ results
def _runs(results, *, allow_frame: bool) -> dict[str, list[pd.DataFrame]]:
    """``{name: [evaluate() output, ...]}`` (a lone DataFrame gets the name ``""``)."""
    if isinstance(results, pd.DataFrame):
        if not allow_frame:
            raise TypeError(
                "results must be a dict: model name -> evaluate() DataFrame, or -> a list "
                "of them (one per seed); got a single DataFrame."
            )
        return {"": [results]}
    if not isinstance(results, Mapping):
        raise TypeError(
            "results must be a DataFrame from skseqrec.evaluate or a dict: model name -> "
            f"such a DataFrame or a list of them; got {type(results).__name__}."
        )
    if not results:
        raise ValueError("results is empty: pass at least one model's evaluate() output.")
    runs = {}
    for name, value in results.items():
        frames = [value] if isinstance(value, pd.DataFrame) else list(value)
        if not frames:
            raise ValueError(f"results[{name!r}] is an empty list: no evaluate() output.")
        runs[str(name)] = frames
    return runs


def _metric_table(runs: dict, metric: str, k=None) -> pd.DataFrame:
    """``model, run, k, value`` of one metric (at one ``k``) from every run."""
    tables = []
    for name, frames in runs.items():
        for run, frame in enumerate(frames):
            where = "results" if not name else f"results[{name!r}]"
            where += f"[{run}]" if len(frames) > 1 else ""
            if not isinstance(frame, pd.DataFrame):
                raise TypeError(
                    f"{where} is a {type(frame).__name__}, not a DataFrame from skseqrec.evaluate."
                )
            missing = sorted({"metric", "k", "value"} - set(frame.columns))
            if missing:
                raise ValueError(
                    f"{where} has no column {missing} (it is not an evaluate() output); "
                    f"its columns: {list(frame.columns)}."
                )
            if frame.empty:
                raise ValueError(f"{where} is empty: no row.")
            selected = frame[frame["metric"] == metric]
            if selected.empty:
                raise ValueError(
                    f"metric {metric!r} is not in {where}; available: "
                    f"{sorted(frame['metric'].unique())}."
                )
            if k is not None:
                at_k = selected[selected["k"] == k]
                if at_k.empty:
                    raise ValueError(
                        f"k={k} is not in {where} for metric {metric!r}; available k: "
                        f"{sorted(int(v) for v in selected['k'].unique())}."
                    )
                selected = at_k
            repeated = selected[selected["k"].duplicated(keep=False)]
            if len(repeated):
                per_k = repeated.groupby("k")
                differ = [
                    c
                    for c in repeated.columns
                    if c not in ("k", "value") and (per_k[c].nunique(dropna=False) > 1).any()
                ]
                raise ValueError(
                    f"{where} has {len(repeated)} rows for metric {metric!r} at one k (they "
                    f"differ in {differ}); select one first, e.g. the rows of one "
                    f"{differ[0] if differ else 'run'}."
                )
            tables.append(
                pd.DataFrame(
                    {
                        "model": name,
                        "run": run,
                        "k": selected["k"].to_numpy(dtype=np.int64),
                        "value": selected["value"].to_numpy(dtype=float),
                        "protocol": selected["protocol"].to_numpy()
                        if "protocol" in selected.columns
                        else "",
                    }
                )
            )
    return pd.concat(tables, ignore_index=True)


def _summary(table: pd.DataFrame, by: list[str]) -> pd.DataFrame:
    """Mean, sample standard deviation (NaN for one run) and number of runs."""
    summary = table.groupby(by, sort=False)["value"].agg(["mean", "std", "count"])
    return summary.reset_index()


def _protocol_note(table: pd.DataFrame) -> str:
    protocols = [p for p in table["protocol"].unique() if p]
    return f" ({protocols[0].upper()})" if len(protocols) == 1 else ""


def plot_metric_at_k(results, metric="ndcg", ax=None):
    """A ranking metric against its cut-off ``k``, one line per model.

    Parameters
    ----------
    results : DataFrame or dict
        The output of :func:`skseqrec.evaluate` (evaluated at several ``k``), or a dict:
        model name -> such a DataFrame, or -> a list of them (one per seed: the line is
        their mean, with a band of plus/minus one standard deviation).
    metric : str, default="ndcg"
        A value of the ``metric`` column: ``"hit_rate"``, ``"ndcg"``, ``"mrr"``,
        ``"coverage"``.
    ax : matplotlib Axes, default=None
        None creates a figure.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ValueError
        Empty results, a metric absent from a result (the message lists those present),
        or several rows for one ``k`` (e.g. the ``step`` of a multi-step evaluation).
    TypeError
        ``results`` is neither a DataFrame nor a dict of them.
    ImportError
        matplotlib is not installed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skseqrec import PopularityRecommender, evaluate
    >>> from skseqrec.datasets import make_sequential_world
    >>> from skseqrec.plotting import plot_metric_at_k
    >>> X = make_sequential_world(n_users=40, n_items=60, random_state=0)
    >>> result = evaluate(PopularityRecommender(), X, k=(5, 10, 20))
    >>> ax = plot_metric_at_k({"popularity": result}, metric="hit_rate")
    >>> ax.get_title(), [line.get_label() for line in ax.get_lines()]
    ('HR@k (LOO)', ['popularity'])
    >>> ax.get_lines()[0].get_xdata().tolist()
    [5.0, 10.0, 20.0]
    """
    table = _metric_table(_runs(results, allow_frame=True), metric)
    summary = _summary(table, ["model", "k"]).sort_values(["k"], kind="stable")
    name = _metric_name(metric)
    ax = _axes(ax, (6, 4))
    for model, rows in summary.groupby("model", sort=False):
        k = rows["k"].to_numpy(dtype=float)
        mean = rows["mean"].to_numpy(dtype=float)
        (line,) = ax.plot(k, mean, marker="o", label=model or name)
        if (rows["count"] > 1).any():
            std = rows["std"].fillna(0.0).to_numpy(dtype=float)
            ax.fill_between(k, mean - std, mean + std, color=line.get_color(), alpha=0.2)
    ax.set_xticks(sorted(summary["k"].unique()))
    ax.set_xlabel("k (cut-off)")
    ax.set_ylabel(f"{name}@k")
    runs = summary["count"].max()
    ax.set_title(
        f"{name}@k{_protocol_note(table)}"
        + (f", mean ± sd over up to {runs} seeds" if runs > 1 else "")
    )
    if (summary["model"] != "").any():
        ax.legend(fontsize="small")
    return ax


def plot_comparison(results, metric="ndcg", k=10, ax=None):
    """One metric per model as bars, with error bars over seeds.

    Each bar is the mean over a model's runs (one :func:`skseqrec.evaluate` output per
    seed), its error bar the sample standard deviation (``ddof=1``; none for a single
    run), and the mean is written above it. The title states the number of seeds; when
    models have different numbers, each tick label states its own.

    Parameters
    ----------
    results : dict
        Model name -> list of :func:`skseqrec.evaluate` DataFrames (one per seed), or
        -> one DataFrame (a single run).
    metric : str, default="ndcg"
        A value of the ``metric`` column: ``"hit_rate"``, ``"ndcg"``, ``"mrr"``,
        ``"coverage"``.
    k : int, default=10
        The cut-off.
    ax : matplotlib Axes, default=None
        None creates a figure.

    Returns
    -------
    matplotlib Axes

    Raises
    ------
    ValueError
        Empty results, or a metric or ``k`` absent from a result (the message lists
        those present).
    TypeError
        ``results`` is not a dict of DataFrames or lists of DataFrames.
    ImportError
        matplotlib is not installed.

    Examples
    --------
    >>> import matplotlib
    >>> matplotlib.use("Agg")
    >>> from skseqrec import PopularityRecommender, evaluate
    >>> from skseqrec.datasets import make_sequential_world
    >>> from skseqrec.plotting import plot_comparison
    >>> worlds = [make_sequential_world(n_users=40, n_items=60, random_state=s) for s in range(3)]
    >>> results = {"popularity": [evaluate(PopularityRecommender(), X, k=10) for X in worlds]}
    >>> ax = plot_comparison(results, metric="hit_rate", k=10)
    >>> ax.get_title()
    'HR@10 (LOO): mean ± sd over 3 seeds'
    >>> len(ax.patches), [label.get_text() for label in ax.get_xticklabels()]
    (1, ['popularity'])
    """
    table = _metric_table(_runs(results, allow_frame=False), metric, k)
    summary = _summary(table, ["model"])
    name = f"{_metric_name(metric)}@{k}"
    counts = summary["count"].to_numpy()
    means = summary["mean"].to_numpy(dtype=float)
    errors = summary["std"].fillna(0.0).to_numpy(dtype=float)
    positions = np.arange(len(summary))
    ax = _axes(ax, (max(4.0, 1.3 * len(summary) + 2.0), 4))
    ax.bar(
        positions,
        means,
        yerr=errors if counts.max() > 1 else None,
        capsize=4,
        color=[f"C{i % 10}" for i in positions],
    )
    for x, mean, error in zip(positions, means, errors):
        ax.annotate(
            f"{mean:.3g}",
            (x, mean + error),
            xytext=(0, 3),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize="small",
        )
    labels = summary["model"].tolist()
    if len(set(counts)) > 1:
        labels = [f"{model}\n(n={count})" for model, count in zip(labels, counts)]
        seeds = "mean ± sd over seeds (n per model)"
    elif counts[0] > 1:
        seeds = f"mean ± sd over {counts[0]} seeds"
    else:
        seeds = "1 seed (no error bars)"
    ax.set_xticks(positions)
    ax.set_xticklabels(labels)
    ax.set_ylabel(name)
    ax.margins(y=0.15)
    ax.set_title(f"{name}{_protocol_note(table)}: {seeds}")
    return ax
