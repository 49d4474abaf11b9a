"""skseqrec.plotting: what each plot draws, where the best round is, and its errors."""

from __future__ import annotations

import sys

import matplotlib
import numpy as np
import pandas as pd
import pytest

from skseqrec import PopularityRecommender, SASRecClassifierEstimator, evaluate
from skseqrec.datasets import make_sequential_world
from skseqrec.plotting import plot_comparison, plot_history, plot_metric_at_k

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.collections import PolyCollection  # noqa: E402
from matplotlib.container import BarContainer, ErrorbarContainer  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def small_world():
    return make_sequential_world(n_users=60, n_items=20, random_state=0)


def _sasrec(**params):
    defaults = dict(
        hidden_units=8, epochs=3, early_stopping_patience=2, validation="last_event", random_state=0
    )
    return SASRecClassifierEstimator(**{**defaults, **params})


@pytest.fixture(scope="module")
def fitted(small_world):
    return _sasrec().fit(small_world)


@pytest.fixture(scope="module")
def results(small_world):
    """evaluate() outputs at k = 1, 5, 10 of two models."""
    return {
        "popularity": evaluate(PopularityRecommender(), small_world, k=(1, 5, 10)),
        "sasrec": evaluate(_sasrec(), small_world, k=(1, 5, 10)),
    }


def _history():
    """Four rounds, validated at steps 10, 20 and 40; the best NDCG is at step 20."""
    return pd.DataFrame(
        {
            "epoch": [1, 1, 2, 2],
            "step": [10, 20, 30, 40],
            "train_loss": [1.0, 0.8, 0.7, 0.6],
            "valid_ndcg@10": [0.10, 0.30, np.nan, 0.25],
            "valid_ndcg@10_se": [0.01, 0.02, np.nan, 0.02],
            "seconds": [1.0, 1.0, 1.0, 1.0],
        }
    )


def _best_line(ax):
    (line,) = [line for line in ax.get_lines() if line.get_label().startswith("best round")]
    return line


def _star(ax):
    (line,) = [line for line in ax.right_ax.get_lines() if line.get_marker() == "*"]
    return line


# ------------------------------------------------------------------------ plot_history
def test_history_of_an_estimator(fitted):
    history = fitted.history_
    ax = plot_history(fitted)
    assert ax.get_xlabel() == "optimiser step"
    assert ax.get_ylabel() == "training loss"
    assert ax.right_ax.get_ylabel() == "validation NDCG@10"
    assert ax.get_title() == "SASRecClassifierEstimator"
    (loss,) = [line for line in ax.get_lines() if line.get_label() == "training loss"]
    np.testing.assert_allclose(loss.get_xdata(), history["step"].astype(float))
    np.testing.assert_allclose(loss.get_ydata(), history["train_loss"])
    (metric,) = [x for x in ax.right_ax.get_lines() if x.get_label() == "validation NDCG@10"]
    np.testing.assert_allclose(metric.get_ydata(), history["valid_ndcg@10"])
    # the best round is in best_epoch_ (one validation per epoch here)
    expected = history.loc[history["epoch"] == fitted.best_epoch_, "step"].item()
    assert _best_line(ax).get_xdata()[0] == expected
    assert _star(ax).get_xdata()[0] == expected
    # SE band from valid_ndcg@10_se
    assert sum(isinstance(c, PolyCollection) for c in ax.right_ax.collections) == 1
    legend = [text.get_text() for text in ax.right_ax.get_legend().get_texts()]
    assert legend[0] == "training loss" and "±1 SE of NDCG@10" in legend


def test_history_marks_the_best_round_of_a_frame_and_skips_unvalidated_rounds():
    ax = plot_history(_history())
    assert _best_line(ax).get_xdata()[0] == 20
    assert _star(ax).get_ydata()[0] == pytest.approx(0.30)
    assert "step 20, epoch 1" in _best_line(ax).get_label()
    (metric,) = [x for x in ax.right_ax.get_lines() if x.get_label().startswith("validation")]
    assert metric.get_xdata().tolist() == [10.0, 20.0, 40.0]  # step 30 was not validated
    (loss,) = [x for x in ax.get_lines() if x.get_label() == "training loss"]
    assert loss.get_xdata().tolist() == [10.0, 20.0, 30.0, 40.0]
    assert not ax.get_title()


def test_history_best_round_follows_best_epoch_of_the_estimator():
    """Early stopping with a tolerance may keep an epoch that is not the highest."""

    class Fitted:
        history_ = _history()
        best_epoch_ = 2
        monitor = "ndcg@10"

    ax = plot_history(Fitted())
    assert _best_line(ax).get_xdata()[0] == 40
    assert ax.get_title() == "Fitted"


