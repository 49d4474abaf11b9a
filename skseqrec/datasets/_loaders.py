"""Loaders: the bundled ml-latest-small, a user's own MovieLens copy, S3-Rec sequences."""

from __future__ import annotations

import gzip
import os
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["load_ml_latest_small", "load_movielens", "load_sequences_txt", "shared_data_path"]

_COLUMNS = ["user_id", "item_id", "timestamp", "rating"]


def load_ml_latest_small(*, return_items: bool = False):
    """MovieLens "latest-small" ratings, shipped with skseqrec.

    100,836 ratings of 9,724 movies by 610 users (1996-03-29 .. 2018-09-24). Redistributed
    under its licence (research use, no endorsement, cite Harper & Konstan 2015, no
    commercial use without permission): see ``ML_LATEST_SMALL_LICENSE.txt`` beside the data.
    GroupLens calls it a *development* dataset: use it for examples and tests, not for
    headline numbers.

    Parameters
    ----------
    return_items : bool, default=False
        Also return the items table (``item_id``, ``title``, ``genres``, ``year``).

    Returns
    -------
    ratings : DataFrame
        ``user_id`` (int64), ``item_id`` (int64), ``timestamp`` (int64, unix seconds),
        ``rating`` (float64, 0.5..5.0), sorted by user then time.
    items : DataFrame
        Only with ``return_items=True``.

    Examples
    --------
    >>> ratings = load_ml_latest_small()
    >>> ratings.shape, ratings["user_id"].nunique()
    ((100836, 4), 610)
    """
    folder = resources.files("skseqrec.datasets") / "_data"
    with resources.as_file(folder / "ml-latest-small-ratings.csv.gz") as path:
        ratings = pd.read_csv(
            path,
            dtype={
                "user_id": np.int64,
                "item_id": np.int64,
                "timestamp": np.int64,
                "rating": np.float64,
            },
        )
    if not return_items:
        return ratings
    with resources.as_file(folder / "ml-latest-small-items.csv.gz") as path:
        items = pd.read_csv(
            path, dtype={"item_id": np.int64, "title": str, "genres": str}, keep_default_na=False
        )
    items["year"] = pd.to_numeric(items["year"], errors="coerce").astype("Int64")
    return ratings, items


def _open_text(path: Path):
    return (
        gzip.open(path, "rt", encoding="latin-1")
        if path.suffix == ".gz"
        else open(path, encoding="latin-1")
    )


def load_movielens(path) -> pd.DataFrame:
    """Read your own copy of a MovieLens ratings file.

    MovieLens 100K/1M/10M/20M may not be redistributed, so skseqrec ships none of them;
    download them from https://grouplens.org/datasets/movielens/ and point this function at
    the file or its folder.

    Parameters
    ----------
    path : str or Path
        One of: ML-100K ``u.data`` (tab-separated ``user item rating timestamp``); ML-1M/10M
        ``ratings.dat`` (``::``-separated); ml-latest/20M/25M ``ratings.csv`` (header
        ``userId,movieId,rating,timestamp``); a normalised ``ratings.csv(.gz)`` with header
        ``user_id,item_id,timestamp,rating``; or a folder holding one of them. ``.gz`` is
        accepted for each.

    Returns
    -------
    DataFrame
        ``user_id``, ``item_id``, ``timestamp`` (int64 unix seconds), ``rating`` (float64),
        in file order.

    Raises
    ------
    FileNotFoundError, ValueError
        Missing path, or a file whose format is not recognised (the message names it).
    """
    path = Path(path)
    if path.is_dir():
        for name in [
            "ratings.csv.gz",
            "ratings.csv",
            "ratings.dat.gz",
            "ratings.dat",
            "u.data",
            "u.data.gz",
        ]:
            if (path / name).exists():
                path = path / name
                break
        else:
            raise ValueError(
                f"No MovieLens ratings file (u.data, ratings.dat, ratings.csv) in {path}."
            )
    if not path.exists():
        raise FileNotFoundError(f"No such file: {path}")
    with _open_text(path) as handle:
        first = handle.readline().strip()
    if first.startswith("user_id,item_id"):
        frame = pd.read_csv(path)
    elif first.startswith("userId,movieId"):
        frame = pd.read_csv(path).rename(columns={"userId": "user_id", "movieId": "item_id"})
    elif "::" in first:
        frame = pd.read_csv(
            path,
            sep="::",
            engine="python",
            header=None,
            names=["user_id", "item_id", "rating", "timestamp"],
            encoding="latin-1",
        )
    elif len(first.split("\t")) == 4:
        frame = pd.read_csv(
            path, sep="\t", header=None, names=["user_id", "item_id", "rating", "timestamp"]
        )
    else:
        raise ValueError(f"Unrecognised MovieLens ratings format in {path}: first line {first!r}.")
    frame = frame[_COLUMNS].astype(
        {"user_id": np.int64, "item_id": np.int64, "timestamp": np.int64, "rating": np.float64}
    )
    return frame.reset_index(drop=True)


def load_sequences_txt(path) -> pd.DataFrame:
    """Read S3-Rec-style sequences: one user per line, ``user item1 item2 ...``.

    Also reads the team's normalised ``interactions.csv(.gz)`` (``user_id,item_id,seq_index
    [,rel_time]``). These sets have no absolute time: ``timestamp`` is the position in the
    user's sequence, so use leave-last-out evaluation, never a global temporal split.

    Returns
    -------
    DataFrame
        ``user_id``, ``item_id``, ``timestamp`` (int64 positions).
    """
    path = Path(path)
    with _open_text(path) as handle:
        first = handle.readline()
    if first.startswith("user_id,"):
        frame = pd.read_csv(path)
        return frame.rename(columns={"seq_index": "timestamp"})[["user_id", "item_id", "timestamp"]]
    with _open_text(path) as handle:
        rows = [line.split() for line in handle if line.strip()]
    lengths = np.fromiter((len(r) - 1 for r in rows), dtype=np.int64, count=len(rows))
    users = np.repeat([r[0] for r in rows], lengths)
    items = np.concatenate([r[1:] for r in rows]) if rows else np.array([], dtype=str)
    positions = np.arange(lengths.sum()) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    frame = pd.DataFrame({"user_id": users, "item_id": items, "timestamp": positions})
    for column in ("user_id", "item_id"):
        converted = pd.to_numeric(frame[column], errors="coerce")
        if converted.notna().all():
            frame[column] = converted.astype(np.int64)
    return frame


def shared_data_path(name: str) -> Path | None:
    """Folder ``shared/data/<name>`` of the development checkout, or None (dev helper).

    Looks in ``$SKSEQREC_SHARED_DATA/<name>``, then for ``shared/data/<name>`` beside the
    parents of the current directory and of this package.
    """
    candidates = []
    if os.environ.get("SKSEQREC_SHARED_DATA"):
        candidates.append(Path(os.environ["SKSEQREC_SHARED_DATA"]) / name)
    for start in (Path.cwd(), Path(__file__).resolve()):
        for parent in [start, *start.parents]:
            candidates.append(parent / "shared" / "data" / name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None
