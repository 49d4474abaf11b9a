"""Base class of the torch sequential recommenders: fit, validation, early stopping, state."""

from __future__ import annotations

import warnings

import numpy as np
import torch
from sklearn.utils import check_random_state

from ..data import IdEncoder, Sequences, build_sequences, pad_windows
from ..exceptions import DeviceWarning
from ..metrics import get_metric
from ..nn import shared_negatives, uniform_negatives
from ..training import EarlyStopping, History, ProgressBar, Trainer, resolve_device
from . import _params as P
from ._base import BaseRecommender, _drop_events, _pad_columns, _warn_dropped

__all__ = ["TransformerRecommender"]

COMMON_PARAMS = {
    "hidden_units": P.Interval(int, 1),
    "num_blocks": P.Interval(int, 0),
    "num_heads": P.Interval(int, 1),
    "dropout_rate": P.Interval(float, 0.0, 1.0, closed="left"),
    "max_len": P.Interval(int, 1),
    "learning_rate": P.Interval(float, 0.0, None, closed="neither"),
    "epochs": P.Interval(int, 0),
    "batch_size": P.Interval(int, 1),
    "weight_decay": P.Interval(float, 0.0),
    "early_stopping_patience": P.Interval(int, 1, allow_none=True),
    "restore_best_weights": P.Boolean(),
    "validation": P.Options("last_event", "time", None),
    "validation_fraction": P.Interval(float, 0.0, 1.0, closed="neither"),
    "monitor": P.Options("ndcg@10", "hit_rate@10", "mrr@10", "ndcg@20", "hit_rate@20", "loss"),
    "random_state": P.RandomState(),
    "verbose": P.Interval(int, 0),
    "device": P.Device(),
    "warm_start": P.Boolean(),
    "user_col": P.String(),
    "item_col": P.String(),
    "time_col": P.String(),
}


