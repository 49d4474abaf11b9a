"""Reliability of fit and of the fitted state, on every public estimator.

* a ``KeyboardInterrupt`` during ``fit`` leaves a usable model (best weights restored with
  early stopping);
* ``warm_start=True`` extends the catalogue and keeps known items' rows and the history;
* the same ``random_state`` gives the same recommendations, in one process and across
  processes;
* a loss that becomes NaN/inf stops ``fit`` with a ``FloatingPointError`` naming
  ``learning_rate``, and leaves the estimator as it was;
* memory guards (``PREDICT_PROBA_MAX_BYTES``, ``SCORING_CHUNK_BYTES``) refuse or chunk
  without changing results;
* the fitted state holds no lambdas, generators or open files, and its pickle is as large
  as the model, not as the training data.
"""

from __future__ import annotations

import functools
import io
import os
import pickle
import subprocess
import sys
import types

import numpy as np
import pandas as pd
import pytest
import torch
from sklearn.base import clone
from sklearn.exceptions import NotFittedError

import skseqrec
import skseqrec.estimators._base as base
from skseqrec.datasets import make_sequential_world
from skseqrec.estimators import BaseRecommender
from skseqrec.estimators._transformer import TransformerRecommender
from skseqrec.exceptions import SkseqrecWarning

#: small, fast settings; each estimator takes the ones its constructor has
FAST = dict(
    hidden_units=8,
    num_blocks=1,
    num_heads=2,
    max_len=8,
    epochs=2,
    batch_size=8,
    num_negatives=8,
)


def _public_estimators():
    """One fast instance of every public recommender in ``skseqrec.__all__``."""
    estimators = []
    for name in skseqrec.__all__:
        cls = getattr(skseqrec, name)
        if cls is skseqrec.TwoStageRecommender:
            continue  # a meta-estimator over these models: tests/test_two_stage.py
        if isinstance(cls, type) and issubclass(cls, BaseRecommender):
            params = cls().get_params()
            estimators.append(cls(**{k: v for k, v in FAST.items() if k in params}))
    return sorted(estimators, key=lambda e: type(e).__name__)


ESTIMATORS = _public_estimators()
TORCH = [e for e in ESTIMATORS if isinstance(e, TransformerRecommender)]
#: estimators that return item probabilities (the regressor predicts ratings)
RANKING = [e for e in ESTIMATORS if not getattr(e, "_requires_y", False)]


def _id(estimator):
    return type(estimator).__name__


every_estimator = pytest.mark.parametrize("estimator", ESTIMATORS, ids=_id)
every_torch_estimator = pytest.mark.parametrize("estimator", TORCH, ids=_id)


def test_every_public_model_is_covered():
    names = {_id(e) for e in ESTIMATORS}
    assert {"PopularityRecommender", "SASRecRegressorEstimator", "BERT4RecEstimator"} <= names
    assert len(TORCH) == len(ESTIMATORS) - 1 == 7


def events(n_users=40, n_items=20, random_state=0) -> pd.DataFrame:
    """40 users, 6..10 events each over 20 int items (313 rows): 5 batches of 8 per epoch."""
    return make_sequential_world(
        n_users=n_users,
        n_items=n_items,
        min_length=6,
        max_length=10,
        noise=0.1,
        random_state=random_state,
    )


def ratings(X: pd.DataFrame) -> np.ndarray:
    return (np.asarray(X["item_id"]) % 5 + 1).astype(float)


def fit(estimator, X, **params):
    """A fresh clone with ``params``, fitted on X (the regressor gets ratings)."""
    estimator = clone(estimator).set_params(**params)
    return estimator.fit(X, ratings(X) if getattr(estimator, "_requires_y", False) else None)


def refit(estimator, X, **params):
    """Fit ``estimator`` itself again (for warm starts)."""
    estimator.set_params(**params)
    return estimator.fit(X, ratings(X) if getattr(estimator, "_requires_y", False) else None)


def state_of(estimator) -> dict:
    return {k: v.detach().clone() for k, v in estimator.module_.state_dict().items()}


