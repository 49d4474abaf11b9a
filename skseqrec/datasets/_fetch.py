"""MovieLens ratings downloaded from GroupLens once and kept in a local data folder."""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path

from ._loaders import MOVIELENS_RATINGS_FILES, load_movielens

__all__ = ["fetch_movielens", "get_data_home"]

logger = logging.getLogger("skseqrec")

#: Seconds to wait for the server before a download counts as failed.
_TIMEOUT = 60
_CHUNK = 1 << 20


@dataclass(frozen=True)
class _Archive:
    """A GroupLens zip: where it is, its SHA-256 when known, its ratings file's name."""

    url: str
    sha256: str | None
    ratings: str


_GROUPLENS = "https://files.grouplens.org/datasets/movielens/"
# No SHA-256 is recorded: GroupLens publishes MD5 sums only, and none of these zips could
# be hashed here. Record a digest only after hashing the official zip yourself (the log
# of a download prints it); a wrong one would refuse every good copy.
_ARCHIVES = {
    "ml-100k": _Archive(_GROUPLENS + "ml-100k.zip", None, "u.data"),
    "ml-1m": _Archive(_GROUPLENS + "ml-1m.zip", None, "ratings.dat"),
    "ml-10m": _Archive(_GROUPLENS + "ml-10m.zip", None, "ratings.dat"),
    "ml-20m": _Archive(_GROUPLENS + "ml-20m.zip", None, "ratings.csv"),
    "ml-25m": _Archive(_GROUPLENS + "ml-25m.zip", None, "ratings.csv"),
    "ml-latest-small": _Archive(_GROUPLENS + "ml-latest-small.zip", None, "ratings.csv"),
}


def get_data_home(data_home=None) -> str:
    """The folder where skseqrec keeps downloaded data sets (created if missing).

    As scikit-learn's ``get_data_home``: the folder is ``data_home`` when given, else the
    ``SKSEQREC_DATA`` environment variable, else ``~/skseqrec_data``; ``~`` is expanded.

    Parameters
    ----------
    data_home : str or path-like, default=None
        The folder to use instead of the default.

    Returns
    -------
    data_home : str
        The folder's path.

    Examples
    --------
    >>> import os, tempfile
    >>> folder = os.path.join(tempfile.mkdtemp(), "data")
    >>> get_data_home(folder) == folder and os.path.isdir(folder)
    True
    """
    if data_home is None:
        data_home = os.environ.get("SKSEQREC_DATA", os.path.join("~", "skseqrec_data"))
    data_home = os.path.expanduser(os.fspath(data_home))
    os.makedirs(data_home, exist_ok=True)
    return data_home


