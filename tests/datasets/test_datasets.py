"""Tests of skseqrec.datasets: the generated world, the bundled data and the loaders."""

from __future__ import annotations

import gzip
import hashlib
from importlib import resources

import numpy as np
import pandas as pd
import pytest

from benchmarks.data import shared_data_path  # the team's data folder (tests/conftest.py)
from skseqrec.datasets import (
    load_ml_latest_small,
    load_movielens,
    load_sequences_txt,
    make_sequential_world,
)

ML_LATEST_SMALL_RATINGS_SHA256 = "3a973069dc8bffb67cd3f1d917beebeccc9fb4ab55fa3b883d44c7a8ef7f85b7"
ML_LATEST_SMALL_ITEMS_SHA256 = "e0699964d98c2796140316bef60c0dbee4700f9788d715fe7759d7a49270d817"


def _rule_share(X, n_items):
    """Share of consecutive steps of a user where next == (current + 1) % n_items."""
    X = X.sort_values(["user_id", "timestamp"], kind="stable")
    same_user = X["user_id"].to_numpy()[1:] == X["user_id"].to_numpy()[:-1]
    items = X["item_id"].to_numpy()
    follows = items[1:] == (items[:-1] + 1) % n_items
    return follows[same_user].mean(), int(same_user.sum())


# --------------------------------------------------------------------------- generated world


def test_world_columns_shape_and_ranges():
    X = make_sequential_world(n_users=40, n_items=25, min_length=4, max_length=9, random_state=0)
    assert X.columns.tolist() == ["user_id", "item_id", "timestamp"]
    assert X["timestamp"].dtype == np.int64
    assert X["user_id"].nunique() == 40
    assert X["item_id"].between(0, 24).all()
    lengths = X.groupby("user_id").size()
    assert lengths.between(4, 9).all()
    assert len(X) == lengths.sum()
    assert X.index.equals(pd.RangeIndex(len(X)))


def test_world_fixed_length():
    X = make_sequential_world(n_users=7, n_items=5, min_length=3, max_length=3, random_state=1)
    assert len(X) == 21
    assert (X.groupby("user_id").size() == 3).all()


@pytest.mark.parametrize("noise", [0.0, 0.1, 0.5])
def test_world_rule_share(noise):
    n_items = 50
    X = make_sequential_world(
        n_users=2000, n_items=n_items, min_length=10, max_length=20, noise=noise, random_state=0
    )
    share, n_steps = _rule_share(X, n_items)
    expected = 1 - noise + noise / n_items  # best possible HR@1
    if noise == 0.0:
        assert share == 1.0
    else:
        # binomial standard error is below 0.0025 for ~28,000 steps
        assert abs(share - expected) < 0.01, (share, expected, n_steps)


def test_world_noise_one_is_uniform():
    X = make_sequential_world(n_users=500, n_items=10, noise=1.0, random_state=0)
    share, _ = _rule_share(X, 10)
    assert abs(share - 0.1) < 0.02
    counts = X["item_id"].value_counts(normalize=True)
    assert len(counts) == 10 and counts.max() < 0.13


def test_world_sorted_and_times_strictly_increasing():
    X = make_sequential_world(n_users=100, n_items=30, random_state=3, start_time=1_000)
    assert X.equals(X.sort_values(["user_id", "timestamp"], kind="stable"))
    steps = X.groupby("user_id")["timestamp"].diff().dropna()
    assert (steps > 0).all()
    assert X["timestamp"].min() >= 1_000


def test_world_users_interleave_in_time():
    X = make_sequential_world(n_users=200, n_items=30, random_state=0)
    cut = X["timestamp"].quantile(0.8)
    after = X.loc[X["timestamp"] > cut, "user_id"].unique()
    before = X.loc[X["timestamp"] <= cut, "user_id"].unique()
    # a global temporal split leaves many users on both sides
    assert len(np.intersect1d(after, before)) > 50
    assert X.groupby("user_id")["timestamp"].min().nunique() > 5


def test_world_deterministic():
    kwargs = dict(n_users=30, n_items=20, noise=0.3)
    a = make_sequential_world(**kwargs, random_state=42)
    b = make_sequential_world(**kwargs, random_state=42)
    c = make_sequential_world(**kwargs, random_state=43)
    pd.testing.assert_frame_equal(a, b)
    assert not a.equals(c)
    rng = np.random.RandomState(5)
    d = make_sequential_world(**kwargs, random_state=rng)
    e = make_sequential_world(**kwargs, random_state=np.random.RandomState(5))
    pd.testing.assert_frame_equal(d, e)