def assert_same_state(got: dict, expected: dict):
    assert got.keys() == expected.keys()
    for name in expected:
        assert torch.equal(got[name], expected[name]), name


def assert_usable(model, X):
    recs = model.recommend(X, top_k=5)
    assert recs.groupby("user_id").size().eq(5).all()
    assert recs["user_id"].nunique() == X["user_id"].nunique()
    assert np.isfinite(recs["score"]).all()
    assert len(model.predict(X)) == len(X)
    assert not model.module_.training
    pickle.loads(pickle.dumps(model))


# ------------------------------------------------------------------ KeyboardInterrupt


def interrupt_at(monkeypatch, cls, epoch: int, call: int) -> dict:
    """Make ``cls._loss`` raise KeyboardInterrupt on its ``call``-th call of ``epoch``.

    The epoch number comes from the trainer (through ``_batch_factory``); the returned
    dict says whether the interrupt was raised.
    """
    state = {"epoch": None, "calls": 0, "raised": False}
    original_factory, original_loss = cls._batch_factory, cls._loss

    def batch_factory(self, *args, **kwargs):
        batches = original_factory(self, *args, **kwargs)

        def counted(current):
            state["epoch"], state["calls"] = current, 0
            yield from batches(current)

        return counted

    def loss(self, *args):
        state["calls"] += 1
        if state["epoch"] == epoch and state["calls"] == call:
            state["raised"] = True
            raise KeyboardInterrupt
        return original_loss(self, *args)

    monkeypatch.setattr(cls, "_batch_factory", batch_factory)
    monkeypatch.setattr(cls, "_loss", loss)
    return state


def scripted_validation(monkeypatch, cls, values):
    """Validation returns ``values`` epoch after epoch (each fit starts over).

    Early stopping, the carve-out and weight restoring are real; only the metric is
    scripted, so the best epoch is known in advance.
    """

    def validator(self, *args):
        remaining = iter(values)
        return lambda: {self.monitor: next(remaining)}

    monkeypatch.setattr(cls, "_validator", validator)


def fit_interrupted(estimator, X, **params):
    try:
        with pytest.warns(SkseqrecWarning, match="interrupted after"):
            return fit(estimator, X, **params)
    except KeyboardInterrupt:  # never let it reach pytest, which would stop the session
        pytest.fail("KeyboardInterrupt escaped fit")


@every_torch_estimator
def test_keyboard_interrupt_keeps_a_usable_model(estimator, monkeypatch):
    X = events()
    state = interrupt_at(monkeypatch, type(estimator), epoch=2, call=3)
    model = fit_interrupted(estimator, X, epochs=4)
    assert state["raised"]
    assert model.history_["epoch"].tolist() == [1]  # epoch 2 never completed
    assert np.isfinite(model.history_["train_loss"]).all()
    assert model.n_epochs_ == 1
    assert model.best_epoch_ == 1
    assert "interrupted" in model.stop_reason_ and "KeyboardInterrupt" in model.stop_reason_
    assert_usable(model, X)


@every_torch_estimator
def test_keyboard_interrupt_restores_the_best_epoch(estimator, monkeypatch):
    X = events()
    cls = type(estimator)
    values = [0.2, 0.9, 0.5, 0.4, 0.3, 0.1]  # best at epoch 2
    params = dict(
        epochs=6,
        early_stopping_patience=5,
        validation="last_event",
        validation_fraction=0.3,
        monitor="ndcg@10",
        validation_interval=None,
    )
    scripted_validation(monkeypatch, cls, values)
    state = interrupt_at(monkeypatch, cls, epoch=4, call=3)
    model = fit_interrupted(estimator, X, **params)
    assert state["raised"]
    history = model.history_
    assert history["epoch"].tolist() == [1, 2, 3]
    assert history["valid_ndcg@10"].tolist() == values[:3]
    assert model.best_epoch_ == 2
    assert model.stop_reason_.startswith("interrupted")
    assert_usable(model, X)
    # the weights are those at the end of epoch 2: fitting exactly 2 epochs with the same
    # seed (deterministic on CPU) gives them
    monkeypatch.undo()
    scripted_validation(monkeypatch, cls, values)
    two = fit(estimator, X, **{**params, "epochs": 2})
    assert two.best_epoch_ == 2 and two.stop_reason_ == "reached epochs=2"
    assert_same_state(state_of(model), state_of(two))
    pd.testing.assert_frame_equal(model.recommend(X), two.recommend(X))
    # ... and restoring mattered: epoch 3's weights differ
    three = fit(estimator, X, **{**params, "epochs": 3, "restore_best_weights": False})
    assert any(not torch.equal(v, state_of(three)[k]) for k, v in state_of(model).items())


