"""Checks that need a CUDA device: ``python -m pytest -m gpu`` on a machine with one.

The default suite deselects these tests (``setup.cfg``: ``-m "not slow and not gpu"``), and
without CUDA they are skipped. They fit small models on the generated world (users walking
item i -> i+1), where a working model is nearly perfect, so a wrong device path fails
loudly rather than by a few per cent:

- training on CUDA runs under bf16 autocast (the only mixed-precision path: the Trainer's
  ``amp=True``; weights and ranking stay in float32) and still learns the world;
- a model fitted on CUDA recommends the same after ``skseqrec.save``/``load``, after
  ``load(device="cpu")``, and after ``pickle`` read in a process that has no CUDA;
- scoring in chunks of a few users (the GPU default is 4,096 rows per chunk) gives the
  ranking of one chunk.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
import torch
from helpers import hit_rate, split_last
from sklearn.base import clone

import skseqrec
from skseqrec import (
    BERT4RecEstimator,
    ESASRecEstimator,
    HSTUEstimator,
    SASRecClassifierEstimator,
)
from skseqrec.estimators import _base as base
from skseqrec.training import Callback

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device"),
]

SMALL = dict(
    hidden_units=32, num_blocks=1, dropout_rate=0.1, max_len=20, batch_size=64, learning_rate=0.005
)
# one per kind of scoring path: causal SDPA, the LiGR block, time-reading HSTU, and the
# bidirectional encoder with a [MASK] appended at recommendation time
ESTIMATORS = {
    "sasrec": SASRecClassifierEstimator(**SMALL, epochs=3, random_state=0),
    "esasrec": ESASRecEstimator(**SMALL, epochs=10, num_negatives=64, random_state=0),
    "hstu": HSTUEstimator(**SMALL, epochs=3, num_negatives=64, random_state=0),
    "bert4rec": BERT4RecEstimator(
        **{**SMALL, "hidden_units": 64, "learning_rate": 0.01}, epochs=20, random_state=0
    ),
}
TOP_K = 5
#: float32 ranking on two devices (or kernels) agrees to about this much
SCORE_ATOL = 1e-4


class AutocastProbe(Callback):
    """Records the dtypes of the Linear outputs during training (one forward is enough)."""

    def __init__(self):
        self.dtypes = set()
        self._handles = []

    def on_train_begin(self, trainer):
        def record(module, inputs, output):
            self.dtypes.add(str(output.dtype))

        self._handles = [
            layer.register_forward_hook(record)
            for layer in trainer.module.modules()
            if isinstance(layer, torch.nn.Linear)
        ]

    def on_train_end(self, trainer):
        for handle in self._handles:
            handle.remove()
        self._handles = []


@pytest.fixture(scope="module")
def split(world):
    return split_last(world)


@pytest.fixture(scope="module", params=sorted(ESTIMATORS))
def fitted(request, split):
    """(name, model fitted on CUDA, its top-k on CUDA)."""
    train, _ = split
    model = clone(ESTIMATORS[request.param]).set_params(device="cuda").fit(train)
    return request.param, model, model.recommend(train, top_k=TOP_K)


def assert_same_rankings(got: pd.DataFrame, expected: pd.DataFrame, atol: float = 0.0):
    """Same users, ranks and scores (within ``atol``); the item at a rank may differ only
    where its score is within ``atol`` of a neighbour's (a tie that rounding may break)."""
    assert got.shape == expected.shape
    np.testing.assert_array_equal(got["user_id"], expected["user_id"])
    np.testing.assert_array_equal(got["rank"], expected["rank"])
    np.testing.assert_allclose(got["score"], expected["score"], rtol=0, atol=atol)
    differ = np.flatnonzero(got["item_id"].to_numpy() != expected["item_id"].to_numpy())
    scores = expected["score"].to_numpy()
    users = expected["user_id"].to_numpy()
    for row in differ:
        neighbours = [r for r in (row - 1, row + 1) if 0 <= r < len(scores)]
        tied = [r for r in neighbours if users[r] == users[row]]
        assert any(abs(scores[r] - scores[row]) <= 2 * atol for r in tied), (
            f"user {users[row]} rank {expected['rank'].iloc[row]}: item "
            f"{got['item_id'].iloc[row]} instead of {expected['item_id'].iloc[row]} "
            f"without a tie (score {scores[row]:.6f})"
        )