class TransformerRecommender(BaseRecommender):
    """Shared ``fit`` of the torch models. Subclasses define ``_build_module`` and ``_loss``."""

    _param_specs: dict = COMMON_PARAMS
    #: inclusive bounds of y (None: any finite value)
    _y_range: tuple | None = (0.0, 1.0)
    _requires_y = False

    # ------------------------------------------------------------ subclasses
    def _build_module(self, n_items: int) -> torch.nn.Module:
        raise NotImplementedError

    def _objective(self, module, hidden, targets, valid, labels, generator, window) -> torch.Tensor:
        """Loss of next-item ``targets`` (B, L) given ``hidden`` states (B, L, d).

        ``labels`` are the targets' y (or None); ``window`` (B, L + 1) the rows' items.
        """
        raise NotImplementedError

    def _loss(self, module, batch: dict, generator: torch.Generator) -> torch.Tensor:
        """Shifted-sequence objective: every position predicts the next event."""
        sequence = batch["sequence"]
        inputs, targets = sequence[:, :-1], sequence[:, 1:]
        valid = (inputs != 0) & (targets != 0)
        if batch.get("last_only"):
            valid[:, :-1] = False
        labels = batch["labels"][:, 1:] if "labels" in batch else None
        times = batch["times"][:, :-1] if "times" in batch else None
        hidden = module(inputs, times)
        return self._objective(module, hidden, targets, valid, labels, generator, sequence)

    def _draw_negatives(self, module, targets, generator) -> torch.Tensor:
        """``num_negatives`` uniform negatives: shared by the batch, shape (k,), when
        ``negative_sampling == "shared"`` (one matmul), else per position (B, L, k)."""
        if self.negative_sampling == "shared":
            return shared_negatives(self.num_negatives, module.n_items, generator=generator)
        shape = (*targets.shape, self.num_negatives)
        return uniform_negatives(shape, module.n_items, generator=generator)

    #: Adam (weight decay added to the gradient) or AdamW (decoupled weight decay)
    _optimizer_class = torch.optim.Adam

    def _make_optimizer(self, module) -> torch.optim.Optimizer:
        """``_optimizer_class`` with betas (0.9, 0.98), as SASRec and its successors train."""
        return self._optimizer_class(
            module.parameters(),
            lr=self.learning_rate,
            betas=(0.9, 0.98),
            weight_decay=self.weight_decay,
        )

    def _prepare_training(self, train: Sequences) -> None:
        """Hook run once before training (e.g. item statistics a loss needs)."""

    def _check_params(self) -> None:
        P.validate_params(self, self._param_specs)
        if self.hidden_units % self.num_heads:
            raise ValueError(
                f"hidden_units={self.hidden_units} must be divisible by num_heads={self.num_heads}."
            )

    # ---------------------------------------------------------------- scoring
    def _score_windows(self, windows, times):
        return self.module_.score_all(self.module_.encode_last(windows, times))

    def _inference_device(self) -> torch.device:
        return torch.device(self.device_)

    # -------------------------------------------------------------------- fit
    def fit(self, X, y=None, *, X_valid=None):
        """Learn to predict every event of every user from that user's earlier events.

        Parameters
        ----------
        X : DataFrame
            Interactions with the user, item and time columns.
        y : array-like of shape (n_rows,), default=None
            Per-event target (see the class docstring).
        X_valid : DataFrame, default=None
            Validation interactions for early stopping / monitoring. Each user's last row
            is the target, earlier rows of that user in ``X_valid`` the history; a user
            with a single row is evaluated with his history from ``X``.

        Returns
        -------
        self

        Raises
        ------
        ValueError
            Bad input, no user with two events, or ``early_stopping_patience`` set with
            neither ``X_valid`` nor ``validation``.
        FloatingPointError
            The training loss became NaN or infinite.

        Notes
        -----
        A ``fit`` that raises leaves the estimator as it was before the call (unfitted, or
        the previous model), never half-fitted with diverged weights.
        """
        previous = dict(self.__dict__)
        try:
            return self._fit(X, y, X_valid)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise

    def _fit(self, X, y, X_valid):
        self._check_params()
        data = self._check(X, y, y_range=self._y_range, require_y=self._requires_y)
        warm = self.warm_start and self.__sklearn_is_fitted__()
        if self.early_stopping_patience is not None and X_valid is None and self.validation is None:
            raise ValueError(
                "early_stopping_patience is set but there is no validation data: pass X_valid= "
                "to fit, or set validation='last_event' or 'time' to carve it out of X."
            )
        remap = None
        if warm:
            item_encoder, remap = self.item_encoder_.extend(data.items)
            user_encoder, _ = self._user_encoder.extend(data.users)
        else:
            item_encoder = IdEncoder.from_values(data.items, data.item_dtype)
            user_encoder = IdEncoder.from_values(data.users, data.user_dtype)
        sequences = build_sequences(
            user_encoder.encode(data.users), item_encoder.encode(data.items), data.times, data.y
        )
        single = sequences.lengths < 2
        if single.all():
            raise ValueError(
                f"X has no user with two events ({len(sequences)} users, {len(data)} rows); a "
                "sequential model learns from each user's earlier events."
            )
        _warn_dropped(
            "users",
            int(single.sum()),
            len(sequences),
            "have a single event and give no training sequence",
        )
        sequences = sequences.select(~single)

        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        rng = np.random.default_rng(seed)
        device = resolve_device(self.device)

        self.item_encoder_ = item_encoder
        self._user_encoder = user_encoder
        self.n_users_seen_ = len(user_encoder)
        self.n_dropped_users_ = int(single.sum())
        self.device_ = str(device)

        train, valid = self._validation_data(sequences, X_valid, rng)
        self.item_counts_ = np.bincount(train.items, minlength=len(item_encoder) + 1)
        self._prepare_training(train)

        fork_devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(seed)
            if warm:
                module = self._extend_module(self.module_, remap, len(item_encoder))
            else:
                module = self._build_module(len(item_encoder))
            self.module_ = module.to(device)
            generator = torch.Generator(device=device).manual_seed(seed)
            # a copy: a warm fit that fails must not leave records in the previous history
            history = History(self._history.records) if warm else History()
            trainer = Trainer(
                module=module,
                optimizer=self._make_optimizer(module),
                loss_fn=lambda batch: self._loss(module, batch, generator),
                batches=self._batch_factory(train, rng, device),
                epochs=self.epochs,
                validate=None if valid is None else self._validator(valid, generator, device),
                callbacks=self._callbacks(valid is not None),
                history=history,
                device=device,
                description=type(self).__name__,
            )
            trainer.run()
        self._history = history
        self.n_epochs_ = len(history)
        self.best_epoch_ = (
            trainer.best_epoch if trainer.best_epoch is not None else history.last_epoch
        )
        self.stop_reason_ = trainer.stop_reason
        return self

    @property
    def history_(self):
        """Per-epoch records: ``epoch``, ``train_loss``, ``valid_<metric>``, ``seconds``."""
        if not hasattr(self, "_history"):
            from sklearn.exceptions import NotFittedError

            raise NotFittedError(f"This {type(self).__name__} instance is not fitted yet.")
        return self._history.to_frame()

    def _callbacks(self, has_validation: bool):
        callbacks = []
        if self.early_stopping_patience is not None and has_validation:
            mode = "min" if self.monitor == "loss" else "max"
            callbacks.append(
                EarlyStopping(
                    f"valid_{self.monitor}",
                    self.early_stopping_patience,
                    mode=mode,
                    restore_best=self.restore_best_weights,
                )
            )
        if self.verbose:
            callbacks.append(ProgressBar())
        return callbacks

    # ------------------------------------------------------------- batching
    def _batch_factory(self, train: Sequences, rng: np.random.Generator, device):
        """Per epoch: each user's most recent ``max_len + 1`` events, shuffled, in batches."""
        width = self.max_len + 1
        starts, ends = train.offsets[:-1], train.offsets[1:]
        matrix = torch.as_tensor(
            pad_windows(train.items, starts, ends, width, width=width), device=device
        )
        labels = None
        if train.weights is not None:
            labels = torch.as_tensor(
                pad_windows(train.weights, starts, ends, width, width=width, fill=0.0),
                device=device,
            )
        times = None
        if self._uses_times:
            times = torch.as_tensor(
                pad_windows(self._model_times(train.times), starts, ends, width, width=width),
                device=device,
            )
        lengths = np.minimum(train.lengths, width)

        def batches(epoch):
            # Length bucketing: shuffle, sort by length inside pools of 50 batches, then
            # shuffle the batches; each batch is cut to its longest row, so on MovieLens-like
            # data (half of a max_len-200 batch is padding) an epoch costs far less.
            order = rng.permutation(len(lengths))
            pool = 50 * self.batch_size
            for begin in range(0, len(order), pool):
                chunk = order[begin : begin + pool]
                order[begin : begin + pool] = chunk[np.argsort(lengths[chunk], kind="stable")]
            starts = np.arange(0, len(order), self.batch_size)
            for begin in rng.permutation(starts):
                rows = order[begin : begin + self.batch_size]
                keep = int(lengths[rows].max())  # drop all-padding columns
                index = torch.as_tensor(rows, device=device)
                batch = {"sequence": matrix[index, width - keep :]}
                if labels is not None:
                    batch["labels"] = labels[index, width - keep :]
                if times is not None:
                    batch["times"] = times[index, width - keep :]
                yield batch

        return batches

    # ------------------------------------------------------------ validation
    def _validation_data(self, sequences: Sequences, X_valid, rng):
        """Split off validation targets; returns (train sequences, (context, targets) or None)."""
        if X_valid is not None:
            return sequences, self._external_validation(sequences, X_valid)
        if self.validation is None:
            return sequences, None
        if self.early_stopping_patience is None:
            return sequences, None
        if self.validation == "last_event":
            return _carve_last_events(sequences, self.validation_fraction, rng)
        return _carve_after_time(sequences, self.validation_fraction)

    def _external_validation(self, train: Sequences, X_valid):
        _, users, valid = self._encode_history(X_valid, name="X_valid", keep_unknown=True)
        multi = valid.lengths >= 2
        parts_context, parts_targets = [], []
        if multi.any():
            chosen = valid.select(multi)
            targets = chosen.items[chosen.last(1)]
            context = chosen.drop_last(1)
            context = _drop_events(context, context.items > 0)
            parts_context.append(context)
            parts_targets.append(targets)
        single = valid.select(~multi)
        if len(single):
            fit_codes = self._user_encoder.encode(users.classes[single.users - 1])
            position = np.searchsorted(train.users, fit_codes)
            position = np.minimum(position, max(len(train.users) - 1, 0))
            known = (fit_codes > 0) & (train.users[position] == fit_codes)
            _warn_dropped(
                "users of X_valid",
                int((~known).sum()),
                len(valid),
                "have a single row and no history in X; they are not evaluated",
            )
            if known.any():
                context = train.select(position[known])
                parts_context.append(context)
                parts_targets.append(single.items[single.offsets[:-1][known]])
        if not parts_context:
            raise ValueError("X_valid has no user that can be evaluated (each needs a history).")
        return _concat(parts_context), np.concatenate(parts_targets), None

    def _validator(self, valid, generator, device):
        context, targets, weights = valid
        if self.monitor == "loss":
            return lambda: {
                "loss": self._validation_loss(context, targets, weights, generator, device)
            }
        name, k = self.monitor.split("@")
        metric = get_metric(name)
        k = int(k)
        ranked_targets = np.where(targets == 0, -1, targets)  # unknown: never an empty slot

        def validate():
            ranked, _ = self._rank(context, k, exclude_seen=True)
            return {self.monitor: metric(_pad_columns(ranked, k), ranked_targets, k=k)}

        return validate

    def _validation_loss(self, context, targets, weights, generator, device):
        ends = context.offsets[1:]
        items = np.concatenate([context.items, np.zeros(1, dtype=np.int64)])
        windows = pad_windows(items, context.offsets[:-1], ends, self.max_len)
        sequence = np.concatenate([windows, targets[:, None]], axis=1)
        if self._uses_times:
            times = self._model_times(np.concatenate([context.times, np.zeros(1, np.int64)]))
            time_windows = pad_windows(times, context.offsets[:-1], ends, self.max_len)
            # the target's own time is not known to the model; repeat the last one
            time_windows = np.concatenate([time_windows, time_windows[:, -1:]], axis=1)
            time_windows = time_windows[targets > 0]
        if weights is not None:
            labels = np.zeros(sequence.shape, dtype=np.float32)
            labels[:, -1] = weights
            labels = labels[targets > 0]
        sequence = sequence[targets > 0]
        total, count = 0.0, 0
        state = generator.get_state()
        generator.manual_seed(0)  # same negatives every epoch
        for begin in range(0, len(sequence), 1024):
            batch = {
                "sequence": torch.as_tensor(sequence[begin : begin + 1024], device=device),
                "last_only": True,
            }
            if self._uses_times:
                batch["times"] = torch.as_tensor(time_windows[begin : begin + 1024], device=device)
            if weights is not None:
                batch["labels"] = torch.as_tensor(labels[begin : begin + 1024], device=device)
            n = len(batch["sequence"])
            total += float(self._loss(self.module_, batch, generator)) * n
            count += n
        generator.set_state(state)
        return total / max(count, 1)

    # ------------------------------------------------------------- warm start
    def _extend_module(self, module, remap: np.ndarray, n_items: int):
        """Grow item tables to ``n_items``; known items move to their new codes."""
        fresh = self._build_module(n_items)
        state = module.state_dict()
        new_state = fresh.state_dict()
        index = torch.as_tensor(remap)
        for name, old in state.items():
            new = new_state[name]
            extra = old.shape[0] - len(remap) if old.dim() else -1  # special tokens after items
            if old.shape == new.shape:
                new_state[name] = old
            elif (
                extra >= 0
                and new.shape[0] == n_items + 1 + extra
                and old.shape[1:] == new.shape[1:]
            ):
                new[index] = old[: len(remap)].to(new.device)
                new[n_items + 1 :] = old[len(remap) :].to(new.device)
                new_state[name] = new
            else:
                raise ValueError(
                    f"Cannot warm-start parameter {name}: {tuple(old.shape)} -> "
                    f"{tuple(new.shape)}; were hyper-parameters changed since fit?"
                )
        fresh.load_state_dict(new_state)
        return fresh

    # ------------------------------------------------------------------ state
    def __getstate__(self):
        state = super().__getstate__()
        module = state.pop("module_", None)
        if module is not None:
            state["_module_state"] = {
                k: v.detach().to("cpu") for k, v in module.state_dict().items()
            }
        return state

    def __setstate__(self, state):
        module_state = state.pop("_module_state", None)
        super().__setstate__(state)
        if module_state is None:
            return
        with torch.random.fork_rng(devices=[]):
            module = self._build_module(len(self.item_encoder_))
        module.load_state_dict(module_state)
        device = torch.device(self.device_)
        if device.type == "cuda" and not torch.cuda.is_available():
            warnings.warn(
                f"This {type(self).__name__} was fitted on {self.device_}, which is not available "
                "here; it was moved to the CPU.",
                DeviceWarning,
                stacklevel=2,
            )
            device = torch.device("cpu")
            self.device_ = "cpu"
        self.module_ = module.to(device).eval()