# ------------------------------------------------------------------------- warm start


def warm_start_data():
    """``first``: even item ids; ``second``: some of them plus new odd ids in between."""
    X = events()
    first = X.assign(item_id=2 * X["item_id"])
    second = events(random_state=1)
    second = second.assign(
        item_id=2 * second["item_id"] + (second["item_id"] % 3 == 0),
        user_id=second["user_id"] + 1000,
    )
    return first, second


@every_torch_estimator
def test_warm_start_extends_items_and_keeps_known_rows(estimator):
    first, second = warm_start_data()
    model = fit(estimator, first)
    old_classes = model.classes_.copy()
    old = state_of(model)
    old_history = model.history_
    n_old = len(old_classes)

    # epochs=0: the extension alone, no training step after it
    refit(model, second, warm_start=True, epochs=0)
    expected = np.union1d(old_classes, second["item_id"].unique())
    assert len(expected) > n_old
    np.testing.assert_array_equal(model.classes_, expected)
    assert model.n_items_ == len(expected)
    n_new = model.n_items_
    new = state_of(model)
    assert new.keys() == old.keys()
    # code 0 (padding) stays, known item c moves from code k to its sorted position
    codes = np.concatenate([[0], np.searchsorted(expected, old_classes) + 1])
    assert not np.array_equal(codes, np.arange(n_old + 1))  # new ids sort in between
    grown = []
    for name, before in old.items():
        after = new[name]
        if before.shape == after.shape:
            assert torch.equal(after, before), name
            continue
        grown.append(name)
        extra = before.shape[0] - (n_old + 1)  # special rows after the items ([MASK])
        assert after.shape == (n_new + 1 + extra, *before.shape[1:]), name
        assert torch.equal(after[torch.as_tensor(codes)], before[: n_old + 1]), name
        assert torch.equal(after[n_new + 1 :], before[n_old + 1 :]), name
    assert any(name.endswith("item_embedding.weight") for name in grown)
    if isinstance(model, skseqrec.BERT4RecEstimator):
        name = "item_embedding.weight"
        assert old[name].shape[0] == n_old + 2 and new[name].shape[0] == n_new + 2
        assert torch.equal(new[name][-1], old[name][-1])  # the [MASK] row, still last
        assert model.module_.n_items == n_new
    pd.testing.assert_frame_equal(model.history_, old_history)
    assert model.n_epochs_ == len(old_history) == 2
    recs = model.recommend(second, top_k=3)
    assert set(recs["item_id"]) <= set(expected)

    # training on: epochs numbered on, earlier records kept
    refit(model, second, epochs=1)
    history = model.history_
    assert history["epoch"].tolist() == [1, 2, 3]
    assert model.n_epochs_ == 3
    pd.testing.assert_frame_equal(history.iloc[:2], old_history)
    assert np.isfinite(history["train_loss"]).all()
    np.testing.assert_array_equal(model.classes_, expected)


@every_torch_estimator
def test_without_warm_start_a_second_fit_starts_over(estimator):
    first, second = warm_start_data()
    model = refit(fit(estimator, first), second)
    assert set(model.classes_) == set(second["item_id"])
    assert model.history_["epoch"].tolist() == [1, 2]


# ------------------------------------------------------------------- reproducibility