def test_fit_on_cuda_trains_under_bf16_autocast_and_learns_the_world(split):
    train, test = split
    probe = AutocastProbe()
    model = SASRecClassifierEstimator(**SMALL, epochs=3, device="cuda", callbacks=[probe])
    model.fit(train)
    assert model.device_.startswith("cuda")
    assert all(p.device.type == "cuda" for p in model.module_.parameters())
    # the mixed-precision path: the Linear layers ran in bf16 during training
    assert "torch.bfloat16" in probe.dtypes
    assert np.isfinite(model.history_["train_loss"]).all()
    # autocast computes in bf16 but keeps the weights (and ranking) in float32
    assert all(p.dtype == torch.float32 for p in model.module_.parameters())
    assert hit_rate(model.recommend(train, top_k=10), test) > 0.9


def test_cuda_fit_matches_a_cpu_fit_in_quality(split):
    """bf16 training on CUDA learns what float32 training on the CPU learns."""
    train, test = split
    rates = {}
    for device in ("cpu", "cuda"):
        model = SASRecClassifierEstimator(**SMALL, epochs=3, device=device, random_state=0)
        rates[device] = hit_rate(model.fit(train).recommend(train, top_k=10), test)
    assert rates["cuda"] > 0.9
    assert abs(rates["cuda"] - rates["cpu"]) < 0.05


def test_save_load_on_cuda_gives_identical_recommendations(fitted, split, tmp_path):
    name, model, expected = fitted
    train, _ = split
    path = tmp_path / f"{name}.safetensors"
    skseqrec.save(model, path)
    loaded = skseqrec.load(path)
    assert loaded.device_ == model.device_
    pd.testing.assert_frame_equal(loaded.recommend(train, top_k=TOP_K), expected)


def test_load_on_cpu_gives_the_same_top_k(fitted, split, tmp_path):
    name, model, expected = fitted
    train, _ = split
    path = tmp_path / f"{name}.safetensors"
    skseqrec.save(model, path)
    loaded = skseqrec.load(path, device="cpu")
    assert loaded.device_ == "cpu"
    assert all(p.device.type == "cpu" for p in loaded.module_.parameters())
    assert_same_rankings(loaded.recommend(train, top_k=TOP_K), expected, atol=SCORE_ATOL)


def test_pickle_round_trip_on_cuda_is_exact(fitted, split):
    _, model, expected = fitted
    train, _ = split
    loaded = pickle.loads(pickle.dumps(model))
    assert loaded.device_ == model.device_
    pd.testing.assert_frame_equal(loaded.recommend(train, top_k=TOP_K), expected)


def test_cuda_pickle_loads_on_a_machine_without_cuda(fitted, split, tmp_path):
    """A fresh process that sees no GPU unpickles the CUDA-fitted model (DeviceWarning,
    moved to the CPU) and recommends the same top-k."""
    name, model, expected = fitted
    train, _ = split
    model_path, train_path, out_path = (
        tmp_path / f"{name}.pkl",
        tmp_path / "train.pkl",
        tmp_path / "recs.pkl",
    )
    model_path.write_bytes(pickle.dumps(model))
    train.to_pickle(train_path)
    script = textwrap.dedent(
        f"""
        import pickle, warnings
        import pandas as pd, torch
        from skseqrec.exceptions import DeviceWarning
        assert not torch.cuda.is_available()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            model = pickle.loads(open({str(model_path)!r}, "rb").read())
        assert any(issubclass(w.category, DeviceWarning) for w in caught), caught
        assert model.device_ == "cpu", model.device_
        train = pd.read_pickle({str(train_path)!r})
        model.recommend(train, top_k={TOP_K}).to_pickle({str(out_path)!r})
        """
    )
    env = {**os.environ, "CUDA_VISIBLE_DEVICES": ""}
    done = subprocess.run(
        [sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert_same_rankings(pd.read_pickle(out_path), expected, atol=SCORE_ATOL)


@pytest.mark.parametrize("rows_per_chunk", [1, 7])
def test_chunked_scoring_on_cuda_equals_one_chunk(fitted, split, rows_per_chunk, monkeypatch):
    _, model, expected = fitted
    train, _ = split
    assert model._chunk_size() >= train["user_id"].nunique()  # by default: one chunk
    one_chunk_score = model.score(train)
    monkeypatch.setattr(base, "SCORING_CHUNK_BYTES", 4 * model.n_items_ * rows_per_chunk)
    assert model._chunk_size() == rows_per_chunk
    # each chunk pads to its own longest window: the same lists, scores to float32 rounding
    assert_same_rankings(model.recommend(train, top_k=TOP_K), expected, atol=SCORE_ATOL)
    assert model.score(train) == pytest.approx(one_chunk_score, abs=1e-6)