def _concat(parts: list[Sequences]) -> Sequences:
    if len(parts) == 1:
        return parts[0]
    lengths = np.concatenate([p.lengths for p in parts])
    return Sequences(
        users=np.concatenate([p.users for p in parts]),
        offsets=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int64),
        items=np.concatenate([p.items for p in parts]),
        times=np.concatenate([p.times for p in parts]),
        rows=np.concatenate([p.rows for p in parts]),
        weights=None,
    )


def _carve_last_events(sequences: Sequences, fraction: float, rng: np.random.Generator):
    """Hold out the last event of a random ``fraction`` of users with >= 3 events."""
    eligible = np.flatnonzero(sequences.lengths >= 3)
    if len(eligible) == 0:
        raise ValueError(
            "validation='last_event' needs users with at least 3 events; none of the "
            f"{len(sequences)} users has. Pass X_valid= or use validation='time'."
        )
    n_valid = max(1, int(round(fraction * len(eligible))))
    chosen = np.sort(rng.choice(eligible, size=n_valid, replace=False))
    context = sequences.select(chosen).drop_last(1)
    held_out = sequences.last(1)[chosen]
    keep = np.ones(sequences.n_events, dtype=bool)
    keep[held_out] = False
    return _drop_events(sequences, keep), (
        context,
        sequences.items[held_out],
        None if sequences.weights is None else sequences.weights[held_out],
    )


def _carve_after_time(sequences: Sequences, fraction: float):
    """Train on events before the time T leaving ``fraction`` of events after it."""
    times = np.sort(sequences.times, kind="stable")
    cut = times[min(len(times) - 1, int(np.floor((1.0 - fraction) * len(times))))]
    before = sequences.times < cut
    user_index = np.repeat(np.arange(len(sequences)), sequences.lengths)
    n_before = np.bincount(user_index[before], minlength=len(sequences))
    n_after = sequences.lengths - n_before
    chosen = np.flatnonzero((n_before >= 1) & (n_after >= 1))
    if len(chosen) == 0:
        raise ValueError(
            f"validation='time' with validation_fraction={fraction} leaves no user with events "
            "on both sides of the cut; use validation='last_event' or pass X_valid=."
        )
    train = _drop_events(sequences, before)
    context = train.select(chosen)
    # events are chronological within a user, so the first one at/after the cut is at
    # offset + n_before
    held_out = sequences.offsets[chosen] + n_before[chosen]
    train = train.select(train.lengths >= 2)
    weights = None if sequences.weights is None else sequences.weights[held_out]
    return train, (context, sequences.items[held_out], weights)