@every_estimator
def test_same_random_state_same_results_in_process(estimator):
    X = events()
    seeded = "random_state" in estimator.get_params()
    seed = {"random_state": 7} if seeded else {}
    torch_state, numpy_state = torch.get_rng_state(), np.random.get_state()  # noqa: NPY002 (the global state on purpose)
    first = fit(estimator, X, **seed)
    # fit leaves the global generators alone (fork_rng, own generators)
    assert torch.equal(torch.get_rng_state(), torch_state)
    assert np.random.get_state()[1].tolist() == numpy_state[1].tolist()  # noqa: NPY002 (the global state on purpose)
    torch.manual_seed(123)
    torch.rand(5)
    np.random.seed(4)  # noqa: NPY002 (the global state on purpose)
    second = fit(estimator, X, **seed)
    pd.testing.assert_frame_equal(first.recommend(X), second.recommend(X), check_exact=True)
    np.testing.assert_array_equal(np.asarray(first.predict(X)), np.asarray(second.predict(X)))
    if seeded:
        assert_same_state(state_of(first), state_of(second))
        pd.testing.assert_series_equal(
            first.history_["train_loss"], second.history_["train_loss"], check_exact=True
        )
        # and the seed matters
        other = fit(estimator, X, random_state=8)
        assert not first.recommend(X)["score"].equals(other.recommend(X)["score"])


SCRIPT = """
import sys
import torch
from skseqrec import SASRecClassifierEstimator
from skseqrec.datasets import make_sequential_world

torch.set_num_threads(int(sys.argv[2]))
X = make_sequential_world(n_users=40, n_items=20, min_length=6, max_length=10, noise=0.1,
                          random_state=0)
X = X.assign(user_id="u" + X["user_id"].astype(str), item_id="i" + X["item_id"].astype(str))
model = SASRecClassifierEstimator(hidden_units=8, num_blocks=1, max_len=8, epochs=2,
                                  batch_size=8, random_state=3)
model.fit(X).recommend(X, top_k=5).to_csv(sys.argv[1], index=False)
"""


def test_same_random_state_same_recommendations_across_processes(tmp_path):
    threads = torch.get_num_threads()
    outputs = []
    for hash_seed in ("1", "2"):  # str hashing differs between the two processes
        path = tmp_path / f"recs{hash_seed}.csv"
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        subprocess.run(
            [sys.executable, "-c", SCRIPT, str(path), str(threads)],
            env=env,
            check=True,
            timeout=120,
        )
        outputs.append(path.read_text())
    assert outputs[0] == outputs[1]
    recs = pd.read_csv(io.StringIO(outputs[0]))
    assert len(recs) == 40 * 5 and recs["score"].notna().all()
    # and this process gets the same frame
    X = events()
    X = X.assign(user_id="u" + X["user_id"].astype(str), item_id="i" + X["item_id"].astype(str))
    here = skseqrec.SASRecClassifierEstimator(
        hidden_units=8, num_blocks=1, max_len=8, epochs=2, batch_size=8, random_state=3
    )
    assert here.fit(X).recommend(X, top_k=5).to_csv(index=False) == outputs[0]


# --------------------------------------------------------------------- NaN / inf loss


def _non_finite_loss(monkeypatch, cls, value):
    original = cls._loss

    def loss(self, *args):
        return original(self, *args) * value

    monkeypatch.setattr(cls, "_loss", loss)


@every_torch_estimator
@pytest.mark.parametrize("how", ["learning_rate=1e30", "nan", "inf"])
def test_non_finite_loss_raises_and_leaves_estimator_unfitted(estimator, how, monkeypatch):
    X = events()
    params = {}
    if how == "learning_rate=1e30":
        params["learning_rate"] = 1e30
    else:
        _non_finite_loss(monkeypatch, type(estimator), float(how))
    model = clone(estimator).set_params(**params)
    with pytest.raises(
        FloatingPointError, match=r"became (nan|inf|-inf) at epoch 1.*learning_rate"
    ):
        refit(model, X)
    # nothing half-fitted with diverged weights
    assert not hasattr(model, "module_")
    with pytest.raises(NotFittedError):
        model.recommend(X)


