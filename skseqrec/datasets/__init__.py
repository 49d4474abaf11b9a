"""Data that ships with skseqrec, generated worlds, MovieLens downloads and your own copies."""

from ._fetch import fetch_movielens, get_data_home
from ._loaders import load_ml_latest_small, load_movielens, load_sequences_txt
from ._synthetic import make_sequential_world

__all__ = [
    "fetch_movielens",
    "get_data_home",
    "load_ml_latest_small",
    "load_movielens",
    "load_sequences_txt",
    "make_sequential_world",
]
