"""Data-parallel training on ``torch.distributed``: the few collective steps the loop needs.

When a process group is initialised (``torchrun`` and
``torch.distributed.init_process_group``) with more than one process, every estimator's
``fit`` trains data-parallel: each process (rank) reads the same interactions, draws the
same shuffled global batches from the same seed, and computes the loss on its own share of
each global batch's users. After the backward pass the gradients are averaged over ranks,
weighted by how many targets each rank scored, so one step equals the step a single process
takes on the whole global batch (up to float summation order). Rank 0 validates and its
records and stop decisions are sent to the others, so every rank keeps the same history,
stops at the same step and returns the same model. Without a process group (or with one
process) every function here is a no-op.

Rules of thumb: ``batch_size`` is the global batch; with the same global batch the learning
rate stays the same, and growing the global batch with the number of processes calls for a
larger learning rate (linear or square-root scaling, with warm-up). See the
:doc:`distributed training guide </distributed_training>`.
"""

from __future__ import annotations

import os

import torch
import torch.distributed as dist

__all__ = [
    "average_gradients",
    "broadcast_object",
    "broadcast_parameters",
    "check_same_across_ranks",
    "process_device",
    "rank_and_world_size",
]


def rank_and_world_size() -> tuple[int, int]:
    """``(rank, world_size)`` of the current process group; ``(0, 1)`` without one.

    Examples
    --------
    >>> from skseqrec.training.distributed import rank_and_world_size
    >>> rank_and_world_size()  # no process group in this process
    (0, 1)
    """
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size()
    return 0, 1


def process_device(device: torch.device) -> torch.device:
    """This rank's device: ``cuda`` becomes ``cuda:LOCAL_RANK`` under a process group (one
    GPU per process, as ``torchrun`` launches them); other devices are unchanged.

    Examples
    --------
    >>> import torch
    >>> from skseqrec.training.distributed import process_device
    >>> process_device(torch.device("cpu"))
    device(type='cpu')
    """
    rank, world = rank_and_world_size()
    if world == 1 or device.type != "cuda" or device.index is not None:
        return device
    local_rank = int(os.environ.get("LOCAL_RANK", rank % max(torch.cuda.device_count(), 1)))
    torch.cuda.set_device(local_rank)
    return torch.device("cuda", local_rank)


def broadcast_object(value, src: int = 0):
    """``value`` of rank ``src`` on every rank (a picklable object); ``value`` itself
    without a process group.

    Examples
    --------
    >>> from skseqrec.training.distributed import broadcast_object
    >>> broadcast_object({"valid_ndcg@10": 0.25})
    {'valid_ndcg@10': 0.25}
    """
    if rank_and_world_size()[1] == 1:
        return value
    box = [value]
    dist.broadcast_object_list(box, src=src)
    return box[0]


def check_same_across_ranks(what: str, value) -> None:
    """Raise ValueError naming the ranks that disagree when ``value`` (a small picklable
    summary, e.g. row and item counts) differs between ranks.

    Examples
    --------
    >>> from skseqrec.training.distributed import check_same_across_ranks
    >>> check_same_across_ranks("X (rows, users, items)", (100, 10, 20))  # one process
    """
    rank, world = rank_and_world_size()
    if world == 1:
        return
    values = [None] * world
    dist.all_gather_object(values, value)
    if any(v != values[0] for v in values):
        listed = ", ".join(f"rank {r}: {v}" for r, v in enumerate(values))
        raise ValueError(
            f"Data-parallel training needs the same {what} on every rank; got {listed}. "
            "Give every process the same data (each one computes on its share of every "
            "global batch)."
        )


def broadcast_parameters(module: torch.nn.Module, src: int = 0) -> None:
    """Copy rank ``src``'s parameters and buffers to every rank (in place).

    Examples
    --------
    >>> import torch
    >>> from skseqrec.training.distributed import broadcast_parameters
    >>> broadcast_parameters(torch.nn.Linear(2, 2))  # one process: nothing to do
    """
    if rank_and_world_size()[1] == 1:
        return
    with torch.no_grad():
        for tensor in list(module.parameters()) + list(module.buffers()):
            dist.broadcast(tensor.data, src=src)


def average_gradients(parameters, loss: torch.Tensor, weight: float) -> torch.Tensor:
    """Average the gradients over ranks, each rank weighted by ``weight``, in place.

    Each rank's ``loss`` is the mean over the ``weight`` targets it scored, so
    ``sum_r weight_r * grad_r / sum_r weight_r`` is the gradient of the mean over all the
    global batch's targets: the step one process takes on the whole batch. One all-reduce
    carries every gradient and the loss. A parameter without a gradient on a rank counts as
    a zero gradient there. A sparse gradient (an item table under ``sparse_item_updates``)
    is summed densely and given back sparse over the rows that any rank touched.

    Parameters
    ----------
    parameters : iterable of torch.nn.Parameter
        The trained parameters (the same, in the same order, on every rank).
    loss : torch.Tensor
        This rank's scalar loss (detached or not).
    weight : float or scalar tensor
        How many targets this rank's loss averages over (0: it scored none).

    Returns
    -------
    torch.Tensor
        The global batch's loss (the weighted mean of the ranks' losses); ``loss`` itself
        without a process group.

    Examples
    --------
    >>> import torch
    >>> from skseqrec.training.distributed import average_gradients
    >>> layer = torch.nn.Linear(2, 1)
    >>> loss = layer(torch.ones(1, 2)).sum()
    >>> loss.backward()
    >>> float(average_gradients(layer.parameters(), loss.detach(), 1.0)) == loss.item()
    True
    """
    if rank_and_world_size()[1] == 1:
        return loss
    parameters = [p for p in parameters if p.requires_grad]
    device = loss.device
    # which gradients are sparse, decided over every rank: a rank that scored nothing has
    # no gradient at all (a small all-reduce of one flag per parameter)
    flags = torch.tensor(
        [float(p.grad is not None and p.grad.is_sparse) for p in parameters], device=device
    )
    dist.all_reduce(flags, op=dist.ReduceOp.SUM)
    sparse = (flags > 0).tolist()
    weight_t = torch.as_tensor(weight, dtype=torch.float32, device=device)
    parts = []
    for p, is_sparse in zip(parameters, sparse):
        grad = p.grad
        if grad is None:
            grad = torch.zeros_like(p)
        if is_sparse:
            # the rows each rank touched travel with the values: a lazy optimiser
            # (SparseAdam) must step every row any rank touched, zero gradient or not
            touched = torch.zeros(p.shape[0], device=device)
            if grad.is_sparse:
                grad = grad.coalesce()
                touched[grad.indices()[0]] = 1.0
                grad = grad.to_dense()
            parts.append(touched)
        parts.append(grad.reshape(-1).float() * weight_t)
    parts.append(torch.stack([loss.detach().float() * weight_t, weight_t]))
    flat = torch.cat(parts)
    dist.all_reduce(flat, op=dist.ReduceOp.SUM)
    total_weight = flat[-1].clamp_min(1e-12)
    offset = 0
    for p, is_sparse in zip(parameters, sparse):
        rows = None
        if is_sparse:
            rows = torch.nonzero(flat[offset : offset + p.shape[0]] > 0).flatten()
            offset += p.shape[0]
        n = p.numel()
        grad = (flat[offset : offset + n] / total_weight).view_as(p).to(p.dtype)
        offset += n
        if rows is not None:
            grad = torch.sparse_coo_tensor(rows.unsqueeze(0), grad[rows], p.shape).coalesce()
        p.grad = grad
    return flat[-2] / total_weight
