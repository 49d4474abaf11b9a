"""MLPRankerEstimator: the second stage of :class:`~skseqrec.TwoStageRecommender`."""

from __future__ import annotations

import numpy as np
import torch
from sklearn.base import BaseEstimator
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import params as P
from .._doclinks import doc_link_template
from ..data.candidates import CandidateLists, ItemSide
from ..nn.ranker import PairRanker
from ..training import (
    EarlyStopping,
    History,
    ProgressBar,
    Trainer,
    loadable_device,
    resolve_device,
)

__all__ = ["MLPRankerEstimator"]

#: lists held out of a ranker's training for early stopping never number fewer than this
MIN_VALIDATION_LISTS = 50
#: the trained head for known items is kept only when its paired validation gain over the
#: retriever's order exceeds this many standard errors (the best epoch is chosen on the
#: same lists, so a smaller gain is mostly the luck of that choice)
KEEP_TRAINED_SE = 2.0


class MLPRankerEstimator(BaseEstimator):
    """An MLP that re-ranks a retriever's candidates, from ids and from item metadata.

    Each (user, candidate) pair is scored from the retriever's user vector and item vector,
    their element-wise product, the retriever's score and rank, the item's metadata vector
    (every field embedded: categorical and multi-label fields mean-pooled, numeric fields
    bucketed plus their normalised value, missing values with a code of their own) and its
    product with the user vector, the item's normalised popularity and an *unknown* flag
    (items the retriever never saw). It is trained on lists of one target, the retriever's
    top candidates (hard negatives) and random items, with a listwise (softmax over the
    list) or pairwise (BPR) loss, and early stopping on held-out lists.

    **ID dropout**: in training, each pair's *id part* (item vector, product, retriever
    score and rank, popularity) is hidden with probability ``id_dropout`` and the unknown
    flag set, exactly as an item with no interactions is seen at serving time; so the MLP
    learns to rank from metadata where ids say nothing, and new items can be recommended.

    Use it inside :class:`~skseqrec.TwoStageRecommender`, which builds the candidate lists;
    ``fit`` and :meth:`decision_function` take those lists directly.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(256, 128)
        Widths of the MLP's hidden layers (ReLU).
    dropout_rate : float, default=0.1
    id_dropout : float, default=0.3
        Probability of hiding a training pair's id part.
    loss : {"listwise", "pairwise"}, default="listwise"
        Softmax cross-entropy of the target over its list, or the mean BPR loss of the
        target against each other item of the list.
    n_random_negatives : int, default=20
        Random catalogue items added to each training list besides the retriever's
        candidates (read by the list builder).
    learning_rate : float, default=1e-3
    weight_decay : float, default=0.0
    batch_size : int, default=64
        Lists per optimiser step.
    epochs : int, default=30
    early_stopping_patience : int or None, default=3
        Epochs without a better validation NDCG@10 (of the target within its list) before
        training stops; the best epoch's weights are kept. None: no early stopping.
    validation_fraction : float, default=0.1
        Share of the training lists held out for early stopping (at least
        ``MIN_VALIDATION_LISTS`` lists), drawn from the lists as they are served (not from
        lists whose every item is hidden, which only teach the metadata path).
    device : str, default="auto"
    random_state : int, RandomState or None, default=42
        Seeds the ranker's own generators (weights, batches, ID dropout).
    verbose : int, default=0

    Attributes
    ----------
    module_ : PairRanker
    history_ : DataFrame
        One row per epoch: ``epoch``, ``step``, ``train_loss``, ``valid_ndcg@10``,
        ``seconds``.
    n_epochs_, best_epoch_ : int
    cold_offset_ : float
        Added to the cold head's scores: the value (of ``COLD_OFFSETS``) that ranks the
        held-out lists best, cold items included; the lowest of equally good values, so
        that cold items rank above known ones only as far as held-out lists (with targets
        new to the retriever) show it pays. ID dropout shows the ranker a hidden
        target far more often than served lists have a cold target; the offset undoes
        that prior (0 without validation lists).
    initial_valid_ndcg_ : float or None
        Validation NDCG@10 of the untrained ranker among the items with an id part (on the
        lists whose target has one), which it orders as the retriever does. The trained
        head that scores known items is kept only when its validation NDCG@10 beats this by
        more than ``KEEP_TRAINED_SE`` (2) standard errors of the paired per-list
        difference; otherwise its untrained weights are restored (``stop_reason_`` says so;
        the cold items' head keeps its training). The best epoch is picked on the same
        lists, so a smaller gain is mostly that choice's luck: the rule keeps the
        retriever's order of known items unless the ranker clearly improves it.
    valid_gain_, valid_gain_se_ : float or None
        Mean paired validation NDCG@10 gain (items with an id part) of the trained head over
        the retriever's order, and its standard error (None without validation lists).

    Examples
    --------
    >>> from skseqrec import MLPRankerEstimator
    >>> MLPRankerEstimator(id_dropout=0.5).get_params()["id_dropout"]
    0.5
    """

    _doc_link_module = "skseqrec"
    _doc_link_template = doc_link_template("skseqrec.estimators")

    _param_specs = {
        "hidden_layer_sizes": P.TupleOf(P.Interval(int, 1)),
        "dropout_rate": P.Interval(float, 0.0, 1.0, closed="left"),
        "id_dropout": P.Interval(float, 0.0, 1.0),
        "loss": P.Options("listwise", "pairwise"),
        "n_random_negatives": P.Interval(int, 0),
        "learning_rate": P.Interval(float, 0.0, closed="neither"),
        "weight_decay": P.Interval(float, 0.0),
        "batch_size": P.Interval(int, 1),
        "epochs": P.Interval(int, 1),
        "early_stopping_patience": P.Interval(int, 1, allow_none=True),
        "validation_fraction": P.Interval(float, 0.0, 1.0, closed="neither"),
        "device": P.Device(),
        "random_state": P.RandomState(),
        "verbose": P.Interval(int, 0),
    }

    def __init__(
        self,
        *,
        hidden_layer_sizes=(256, 128),
        dropout_rate=0.1,
        id_dropout=0.3,
        loss="listwise",
        n_random_negatives=20,
        learning_rate=1e-3,
        weight_decay=0.0,
        batch_size=64,
        epochs=30,
        early_stopping_patience=3,
        validation_fraction=0.1,
        device="auto",
        random_state=42,
        verbose=0,
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.dropout_rate = dropout_rate
        self.id_dropout = id_dropout
        self.loss = loss
        self.n_random_negatives = n_random_negatives
        self.learning_rate = learning_rate
        self.weight_decay = weight_decay
        self.batch_size = batch_size
        self.epochs = epochs
        self.early_stopping_patience = early_stopping_patience
        self.validation_fraction = validation_fraction
        self.device = device
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_is_fitted__(self) -> bool:
        return hasattr(self, "module_")

    def check_params(self) -> None:
        """Validate the parameters (``fit`` does it first); raise InvalidParameterError."""
        P.validate_params(self, self._param_specs)

    # ------------------------------------------------------------------ module
    def build_module(self, items: ItemSide, score_stats) -> PairRanker:
        """The torch module for this item side (``fit`` calls it; so does loading)."""

        def tensor(array, dtype):
            return torch.as_tensor(np.asarray(array), dtype=dtype)

        return PairRanker(
            tensor(items.vectors, torch.float32),
            tensor(items.popularity, torch.float32),
            tensor(items.unknown, torch.bool),
            [tensor(c, torch.long) for c in items.metadata_codes],
            [None if v is None else tensor(v, torch.float32) for v in items.metadata_values],
            list(items.metadata_sizes),
            max_rank=items.max_rank,
            score_stats=score_stats,
            hidden_layer_sizes=tuple(self.hidden_layer_sizes),
            dropout_rate=self.dropout_rate,
        )

    # --------------------------------------------------------------------- fit
    def validation_size(self, n_lists: int) -> int:
        """How many of ``n_lists`` served lists ``fit`` holds out for validation.

        ``validation_fraction`` of them, at least ``MIN_VALIDATION_LISTS`` and at most
        half; 0 without early stopping.
        """
        if self.early_stopping_patience is None:
            return 0
        n_valid = max(MIN_VALIDATION_LISTS, int(round(self.validation_fraction * n_lists)))
        return min(n_valid, int(n_lists) // 2)

    def fit(self, lists: CandidateLists, items: ItemSide, *, valid_lists=None):
        """Learn to put each list's target first.

        Parameters
        ----------
        lists : CandidateLists
            Training lists with ``positives`` set (targets the retriever did not train on).
        items : ItemSide
            The catalogue's item table (codes of ``lists.items`` index it).
        valid_lists : CandidateLists, default=None
            Held-out lists, as they will be served (every cold item in them), for early
            stopping, for the check that training beats the retriever's order and for
            ``cold_offset_``. None: :meth:`validation_size` lists drawn from the served
            lists of ``lists`` (not from lists whose every item is hidden).

        Returns
        -------
        self
        """
        self.check_params()
        for name, given in (("lists", lists), ("valid_lists", valid_lists)):
            if given is not None and given.positives is None:
                raise ValueError(f"MLPRankerEstimator.fit needs {name} with positives (targets).")
        if len(lists) < 2:
            raise ValueError(f"MLPRankerEstimator.fit needs at least 2 lists, got {len(lists)}.")
        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        rng = np.random.default_rng(seed)
        device = resolve_device(self.device)
        if valid_lists is not None:
            valid = valid_lists if len(valid_lists) else None
            train = lists.select(rng.permutation(len(lists)))
        else:
            # validation on the lists served as such (not on lists whose every item is hidden)
            served = np.ones(len(lists), dtype=bool)
            if lists.masked is not None:  # hidden in every filled slot: a metadata list
                served = ~np.where(lists.items > 0, lists.masked, True).all(axis=1)
            order = rng.permutation(len(lists))
            order = np.concatenate([order[served[order]], order[~served[order]]])
            n_valid = self.validation_size(int(served.sum()))
            valid = lists.select(order[:n_valid]) if n_valid else None
            train = lists.select(rng.permutation(order[n_valid:]))
        present = train.items > 0
        known = present & ~np.asarray(items.unknown)[train.items]
        candidate_scores = train.scores[known]
        stats = (
            (float(candidate_scores.mean()), float(candidate_scores.std()))
            if candidate_scores.size
            else (0.0, 1.0)
        )
        fork = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=fork):
            torch.manual_seed(seed)
            module = self.build_module(items, stats).to(device)
            optimizer = torch.optim.AdamW(
                module.parameters(), lr=self.learning_rate, weight_decay=self.weight_decay
            )
            train_t = _to_tensors(train, device)
            callbacks = []
            validate = None
            if valid is not None:
                valid_t = _to_tensors(valid, device)
                if self.early_stopping_patience is not None:
                    callbacks.append(
                        EarlyStopping(
                            "valid_ndcg@10", self.early_stopping_patience, restore_best=True
                        )
                    )

                def validate():
                    return {"ndcg@10": _list_ndcg(module, valid_t, self.batch_size * 8)}

            if self.verbose:
                callbacks.append(ProgressBar())
            initial_score = None
            if valid is not None:
                # the untrained ranker orders known items as the retriever does: training
                # must beat that on the validation lists, or the retriever's order is kept
                module.eval()
                with torch.no_grad():
                    initial_gains = _list_gains(module, valid_t, self.batch_size * 8, True)
                initial_score = float(initial_gains.mean()) if len(initial_gains) else None
                initial = {
                    k: v.detach().clone()
                    for k, v in module.state_dict().items()
                    if k.startswith("mlp.") or k == "score_weight"
                }
            history = History()
            trainer = Trainer(
                module=module,
                optimizer=optimizer,
                loss_fn=lambda batch: self._loss(module, batch),
                batches=self._batches(train_t, rng, device),
                epochs=self.epochs,
                validate=validate,
                callbacks=callbacks,
                history=history,
                device=device,
                description=type(self).__name__,
            )
            trainer.run()
        stop_reason = trainer.stop_reason
        self.valid_gain_ = self.valid_gain_se_ = None
        if initial_score is not None:
            module.eval()
            with torch.no_grad():
                trained = _list_gains(module, valid_t, self.batch_size * 8, True)
            gains = trained - initial_gains
            self.valid_gain_ = float(gains.mean())
            # one list gives no standard error: its gain cannot be told from luck
            self.valid_gain_se_ = (
                float(gains.std() / np.sqrt(len(gains))) if len(gains) > 1 else float("inf")
            )
            if not self.valid_gain_ > KEEP_TRAINED_SE * self.valid_gain_se_:
                module.load_state_dict(initial, strict=False)  # the cold head stays trained
                stop_reason += (
                    f"; the trained ranker's validation gain over the retriever's order "
                    f"({self.valid_gain_:+.5f} NDCG@10, standard error {self.valid_gain_se_:.5f}) "
                    f"is within {KEEP_TRAINED_SE:g} standard errors: the untrained weights for "
                    "known items are kept (the retriever's order)"
                )
        self.initial_valid_ndcg_ = initial_score
        self.cold_offset_ = 0.0
        if valid is not None:
            self.cold_offset_ = _calibrate_cold(module, valid_t, self.batch_size * 8)
        self.module_ = module
        self.device_ = str(device)
        self._history = history
        self.n_epochs_ = history.last_epoch
        self.best_epoch_ = trainer.best_epoch or history.last_epoch
        self.stop_reason_ = stop_reason
        return self

    @property
    def history_(self):
        check_is_fitted(self)
        return self._history.to_frame()

    def _batches(self, data: dict, rng: np.random.Generator, device):
        n = len(data["items"])

        def batches(epoch):
            order = rng.permutation(n)
            for begin in range(0, n, self.batch_size):
                rows = order[begin : begin + self.batch_size]
                batch = {key: value[rows] for key, value in data.items()}
                shape = batch["items"].shape
                mask = torch.as_tensor(rng.random(shape) < self.id_dropout, device=device)
                if "masked" in batch:
                    mask = mask | batch.pop("masked")
                batch["id_mask"] = mask
                yield batch

        return batches

    def _loss(self, module: PairRanker, batch: dict) -> torch.Tensor:
        logits = module(
            batch["users"], batch["items"], batch["scores"], batch["ranks"], batch["id_mask"]
        )
        logits = logits.masked_fill(batch["items"] == 0, float("-inf"))
        positives = batch["positives"]
        if self.loss == "listwise":
            return torch.nn.functional.cross_entropy(logits, positives)
        positive = logits.gather(1, positives[:, None])
        others = torch.ones_like(logits, dtype=torch.bool)
        others.scatter_(1, positives[:, None], False)
        others &= batch["items"] > 0
        pair_loss = -torch.nn.functional.logsigmoid(positive - logits.masked_fill(~others, 0.0))
        return (pair_loss * others).sum() / others.sum().clamp_min(1)

    # ----------------------------------------------------------------- scoring
    def decision_function(self, lists: CandidateLists, *, mask_ids: bool = False) -> np.ndarray:
        """Scores (n_lists, L) of every candidate; ``-inf`` in empty slots.

        Parameters
        ----------
        lists : CandidateLists
        mask_ids : bool, default=False
            Score every pair as if its item were unknown to the retriever (metadata,
            user vector only): the cold-start view of the whole list.
        """
        check_is_fitted(self)
        device = torch.device(self.device_)
        data = _to_tensors(lists, device)
        out = np.empty(lists.items.shape, dtype=np.float32)
        chunk = max(1, 2**20 // max(lists.items.shape[1], 1))
        self.module_.eval()
        with torch.no_grad():
            for begin in range(0, len(lists), chunk):
                part = {key: value[begin : begin + chunk] for key, value in data.items()}
                mask = part.get("masked")
                if mask_ids:
                    mask = torch.ones_like(part["items"], dtype=torch.bool)
                scores = self.module_(
                    part["users"], part["items"], part["scores"], part["ranks"], mask
                )
                scores = scores.masked_fill(part["items"] == 0, float("-inf"))
                out[begin : begin + chunk] = scores.float().cpu().numpy()
        return out

    def __getstate__(self):
        state = self.__dict__.copy()
        if "module_" in state:
            module = state.pop("module_")
            state["_module_cpu"] = {k: v.detach().cpu() for k, v in module.state_dict().items()}
            state["_module_init"] = _module_init(module)
        return state

    def __setstate__(self, state):
        module_state = state.pop("_module_cpu", None)
        init = state.pop("_module_init", None)
        self.__dict__.update(state)
        if module_state is not None:
            device = loadable_device(self.device_, type(self).__name__)
            self.module_ = _rebuild(self, init, module_state).to(device)
            self.device_ = str(device)


def _to_tensors(lists: CandidateLists, device) -> dict:
    data = {
        "users": torch.as_tensor(lists.user_vectors, dtype=torch.float32, device=device),
        "items": torch.as_tensor(lists.items, dtype=torch.long, device=device),
        "scores": torch.as_tensor(lists.scores, dtype=torch.float32, device=device),
        "ranks": torch.as_tensor(lists.ranks, dtype=torch.long, device=device),
    }
    if lists.positives is not None:
        data["positives"] = torch.as_tensor(lists.positives, dtype=torch.long, device=device)
    if lists.masked is not None:
        data["masked"] = torch.as_tensor(lists.masked, dtype=torch.bool, device=device)
    return data


def _gain_at_10(rank: torch.Tensor) -> torch.Tensor:
    """NDCG@10 of one target at ``rank`` (1-based)."""
    return torch.where(rank <= 10, 1.0 / torch.log2(rank.double() + 1), 0.0)


def _list_ndcg(module: PairRanker, data: dict, chunk: int) -> float:
    """Mean NDCG@10 of each list's target among its list's items."""
    return float(_list_gains(module, data, chunk).mean())


def _list_gains(
    module: PairRanker, data: dict, chunk: int, known_only: bool = False
) -> torch.Tensor:
    """NDCG@10 (float64, one per list) of each list's target among its list's items.

    ``known_only``: among the list's items with an id part only (cold and hidden items
    left out), on the lists whose target has one: how the head for known items orders them.
    """
    gains = []
    for begin in range(0, len(data["items"]), chunk):
        part = {key: value[begin : begin + chunk] for key, value in data.items()}
        mask = part.get("masked")
        scores = module(part["users"], part["items"], part["scores"], part["ranks"], mask)
        empty = part["items"] == 0
        if known_only:
            hidden = module.unknown[part["items"]]
            if mask is not None:
                hidden = hidden | mask
            empty = empty | hidden
        scores = scores.masked_fill(empty, float("-inf"))
        target = scores.gather(1, part["positives"][:, None])
        rank = (scores >= target).sum(1)  # ties count against the target (itself included)
        gain = _gain_at_10(rank)
        if known_only:
            gain = gain[~empty.gather(1, part["positives"][:, None]).squeeze(1)]
        gains.append(gain.cpu())
    return torch.cat(gains) if gains else torch.zeros(0, dtype=torch.float64)


#: offsets tried for the cold head's scores (in units of the standardised retriever score)
COLD_OFFSETS = np.linspace(-8.0, 2.0, 41)


def _calibrate_cold(module: PairRanker, data: dict, chunk: int) -> float:
    """The offset of the cold head's scores that ranks the held-out served lists best.

    ID dropout shows the ranker a hidden target in ``id_dropout`` of its lists, far more
    often than a served list's target is a cold item; the offset, chosen on held-out lists
    as they are served (their cold items included), undoes that prior. Ties keep the
    lowest offset: cold items go above known ones only as far as held-out lists show it
    pays (lists whose target is an item new to the retriever). Sets
    ``module.cold_offset`` and returns it.
    """
    module.eval()
    scores, hidden, positives = [], [], []
    with torch.no_grad():
        module.cold_offset.zero_()
        for begin in range(0, len(data["items"]), chunk):
            part = {key: value[begin : begin + chunk] for key, value in data.items()}
            mask = module.unknown[part["items"]]
            if "masked" in part:
                mask = mask | part["masked"]
            score = module(part["users"], part["items"], part["scores"], part["ranks"], mask)
            scores.append(score.masked_fill(part["items"] == 0, float("-inf")).cpu())
            hidden.append((mask & (part["items"] > 0)).cpu())
            positives.append(part["positives"].cpu())
    scores, hidden, positives = torch.cat(scores), torch.cat(hidden), torch.cat(positives)
    best, best_value = 0.0, -1.0
    for offset in sorted(COLD_OFFSETS):  # lowest first: ties keep cold items lower
        shifted = scores + float(offset) * hidden
        target = shifted.gather(1, positives[:, None])
        rank = (shifted >= target).sum(1)
        value = float(_gain_at_10(rank).mean())
        if value > best_value + 1e-12:
            best, best_value = float(offset), value
    module.cold_offset.fill_(best)
    return best


def _module_init(module: PairRanker) -> dict:
    """What rebuilds a PairRanker's structure (its tensors come from the state dict)."""
    sizes = [table.num_embeddings for table in module.metadata.tables] if module.metadata else []
    numeric = [hasattr(module, f"metadata_values_{i}") for i in range(module.n_fields)]
    hidden = [layer.out_features for layer in module.mlp if isinstance(layer, torch.nn.Linear)]
    dropout = [layer.p for layer in module.mlp if isinstance(layer, torch.nn.Dropout)]
    return {
        "sizes": sizes,
        "numeric": numeric,
        "hidden": hidden[:-1],
        "dropout": dropout[0] if dropout else 0.0,
    }


def _rebuild(estimator, init: dict, state: dict) -> PairRanker:
    """A PairRanker with ``state``'s tensors (``init`` from :func:`_module_init`)."""
    n_fields = len(init["sizes"])
    module = PairRanker(
        state["item_vectors"],
        state["popularity"],
        state["unknown"],
        [state[f"metadata_codes_{i}"] for i in range(n_fields)],
        [
            state.get(f"metadata_values_{i}") if init["numeric"][i] else None
            for i in range(n_fields)
        ],
        init["sizes"],
        hidden_layer_sizes=tuple(init["hidden"]),
        dropout_rate=init["dropout"],
    )
    module.load_state_dict(state)
    module.eval()
    return module
