"""Generated interaction data with a known, learnable rule."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.utils import check_random_state

__all__ = ["make_sequential_world"]


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
    """Users walking the catalogue: after item ``i`` comes ``(i + 1) % n_items``.

    Each user starts at a random item; each next event follows the rule with probability
    ``1 - noise`` and is a uniformly random item otherwise. The best possible next-item
    predictor has HR@1 of about ``1 - noise + noise / n_items``; a working sequential model
    gets close, popularity cannot.

    Parameters
    ----------
    n_users : int, default=200
    n_items : int, default=100
    min_length, max_length : int, default=10, 30
        Events per user, drawn uniformly in ``[min_length, max_length]``.
    noise : float, default=0.1
        Probability of a random jump, in [0, 1].
    start_time : int, default=0
        Timestamp of the first event; users interleave in time (one event per user per
        time step, users starting at random offsets), so global temporal splits make sense.
    id_type : {"int", "str"}, default="int"
        ``"str"`` gives ids ``"u0", "u1", ...`` and ``"i0", "i1", ...``.
    random_state : int, RandomState or None, default=None

    Returns
    -------
    DataFrame
        Columns ``user_id``, ``item_id``, ``timestamp`` (int64, strictly increasing within
        a user), sorted by user then time.

    Examples
    --------
    >>> X = make_sequential_world(n_users=2, n_items=5, min_length=3, max_length=3, noise=0.0,
    ...                           random_state=0)
    >>> X.groupby("user_id")["item_id"].apply(list).tolist()
    [[4, 0, 1], [0, 1, 2]]
    """
    for name, value, low in [
        ("n_users", n_users, 1),
        ("n_items", n_items, 2),
        ("min_length", min_length, 1),
        ("max_length", max_length, 1),
    ]:
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be an int >= {low}, got {value!r}.")
    if max_length < min_length:
        raise ValueError(f"max_length={max_length} must be >= min_length={min_length}.")
    if not 0.0 <= noise <= 1.0:
        raise ValueError(f"noise must be in [0, 1], got {noise!r}.")
    if id_type not in ("int", "str"):
        raise ValueError(f"id_type must be 'int' or 'str', got {id_type!r}.")
    rng = check_random_state(random_state)
    lengths = rng.randint(min_length, max_length + 1, size=n_users)
    items = np.empty((n_users, max_length), dtype=np.int64)
    items[:, 0] = rng.randint(0, n_items, size=n_users)
    jumps = rng.random_sample((n_users, max_length)) < noise
    random_items = rng.randint(0, n_items, size=(n_users, max_length))
    for step in range(1, max_length):  # loop over positions, vectorised over users
        items[:, step] = np.where(
            jumps[:, step], random_items[:, step], (items[:, step - 1] + 1) % n_items
        )
    offsets = rng.randint(0, max_length, size=n_users)
    mask = np.arange(max_length)[None, :] < lengths[:, None]
    users = np.broadcast_to(np.arange(n_users)[:, None], mask.shape)[mask]
    times = (start_time + offsets[:, None] + np.arange(max_length)[None, :])[mask]
    frame = pd.DataFrame(
        {"user_id": users, "item_id": items[mask], "timestamp": times.astype(np.int64)}
    )
    if id_type == "str":
        frame["user_id"] = "u" + frame["user_id"].astype(str)
        frame["item_id"] = "i" + frame["item_id"].astype(str)
    return frame
