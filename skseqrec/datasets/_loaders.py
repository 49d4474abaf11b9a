"""Loaders: the bundled ml-latest-small, your own MovieLens copy, S3-Rec style sequences."""

from __future__ import annotations

import gzip
import io
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd

__all__ = [
    "MOVIELENS_RATINGS_FILES",
    "load_ml_latest_small",
    "load_movielens",
    "load_sequences_txt",
]

_RATING_COLUMNS = ["user_id", "item_id", "timestamp", "rating"]
_RATING_DTYPES = {
    "user_id": np.int64,
    "item_id": np.int64,
    "timestamp": np.int64,
    "rating": np.float64,
}
#: Ratings files ``load_movielens`` looks for in a folder, in this order.
MOVIELENS_RATINGS_FILES = (
    "ratings.csv.gz",
    "ratings.csv",
    "ratings.dat.gz",
    "ratings.dat",
    "u.data",
    "u.data.gz",
)


def load_ml_latest_small(*, return_items=False):
    """Load MovieLens "ml-latest-small" ratings, which ship with skseqrec.

    100,836 ratings (0.5 to 5.0 stars) of 9,724 movies by 610 users, 1996-03-29 to
    2018-09-24, released by GroupLens on 2018-09-26.

    **Licence.** The data are not covered by skseqrec's BSD licence. They are redistributed
    under their own conditions: research use only; do not state or imply endorsement by the
    University of Minnesota or GroupLens; cite F. M. Harper and J. A. Konstan, "The MovieLens
    Datasets: History and Context", ACM TiiS 5(4): 19, 2015 in publications; no commercial or
    revenue-bearing use without GroupLens's permission; redistribution only under these same
    conditions. The full terms and the original README are in
    ``skseqrec/datasets/_data/ML_LATEST_SMALL_LICENSE.txt``.

    **Development data.** GroupLens calls this a *development* dataset, "not an appropriate
    dataset for shared research results": use it for examples and smoke tests, not for
    headline numbers. Timestamps tie for about 16 % of consecutive ratings of a user; ties
    keep the source file's order.

    Parameters
    ----------
    return_items : bool, default=False
        Also return the movie table.

    Returns
    -------
    ratings : DataFrame
        ``user_id`` (int64), ``item_id`` (int64, MovieLens movieId), ``timestamp`` (int64,
        unix seconds) and ``rating`` (float64), sorted by user, then time.
    items : DataFrame
        Only when ``return_items=True``: ``item_id`` (int64), ``title`` (str), ``genres``
        (str, ``|``-separated) and ``year`` (nullable Int64, missing for 13 titles) for all
        9,742 movies.

    Examples
    --------
    >>> ratings = load_ml_latest_small()
    >>> ratings.shape, ratings["user_id"].nunique(), ratings["item_id"].nunique()
    ((100836, 4), 610, 9724)
    >>> ratings.dtypes.astype(str).tolist()
    ['int64', 'int64', 'int64', 'float64']
    >>> ratings, items = load_ml_latest_small(return_items=True)
    >>> items.head(2)
       item_id             title                                       genres  year
    0        1  Toy Story (1995)  Adventure|Animation|Children|Comedy|Fantasy  1995
    1        2    Jumanji (1995)                   Adventure|Children|Fantasy  1995
    """
    folder = resources.files("skseqrec.datasets") / "_data"
    with (folder / "ml-latest-small-ratings.csv.gz").open("rb") as handle:
        ratings = pd.read_csv(handle, compression="gzip", dtype=_RATING_DTYPES)
    if not return_items:
        return ratings
    with (folder / "ml-latest-small-items.csv.gz").open("rb") as handle:
        items = pd.read_csv(
            handle,
            compression="gzip",
            dtype={"item_id": np.int64, "title": str, "genres": str, "year": str},
            keep_default_na=False,
        )
    items["year"] = pd.to_numeric(items["year"].replace("", None)).astype("Int64")
    return ratings, items


