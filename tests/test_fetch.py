"""fetch_movielens / get_data_home, without network: archives served from file:// URLs."""

from __future__ import annotations

import hashlib
import io
import os
import urllib.error
import urllib.request
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skseqrec.datasets import _fetch, fetch_movielens, get_data_home, load_movielens

#: ML-100K's u.data format: user, item, rating, time (tab-separated, not time-ordered)
U_DATA = "2\t20\t4\t300\n1\t10\t5\t200\n1\t11\t3\t100\n"
EXPECTED = pd.DataFrame(
    {
        "user_id": [1, 1, 2],
        "item_id": [11, 10, 20],
        "timestamp": [100, 200, 300],
        "rating": [3.0, 5.0, 4.0],
    }
).astype({"user_id": np.int64, "item_id": np.int64, "timestamp": np.int64})


def _zip(path: Path, members: dict) -> Path:
    with zipfile.ZipFile(path, "w") as bundle:
        for name, text in members.items():
            bundle.writestr(name, text)
    return path


@pytest.fixture
def served(tmp_path, monkeypatch):
    """An ml-100k zip 'on the server' (a file:// URL), its SHA-256 recorded."""
    (tmp_path / "server").mkdir()
    source = _zip(
        tmp_path / "server" / "ml-100k.zip",
        {"ml-100k/README": "MovieLens", "ml-100k/u.data": U_DATA, "ml-100k/u.item": "1|x"},
    )
    digest = hashlib.sha256(source.read_bytes()).hexdigest()
    archive = _fetch._Archive(source.as_uri(), digest, "u.data")
    monkeypatch.setitem(_fetch._ARCHIVES, "ml-100k", archive)
    return source, archive


def _downloads(monkeypatch):
    """Count calls of urlopen (and let them through)."""
    calls = []
    real = urllib.request.urlopen

    def counting(url, *args, **kwargs):
        calls.append(url)
        return real(url, *args, **kwargs)

    monkeypatch.setattr(urllib.request, "urlopen", counting)
    return calls


def _leftovers(folder: Path) -> list[str]:
    """Temporary files of interrupted writes (they start with a dot)."""
    return sorted(p.name for p in folder.rglob(".*"))


def test_download_extract_and_reuse(served, tmp_path, monkeypatch):
    source, archive = served
    home = tmp_path / "home"
    calls = _downloads(monkeypatch)

    ratings = fetch_movielens("ml-100k", data_home=home)

    pd.testing.assert_frame_equal(ratings, EXPECTED)
    assert calls == [archive.url]
    assert (home / "ml-100k.zip").read_bytes() == source.read_bytes()
    assert (home / "ml-100k" / "u.data").read_text() == U_DATA
    assert sorted(p.name for p in (home / "ml-100k").iterdir()) == ["u.data"]
    assert _leftovers(home) == []

    # the second call reads the cache: no download, even with the server gone
    source.unlink()
    pd.testing.assert_frame_equal(fetch_movielens("ml-100k", data_home=home), EXPECTED)
    assert len(calls) == 1
    # ... also when only the zip is left
    (home / "ml-100k" / "u.data").unlink()
    pd.testing.assert_frame_equal(fetch_movielens("ml-100k", data_home=home), EXPECTED)
    assert len(calls) == 1


def test_checksum_mismatch_discards_the_download(served, tmp_path, monkeypatch):
    _, archive = served
    wrong = "0" * 64
    monkeypatch.setitem(_fetch._ARCHIVES, "ml-100k", _fetch._Archive(archive.url, wrong, "u.data"))
    home = tmp_path / "home"
    with pytest.raises(OSError, match=f"SHA-256 {archive.sha256}, expected {wrong}") as info:
        fetch_movielens("ml-100k", data_home=home)
    assert archive.url in str(info.value) and "discarded" in str(info.value)
    assert sorted(os.listdir(home)) == []  # no archive, no temporary file


def test_checksum_of_a_zip_placed_by_hand(served, tmp_path, monkeypatch):
    source, archive = served
    home = tmp_path / "home"
    home.mkdir()
    (home / "ml-100k.zip").write_bytes(source.read_bytes())
    calls = _downloads(monkeypatch)
    pd.testing.assert_frame_equal(fetch_movielens("ml-100k", data_home=home), EXPECTED)
    assert calls == []  # a placed zip is used, not downloaded again

    other = tmp_path / "other"
    other.mkdir()
    _zip(other / "ml-100k.zip", {"ml-100k/u.data": "1\t1\t1\t1\n"})
    with pytest.raises(
        OSError, match=rf"ml-100k.zip has SHA-256 [0-9a-f]{{64}}, expected {archive.sha256}"
    ):
        fetch_movielens("ml-100k", data_home=other)


