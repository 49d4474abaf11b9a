"""Data that ships with skseqrec, generated worlds, and loaders for your own copies."""

from ._loaders import load_ml_latest_small, load_movielens, load_sequences_txt, shared_data_path
from ._synthetic import make_sequential_world

__all__ = [
    "load_ml_latest_small",
    "load_movielens",
    "load_sequences_txt",
    "make_sequential_world",
    "shared_data_path",
]
