"""Hyper-parameter searches under joblib's Dask backend, on a ``LocalCluster`` of processes.

Each fit runs in a worker process, so the estimator, the data, the splitter and the
scorers are pickled there and back; the scores must be exactly those of the same search
run in this process (same ``random_state``, one torch thread on both sides). The recipe
is docs/distributed_search.rst.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from joblib import parallel_config
from sklearn.model_selection import GridSearchCV, RandomizedSearchCV

from skseqrec import SASRecClassifierEstimator, recommend
from skseqrec.datasets import make_sequential_world
from skseqrec.model_selection import LeaveLastOut, make_ranking_scorer

distributed = pytest.importorskip("dask.distributed")

FAST = dict(
    hidden_units=16, num_blocks=1, max_len=12, epochs=2, batch_size=64, device="cpu", random_state=0
)
SCORING = {"ndcg": make_ranking_scorer("ndcg", k=10), "hr": make_ranking_scorer("hit_rate", k=10)}


class ResourceRestrictions(distributed.SchedulerPlugin):
    """Records the resources each task asked for when the scheduler sends it to a worker."""

    def __init__(self, scheduler):
        self.scheduler = scheduler
        self.restrictions = []

    def transition(self, key, start, finish, *args, **kwargs):
        if finish == "processing":
            self.restrictions.append(self.scheduler.tasks[key].resource_restrictions)


@pytest.fixture(scope="module")
def interactions():
    return make_sequential_world(
        n_users=60, n_items=30, min_length=8, max_length=12, noise=0.02, random_state=0
    )


@pytest.fixture(scope="module")
def cluster():
    # processes=True: the fits really cross a process boundary (pickled out and back),
    # two workers of one thread each use two cores. "GPU" is an abstract resource label
    # here (no device): it lets the test check that the one-GPU-per-worker recipe's
    # ``resources=`` reaches the scheduler.
    with distributed.LocalCluster(
        n_workers=2,
        threads_per_worker=1,
        processes=True,
        dashboard_address=None,
        resources={"GPU": 1},
    ) as cluster:
        yield cluster


@pytest.fixture
def client(cluster):
    with distributed.Client(cluster) as client:
        # the nanny sets OMP_NUM_THREADS=1 only where the variable is not set already
        client.run(torch.set_num_threads, 1)
        yield client


@pytest.fixture
def one_torch_thread():
    # the workers compute with one torch thread; so does the reference run here, so that
    # the floating-point reductions are done in the same order on both sides
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def _grid():
    return GridSearchCV(
        SASRecClassifierEstimator(**FAST),
        {"learning_rate": [0.001, 0.01], "positional": ["from_end", "rope"]},
        cv=LeaveLastOut(n_splits=2, random_state=0),
        scoring=SCORING,
        refit="ndcg",
        error_score="raise",
    )


def _randomized():
    return RandomizedSearchCV(
        SASRecClassifierEstimator(**FAST),
        {"dropout_rate": [0.0, 0.1, 0.2], "hidden_units": [8, 16]},
        n_iter=2,
        cv=LeaveLastOut(n_splits=2, random_state=0),
        scoring=SCORING,
        refit="ndcg",
        random_state=0,
        error_score="raise",
    )


def test_dask_search_matches_the_local_one(cluster, client, interactions, one_torch_thread):
    local = [_grid().fit(interactions), _randomized().fit(interactions)]

    plugin = ResourceRestrictions(cluster.scheduler)
    cluster.scheduler.add_plugin(plugin, name="resource-restrictions")
    try:
        with distributed.get_task_stream(client) as tasks:
            with parallel_config(backend="dask"):
                grid = _grid().fit(interactions)
            grid_restrictions = list(plugin.restrictions)
            with parallel_config(backend="dask", resources={"GPU": 1}):
                randomized = _randomized().fit(interactions)
    finally:
        cluster.scheduler.remove_plugin(name="resource-restrictions")
    remote = [grid, randomized]

    ran_on = {task["worker"] for task in tasks.data}
    assert ran_on and ran_on <= set(client.scheduler_info()["workers"])  # not in this process
    # ``resources=`` of parallel_config reaches every task of that search, and only those
    gpu_restrictions = plugin.restrictions[len(grid_restrictions) :]
    assert grid_restrictions and all(not r for r in grid_restrictions)
    assert gpu_restrictions and all(r == {"GPU": 1} for r in gpu_restrictions)

    for here, there in zip(local, remote):
        assert there.cv_results_["params"] == here.cv_results_["params"]
        for key in here.cv_results_:
            if key.startswith(("split", "mean_test", "std_test", "rank_test")):
                np.testing.assert_array_equal(there.cv_results_[key], here.cv_results_[key], key)
        assert np.isfinite(there.cv_results_["mean_test_ndcg"]).all()
        assert there.best_params_ == here.best_params_
        recommendations = recommend(there, interactions, top_k=3)
        assert recommendations.shape == (3 * interactions["user_id"].nunique(), 4)
        assert recommendations.equals(recommend(here, interactions, top_k=3))
