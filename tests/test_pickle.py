"""Pickled state: device moves, version stamps, size proportional to the model."""

from __future__ import annotations

import pickle

import joblib
import pandas as pd
import pytest
import torch

from skseqrec import SASRecClassifierEstimator, __version__
from skseqrec.exceptions import DeviceWarning, VersionMismatchWarning


@pytest.fixture(scope="module")
def fitted(tiny):
    return SASRecClassifierEstimator(hidden_units=8, max_len=8, epochs=2).fit(tiny)


def test_joblib_round_trip(fitted, tiny, tmp_path):
    joblib.dump(fitted, tmp_path / "model.joblib")
    loaded = joblib.load(tmp_path / "model.joblib")
    pd.testing.assert_frame_equal(loaded.recommend(tiny, top_k=5), fitted.recommend(tiny, top_k=5))
    pd.testing.assert_frame_equal(loaded.history_, fitted.history_)
    assert fitted.module_ is not None  # pickling leaves the original intact


def test_state_holds_cpu_tensors_only(fitted):
    state = fitted.__getstate__()
    assert "module_" not in state
    assert all(t.device.type == "cpu" for t in state["_module_state"].values())
    assert state["_skseqrec_version"] == __version__


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only load path")
def test_model_saved_on_cuda_loads_on_cpu_with_warning(fitted, tiny):
    # The state of a CUDA-fitted model differs from a CPU one only by `device_` (tensors are
    # always stored on the CPU), so this reproduces what a CPU-only machine receives.
    state = fitted.__getstate__()
    state["device_"] = "cuda:0"
    clone = SASRecClassifierEstimator.__new__(SASRecClassifierEstimator)
    with pytest.warns(DeviceWarning, match="fitted on cuda:0"):
        clone.__setstate__(state)
    assert clone.device_ == "cpu"
    pd.testing.assert_frame_equal(clone.recommend(tiny, top_k=5), fitted.recommend(tiny, top_k=5))


def test_other_version_warns(fitted):
    state = fitted.__getstate__()
    state["_skseqrec_version"] = "0.0.1"
    clone = SASRecClassifierEstimator.__new__(SASRecClassifierEstimator)
    with pytest.warns(VersionMismatchWarning, match="saved with skseqrec 0.0.1"):
        clone.__setstate__(state)


def test_pickle_size_is_proportional_to_the_model(fitted):
    n_parameters = sum(p.numel() for p in fitted.module_.parameters())
    size = len(pickle.dumps(fitted))
    assert size < 4 * n_parameters * 2 + 50_000
