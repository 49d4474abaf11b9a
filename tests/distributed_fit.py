"""One data-parallel fit, run by tests/test_distributed_training.py under torchrun.

``python -m torch.distributed.run --nproc_per_node=2 tests/distributed_fit.py OUT [MODE]``
with MODE ``same`` (default), ``sparse`` (sparse item-table updates) or ``mismatch``
(rank 1 gets fewer rows)
writes ``OUT/rank<r>.pkl`` (weights, history, recommendations) from every rank.
"""

from __future__ import annotations

import os
import pickle
import sys


def make_case(mode: str = "same"):
    """The data and the estimator: deterministic training (no dropout or hidden gaps, full
    softmax), a last global batch of one user (so one rank has nothing to score in that
    step) and early stopping on rank 0's validation."""
    from skseqrec import ESASRecEstimator
    from skseqrec.datasets import make_sequential_world

    X = make_sequential_world(
        n_users=81, n_items=40, min_length=4, max_length=25, noise=0.2, random_state=0
    )
    estimator = ESASRecEstimator(
        hidden_units=16,
        num_blocks=1,
        max_len=20,
        batch_size=16,
        epochs=8,
        validation_interval=6,
        dropout_rate=0.0,
        gap_conditioning=False,  # hides random gaps, like dropout: not rank-consistent
        negative_sampling="full",
        validation="last_event",
        validation_fraction=0.2,
        early_stopping_patience=3,
        early_stopping_min_steps=0,
        random_state=None if os.environ.get("SKSEQREC_TEST_NO_SEED") else 0,
    )
    if mode == "sparse":  # sampled negatives (one shared set per global batch), the item
        # tables updated with sparse gradients and SparseAdam
        estimator.set_params(negative_sampling="shared", num_negatives=16, sparse_item_updates=True)
    return X, estimator


def main(out: str, mode: str) -> None:
    import torch
    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo")
    rank = dist.get_rank()
    X, estimator = make_case(mode)
    if mode == "mismatch" and rank == 1:
        X = X.iloc[:-7]
    try:
        estimator.fit(X)
        result = {
            "state": {k: v.detach().cpu() for k, v in estimator.module_.state_dict().items()},
            "history": estimator.history_,
            "recommendations": estimator.recommend(X, top_k=5),
            "stop_reason": estimator.stop_reason_,
            "n_epochs": estimator.n_epochs_,
        }
    except ValueError as exc:
        result = {"error": str(exc)}
    with open(os.path.join(out, f"rank{rank}.pkl"), "wb") as file:
        pickle.dump(result, file)
    dist.destroy_process_group()


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else "same")
