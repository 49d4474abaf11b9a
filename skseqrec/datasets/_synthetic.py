"""Generated interaction data with a known, learnable rule."""

from __future__ import annotations

import numbers

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

__all__ = ["make_sequential_world"]


def _check_int(name, value, low):
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an int, got {value!r}.")
    if low is not None and value < low:
        raise ValueError(f"{name} must be >= {low}, got {value!r}.")
    return int(value)


def make_sequential_world(
    n_users=200,
    n_items=100,
    min_length=10,
    max_length=30,
    noise=0.1,
    *,
    start_time=0,
    id_type="int",
    random_state=None,
) -> pd.DataFrame:
    """Generate users who walk the catalogue in order: after item ``i`` comes ``i + 1``.

    Each user starts at a uniformly random item. Every following event is
    ``(previous + 1) % n_items`` with probability ``1 - noise`` and a uniformly random item
    (possibly the same as the rule's) with probability ``noise``. Jumps are independent of
    everything else, so the best possible next-item predictor is "previous item + 1" and its
    expected HR@1 on any event after a user's first is exactly
    ``1 - noise + noise / n_items``. A working sequential model gets close to that; a
    popularity baseline stays near ``1 / n_items``.

    Users are interleaved in time: user ``u`` starts at ``start_time + offset_u`` with
    ``offset_u`` uniform in ``[0, max_length)`` and then has one event per second, so a
    global temporal split cuts through many users' histories, as on real data.

    Parameters
    ----------
    n_users : int, default=200
        Number of users, >= 1.
    n_items : int, default=100
        Size of the catalogue, >= 2.
    min_length : int, default=10
        Fewest events per user, >= 1.
    max_length : int, default=30
        Most events per user, >= ``min_length``. Lengths are uniform in
        ``[min_length, max_length]``.
    noise : float, default=0.1
        Probability, in [0, 1], that an event is a uniformly random jump instead of the rule.
    start_time : int, default=0
        Earliest possible timestamp (seconds).
    id_type : {"int", "str"}, default="int"
        ``"int"`` gives ids ``0..n_users-1`` and ``0..n_items-1``; ``"str"`` gives zero-padded
        strings ``"u000", "u001", ...`` and ``"i00", "i01", ...`` whose string order equals
        their numeric order.
    random_state : int, RandomState instance or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : DataFrame
        Columns ``user_id``, ``item_id`` and ``timestamp`` (int64, strictly increasing within
        each user), sorted by user, then time.

    Raises
    ------
    ValueError
        If an argument is out of range; the message names the argument.

    Examples
    --------
    >>> X = make_sequential_world(n_users=2, n_items=5, min_length=3, max_length=3,
    ...                           noise=0.0, random_state=0)
    >>> X.groupby("user_id")["item_id"].apply(list).tolist()
    [[4, 0, 1], [0, 1, 2]]
    >>> X.columns.tolist(), X["timestamp"].dtype
    (['user_id', 'item_id', 'timestamp'], dtype('int64'))
    >>> make_sequential_world(n_users=3, n_items=20, noise=0.0, random_state=0,
    ...                       id_type="str")["item_id"].iloc[0]
    'i03'
    """
    n_users = _check_int("n_users", n_users, 1)
    n_items = _check_int("n_items", n_items, 2)
    min_length = _check_int("min_length", min_length, 1)
    max_length = _check_int("max_length", max_length, 1)
    start_time = _check_int("start_time", start_time, None)
    if max_length < min_length:
        raise ValueError(f"max_length must be >= min_length={min_length}, got {max_length}.")
    if (
        isinstance(noise, bool)
        or not isinstance(noise, numbers.Real)
        or not 0.0 <= float(noise) <= 1.0
    ):
        raise ValueError(f"noise must be a float in [0, 1], got {noise!r}.")
    if not isinstance(id_type, str) or id_type not in ("int", "str"):
        raise ValueError(f"id_type must be 'int' or 'str', got {id_type!r}.")
    rng = check_random_state(random_state)

    lengths = rng.randint(min_length, max_length + 1, size=n_users)
    items = np.empty((n_users, max_length), dtype=np.int64)
    items[:, 0] = rng.randint(0, n_items, size=n_users)
    jumps = rng.random_sample((n_users, max_length)) < float(noise)
    random_items = rng.randint(0, n_items, size=(n_users, max_length))
    for step in range(1, max_length):  # loop over positions, vectorised over users
        items[:, step] = np.where(
            jumps[:, step], random_items[:, step], (items[:, step - 1] + 1) % n_items
        )
    offsets = rng.randint(0, max_length, size=n_users)

    mask = np.arange(max_length)[None, :] < lengths[:, None]
    users = np.broadcast_to(np.arange(n_users, dtype=np.int64)[:, None], mask.shape)[mask]
    times = (start_time + offsets[:, None] + np.arange(max_length)[None, :])[mask]
    frame = pd.DataFrame(
        {"user_id": users, "item_id": items[mask], "timestamp": times.astype(np.int64)}
    )
    if id_type == "str":
        for column, prefix, n in (("user_id", "u", n_users), ("item_id", "i", n_items)):
            width = len(str(n - 1))
            names = np.array([f"{prefix}{v:0{width}d}" for v in range(n)], dtype=object)
            frame[column] = names[frame[column].to_numpy()]
    return frame