def test_world_string_ids():
    X_int = make_sequential_world(n_users=12, n_items=15, random_state=0)
    X_str = make_sequential_world(n_users=12, n_items=15, random_state=0, id_type="str")
    assert X_str["user_id"].iloc[0] == "u00"
    assert set(X_str["item_id"]) <= {f"i{j:02d}" for j in range(15)}
    # zero padding keeps string order equal to numeric order, so rows stay sorted
    assert X_str.equals(X_str.sort_values(["user_id", "timestamp"], kind="stable"))
    np.testing.assert_array_equal(X_str["item_id"].str[1:].astype(int), X_int["item_id"])
    np.testing.assert_array_equal(X_str["timestamp"], X_int["timestamp"])


@pytest.mark.parametrize(
    "kwargs, name",
    [
        (dict(n_users=0), "n_users"),
        (dict(n_users=2.5), "n_users"),
        (dict(n_users=True), "n_users"),
        (dict(n_items=1), "n_items"),
        (dict(n_items="10"), "n_items"),
        (dict(min_length=0), "min_length"),
        (dict(min_length=5, max_length=4), "max_length"),
        (dict(noise=-0.1), "noise"),
        (dict(noise=1.5), "noise"),
        (dict(noise=float("nan")), "noise"),
        (dict(noise="0.1"), "noise"),
        (dict(start_time=1.5), "start_time"),
        (dict(id_type="float"), "id_type"),
    ],
)
def test_world_argument_errors(kwargs, name):
    with pytest.raises(ValueError, match=name):
        make_sequential_world(**kwargs)


# ------------------------------------------------------------------------ bundled data


def test_bundled_files_checksums_and_licence():
    folder = resources.files("skseqrec.datasets") / "_data"
    ratings = (folder / "ml-latest-small-ratings.csv.gz").read_bytes()
    items = (folder / "ml-latest-small-items.csv.gz").read_bytes()
    assert hashlib.sha256(ratings).hexdigest() == ML_LATEST_SMALL_RATINGS_SHA256
    assert hashlib.sha256(items).hexdigest() == ML_LATEST_SMALL_ITEMS_SHA256
    licence = (folder / "ML_LATEST_SMALL_LICENSE.txt").read_text(encoding="utf-8")
    for phrase in [
        "The user may redistribute the data set, including transformations, so long as it is "
        "distributed under these same license conditions.",
        "The user may not state or imply any endorsement",
        "F. Maxwell Harper and Joseph A. Konstan. 2015.",
        "https://doi.org/10.1145/2827872",
        "f568bb3f42c0d8656c5f55379572bf431c37e2c3",
        ML_LATEST_SMALL_RATINGS_SHA256,
        ML_LATEST_SMALL_ITEMS_SHA256,
    ]:
        assert phrase in licence


def test_load_ml_latest_small():
    ratings = load_ml_latest_small()
    assert ratings.columns.tolist() == ["user_id", "item_id", "timestamp", "rating"]
    assert ratings.dtypes.astype(str).tolist() == ["int64", "int64", "int64", "float64"]
    assert len(ratings) == 100_836
    assert ratings["user_id"].nunique() == 610
    assert ratings["item_id"].nunique() == 9_724
    assert ratings["timestamp"].min() == 828_124_615
    assert ratings["timestamp"].max() == 1_537_799_250
    assert ratings["rating"].between(0.5, 5.0).all()
    assert set(ratings["rating"] * 2) <= set(range(1, 11))
    assert ratings.equals(ratings.sort_values(["user_id", "timestamp"], kind="stable"))


def test_load_ml_latest_small_items():
    ratings, items = load_ml_latest_small(return_items=True)
    assert len(ratings) == 100_836
    assert items.columns.tolist() == ["item_id", "title", "genres", "year"]
    assert items["item_id"].dtype == np.int64
    assert str(items["year"].dtype) == "Int64"
    assert len(items) == 9_742 and items["item_id"].is_unique
    assert items["year"].isna().sum() == 13
    assert set(ratings["item_id"]) <= set(items["item_id"])
    toy_story = items.set_index("item_id").loc[1]
    assert toy_story["title"] == "Toy Story (1995)" and toy_story["year"] == 1995