@every_torch_estimator
def test_failed_warm_fit_keeps_the_previous_model(estimator, monkeypatch):
    first, second = warm_start_data()
    model = fit(estimator, first)
    recs, history, state = model.recommend(first), model.history_, state_of(model)
    _non_finite_loss(monkeypatch, type(estimator), float("nan"))
    with pytest.raises(FloatingPointError, match="learning_rate"):
        refit(model, second, warm_start=True, epochs=2)
    np.testing.assert_array_equal(model.classes_, np.sort(first["item_id"].unique()))
    pd.testing.assert_frame_equal(model.history_, history)
    assert_same_state(state_of(model), state)
    pd.testing.assert_frame_equal(model.recommend(first), recs)
    monkeypatch.undo()  # and it can still continue training
    refit(model, second, warm_start=True, epochs=1)
    assert model.history_["epoch"].tolist() == [1, 2, 3]


# ---------------------------------------------------------------------- memory guards


@pytest.mark.parametrize("estimator", RANKING, ids=_id)
def test_predict_proba_refuses_results_above_the_limit(estimator, monkeypatch):
    X = events()
    model = fit(estimator, X)
    size = len(X) * model.n_items_ * 4
    monkeypatch.setattr(base, "PREDICT_PROBA_MAX_BYTES", size)  # exactly the limit: fine
    assert model.predict_proba(X).shape == (len(X), model.n_items_)
    monkeypatch.setattr(base, "PREDICT_PROBA_MAX_BYTES", size - 1)
    message = (
        rf"predict_proba would return {len(X)} x {model.n_items_} floats "
        rf"\({size / 1024:.1f} KiB > PREDICT_PROBA_MAX_BYTES = {(size - 1) / 1024:.1f} KiB\)"
    )
    with pytest.raises(ValueError, match=message):
        model.predict_proba(X)
    monkeypatch.setattr(base, "PREDICT_PROBA_MAX_BYTES", 100)
    with pytest.raises(ValueError, match=r"> PREDICT_PROBA_MAX_BYTES = 100 B\)"):
        model.predict_proba(X)


@every_estimator
@pytest.mark.parametrize("rows_per_chunk", [1, 3])
def test_chunked_scoring_gives_the_same_results(estimator, rows_per_chunk, monkeypatch):
    X = events()
    model = fit(estimator, X)
    recs, predicted = model.recommend(X, top_k=5), np.asarray(model.predict(X))
    proba = None if getattr(model, "_requires_y", False) else model.predict_proba(X)
    default_chunk = model._chunk_size()
    assert default_chunk >= X["user_id"].nunique()  # by default: one chunk
    monkeypatch.setattr(base, "SCORING_CHUNK_BYTES", 4 * model.n_items_ * rows_per_chunk)
    assert model._chunk_size() == rows_per_chunk
    chunked = model.recommend(X, top_k=5)
    # same lists; scores agree to float32 rounding (each chunk pads to its own width,
    # so matrix products run on other shapes)
    pd.testing.assert_frame_equal(chunked.drop(columns="score"), recs.drop(columns="score"))
    np.testing.assert_allclose(chunked["score"], recs["score"], rtol=1e-5, atol=1e-6)
    if getattr(model, "_requires_y", False):
        np.testing.assert_allclose(np.asarray(model.predict(X)), predicted, rtol=1e-5)
    else:
        np.testing.assert_array_equal(np.asarray(model.predict(X)), predicted)
        np.testing.assert_allclose(model.predict_proba(X), proba, rtol=1e-4, atol=1e-7)


# ------------------------------------------------------------------------ fitted state

FORBIDDEN = (
    types.FunctionType,
    types.LambdaType,
    types.MethodType,
    types.BuiltinFunctionType,
    functools.partial,
    types.GeneratorType,
    io.IOBase,
    torch.Generator,
)


