"""Where the team's data sets are: ``shared/data/<name>`` (not part of skseqrec's API).

Benchmarks and tests read data sets that cannot ship with the package (MovieLens 100K and
1M may not be redistributed) from the team's shared folder. Users get them with
:func:`skseqrec.datasets.fetch_movielens` instead.
"""

from __future__ import annotations

import os
from pathlib import Path

__all__ = ["shared_data_path"]


def shared_data_path(name):
    """Find the team's ``shared/data/<name>`` folder (a development helper).

    Tests and benchmarks use this to find data sets that cannot ship with the package (for
    instance MovieLens 100K). It is not needed to use skseqrec.

    The folder is looked for, in order, at ``$SKSEQREC_SHARED_DATA/<name>`` (set the variable
    to the folder that holds the data sets), then at ``shared/data/<name>`` in the current
    directory and each of its parents, then in the parents of this benchmarks folder.

    Parameters
    ----------
    name : str
        Data set folder name, for example ``"ml-100k"`` or ``"s3rec-beauty"``.

    Returns
    -------
    path : pathlib.Path or None
        The first existing folder, or None when there is none.

    Examples
    --------
    >>> shared_data_path("no-such-dataset") is None
    True
    """
    if not isinstance(name, str) or not name or name in (".", ".."):
        raise ValueError(f"name must be a non-empty data set folder name, got {name!r}.")
    candidates = []
    env = os.environ.get("SKSEQREC_SHARED_DATA")
    if env:
        candidates.append(Path(env).expanduser() / name)
    for start in (Path.cwd(), Path(__file__).resolve().parent):
        for parent in (start, *start.parents):
            candidates.append(parent / "shared" / "data" / name)
    for candidate in candidates:
        if candidate.is_dir():
            return candidate
    return None