def _is_gzip(path):
    with open(path, "rb") as handle:
        return handle.read(2) == b"\x1f\x8b"


def _compression(path):
    return "gzip" if _is_gzip(path) else None


def _open_text(path):
    """Open a plain or gzip text file (detected from its magic bytes)."""
    if _is_gzip(path):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="latin-1")
    return open(path, encoding="latin-1")


def _first_line(path):
    with _open_text(path) as handle:
        return handle.readline().lstrip("\ufeff").strip()


def _resolve_file(path, names, what):
    path = Path(path)
    if path.is_dir():
        for name in names:
            if (path / name).is_file():
                return path / name
        raise ValueError(f"No {what} file ({', '.join(names)}) in the folder {path}.")
    if not path.is_file():
        raise FileNotFoundError(f"No such file or folder: {path}")
    return path


def load_movielens(path):
    """Read your own copy of a MovieLens ratings file.

    The MovieLens 100K, 1M, 10M, 20M and 25M licences say "The user may not redistribute the
    data without separate permission", so skseqrec ships none of them. Download one from
    https://grouplens.org/datasets/movielens/ (accepting its terms) and point this function
    at the ratings file or the folder that holds it.

    The format is detected from the file's first line (the file name only matters when
    ``path`` is a folder). Plain and gzip-compressed files are accepted.

    Parameters
    ----------
    path : str or path-like
        One of

        * ML-100K ``u.data`` (also ``ua.base`` and the like): tab-separated
          ``user item rating timestamp``, no header;
        * ML-1M / ML-10M ``ratings.dat``: ``UserID::MovieID::Rating::Timestamp``, no header;
        * ml-latest, ml-latest-small, ML-20M / ML-25M ``ratings.csv``: header
          ``userId,movieId,rating,timestamp``;
        * a normalised ``ratings.csv.gz`` with header ``user_id,item_id,timestamp,rating``;
        * a folder holding one of ``ratings.csv(.gz)``, ``ratings.dat(.gz)``,
          ``u.data(.gz)`` (looked for in that order).

    Returns
    -------
    ratings : DataFrame
        ``user_id`` (int64), ``item_id`` (int64), ``timestamp`` (int64, unix seconds) and
        ``rating`` (float64), sorted by user, then time, with ties kept in file order
        (ML-1M's ``ratings.dat`` is not time-ordered within a user).

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the format is not recognised; the message names the path and its first line.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "ratings.dat").write_text("1::1193::5::978300760\\n1::661::3::978302109\\n")
    >>> load_movielens(folder)
       user_id  item_id  timestamp  rating
    0        1     1193  978300760     5.0
    1        1      661  978302109     3.0
    """
    path = _resolve_file(path, MOVIELENS_RATINGS_FILES, "MovieLens ratings")
    first = _first_line(path)
    header = first.replace(" ", "").replace('"', "").lower()
    names = ["user_id", "item_id", "rating", "timestamp"]
    if header.startswith("user_id,item_id"):
        frame = pd.read_csv(path, compression=_compression(path))
    elif header.startswith("userid,movieid"):
        frame = pd.read_csv(path, compression=_compression(path)).rename(columns=str.lower)
        frame = frame.rename(columns={"userid": "user_id", "movieid": "item_id"})
    elif first.count("::") == 3:
        # "u::i::r::t" split on ":" gives u, "", i, "", r, "", t; the C parser is fast.
        frame = pd.read_csv(
            path,
            sep=":",
            header=None,
            usecols=[0, 2, 4, 6],
            names=list(range(7)),
            compression=_compression(path),
        )
        frame.columns = names
    elif len(first.split("\t")) == 4:
        frame = pd.read_csv(
            path, sep="\t", header=None, names=names, compression=_compression(path)
        )
    else:
        raise ValueError(
            f"Unrecognised MovieLens ratings format in {path}: first line {first[:80]!r}. "
            "Expected u.data (tab-separated), ratings.dat ('::'-separated) or ratings.csv "
            "(header userId,movieId,rating,timestamp or user_id,item_id,timestamp,rating)."
        )
    missing = [c for c in _RATING_COLUMNS if c not in frame.columns]
    if missing:
        raise ValueError(f"{path} has no column(s) {missing}; found {list(frame.columns)}.")
    try:
        frame = frame[_RATING_COLUMNS].astype(_RATING_DTYPES)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{path} holds values that are not numbers: {exc}") from None
    frame = frame.sort_values(["user_id", "timestamp"], kind="stable")
    return frame.reset_index(drop=True)