# ----------------------------------------------------------------------------- load_movielens

EXPECTED_ML = pd.DataFrame(
    {
        "user_id": np.array([1, 1, 1, 2], dtype=np.int64),
        "item_id": np.array([30, 10, 20, 10], dtype=np.int64),
        "timestamp": np.array([100, 200, 300, 150], dtype=np.int64),
        "rating": np.array([4.0, 3.5, 5.0, 1.0]),
    }
)
# the same ratings in file order: not time-ordered within user 1 (as in ML-1M's ratings.dat)
RAW_ROWS = [(1, 10, 3.5, 200), (2, 10, 1.0, 150), (1, 30, 4.0, 100), (1, 20, 5.0, 300)]


def _write(path, text):
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as handle:
            handle.write(text)
    else:
        path.write_text(text, encoding="utf-8")
    return path


def _u_data():
    return "".join(f"{u}\t{i}\t{r:g}\t{t}\n" for u, i, r, t in RAW_ROWS)


def _ratings_dat():
    return "".join(f"{u}::{i}::{r:g}::{t}\n" for u, i, r, t in RAW_ROWS)


def _ratings_csv():
    return "userId,movieId,rating,timestamp\n" + "".join(
        f"{u},{i},{r},{t}\n" for u, i, r, t in RAW_ROWS
    )


def _normalised_csv():
    return "user_id,item_id,timestamp,rating\n" + "".join(
        f"{u},{i},{t},{r}\n" for u, i, r, t in RAW_ROWS
    )


@pytest.mark.parametrize(
    "name, make_text",
    [
        ("u.data", _u_data),
        ("ua.base", _u_data),
        ("u.data.gz", _u_data),
        ("ratings.dat", _ratings_dat),
        ("ratings.dat.gz", _ratings_dat),
        ("ratings.csv", _ratings_csv),
        ("ratings.csv.gz", _ratings_csv),
        ("ratings.csv.gz", _normalised_csv),
        ("ratings.csv", _normalised_csv),
    ],
)
def test_load_movielens_formats(tmp_path, name, make_text):
    path = _write(tmp_path / name, make_text())
    pd.testing.assert_frame_equal(load_movielens(path), EXPECTED_ML)
    pd.testing.assert_frame_equal(load_movielens(str(path)), EXPECTED_ML)
    if name in ("u.data", "u.data.gz", "ratings.dat", "ratings.dat.gz", "ratings.csv"):
        pd.testing.assert_frame_equal(load_movielens(tmp_path), EXPECTED_ML)


def test_load_movielens_folder_prefers_ratings_csv(tmp_path):
    _write(tmp_path / "ratings.csv", _ratings_csv())
    _write(tmp_path / "u.data", "garbage\n")
    pd.testing.assert_frame_equal(load_movielens(tmp_path), EXPECTED_ML)


def test_load_movielens_errors(tmp_path):
    unknown = _write(tmp_path / "ratings.txt", "a;b;c;d\n1;2;3;4\n")
    with pytest.raises(ValueError, match="ratings.txt"):
        load_movielens(unknown)
    with pytest.raises(ValueError, match="No MovieLens ratings file"):
        load_movielens(tmp_path)  # a folder without a known ratings file
    with pytest.raises(FileNotFoundError, match="missing.dat"):
        load_movielens(tmp_path / "missing.dat")
    bad_header = _write(tmp_path / "other.csv", "user_id,item_id,when\n1,2,3\n")
    with pytest.raises(ValueError, match="rating"):
        load_movielens(bad_header)
    not_numbers = _write(tmp_path / "x.dat", "1::a::5::978300760\n")
    with pytest.raises(ValueError, match="x.dat"):
        load_movielens(not_numbers)


