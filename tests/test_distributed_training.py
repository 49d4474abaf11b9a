"""Data-parallel training on torch.distributed (2 gloo processes under torchrun)."""

from __future__ import annotations

import os
import pickle
import socket
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch
from distributed_fit import make_case

from skseqrec.training import Trainer
from skseqrec.training.distributed import (
    average_gradients,
    broadcast_object,
    check_same_across_ranks,
    rank_and_world_size,
)

SCRIPT = Path(__file__).with_name("distributed_fit.py")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _launch(out: Path, mode: str = "same", env_extra: dict | None = None) -> list[dict]:
    env = {**os.environ, "OMP_NUM_THREADS": "1", **(env_extra or {})}
    command = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--nnodes=1",
        "--nproc_per_node=2",
        "--rdzv-backend=c10d",
        f"--rdzv-endpoint=127.0.0.1:{_free_port()}",
        str(SCRIPT),
        str(out),
        mode,
    ]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    results = []
    for rank in range(2):
        with open(out / f"rank{rank}.pkl", "rb") as file:
            results.append(pickle.load(file))
    return results


def _assert_same_weights(state, expected):
    assert state.keys() == expected.keys()
    for name, value in expected.items():
        # the key bias has no true gradient (softmax ignores a shift of every key's
        # score): its steps are Adam-normalised float noise, as large as the learning
        # rate allows; every other weight agrees far more closely
        atol = 5e-4 if name.endswith("qkv.bias") else 2e-5
        np.testing.assert_allclose(
            state[name].numpy(), value.numpy(), rtol=1e-4, atol=atol, err_msg=name
        )


@pytest.fixture(scope="module")
def two_ranks(tmp_path_factory):
    return _launch(tmp_path_factory.mktemp("ddp"))


def test_two_processes_match_one_process(two_ranks):
    X, estimator = make_case()
    torch.set_num_threads(1)
    single = estimator.fit(X)
    for result in two_ranks:
        assert "error" not in result, result.get("error")
        _assert_same_weights(result["state"], single.module_.state_dict())
        history = single.history_
        assert list(result["history"]["step"]) == list(history["step"])
        np.testing.assert_allclose(
            result["history"]["train_loss"], history["train_loss"], rtol=1e-5
        )
        np.testing.assert_allclose(
            result["history"]["valid_ndcg@10"], history["valid_ndcg@10"], atol=1e-6
        )
        assert result["stop_reason"] == single.stop_reason_
        expected = single.recommend(X, top_k=5)
        pd.testing.assert_frame_equal(
            result["recommendations"][["user_id", "item_id", "rank"]],
            expected[["user_id", "item_id", "rank"]],
        )


def test_sparse_item_updates_match_one_process(tmp_path):
    X, estimator = make_case("sparse")
    torch.set_num_threads(1)
    single = estimator.fit(X)
    assert single.sparse_item_updates_
    for result in _launch(tmp_path, mode="sparse"):
        assert "error" not in result, result.get("error")
        _assert_same_weights(result["state"], single.module_.state_dict())
        np.testing.assert_allclose(
            result["history"]["train_loss"], single.history_["train_loss"], rtol=1e-5
        )


def test_ranks_end_with_identical_models(two_ranks):
    first, second = two_ranks
    for name, value in first["state"].items():
        assert torch.equal(value, second["state"][name]), name
    pd.testing.assert_frame_equal(
        first["history"].drop(columns="seconds"), second["history"].drop(columns="seconds")
    )


def test_unseeded_ranks_share_rank_zero_seed(tmp_path):
    first, second = _launch(tmp_path, env_extra={"SKSEQREC_TEST_NO_SEED": "1"})
    for name, value in first["state"].items():
        assert torch.equal(value, second["state"][name]), name


def test_different_data_on_ranks_is_an_error(tmp_path):
    results = _launch(tmp_path, mode="mismatch")
    for result in results:
        assert "same X (rows, users with 2+ events, items) on every rank" in result["error"]
        assert "rank 0: (" in result["error"] and "rank 1: (" in result["error"]


def test_single_process_helpers_are_no_ops():
    assert rank_and_world_size() == (0, 1)
    assert broadcast_object([1, 2]) == [1, 2]
    check_same_across_ranks("anything", 1)
    layer = torch.nn.Linear(3, 1)
    loss = layer(torch.ones(2, 3)).mean()
    loss.backward()
    before = layer.weight.grad.clone()
    assert average_gradients(layer.parameters(), loss.detach(), 5.0) is not None
    assert torch.equal(layer.weight.grad, before)


def test_trainer_is_main_process_without_group():
    module = torch.nn.Linear(1, 1)
    trainer = Trainer(
        module=module,
        optimizer=torch.optim.SGD(module.parameters(), lr=0.1),
        loss_fn=lambda batch: module(batch).pow(2).mean(),
        batches=lambda epoch: [torch.ones(2, 1)],
        epochs=1,
        batch_weight=lambda batch: 0.0,  # ignored with one process
    )
    trainer.run()
    assert trainer.is_main_process and trainer.world_size == 1 and trainer.step == 1