#: not walked into: the torch module (pickled as its state_dict), arrays, pandas objects
LEAVES = (
    torch.nn.Module,
    torch.Tensor,
    np.ndarray,
    np.dtype,
    pd.DataFrame,
    pd.Series,
    pd.Index,
    pd.api.extensions.ExtensionArray,
    pd.api.extensions.ExtensionDtype,
    type,
)


def walk_state(value, path="est", seen=None):
    """Yield ``(path, value)`` for everything reachable from ``value`` but torch modules."""
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    yield path, value
    if isinstance(value, LEAVES):
        return
    if isinstance(value, dict):
        for key, item in value.items():
            yield from walk_state(item, f"{path}[{key!r}]", seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for index, item in enumerate(value):
            yield from walk_state(item, f"{path}[{index}]", seen)
    elif hasattr(value, "__dict__") and not isinstance(value, FORBIDDEN):
        for key, item in vars(value).items():
            yield from walk_state(item, f"{path}.{key}", seen)


@every_estimator
def test_fitted_state_has_no_callables_generators_or_files(estimator):
    X = events()
    model = fit(estimator, X)
    model.recommend(X)  # also after use (caches)
    found = [
        f"{path}: {type(value).__name__}"
        for path, value in walk_state(vars(model))
        if isinstance(value, FORBIDDEN)
        or (callable(value) and not isinstance(value, (type, torch.nn.Module)))
    ]
    assert found == []
    modules = [p for p, v in walk_state(vars(model)) if isinstance(v, torch.nn.Module)]
    assert modules == (["est['module_']"] if isinstance(model, TransformerRecommender) else [])
    loaded = pickle.loads(pickle.dumps(model))
    pd.testing.assert_frame_equal(loaded.recommend(X), model.recommend(X))


def _array_bytes(array: np.ndarray) -> int:
    if array.dtype == object:  # pointers plus the ids themselves
        return array.nbytes + sum(len(str(v)) for v in array)
    return array.nbytes


@every_estimator
def test_pickle_size_is_proportional_to_the_model(estimator):
    """``len(pickle)`` is between the model's bytes and twice them.

    The model's bytes: every tensor of ``module_.state_dict()`` plus the numpy arrays of
    the fitted state indexed by item or user (encoders' ids, item counts). A pickle stores them raw (a lower
    bound) plus framing: a few hundred bytes per tensor and a few KB of parameters,
    history and class references, under 15 % of the model here (5 KB at the least, for
    the popularity model), so twice the model's bytes is a safe upper bound. It is tight
    enough to catch stored training data: one int64 per training event is 240 KB, more
    than the model's bytes (about 120 KB at most) and the slack together.
    """
    X = make_sequential_world(
        n_users=3000, n_items=300, min_length=8, max_length=12, noise=0.1, random_state=0
    )
    params = dict(hidden_units=32, max_len=8, epochs=1, batch_size=256)
    model = fit(estimator, X, **{k: v for k, v in params.items() if k in estimator.get_params()})
    tensor_bytes = 0
    if isinstance(model, TransformerRecommender):
        tensor_bytes = sum(
            t.numel() * t.element_size() for t in model.module_.state_dict().values()
        )
        assert tensor_bytes > 300 * 32 * 4  # at least the item table
    # arrays indexed by item or by user (ids, counts); a per-event array is training data
    per_id = max(model.n_items_, model.n_users_seen_) + 1  # codes, padding 0 included
    arrays = {p: v for p, v in walk_state(vars(model)) if isinstance(v, np.ndarray)}
    assert arrays  # the encoders' ids at least
    assert {p: len(v) for p, v in arrays.items() if len(v) > per_id} == {}
    array_bytes = sum(_array_bytes(v) for v in arrays.values() if len(v) <= per_id)
    expected = tensor_bytes + array_bytes
    size = len(pickle.dumps(model))
    assert expected <= size <= 2 * expected, (size, tensor_bytes, array_bytes)
    # the bound is meaningful: storing one int64 per event would break it
    assert expected + 8 * len(X) > 2 * expected