def test_load_movielens_shared_ml100k():
    folder = shared_data_path("ml-100k")
    if folder is None or not (folder / "ratings.csv.gz").is_file():
        pytest.skip(
            "shared/data/ml-100k/ratings.csv.gz not found (MovieLens 100K may not be "
            "redistributed, so it is not in the package); set SKSEQREC_SHARED_DATA to the "
            "folder holding ml-100k/ to run this test."
        )
    ratings = load_movielens(folder / "ratings.csv.gz")
    assert ratings.dtypes.astype(str).tolist() == ["int64", "int64", "int64", "float64"]
    assert len(ratings) == 100_000
    assert ratings["user_id"].nunique() == 943
    assert ratings["item_id"].nunique() == 1_682
    assert ratings["timestamp"].agg(["min", "max"]).tolist() == [874_724_710, 893_286_638]
    pd.testing.assert_frame_equal(load_movielens(folder), ratings)
    raw = pd.read_csv(folder / "ratings.csv.gz")  # already sorted by user, time
    np.testing.assert_array_equal(raw["item_id"], ratings["item_id"])


# ------------------------------------------------------------------------- load_sequences_txt


def test_load_sequences_txt(tmp_path):
    path = _write(tmp_path / "Beauty.txt", "1 5 6 7\n2 9\n\n3 1 2\n")
    X = load_sequences_txt(path)
    assert X.columns.tolist() == ["user_id", "item_id", "timestamp"]
    assert X.dtypes.astype(str).tolist() == ["int64", "int64", "int64"]
    assert X["user_id"].tolist() == [1, 1, 1, 2, 3, 3]
    assert X["item_id"].tolist() == [5, 6, 7, 9, 1, 2]
    assert X["timestamp"].tolist() == [0, 1, 2, 0, 0, 1]
    gz = _write(tmp_path / "Beauty.txt.gz", "1 5 6 7\n2 9\n\n3 1 2\n")
    pd.testing.assert_frame_equal(load_sequences_txt(gz), X)


def test_load_sequences_txt_string_ids(tmp_path):
    path = _write(tmp_path / "seq.txt", "alice a b\nbob c\n")
    X = load_sequences_txt(path)
    assert X["user_id"].tolist() == ["alice", "alice", "bob"]
    assert X["item_id"].tolist() == ["a", "b", "c"]
    assert X["timestamp"].tolist() == [0, 1, 0]


def test_load_sequences_txt_interactions_csv(tmp_path):
    text = "user_id,item_id,seq_index,rel_time\n1,5,0,0\n1,6,1,86400\n2,9,0,0\n"
    X = load_sequences_txt(_write(tmp_path / "interactions.csv.gz", text))
    expected = pd.DataFrame(
        {"user_id": [1, 1, 2], "item_id": [5, 6, 9], "timestamp": [0, 1, 0]}, dtype=np.int64
    )
    pd.testing.assert_frame_equal(X, expected)
    no_rel = "user_id,item_id,seq_index\n1,5,0\n1,6,1\n2,9,0\n"
    pd.testing.assert_frame_equal(load_sequences_txt(_write(tmp_path / "i.csv", no_rel)), expected)
    with pytest.raises(ValueError, match="bad.csv"):
        load_sequences_txt(_write(tmp_path / "bad.csv", "a,b,c\n1,2,3\n"))
    with pytest.raises(FileNotFoundError):
        load_sequences_txt(tmp_path / "missing.txt")


def test_load_sequences_txt_shared_lastfm():
    folder = shared_data_path("s3rec-lastfm")
    if folder is None:
        pytest.skip("shared/data/s3rec-lastfm not found; set SKSEQREC_SHARED_DATA to run this.")
    X = load_sequences_txt(folder / "interactions.csv.gz")
    assert (len(X), X["user_id"].nunique(), X["item_id"].nunique()) == (52_551, 1_090, 3_646)


# ------------------------------------------------------------------------- shared_data_path


def test_shared_data_path_env_var(tmp_path, monkeypatch):
    (tmp_path / "my-set").mkdir()
    monkeypatch.setenv("SKSEQREC_SHARED_DATA", str(tmp_path))
    assert shared_data_path("my-set") == tmp_path / "my-set"


def test_shared_data_path_cwd_parents(tmp_path, monkeypatch):
    target = tmp_path / "shared" / "data" / "my-set"
    target.mkdir(parents=True)
    work = tmp_path / "repo" / "sub"
    work.mkdir(parents=True)
    monkeypatch.delenv("SKSEQREC_SHARED_DATA", raising=False)
    monkeypatch.chdir(work)
    assert shared_data_path("my-set") == target
    assert shared_data_path("no-such-set-anywhere") is None
    with pytest.raises(ValueError, match="name"):
        shared_data_path("")