def test_history_of_a_loss_monitor_marks_the_lowest():
    history = _history().rename(columns={"valid_ndcg@10": "valid_loss"})
    history = history.drop(columns="valid_ndcg@10_se")
    ax = plot_history(history)
    assert _best_line(ax).get_xdata()[0] == 10
    assert ax.right_ax.get_ylabel() == "validation loss"
    assert not ax.right_ax.collections  # no SE column, no band


def test_history_without_steps_uses_epochs():
    history = _history().drop(columns="step").iloc[[0, 3]]
    ax = plot_history(history)
    assert ax.get_xlabel() == "epoch"
    assert _best_line(ax).get_xdata()[0] == 2
    old = _history().astype({"step": "Int64"})
    old.loc[0, "step"] = pd.NA  # records from before the step counter
    assert plot_history(old).get_xlabel() == "epoch"


def test_history_draws_every_requested_metric_on_the_given_axes():
    history = _history()
    history["valid_hit_rate@10"] = [0.2, 0.5, np.nan, 0.6]
    _, given = plt.subplots()
    ax = plot_history(history, metrics=["valid_hit_rate@10", "ndcg@10"], ax=given)
    assert ax is given
    labels = [line.get_label() for line in ax.right_ax.get_lines()]
    assert labels == ["validation HR@10", "validation NDCG@10", "_best round"]
    assert ax.right_ax.get_ylabel() == "validation metric"
    # the first metric requested is the monitored one of a frame
    assert _best_line(ax).get_xdata()[0] == 40
    assert len(ax.right_ax.collections) == 1  # only NDCG has a standard error


def test_history_without_validation(small_world):
    est = SASRecClassifierEstimator(hidden_units=8, epochs=2, random_state=0).fit(small_world)
    ax = plot_history(est)
    assert ax.right_ax is None
    assert [line.get_label() for line in ax.get_lines()] == ["training loss"]
    with pytest.raises(ValueError, match=r"no column 'valid_ndcg@10'.*none \(the model was"):
        plot_history(est, metrics="ndcg@10")


def test_history_errors(fitted):
    with pytest.raises(ValueError, match=r"'valid_hit_rate@10'.*present: \['ndcg@10'\]"):
        plot_history(fitted, metrics=["hit_rate@10"])
    with pytest.raises(ValueError, match="history is empty"):
        plot_history(_history().iloc[:0])
    with pytest.raises(ValueError, match="train_loss"):
        plot_history(_history().drop(columns="train_loss"))
    with pytest.raises(ValueError, match="no value in any of its 4 rows"):
        plot_history(_history().assign(**{"valid_ndcg@10": np.nan}), metrics="ndcg@10")
    with pytest.raises(TypeError, match="got list"):
        plot_history([1, 2])
    with pytest.raises(AttributeError, match="not fitted"):  # NotFittedError
        plot_history(_sasrec())


# -------------------------------------------------------------------- plot_metric_at_k
def test_metric_at_k_one_line_per_model(results):
    ax = plot_metric_at_k(results, metric="ndcg")
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["popularity", "sasrec"]
    for line, frame in zip(lines, results.values()):
        ndcg = frame[frame["metric"] == "ndcg"]
        assert line.get_xdata().tolist() == [1.0, 5.0, 10.0]
        np.testing.assert_allclose(line.get_ydata(), ndcg["value"])
    assert ax.get_xlabel() == "k (cut-off)" and ax.get_ylabel() == "NDCG@k"
    assert ax.get_title() == "NDCG@k (LOO)"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["popularity", "sasrec"]
    assert not ax.collections  # one run per model: no band


def test_metric_at_k_of_one_frame_and_of_seeds(results):
    ax = plot_metric_at_k(results["popularity"], metric="hit_rate")
    assert [line.get_label() for line in ax.get_lines()] == ["HR"]
    assert ax.get_legend() is None
    shifted = results["popularity"].assign(value=results["popularity"]["value"] + 0.1)
    ax = plot_metric_at_k({"popularity": [results["popularity"], shifted]}, metric="mrr")
    (line,) = ax.get_lines()
    mrr = results["popularity"].query("metric == 'mrr'")["value"].to_numpy()
    np.testing.assert_allclose(line.get_ydata(), mrr + 0.05)
    assert len(ax.collections) == 1  # the ±1 sd band
    assert ax.get_title() == "MRR@k (LOO), mean ± sd over up to 2 seeds"