def load_sequences_txt(path):
    """Read per-user item sequences without absolute time.

    Two formats are accepted (plain or gzip):

    * S3-Rec style text (``data/Beauty.txt`` of S3-Rec, ICLRec, FMLP-Rec...): one user per
      line, ``user item1 item2 ...`` separated by white space, items in time order;
    * the normalised ``interactions.csv(.gz)`` with header
      ``user_id,item_id,seq_index[,rel_time]`` (``rel_time`` is dropped).

    These sets carry only the order of events, so ``timestamp`` is the 0-based position in
    the user's sequence. Evaluate them leave-last-out per user, never with a global temporal
    split.

    Parameters
    ----------
    path : str or path-like
        The file.

    Returns
    -------
    X : DataFrame
        ``user_id``, ``item_id`` (int64 when every id is an integer, else str) and
        ``timestamp`` (int64 positions), sorted by user, then position.

    Raises
    ------
    FileNotFoundError
        If ``path`` does not exist.
    ValueError
        If the file has a header that is not ``user_id,item_id,seq_index...``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "seq.txt"
    >>> _ = path.write_text("1 10 11 12\\n2 7 3\\n")
    >>> load_sequences_txt(path)
       user_id  item_id  timestamp
    0        1       10          0
    1        1       11          1
    2        1       12          2
    3        2        7          0
    4        2        3          1
    """
    path = _resolve_file(path, (), "sequence")
    first = _first_line(path)
    if "," in first:
        columns = first.replace(" ", "").replace('"', "").split(",")
        if columns[:3] != ["user_id", "item_id", "seq_index"]:
            raise ValueError(
                f"Unrecognised sequence file {path}: header {first[:80]!r}; expected "
                "'user_id,item_id,seq_index[,rel_time]' or 'user item1 item2 ...' lines."
            )
        frame = pd.read_csv(
            path, usecols=["user_id", "item_id", "seq_index"], compression=_compression(path)
        )
        frame = frame.rename(columns={"seq_index": "timestamp"})
        frame["timestamp"] = frame["timestamp"].astype(np.int64)
        frame = frame.sort_values(["user_id", "timestamp"], kind="stable")
        return frame.reset_index(drop=True)[["user_id", "item_id", "timestamp"]]

    with _open_text(path) as handle:
        rows = [line.split() for line in handle]
    rows = [row for row in rows if row]
    lengths = np.fromiter((len(row) - 1 for row in rows), dtype=np.int64, count=len(rows))
    users = np.repeat(np.array([row[0] for row in rows], dtype=object), lengths)
    items = np.array([item for row in rows for item in row[1:]], dtype=object)
    starts = np.cumsum(lengths) - lengths
    positions = np.arange(int(lengths.sum()), dtype=np.int64) - np.repeat(starts, lengths)
    frame = pd.DataFrame({"user_id": users, "item_id": items, "timestamp": positions})
    for column in ("user_id", "item_id"):
        converted = pd.to_numeric(frame[column], errors="coerce")
        if len(frame) and converted.notna().all() and (converted % 1 == 0).all():
            frame[column] = converted.astype(np.int64)
        else:
            frame[column] = frame[column].astype(str)
    return frame
