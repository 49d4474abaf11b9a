"""Shared fixtures: small generated worlds and the team's real datasets when present."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skseqrec.datasets import make_sequential_world

# the repository root, for the team's helpers in ``benchmarks/`` (not part of skseqrec)
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from benchmarks.data import shared_data_path  # noqa: E402


@pytest.fixture(scope="session")
def world() -> pd.DataFrame:
    """300 users walking i -> i+1 over 100 items (2 % noise), 12..20 events each."""
    return make_sequential_world(
        n_users=300, n_items=100, min_length=12, max_length=20, noise=0.02, random_state=0
    )


@pytest.fixture(scope="session")
def tiny() -> pd.DataFrame:
    """A few users with string ids, fast enough for contract checks."""
    rng = np.random.default_rng(1)
    n_users, length = 12, 6
    users = np.repeat([f"u{i:02d}" for i in range(n_users)], length)
    items = rng.integers(0, 15, n_users * length)
    return pd.DataFrame(
        {
            "user_id": users,
            "item_id": [f"i{j:02d}" for j in items],
            "timestamp": np.tile(np.arange(length), n_users)
            + np.repeat(np.arange(n_users), length),
        }
    )


@pytest.fixture(scope="session")
def ml100k() -> pd.DataFrame:
    path = shared_data_path("ml-100k")
    if path is None:
        pytest.skip(
            "../shared/data/ml-100k is not present (MovieLens 100K cannot be shipped; "
            "see docs). Set SKSEQREC_SHARED_DATA to run this test."
        )
    return pd.read_csv(path / "ratings.csv.gz")