def test_without_a_recorded_checksum_any_zip_is_accepted(served, tmp_path, monkeypatch):
    _, archive = served
    monkeypatch.setitem(_fetch._ARCHIVES, "ml-100k", _fetch._Archive(archive.url, None, "u.data"))
    pd.testing.assert_frame_equal(fetch_movielens("ml-100k", data_home=tmp_path), EXPECTED)


def test_offline_error_says_what_was_tried(tmp_path, monkeypatch):
    def offline(url, *args, **kwargs):
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    home = tmp_path / "home"
    with pytest.raises(OSError) as info:
        fetch_movielens("ml-1m", data_home=home)
    message = str(info.value)
    assert "Could not download https://files.grouplens.org/datasets/movielens/ml-1m.zip" in message
    assert "name resolution" in message
    assert str(home / "ml-1m.zip") in message and str(home / "ml-1m") in message
    assert isinstance(info.value.__cause__, urllib.error.URLError)
    assert os.listdir(home) == []


def test_interrupted_download_leaves_nothing(served, tmp_path, monkeypatch):
    class Broken(io.BytesIO):
        def read(self, size=-1):
            if self.tell() > 0:
                raise ConnectionResetError("connection reset by peer")
            return super().read(10)

    monkeypatch.setattr(urllib.request, "urlopen", lambda url, timeout: Broken(b"x" * 100))
    home = tmp_path / "home"
    with pytest.raises(OSError, match="connection reset"):
        fetch_movielens("ml-100k", data_home=home)
    assert os.listdir(home) == []


def test_download_if_missing_false(served, tmp_path, monkeypatch):
    calls = _downloads(monkeypatch)
    home = tmp_path / "home"
    with pytest.raises(FileNotFoundError) as info:
        fetch_movielens("ml-100k", data_home=home, download_if_missing=False)
    message = str(info.value)
    assert "download_if_missing=False" in message
    assert str(home / "ml-100k.zip") in message and "u.data" in message
    assert calls == []


def test_a_ratings_file_placed_by_hand_is_read(tmp_path):
    # any format load_movielens reads, e.g. a normalised ratings.csv.gz
    folder = tmp_path / "ml-1m"
    folder.mkdir()
    EXPECTED.to_csv(folder / "ratings.csv.gz", index=False)
    ratings = fetch_movielens("ml-1m", data_home=tmp_path, download_if_missing=False)
    pd.testing.assert_frame_equal(ratings, EXPECTED)
    pd.testing.assert_frame_equal(ratings, load_movielens(folder))


def test_broken_archives(tmp_path):
    (tmp_path / "ml-100k.zip").write_bytes(b"not a zip")
    with pytest.raises(OSError, match="is not a zip archive"):
        fetch_movielens("ml-100k", data_home=tmp_path)
    _zip(tmp_path / "ml-1m.zip", {"ml-1m/movies.dat": "1::x::y"})
    with pytest.raises(OSError, match="holds 0 files called 'ratings.dat'"):
        fetch_movielens("ml-1m", data_home=tmp_path)


def test_variants_and_their_archives():
    assert list(_fetch._ARCHIVES) == [
        "ml-100k",
        "ml-1m",
        "ml-10m",
        "ml-20m",
        "ml-25m",
        "ml-latest-small",
    ]
    for variant, archive in _fetch._ARCHIVES.items():
        assert archive.url == f"https://files.grouplens.org/datasets/movielens/{variant}.zip"
        assert archive.sha256 is None or (
            len(archive.sha256) == 64 and set(archive.sha256) <= set("0123456789abcdef")
        )
    with pytest.raises(ValueError, match=r"variant must be one of \['ml-100k'.*got 'ml-2m'"):
        fetch_movielens("ml-2m")


def test_get_data_home(tmp_path, monkeypatch):
    explicit = tmp_path / "a" / "b"
    assert get_data_home(explicit) == str(explicit) and explicit.is_dir()
    monkeypatch.setenv("SKSEQREC_DATA", str(tmp_path / "env"))
    assert get_data_home() == str(tmp_path / "env") and (tmp_path / "env").is_dir()
    monkeypatch.delenv("SKSEQREC_DATA")
    monkeypatch.setenv("HOME", str(tmp_path / "user"))
    assert get_data_home() == str(tmp_path / "user" / "skseqrec_data")
    assert get_data_home("~/mine") == str(tmp_path / "user" / "mine")