def test_metric_at_k_errors(results):
    with pytest.raises(ValueError, match=r"'recall' is not in results\['popularity'\]; avail"):
        plot_metric_at_k(results, metric="recall")
    with pytest.raises(ValueError, match="results is empty"):
        plot_metric_at_k({})
    with pytest.raises(ValueError, match=r"results\['a'\] is empty"):
        plot_metric_at_k({"a": results["popularity"].iloc[:0]})
    with pytest.raises(ValueError, match=r"no column \['k', 'metric'\]"):
        plot_metric_at_k(pd.DataFrame({"value": [0.1]}))
    steps = pd.concat([results["popularity"].assign(step=s) for s in (1, 2)])
    with pytest.raises(ValueError, match=r"differ in \['step'\]"):
        plot_metric_at_k(steps)
    with pytest.raises(TypeError, match="got list"):
        plot_metric_at_k([results["popularity"]])


# --------------------------------------------------------------------- plot_comparison
def _seeds(frame, values):
    """Copies of an evaluate() output whose NDCG@10 is each of ``values``."""
    at = (frame["metric"] == "ndcg") & (frame["k"] == 10)
    return [frame.assign(value=np.where(at, value, frame["value"])) for value in values]


def test_comparison_bars_with_sd_over_seeds(results):
    runs = {
        "popularity": _seeds(results["popularity"], [0.1, 0.2, 0.3]),
        "sasrec": _seeds(results["sasrec"], [0.4, 0.5, 0.9]),
    }
    ax = plot_comparison(runs, metric="ndcg", k=10)
    assert len(ax.patches) == 2
    np.testing.assert_allclose([bar.get_height() for bar in ax.patches], [0.2, 0.6])
    assert [label.get_text() for label in ax.get_xticklabels()] == ["popularity", "sasrec"]
    assert ax.get_title() == "NDCG@10 (LOO): mean ± sd over 3 seeds"
    assert ax.get_ylabel() == "NDCG@10"
    sds = [np.std([0.1, 0.2, 0.3], ddof=1), np.std([0.4, 0.5, 0.9], ddof=1)]
    (bars,) = [c for c in ax.containers if isinstance(c, BarContainer)]
    segments = bars.errorbar.lines[2][0].get_segments()
    np.testing.assert_allclose([s[1][1] - s[0][1] for s in segments], 2 * np.array(sds))
    assert [text.get_text() for text in ax.texts] == ["0.2", "0.6"]
    np.testing.assert_allclose([text.xy[1] for text in ax.texts], np.array([0.2, 0.6]) + sds)


def test_comparison_states_seeds_per_model_when_they_differ(results):
    runs = {
        "popularity": _seeds(results["popularity"], [0.1, 0.3]),
        "sasrec": results["sasrec"],  # one run: no spread
    }
    ax = plot_comparison(runs, metric="ndcg", k=10)
    labels = [label.get_text() for label in ax.get_xticklabels()]
    assert labels == ["popularity\n(n=2)", "sasrec\n(n=1)"]
    assert ax.get_title().endswith("mean ± sd over seeds (n per model)")
    ax = plot_comparison({"sasrec": results["sasrec"]}, metric="hit_rate", k=5)
    assert ax.get_title() == "HR@5 (LOO): 1 seed (no error bars)"
    assert not [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
    hr5 = results["sasrec"].query("metric == 'hit_rate' and k == 5")["value"].item()
    assert ax.patches[0].get_height() == pytest.approx(hr5)


def test_comparison_errors(results):
    with pytest.raises(ValueError, match=r"k=20 is not in results\['sasrec'\].*k: \[1, 5, 10\]"):
        plot_comparison({"sasrec": results["sasrec"]}, k=20)
    with pytest.raises(ValueError, match=r"metric 'auc' is not in .*'coverage', 'hit_rate'"):
        plot_comparison(results, metric="auc")
    with pytest.raises(ValueError, match=r"results\['sasrec'\] is an empty list"):
        plot_comparison({"sasrec": []})
    with pytest.raises(ValueError, match="results is empty"):
        plot_comparison({})
    with pytest.raises(TypeError, match="single DataFrame"):
        plot_comparison(results["sasrec"])
    with pytest.raises(TypeError, match=r"results\['sasrec'\]\[1\] is a str"):
        plot_comparison({"sasrec": [results["sasrec"], "oops"]})


# ------------------------------------------------------------------------- matplotlib
def test_missing_matplotlib_says_how_to_install(monkeypatch, results):
    for module in [m for m in sys.modules if m == "matplotlib" or m.startswith("matplotlib.")]:
        monkeypatch.setitem(sys.modules, module, None)
    message = r'needs matplotlib: pip install "skseqrec\[plot\]"'
    with pytest.raises(ImportError, match=message):
        plot_history(_history())
    with pytest.raises(ImportError, match=message):
        plot_metric_at_k(results)
    with pytest.raises(ImportError, match=message):
        plot_comparison(results)