def fetch_movielens(variant="ml-latest-small", *, data_home=None, download_if_missing=True):
    """Load a MovieLens ratings data set, downloading it from GroupLens the first time.

    The zip of ``variant`` is downloaded from https://files.grouplens.org/datasets/movielens/
    into the data folder (:func:`get_data_home`), its ratings file is extracted next to it,
    and later calls read that file without any network access. By downloading you accept
    the data set's terms (https://grouplens.org/datasets/movielens/): research use,
    citation of F. M. Harper and J. A. Konstan, "The MovieLens Datasets: History and
    Context", ACM TiiS 5(4): 19, 2015, and, for every variant but ml-latest-small, no
    redistribution without GroupLens's permission (so skseqrec cannot ship them).

    The files in the data folder:

    * ``<variant>.zip``: the archive as downloaded (kept, e.g. for its movie table);
    * ``<variant>/``: the extracted ratings file (``u.data``, ``ratings.dat`` or
      ``ratings.csv``). Any ratings file :func:`load_movielens` reads is used when it is
      in this folder, so a copy from elsewhere can be placed here by hand.

    Downloads go to a temporary file that is renamed only once complete (an interrupted
    download leaves no broken archive behind). No SHA-256 of the GroupLens zips is
    recorded yet (GroupLens publishes MD5 sums only, and a wrong digest would refuse
    every good copy), so archives are not verified: each download logs its SHA-256
    (logger ``"skseqrec"``, level INFO), and a recorded digest is checked against every
    archive, downloaded or placed by hand.

    Parameters
    ----------
    variant : {"ml-latest-small", "ml-100k", "ml-1m", "ml-10m", "ml-20m", "ml-25m"}, \
default="ml-latest-small"
        The data set. ml-latest-small also ships with skseqrec
        (:func:`load_ml_latest_small`, no download).
    data_home : str or path-like, default=None
        The data folder; None: :func:`get_data_home`'s (``$SKSEQREC_DATA``, else
        ``~/skseqrec_data``).
    download_if_missing : bool, default=True
        Download the data set when the data folder does not hold it; False raises
        instead.

    Returns
    -------
    ratings : DataFrame
        ``user_id`` (int64), ``item_id`` (int64), ``timestamp`` (int64, unix seconds) and
        ``rating`` (float64), sorted by user, then time (see :func:`load_movielens`).

    Raises
    ------
    ValueError
        ``variant`` is not one of the names above.
    FileNotFoundError
        The data set is not in the data folder and ``download_if_missing=False``; the
        message says where to put a copy.
    OSError
        The download failed (no network, server error; the message names the URL and
        where to put a copy fetched by hand), the archive's SHA-256 differs from the
        recorded one (expected and actual digests named), or the archive is not a zip
        holding the ratings file.

    Examples
    --------
    >>> import tempfile
    >>> fetch_movielens("ml-100k", data_home=tempfile.mkdtemp(), download_if_missing=False)
    Traceback (most recent call last):
    ...
    FileNotFoundError: MovieLens ml-100k is not in the data folder ...
    """
    archive = _ARCHIVES.get(variant) if isinstance(variant, str) else None
    if archive is None:
        raise ValueError(f"variant must be one of {list(_ARCHIVES)}, got {variant!r}.")
    home = Path(get_data_home(data_home))
    folder = home / variant
    if any((folder / name).is_file() for name in MOVIELENS_RATINGS_FILES):
        return load_movielens(folder)
    zip_path = home / f"{variant}.zip"
    by_hand = (
        f"Download {archive.url} yourself and put it at {zip_path}, or put its extracted "
        f"{archive.ratings} in the folder {folder}."
    )
    if zip_path.is_file():
        advice = "Delete it and call again to download it anew."
        _check_sha256(_sha256(zip_path), archive.sha256, str(zip_path), advice)
    elif not download_if_missing:
        raise FileNotFoundError(
            f"MovieLens {variant} is not in the data folder {home} and "
            f"download_if_missing=False. Call fetch_movielens({variant!r}) to download it, "
            f"or: {by_hand}"
        )
    else:
        _download(archive, zip_path, by_hand)
    _extract(zip_path, archive.ratings, folder)
    return load_movielens(folder)


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _check_sha256(actual: str, expected: str | None, what: str, advice: str) -> None:
    if expected is not None and actual != expected:
        raise OSError(
            f"{what} has SHA-256 {actual}, expected {expected}: it is corrupt or not the "
            f"official archive. {advice}"
        )


def _download(archive: _Archive, zip_path: Path, by_hand: str) -> None:
    """Download ``archive`` to ``zip_path`` through a temporary file, checking its digest."""
    logger.info("downloading %s to %s", archive.url, zip_path)
    handle, partial = tempfile.mkstemp(dir=zip_path.parent, prefix=f".{zip_path.name}.")
    partial = Path(partial)
    try:
        digest = hashlib.sha256()
        try:
            with (
                os.fdopen(handle, "wb") as out,
                urllib.request.urlopen(archive.url, timeout=_TIMEOUT) as response,
            ):
                while chunk := response.read(_CHUNK):
                    digest.update(chunk)
                    out.write(chunk)
        except OSError as exc:  # URLError, HTTPError, timeouts, refused connections
            raise OSError(f"Could not download {archive.url}: {exc}. {by_hand}") from exc
        actual = digest.hexdigest()
        logger.info("%s: SHA-256 %s", archive.url, actual)
        what = f"The download of {archive.url}"
        _check_sha256(actual, archive.sha256, what, f"It was discarded. {by_hand}")
        os.replace(partial, zip_path)
    finally:
        partial.unlink(missing_ok=True)


def _extract(zip_path: Path, name: str, folder: Path) -> None:
    """Copy the member called ``name`` (in any folder of the zip) to ``folder / name``."""
    try:
        with zipfile.ZipFile(zip_path) as bundle:
            members = [m for m in bundle.namelist() if m.rsplit("/", 1)[-1] == name]
            if len(members) != 1:
                raise OSError(
                    f"{zip_path} holds {len(members)} files called {name!r} (expected one): "
                    "it is not the MovieLens archive. Delete it and call again."
                )
            folder.mkdir(parents=True, exist_ok=True)
            handle, partial = tempfile.mkstemp(dir=folder, prefix=f".{name}.")
            try:
                with os.fdopen(handle, "wb") as out, bundle.open(members[0]) as source:
                    shutil.copyfileobj(source, out, _CHUNK)
                os.replace(partial, folder / name)
            finally:
                Path(partial).unlink(missing_ok=True)
    except zipfile.BadZipFile as exc:
        raise OSError(
            f"{zip_path} is not a zip archive ({exc}). Delete it and call again."
        ) from exc
