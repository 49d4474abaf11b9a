"""Several torch optimisers stepped as one (sparse item tables next to dense weights)."""

from __future__ import annotations

import torch

__all__ = ["CombinedOptimizer"]


class CombinedOptimizer:
    """Several torch optimisers behind the interface the :class:`Trainer` uses.

    ``torch.optim.SparseAdam`` accepts sparse gradients only and ``Adam``/``AdamW`` dense
    ones; a model whose item tables get sparse gradients trains with one of each. This
    object steps, zeroes and (de)serialises them together. ``param_groups`` is the list of
    every optimiser's groups (the same dicts), so a learning-rate schedule that edits
    ``group["lr"]`` (:class:`LearningRateSchedule`) reaches all of them. It is no
    ``torch.optim.Optimizer`` subclass: torch's ``lr_scheduler`` classes take the
    optimisers one by one (``optimizers``).

    Parameters
    ----------
    optimizers : list of torch.optim.Optimizer
        At least one; no parameter may be in two of them.

    Attributes
    ----------
    optimizers : list of torch.optim.Optimizer

    Raises
    ------
    ValueError
        No optimiser, or a parameter in more than one.

    Examples
    --------
    >>> import torch
    >>> from skseqrec.training.optim import CombinedOptimizer
    >>> table = torch.nn.Embedding(1000, 4, sparse=True)
    >>> head = torch.nn.Linear(4, 1)
    >>> optimizer = CombinedOptimizer([
    ...     torch.optim.SparseAdam(table.parameters(), lr=0.1),
    ...     torch.optim.Adam(head.parameters(), lr=0.1),
    ... ])
    >>> before = table.weight.detach().clone()
    >>> head(table(torch.tensor([3, 7]))).sum().backward()
    >>> optimizer.step()
    >>> optimizer.zero_grad()
    >>> moved = (table.weight.detach() != before).any(1)
    >>> moved.nonzero().flatten().tolist()  # only the rows read in the step
    [3, 7]
    >>> [len(group["params"]) for group in optimizer.param_groups]
    [1, 2]
    """

    def __init__(self, optimizers):
        self.optimizers = list(optimizers)
        if not self.optimizers:
            raise ValueError("CombinedOptimizer needs at least one optimizer, got none.")
        seen = set()
        for position, optimizer in enumerate(self.optimizers):
            for group in optimizer.param_groups:
                for parameter in group["params"]:
                    if id(parameter) in seen:
                        raise ValueError(
                            f"optimizers[{position}] holds a parameter of shape "
                            f"{tuple(parameter.shape)} that an earlier optimizer holds too."
                        )
                    seen.add(id(parameter))

    @property
    def param_groups(self) -> list:
        """Every optimiser's parameter groups, in the order of ``optimizers``."""
        return [group for optimizer in self.optimizers for group in optimizer.param_groups]

    @property
    def state(self) -> dict:
        """Per-parameter state (moments, step counts) of all the optimisers."""
        merged = {}
        for optimizer in self.optimizers:
            merged.update(optimizer.state)
        return merged

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Reset the gradients of every optimiser's parameters."""
        for optimizer in self.optimizers:
            optimizer.zero_grad(set_to_none=set_to_none)

    def step(self, closure=None):
        """One step of every optimiser; ``closure`` (re-evaluating the loss) runs once."""
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for optimizer in self.optimizers:
            optimizer.step()
        return loss

    def state_dict(self) -> dict:
        """``{"optimizers": [each optimiser's state_dict]}``."""
        return {"optimizers": [optimizer.state_dict() for optimizer in self.optimizers]}

    def load_state_dict(self, state_dict: dict) -> None:
        """Load what :meth:`state_dict` returned for optimisers of the same layout.

        Raises
        ------
        ValueError
            ``state_dict`` holds another number of optimisers.
        """
        states = state_dict.get("optimizers") if isinstance(state_dict, dict) else None
        if states is None or len(states) != len(self.optimizers):
            found = "no 'optimizers' entry" if states is None else f"{len(states)} optimizers"
            raise ValueError(
                f"This CombinedOptimizer has {len(self.optimizers)} optimizers; the state "
                f"dict has {found}."
            )
        for optimizer, state in zip(self.optimizers, states):
            optimizer.load_state_dict(state)

    def __repr__(self) -> str:
        names = ", ".join(type(optimizer).__name__ for optimizer in self.optimizers)
        return f"CombinedOptimizer([{names}])"
