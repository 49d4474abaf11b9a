"""Models pickled and saved by an earlier release still load, with the same recommendations.

The files in tests/fixtures/ are written by tests/fixtures/make_fixtures.py; see there.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import joblib
import pandas as pd
import pytest
import torch

import skseqrec
from skseqrec.exceptions import DeviceWarning, VersionMismatchWarning

FIXTURES = Path(__file__).parent / "fixtures"
MANIFEST = json.loads((FIXTURES / "manifest.json").read_text())
MODELS = ["sasrec", "esasrec"]
READERS = {"joblib": joblib.load, "safetensors": skseqrec.load}


@pytest.fixture(scope="module")
def world():
    return pd.read_csv(FIXTURES / MANIFEST["world"]["file"])


@contextlib.contextmanager
def expect_warnings(*categories):
    """Each category must be warned; any other skseqrec warning stays an error."""
    with contextlib.ExitStack() as stack:
        for category in categories:
            stack.enter_context(pytest.warns(category))
        yield


def load_fixture(name: str, reader: str):
    path = FIXTURES / f"{name}.{reader}"
    expected = [
        category
        for category, applies in [
            (
                VersionMismatchWarning,
                MANIFEST["fixtures"][name]["skseqrec"] != skseqrec.__version__,
            ),
            (DeviceWarning, name.endswith("_cuda") and not torch.cuda.is_available()),
        ]
        if applies
    ]
    with expect_warnings(*expected):
        return READERS[reader](path)


def expected_recommendations(name: str) -> pd.DataFrame:
    return pd.read_csv(FIXTURES / f"{name}_top{MANIFEST['top_k']}.csv")


def test_fixture_files_are_small_and_complete():
    for name in MANIFEST["fixtures"]:
        for suffix in [".joblib", ".safetensors", f"_top{MANIFEST['top_k']}.csv"]:
            path = FIXTURES / f"{name}{suffix}"
            assert path.is_file(), path
            assert path.stat().st_size < 200_000, path
    assert {f"{model}_cpu" for model in MODELS} <= set(MANIFEST["fixtures"])


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("model", MODELS)
def test_cpu_fixture_recommends_as_when_saved(model, reader, world):
    name = f"{model}_cpu"
    estimator = load_fixture(name, reader)
    assert type(estimator).__name__ == MANIFEST["fixtures"][name]["estimator"]
    assert estimator.device_ == "cpu"
    # same items and ranks; scores may differ in the last bits on another CPU / BLAS
    pd.testing.assert_frame_equal(
        estimator.recommend(world, top_k=MANIFEST["top_k"]), expected_recommendations(name)
    )


@pytest.mark.parametrize("reader", list(READERS))
@pytest.mark.parametrize("model", MODELS)
def test_cuda_fixture_loads_on_this_machine(model, reader, world):
    name = f"{model}_cuda"
    if name not in MANIFEST["fixtures"] or not (FIXTURES / f"{name}.{reader}").exists():
        pytest.skip(
            f"no CUDA-fitted fixture tests/fixtures/{name}.{reader}: run "
            "`python tests/fixtures/make_fixtures.py --device cuda` on a machine with a GPU "
            "and commit the files it writes"
        )
    estimator = load_fixture(name, reader)  # DeviceWarning here when there is no GPU
    expected_device = "cpu" if not torch.cuda.is_available() else estimator.device_
    assert estimator.device_ == expected_device
    # computed on the GPU when saved: kernels differ, so scores agree to float32 noise
    pd.testing.assert_frame_equal(
        estimator.recommend(world, top_k=MANIFEST["top_k"]),
        expected_recommendations(name),
        rtol=1e-4,
        atol=1e-5,
    )
