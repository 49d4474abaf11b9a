"""Base class of the torch sequential recommenders: components, fit, validation, state.

Every torch estimator is this class with other defaults: the named estimators
(:class:`SASRecClassifierEstimator`, :class:`ESASRecEstimator`, ...) are presets built
with :func:`preset`, so every component parameter exists once, here, with one meaning.
"""

from __future__ import annotations

import inspect
import warnings

import numpy as np
import pandas as pd
import torch
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from .. import params as P
from ..data import IdEncoder, Sequences, build_sequences, pad_windows, to_pandas
from ..exceptions import InvalidParameterError, SkseqrecWarning, user_stacklevel
from ..nn import (
    BLOCKS,
    INITS,
    LOSSES,
    NEGATIVE_SAMPLING,
    NORMS,
    POSITIONALS,
    Objective,
    build_encoder,
    gap_buckets,
    topk_items,
)
from ..protocol import (
    Holdout,
    first_after_holdout,
    last_event_holdout,
    score_holdout,
    time_cutoff,
    warn_dropped,
)
from ..training import (
    EarlyStopping,
    History,
    ProgressBar,
    ReduceLROnPlateau,
    Trainer,
    loadable_device,
    resolve_device,
)
from ..training import distributed as ddp
from ..training.optim import CombinedOptimizer
from ._base import BaseRecommender

__all__ = [
    "ADAPTIVE_LEARNING_RATE_FACTOR",
    "FULL_CATALOGUE_MAX_ITEMS",
    "MIN_VALIDATION_USERS",
    "SPARSE_ITEM_UPDATES_MIN_ITEMS",
    "TransformerRecommender",
    "preset",
]

#: ``negative_sampling="auto"`` contrasts with the whole catalogue up to this many items
#: (exact, and on such catalogues cheaper per learned bit than sampling), and samples a
#: shared set of ``num_negatives`` above it.
FULL_CATALOGUE_MAX_ITEMS = 20_000
#: ``learning_rate_schedule="adaptive"`` multiplies the learning rate by this on a
#: validation plateau of ``early_stopping_steps`` steps.
ADAPTIVE_LEARNING_RATE_FACTOR = 0.3
#: ``validation="last_event"`` holds out the last event of at least this many users (all
#: eligible users when fewer), whatever ``validation_fraction`` says.
MIN_VALIDATION_USERS = 1000
#: ``sparse_item_updates="auto"`` updates only the item rows a step reads when negatives
#: are sampled and the catalogue has more than this many items. Below it a dense step
#: costs about as much (one CPU thread, 300k events: eSASRec with 256 shared negatives
#: breaks even near 20k items, SASRec's one uniform negative near 40k, gSASRec's 256
#: per-position negatives near 80k; at 100k items sparse steps are 2.1x, 1.8x and 1.1x
#: faster), and results stay those of dense Adam.
SPARSE_ITEM_UPDATES_MIN_ITEMS = 50_000

_SECONDS = {"s": 1.0, "ms": 1e-3, "us": 1e-6, "ns": 1e-9}
MONITORS = ("ndcg@10", "hit_rate@10", "mrr@10", "ndcg@20", "hit_rate@20", "loss")

#: Every parameter of the torch estimators, declared once (name -> checker).
TRANSFORMER_PARAMS = {
    "hidden_units": P.Interval(int, 1),
    "num_blocks": P.Interval(int, 0),
    "num_heads": P.Interval(int, 1),
    "dropout_rate": P.Interval(float, 0.0, 1.0, closed="left"),
    "max_len": P.Interval(int, 1),
    "block": P.Options(*BLOCKS),
    "positional": P.Options(*POSITIONALS),
    "norm": P.Options(*NORMS),
    "activation": P.Options("gelu", "relu", "swiglu", None),
    "ff_multiplier": P.Interval(int, 1, allow_none=True),
    "similarity": P.Options("dot", "cosine"),
    "tied_embeddings": P.Boolean(),
    "attention_bias": P.Boolean(),
    "loss": P.Options(*LOSSES),
    "negative_sampling": P.Options("auto", *NEGATIVE_SAMPLING),
    "num_negatives": P.Interval(int, 1),
    "temperature": P.Interval(float, 0.0, None, closed="neither"),
    "gbce_t": P.Interval(float, 0.0, 1.0),
    "remove_accidental_hits": P.Boolean(),
    "exclude_history_negatives": P.Boolean(),
    "init": P.Options(*INITS),
    "time_unit": P.Options(*_SECONDS),
    "gap_conditioning": P.Boolean(),
    "optimizer": P.Options("adam", "adamw"),
    "learning_rate": P.Interval(float, 0.0, None, closed="neither"),
    "learning_rate_schedule": P.Options("constant", "adaptive"),
    "betas": P.TupleOf(P.Interval(float, 0.0, 1.0, closed="left")),
    "weight_decay": P.Interval(float, 0.0),
    "sparse_item_updates": P.AnyOf(
        P.Options("auto"), P.Boolean(), description="'auto', True or False"
    ),
    "epochs": P.Interval(int, 0),
    "batch_size": P.Interval(int, 1),
    "batching": P.Options("random", "bucketed"),
    "early_stopping_patience": P.Interval(int, 1, allow_none=True),
    "early_stopping_steps": P.Interval(int, 1, allow_none=True),
    "early_stopping_min_steps": P.Interval(int, 0),
    "early_stopping_rate": P.Interval(float, 0.0),
    "early_stopping_tol": P.AnyOf(
        P.Interval(float, 0.0), P.Options("se"), description="a float >= 0 or 'se'"
    ),
    "validation_interval": P.Interval(int, 1, allow_none=True),
    "restore_best_weights": P.Boolean(),
    "validation": P.Options("last_event", "time", None),
    "validation_fraction": P.Interval(float, 0.0, 1.0, closed="neither"),
    "monitor": P.Options(*MONITORS),
    "callbacks": P.Callbacks(),
    "random_state": P.RandomState(),
    "verbose": P.AnyOf(P.Boolean(), P.Interval(int, 0), description="True, False or an int >= 0"),
    "device": P.Device(),
    "warm_start": P.Boolean(),
    "user_col": P.String(),
    "item_col": P.String(),
    "time_col": P.String(),
}


def preset(base_init=None, *, extra: dict | None = None, **defaults):
    """An ``__init__`` with the base class's parameters and other defaults.

    scikit-learn reads an estimator's parameters from its ``__init__`` signature; a preset
    gets the signature of ``base_init`` (default: ``TransformerRecommender.__init__``)
    with ``defaults`` replaced and ``extra`` keyword parameters added, and only stores
    its arguments.

    Parameters
    ----------
    base_init : callable, default=None
    extra : dict, default=None
        New parameters (name -> default) a preset adds (e.g. BERT4Rec's ``mask_prob``).
    **defaults
        New defaults of existing parameters.

    Examples
    --------
    >>> class TinySASRec(TransformerRecommender):
    ...     __init__ = preset(hidden_units=16, epochs=1)
    >>> TinySASRec().hidden_units, TinySASRec(hidden_units=8).hidden_units
    (16, 8)
    """
    base_init = base_init or TransformerRecommender.__init__
    signature = inspect.signature(base_init)
    unknown = sorted(set(defaults) - set(signature.parameters))
    if unknown:
        raise TypeError(f"preset(): no parameter named {unknown[0]!r} in {base_init.__qualname__}.")
    parameters = [
        p.replace(default=defaults[p.name]) if p.name in defaults else p
        for p in signature.parameters.values()
    ]
    for name, default in (extra or {}).items():
        parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default))
    new_signature = signature.replace(parameters=parameters)
    names = [p.name for p in parameters[1:]]

    def __init__(self, **kwargs):
        try:
            bound = new_signature.bind(self, **kwargs)
        except TypeError as exc:
            raise TypeError(f"{type(self).__name__}: {exc}") from None
        bound.apply_defaults()
        for name in names:
            setattr(self, name, bound.arguments[name])

    __init__.__signature__ = new_signature
    __init__.__doc__ = base_init.__doc__
    return __init__


def _shifted(sequence: torch.Tensor):
    """``(inputs, targets, valid)`` of the shifted-sequence objective: every position
    predicts the next event; a position counts where both it and the next are items."""
    inputs, targets = sequence[:, :-1], sequence[:, 1:]
    return inputs, targets, (inputs != 0) & (targets != 0)


class TransformerRecommender(BaseRecommender):
    """A transformer next-item recommender assembled from named components.

    Every torch estimator of skseqrec is this class with other defaults; any combination
    of components works, e.g. ``SASRecClassifierEstimator(block="ligr", loss="gbce")``.
    The defaults here are SASRec's (scikit-rec's configuration).

    Parameters
    ----------
    hidden_units : int, default=50
        Embedding and attention size.
    num_blocks : int, default=2
    num_heads : int, default=1
        Must divide ``hidden_units``.
    dropout_rate : float, default=0.2
    max_len : int, default=50
        Most recent events used as input.
    block : {"pre_norm", "post_norm", "ligr", "hstu"}, default="pre_norm"
        ``"pre_norm"``: ``x + MHA(N(x))``, ``x + FFN(N(x))`` (SASRec as scikit-rec
        documents it); ``"post_norm"``: the original SASRec block (norm on queries,
        residual to the normalised input, embeddings scaled by sqrt(d)); ``"ligr"``:
        eSASRec's LiGR layer (pre-norm sub-layers added through sigmoid gates, no final
        norm); ``"hstu"``: HSTU's pointwise SiLU attention with a relative-position bias
        and, reading the time column, a log-bucketed time-gap bias (no feed-forward).
    positional : {"from_end", "from_start", "rope", "relative", "none"}, default="from_end"
        Learnable positions counted from the most recent event or from the first event of
        the window; rotary positions (RoPE); a learned relative-position attention bias;
        or none. Padding never receives a position.
    norm : {"layer", "rms"}, default="layer"
        LayerNorm or RMSNorm in the blocks and after the last one.
    activation : {"gelu", "relu", "swiglu"} or None, default=None
        Feed-forward activation; None: the block's own (pre_norm GELU, post_norm ReLU,
        ligr SwiGLU; hstu has no feed-forward).
    ff_multiplier : int or None, default=None
        Feed-forward width over ``hidden_units``; None: the block's own (4, post_norm 1).
    similarity : {"dot", "cosine"}, default="dot"
        Score of an item: dot product of the hidden state and the item vector, or their
        cosine (then set ``temperature`` to about 0.05).
    tied_embeddings : bool, default=True
        Score with the input item table; False learns a separate output table.
    attention_bias : bool, default=True
        Biases of the attention projections (the modern stack has none).
    loss : {"bce", "gbce", "sampled_softmax", "softmax", "infonce", "mse"}, default="bce"
        ``"bce"``: BCE of the positive and of each negative, the negative term averaged
        over the negatives; ``"gbce"``: gSASRec's generalised BCE (``gbce_t``);
        ``"sampled_softmax"``: cross-entropy against the negatives; ``"infonce"``: the same
        with the logQ correction of in-batch negatives; ``"softmax"``: cross-entropy over
        the whole catalogue; ``"mse"``: squared error of the rating (regressors only).
    negative_sampling : {"auto", "uniform", "shared", "in_batch", "mixed", "full"}, \
default="uniform"
        Independent uniform negatives per position; one uniform set shared by the batch
        (one matmul, much faster with many negatives); items drawn from the batch's own
        targets (popularity-distributed); half in-batch, half uniform; or every other item
        (``"full"``: the softmax losses become the exact full softmax, ``"gbce"`` plain
        BCE over the catalogue). ``"auto"``: ``"full"`` for catalogues of up to
        :data:`FULL_CATALOGUE_MAX_ITEMS` items, ``"shared"`` above (the resolved value is
        ``negative_sampling_``). Per position, a few shared negatives learn about three
        times slower than independent ones, and the full catalogue fastest.
    num_negatives : int, default=1
        Negatives each positive is contrasted with (unused by ``"softmax"``, ``"mse"``).
    temperature : float, default=1.0
        Scores are divided by it in the loss.
    gbce_t : float, default=0.75
        gBCE calibration ``t`` in [0, 1] (``loss="gbce"``).
    remove_accidental_hits : bool, default=False
        Leave negatives equal to the position's positive out of the loss.
    exclude_history_negatives : bool, default=False
        Redraw negatives that are in the row's own window (the original SASRec); needs
        ``negative_sampling="uniform"``.
    init : {"normal", "xavier"}, default="normal"
        Weight initialisation: N(0, 0.02), or Xavier-normal (RecTools' choice; larger
        projection weights, a faster start for the LiGR block).
    time_unit : {"s", "ms", "us", "ns"}, default="s"
        Unit of a numeric time column, for models that read times (``block="hstu"``,
        ``gap_conditioning=True``); datetime columns are always exact.
    gap_conditioning : bool, default=False
        Each position also reads how long it is until the event it predicts (a learned
        vector per log-bucketed gap, :class:`~skseqrec.nn.GapEmbedding`; a fifth of the
        gaps hidden in training, so the model also serves requests of unknown time). In
        training that is the next event's time; when serving, the request's: ``at=`` of
        :meth:`recommend`, the cut-off under Protocol TIME (:func:`skseqrec.evaluate`,
        ``validation="time"``); unknown otherwise. What users pick after a month away
        differs from what they pick within the minute; a temporal split asks exactly
        that. BERT4Rec (bidirectional) reads each position's gap since the previous
        event instead, the ``[MASK]`` slot's being the request's. A time column that only
        orders the events (every gap between a user's consecutive events in one bucket,
        e.g. positions 0, 1, 2, ...) has no gaps to read: the fitted model then reads
        none (``gap_conditioning_`` is False). On by default in the SASRec classifier,
        eSASRec, gSASRec, BERT4Rec, HSTU and SequentialTransformer presets: eSASRec on
        ml-1m-users1-2999 (seed 0, 2 threads), Protocol TIME NDCG@10 0.0549 with it
        against 0.0241 without (popularity 0.0413), LOO 0.1512 against 0.1461; ml-100k
        LOO 0.0864 against 0.0798; BERT4Rec on ml-1m-users1-2999 TIME 0.0595, ml-100k
        LOO 0.0844 against 0.0873; the SASRec classifier on ml-1m-users1-2999 TIME 0.0589
        against 0.0249, ml-100k LOO 0.0899 against 0.0793.
    optimizer : {"adam", "adamw"}, default="adam"
        Adam (``weight_decay`` is an L2 penalty on every weight, added to the gradient) or
        AdamW (decoupled decay of the projection matrices only: embeddings, norm gains and
        biases are not decayed).
    learning_rate : float, default=0.001
    learning_rate_schedule : {"constant", "adaptive"}, default="constant"
        ``"adaptive"`` (as scikit-learn's ``MLPClassifier(learning_rate="adaptive")``, in
        steps): with early stopping, the rate is multiplied by
        :data:`ADAPTIVE_LEARNING_RATE_FACTOR` each time the validation score has not
        improved for ``early_stopping_steps + early_stopping_rate / 2 * best_step``
        steps (counted from the best validation or the last reduction; not before
        ``early_stopping_min_steps``), down to 1 % of ``learning_rate``
        (:class:`~skseqrec.training.ReduceLROnPlateau`). With ``early_stopping_rate >
        0`` the cut comes before early stopping would stop, and training stops when it
        brings no better validation score: a model whose score levels out at a large
        rate takes smaller steps instead of stopping on a noisy plateau.
    betas : tuple of two floats, default=(0.9, 0.98)
        Adam's moment decays (SASRec's; the gSASRec reference uses (0.9, 0.999), with which
        gSASRec's early popularity plateau lasts ~3x as many steps).
    weight_decay : float, default=0.0
    sparse_item_updates : {"auto", True, False}, default="auto"
        True: a step updates only the item rows it read (its inputs, positives and sampled
        negatives): the item tables get sparse gradients and ``torch.optim.SparseAdam``
        (a lazy Adam: a row's moments move only in the steps that read it), every other
        weight ``optimizer``; a step then costs about the same on any catalogue. False:
        dense gradients, every row moves every step (Adam's moments keep moving rows the
        step did not read). ``"auto"``: True when the loss reads some rows only (sampled
        negatives, or the rating regression; not ``loss="softmax"`` nor
        ``negative_sampling="full"``, which read every row every step) and the catalogue
        has more than :data:`SPARSE_ITEM_UPDATES_MIN_ITEMS` items. With True the item
        tables get no ``weight_decay`` (SparseAdam has none; ``"adamw"`` never decays
        them) and :class:`~skseqrec.training.GradientClipping` counts their sparse
        gradients in the global norm. The resolved value is ``sparse_item_updates_``.
    epochs : int, default=200
        Upper bound; early stopping may stop sooner.
    batch_size : int, default=128
    batching : {"random", "bucketed"}, default="random"
        ``"random"``: users shuffled into new batches every epoch. ``"bucketed"``: users
        of similar length batched together (pools of 50 batches) and each batch cut to its
        longest row: faster epochs on data with many short histories, but batch
        membership hardly changes between epochs, which learns less per epoch.
    early_stopping_patience : int or None, default=None
        Stop after this many validation rounds (epochs, unless ``validation_interval``)
        without improvement of ``monitor``.
    early_stopping_steps : int or None, default=None
        Stop after this many optimiser steps without improvement of ``monitor`` (the same
        on small and large data). Either this or ``early_stopping_patience`` turns early
        stopping on; when both are set, ``early_stopping_patience`` is used (so that
        setting it on a preset that stops in steps does what it says). The rule is
        :class:`~skseqrec.training.EarlyStopping`'s.
    early_stopping_min_steps : int, default=0
        Never stop early before this many optimiser steps.
    early_stopping_rate : float, default=0.0
        With ``early_stopping_steps``: the patience grows by this fraction of the step of
        the best validation so far (``early_stopping_steps + early_stopping_rate *
        best_step``), so a model that still improves after thousands of steps, by less
        per validation than the noise of its score, is not stopped on its first dip.
        Ignored when ``early_stopping_patience`` is set.
    early_stopping_tol : float or "se", default=0.0
        An improvement must exceed it; ``"se"``: one standard error of the validation
        score (``valid_<monitor>_se`` in ``history_``).
    validation_interval : int or None, default=None
        Validate every this many optimiser steps (mid-epoch on large data, every few
        epochs on small data); None: at the end of every epoch. ``history_`` gets a row per
        validation and one per epoch end, the latter without validation scores.
    restore_best_weights : bool, default=True
    validation : {"last_event", "time"} or None, default="last_event"
        How early stopping gets data when ``X_valid`` is not passed: the last event of a
        random ``validation_fraction`` of users with >= 3 events, but at least
        :data:`MIN_VALIDATION_USERS` of them (Protocol LOO; one event per user costs
        training little, and fewer users give a noisy score), or each
        user's first event after the cut-off leaving ``validation_fraction`` of events
        (Protocol TIME). Only used when early stopping is on.
    validation_fraction : float, default=0.1
    monitor : str, default="ndcg@10"
        ``"ndcg@10"``, ``"hit_rate@10"``, ``"mrr@10"``, ``"ndcg@20"``, ``"hit_rate@20"``
        (the protocol of :mod:`skseqrec.protocol`) or ``"loss"``.
    callbacks : list of Callback or None, default=None
        Extra :class:`~skseqrec.training.Callback` objects (e.g. ``TimeBudget``,
        ``Checkpoint``); early stopping and the progress bar are added from
        ``early_stopping_patience`` and ``verbose``.
    random_state : int, RandomState or None, default=42
        Seeds this estimator's own generators (global torch/numpy state is left as it was).
    verbose : bool or int, default=0
        True or 1 shows a progress bar.
    device : str, default="auto"
        "auto" = CUDA when available (bf16 autocast), else CPU.
    warm_start : bool, default=False
        The next ``fit`` continues from the fitted weights; new items extend the catalogue.
    user_col, item_col, time_col : str
        Column names, default ``"user_id"``, ``"item_id"``, ``"timestamp"``.

    Attributes
    ----------
    classes_ : ndarray
        Item ids the model can recommend, sorted.
    n_items_ : int
    n_users_seen_ : int
    n_dropped_users_ : int
        Users with a single event in ``X`` (no training sequence).
    history_ : DataFrame
        One row per round (an epoch, or ``validation_interval`` steps): ``epoch``,
        ``step``, ``train_loss``, ``valid_<monitor>`` and its standard error
        ``valid_<monitor>_se`` (NaN in a round that was not validated), ``seconds``.
    batch_history_ : DataFrame
        One row per optimiser step: ``epoch``, ``batch``, ``train_loss``.
    n_epochs_, best_epoch_ : int
    stop_reason_ : str
    module_ : torch.nn.Module
    item_embeddings_ : ndarray of float32, shape ``(n_items_, hidden_units)``
        The item vectors the model scores with, row ``j`` for item ``classes_[j]``.
    item_counts_ : ndarray
        Training events per item code (popularity fallback for empty histories).
    negative_sampling_ : str
        The negative sampling used (``"auto"`` resolved for the catalogue).
    sparse_item_updates_ : bool
        Whether the item tables were trained with sparse updates (``"auto"`` resolved).

    Notes
    -----
    Subclass contract. A new model is a preset (``__init__ = preset(...)`` with its
    defaults, optionally ``extra=`` parameters) and may override:

    - ``build_module(n_items)``: the torch module (default: :func:`skseqrec.nn.build_encoder`
      from the component parameters); it must offer ``forward(items, times)``,
      ``encode_last``, ``score_items``, ``score_all``, ``output_weight`` (the item
      vectors, row 0 padding), ``similarity`` and ``n_items``; with ``gap_conditioning``,
      ``forward`` and ``encode_last`` also take ``gaps`` (a third argument).
    - ``_loss(module, batch, generator, objective)``: the training objective of a batch
      ``{"sequence": (B, W) codes, left-padded; "labels", "times" when present}``
      (default: every position predicts its next event with ``objective``).
    - ``_encode_windows(windows, times)``: the user vectors (B, d) after left-padded
      windows (B, W) of item codes (default: the module's ``encode_last``; BERT4Rec
      encodes a ``[MASK]`` appended to the window). Ranking (``_score_windows``: the
      module's ``score_all`` of them; on a large catalogue its ``score_items`` of one
      block of items at a time), :meth:`encode`, :meth:`score_pairs` and
      :meth:`transform` all read it.

    Class flags: ``_losses`` (losses the objective supports), ``_causal`` and
    ``_n_special`` (special input tokens after the catalogue, codes ``n_items + 1, ...``,
    e.g. BERT4Rec's ``[MASK]``), ``_requires_y``, ``_predicts_ratings`` and ``_y_range``.
    Item code 0 is padding everywhere; sequences are left-padded.

    Examples
    --------
    A combination no preset has: LiGR blocks with RMSNorm and rotary positions, trained
    with a sampled softmax:

    >>> from skseqrec.datasets import make_sequential_world
    >>> from skseqrec.estimators import TransformerRecommender
    >>> X = make_sequential_world(n_users=30, n_items=40, random_state=0)
    >>> est = TransformerRecommender(block="ligr", norm="rms", positional="rope",
    ...                              loss="sampled_softmax", num_negatives=8,
    ...                              hidden_units=16, num_heads=2, epochs=2).fit(X)
    >>> type(est.module_.blocks[0]).__name__, est.item_embeddings_.shape
    ('LiGRBlock', (40, 16))
    >>> est.recommend(X, top_k=3).shape  # 3 items for each of the 30 users
    (90, 4)
    >>> est.history_[["epoch", "step"]].values.tolist()
    [[1, 1], [2, 2]]
    """

    _param_specs: dict = TRANSFORMER_PARAMS
    _losses = ("bce", "gbce", "sampled_softmax", "softmax", "infonce")
    _requires_y = False
    _causal = True
    _n_special = 0
    _scores_item_blocks = True
    # models saved before gap_conditioning existed did not read gaps
    _saved_before_param = {"gap_conditioning": False}
    #: fitted attributes that ``build_module`` reads (a saved model's module is built
    #: with them)
    _module_attributes = ("gap_conditioning_",)

    def __init__(
        self,
        *,
        hidden_units=50,
        num_blocks=2,
        num_heads=1,
        dropout_rate=0.2,
        max_len=50,
        block="pre_norm",
        positional="from_end",
        norm="layer",
        activation=None,
        ff_multiplier=None,
        similarity="dot",
        tied_embeddings=True,
        attention_bias=True,
        loss="bce",
        negative_sampling="uniform",
        num_negatives=1,
        temperature=1.0,
        gbce_t=0.75,
        remove_accidental_hits=False,
        exclude_history_negatives=False,
        init="normal",
        time_unit="s",
        gap_conditioning=False,
        optimizer="adam",
        learning_rate=0.001,
        learning_rate_schedule="constant",
        betas=(0.9, 0.98),
        weight_decay=0.0,
        sparse_item_updates="auto",
        epochs=200,
        batch_size=128,
        batching="random",
        early_stopping_patience=None,
        early_stopping_steps=None,
        early_stopping_min_steps=0,
        early_stopping_rate=0.0,
        early_stopping_tol=0.0,
        validation_interval=None,
        restore_best_weights=True,
        validation="last_event",
        validation_fraction=0.1,
        monitor="ndcg@10",
        callbacks=None,
        random_state=42,
        verbose=0,
        device="auto",
        warm_start=False,
        user_col="user_id",
        item_col="item_id",
        time_col="timestamp",
    ):
        P.store_params(self, locals())

    # ------------------------------------------------------------ components
    @property
    def _reads_gaps(self) -> bool:
        """Whether the model reads gaps: ``gap_conditioning`` as fitted
        (``gap_conditioning_``), the parameter before the fit."""
        return bool(getattr(self, "gap_conditioning_", self.gap_conditioning))

    @property
    def _uses_times(self) -> bool:
        return self.block == "hstu" or self._reads_gaps

    @property
    def _reads_request_time(self) -> bool:
        return self._reads_gaps

    @property
    def _y_range(self):
        """Inclusive bounds of ``y``: soft labels for BCE, any value otherwise."""
        return (0.0, 1.0) if self.loss == "bce" else None

    def build_module(self, n_items: int) -> torch.nn.Module:
        """The torch module for a catalogue of ``n_items`` (codes ``1..n_items``)."""
        encoder = build_encoder(
            n_items,
            d_model=self.hidden_units,
            n_blocks=self.num_blocks,
            n_heads=self.num_heads,
            dropout=self.dropout_rate,
            max_len=self.max_len,
            block=self.block,
            positional=self.positional,
            norm=self.norm,
            activation=self.activation,
            ff_multiplier=self.ff_multiplier,
            similarity=self.similarity,
            tied=self.tied_embeddings,
            causal=self._causal,
            use_time=self.block == "hstu",
            gap_conditioning=self._reads_gaps,
            n_special=self._n_special,
            attention_bias=self.attention_bias,
            init=self.init,
        )
        sampling = getattr(self, "negative_sampling_", self.negative_sampling)
        if self.loss == "infonce" and sampling in ("in_batch", "mixed"):
            # each item's share of training targets, for the logQ correction: computed
            # once, moved with the module, not a weight (left out of the state dict)
            counts = torch.zeros(n_items + 1)
            target_counts = getattr(self, "_target_counts", None)
            if target_counts is not None and len(target_counts) == n_items + 1:
                counts = torch.as_tensor(target_counts, dtype=torch.float32)
            encoder.register_buffer(
                "target_popularity", counts / counts.sum().clamp_min(1.0), persistent=False
            )
        encoder.sparse_gradients = self._resolve_sparse_item_updates(n_items)
        return encoder

    def _resolve_sparse_item_updates(self, n_items: int) -> bool:
        """``sparse_item_updates`` for a catalogue of ``n_items`` ("auto" resolved)."""
        if self.sparse_item_updates != "auto":
            return bool(self.sparse_item_updates)
        sampling = getattr(self, "negative_sampling_", None)
        if sampling is None:  # a module built outside fit
            sampling = self._resolve_negative_sampling(n_items)
        # the full-catalogue losses read every row every step: nothing to save
        full = self.loss == "softmax" or (sampling == "full" and self.loss != "mse")
        return not full and n_items > SPARSE_ITEM_UPDATES_MIN_ITEMS

    @property
    def sparse_item_updates_(self) -> bool:
        """Whether the fitted module's item tables are trained with sparse updates."""
        if not hasattr(self, "module_"):
            raise self._not_fitted()
        return any(m.sparse for m in self.module_.modules() if isinstance(m, torch.nn.Embedding))

    def _make_objective(self) -> Objective:
        return Objective(
            loss=self.loss,
            negative_sampling=self.negative_sampling_,
            num_negatives=self.num_negatives,
            temperature=self.temperature,
            gbce_t=self.gbce_t,
            remove_accidental_hits=self.remove_accidental_hits,
            exclude_history_negatives=self.exclude_history_negatives,
        )

    def _loss(self, module, batch: dict, generator: torch.Generator, objective: Objective):
        """Shifted-sequence objective: every position predicts the next event."""
        sequence = batch["sequence"]
        inputs, targets, valid = _shifted(sequence)
        if batch.get("last_only"):
            valid[:, :-1] = False
        labels = batch["labels"][:, 1:] if "labels" in batch else None
        times, gaps = self._split_times(batch.get("times"))
        hidden = module(inputs, times) if gaps is None else module(inputs, times, gaps)
        return objective(
            module, hidden, targets, valid, generator=generator, labels=labels, window=sequence
        )

    def _resolve_negative_sampling(self, n_items: int) -> str:
        if self.negative_sampling != "auto":
            return self.negative_sampling
        return "full" if n_items <= FULL_CATALOGUE_MAX_ITEMS else "shared"

    def _make_optimizer(self, module):
        """Adam (L2 on every weight) or AdamW (decay of projection matrices only); item
        tables with sparse gradients (``sparse_item_updates``) get their own SparseAdam."""
        betas = tuple(float(b) for b in self.betas)
        sparse = {
            id(m.weight) for m in module.modules() if isinstance(m, torch.nn.Embedding) and m.sparse
        }
        dense = [p for p in module.parameters() if id(p) not in sparse]
        if self.optimizer == "adam":
            optimizer = torch.optim.Adam(
                dense,
                lr=self.learning_rate,
                betas=betas,
                weight_decay=self.weight_decay,
            )
        else:
            # decoupled decay shrinks the matrices of linear layers; embeddings (rare items
            # would be pulled to zero between their updates), norm gains and biases keep
            # theirs
            decayed = {id(m.weight) for m in module.modules() if isinstance(m, torch.nn.Linear)}
            groups = [
                {"params": [p for p in dense if id(p) in decayed]},
                {"params": [p for p in dense if id(p) not in decayed], "weight_decay": 0.0},
            ]
            optimizer = torch.optim.AdamW(
                [g for g in groups if g["params"]],
                lr=self.learning_rate,
                betas=betas,
                weight_decay=self.weight_decay,
            )
        if not sparse:
            return optimizer
        if self.optimizer == "adam" and self.weight_decay > 0:
            warnings.warn(
                f"{type(self).__name__}: sparse_item_updates leaves the item tables out of "
                f"weight_decay={self.weight_decay} (SparseAdam has no L2 penalty); set "
                "sparse_item_updates=False to decay them.",
                SkseqrecWarning,
                stacklevel=user_stacklevel(),
            )
        tables = [p for p in module.parameters() if id(p) in sparse]
        lazy = torch.optim.SparseAdam(tables, lr=self.learning_rate, betas=betas)
        return CombinedOptimizer([lazy, optimizer])

    def _prepare_training(self, train: Sequences, warm: bool) -> None:
        """Hook run once before training (e.g. item statistics a loss needs); ``warm``
        says whether training continues from the fitted weights."""

    def check_params(self) -> None:
        """Validate the parameters (``fit`` does it first); raise InvalidParameterError."""
        P.validate_params(self, self._param_specs)
        owner = type(self).__name__

        def bad(message):
            raise InvalidParameterError(f"{owner}: {message}")

        if self.hidden_units % self.num_heads:
            bad(
                f"hidden_units={self.hidden_units} must be divisible by num_heads={self.num_heads}."
            )
        if self.loss not in self._losses:
            bad(f"loss={self.loss!r} is not available here; use one of {list(self._losses)}.")
        if self.positional == "rope" and (self.hidden_units // self.num_heads) % 2:
            bad(
                f"positional='rope' needs an even head size; hidden_units={self.hidden_units} / "
                f"num_heads={self.num_heads} is odd."
            )
        if len(self.betas) != 2:
            bad(f"betas must hold two floats, got {self.betas!r}.")
        if self.early_stopping_tol == "se" and self.monitor == "loss":
            bad(
                "early_stopping_tol='se' needs a ranking monitor (the validation loss has no "
                "standard error); use a number, or monitor='ndcg@10'."
            )
        if self.exclude_history_negatives and self.negative_sampling != "uniform":
            bad(
                "exclude_history_negatives=True needs negative_sampling='uniform' (per-position "
                f"negatives), got {self.negative_sampling!r}."
            )
        if self.exclude_history_negatives and not self._causal:
            bad("exclude_history_negatives=True needs the next-item (causal) objective.")

    # ---------------------------------------------------------------- scoring
    def _split_times(self, times: torch.Tensor | None):
        """``(times, gaps)`` the module reads, of the times (B, W + 1) of a window and
        the event (or request) after it: the window's times (HSTU's time bias) and the
        gap from each of its events to the next (``gap_conditioning``); None when not
        read."""
        if times is None:
            return None, None
        gaps = times[:, 1:] - times[:, :-1] if self._reads_gaps else None
        return (times[:, :-1] if self.block == "hstu" else None), gaps

    def _encode_windows(self, windows: torch.Tensor, times: torch.Tensor | None) -> torch.Tensor:
        """User vectors (B, d) after left-padded windows (B, W) of item codes: what the
        module's ``score_all`` and ``score_items`` compare with the item vectors."""
        if self._reads_gaps:  # times (B, W + 1): the last column is the request's
            return self.module_.encode_last(windows, *self._split_times(times))
        return self.module_.encode_last(windows, times)

    def _score_windows(self, windows, times):
        return self.module_.score_all(self._encode_windows(windows, times))

    def _iter_item_blocks(self, windows, times, block):
        n_items = self.n_items_
        if block >= n_items:
            yield 0, self._score_windows(windows, times)
            return
        # the user vectors once, a cache-sized batch at a time (ranking chunks hold more
        # windows), then the module's scores of one block of items after another
        step = self._default_rows()
        hidden = torch.cat(
            [
                self._encode_windows(
                    windows[begin : begin + step],
                    None if times is None else times[begin : begin + step],
                )
                for begin in range(0, len(windows), step)
            ]
        )
        for start in range(0, n_items, block):
            stop = min(start + block, n_items)
            codes = torch.arange(start + 1, stop + 1, device=hidden.device)
            yield start, self.module_.score_items(hidden, codes)

    def _embedding_size(self) -> int:
        return int(self.module_.output_weight.shape[1])

    def encode(self, sequences: Sequences) -> np.ndarray:
        """One vector per history: the user vector the model ranks items with.

        The hidden state after each history (BERT4Rec: of the ``[MASK]`` appended to it),
        i.e. the vector that the module's ``score_all`` compares with the item vectors
        (:attr:`item_embeddings_`; with ``similarity="cosine"`` both are L2-normalised
        first). Histories are scored in chunks as :meth:`rank` scores them.

        Parameters
        ----------
        sequences : Sequences
            Histories as item codes of this model (see :meth:`encode_history`); only the
            most recent ``max_len`` events of each are read.

        Returns
        -------
        ndarray of float32, shape (len(sequences), hidden_units)
            Row ``s`` is the vector of ``sequences``' sequence ``s``; an empty history
            gets a zero vector.

        Raises
        ------
        NotFittedError
            The model is not fitted.

        See Also
        --------
        transform : the same vectors per user of an interaction frame.
        score_pairs : the scores of given items after each history.

        Examples
        --------
        >>> from skseqrec.datasets import make_sequential_world
        >>> X = make_sequential_world(n_users=20, n_items=30, random_state=0)
        >>> est = TransformerRecommender(hidden_units=8, epochs=1).fit(X)
        >>> _, users, sequences = est.encode_history(X)
        >>> est.encode(sequences).shape
        (20, 8)
        """
        check_is_fitted(self)
        vectors = np.zeros((len(sequences), self._embedding_size()), dtype=np.float32)
        starts, ends = sequences.offsets[:-1], sequences.offsets[1:]
        chunks = self._iter_windows(
            sequences.items, sequences.times, starts, ends, request_times=sequences.request_times
        )
        for rows, windows, times, empty in chunks:
            with torch.no_grad():
                hidden = self._encode_windows(windows, times).float().cpu().numpy()
            hidden[empty] = 0.0
            vectors[rows] = hidden
        return vectors

    def score_pairs(self, sequences: Sequences, item_codes) -> np.ndarray:
        """The model's ranking scores of given items after each history.

        The scores :meth:`rank` orders the catalogue by, for ``k`` items per history and
        without scoring the whole catalogue (e.g. to re-rank another model's
        candidates): the module's ``score_items`` of the vectors of :meth:`encode`, so a
        cosine similarity or a regressor's item biases apply as they do in ranking. An
        empty history gets the popularity scores :meth:`rank` gives it.

        Parameters
        ----------
        sequences : Sequences
            Histories as item codes of this model (see :meth:`encode_history`).
        item_codes : array-like of int, shape (len(sequences), k) or (k,)
            Item codes (``item_encoder_.encode`` of item ids) to score after each history;
            a 1-D array scores the same items after every history. Code 0 (an unknown
            item, or padding) scores ``-inf``.

        Returns
        -------
        ndarray of float32, shape (len(sequences), k)
            ``scores[s, j]`` is the score of ``item_codes[s, j]`` after sequence ``s``.

        Raises
        ------
        ValueError
            ``item_codes`` has the wrong shape, is not integer, or holds codes outside
            ``0..n_items_``.
        NotFittedError
            The model is not fitted.

        Examples
        --------
        >>> from skseqrec.datasets import make_sequential_world
        >>> X = make_sequential_world(n_users=20, n_items=30, random_state=0)
        >>> est = TransformerRecommender(hidden_units=8, epochs=1).fit(X)
        >>> _, users, sequences = est.encode_history(X)
        >>> candidates = est.item_encoder_.encode([3, 4, 99])  # 99 is not an item
        >>> scores = est.score_pairs(sequences, candidates)
        >>> scores.shape, bool(np.isinf(scores[:, 2]).all())
        ((20, 3), True)
        """
        check_is_fitted(self)
        codes = np.asarray(item_codes)
        shared = codes.ndim == 1
        if codes.size == 0:
            codes = codes.astype(np.int64)
        if codes.dtype.kind not in "iu":
            raise TypeError(f"item_codes must hold integer item codes, got dtype {codes.dtype}.")
        if not shared and (codes.ndim != 2 or codes.shape[0] != len(sequences)):
            raise ValueError(
                f"item_codes must have shape (len(sequences), k) = ({len(sequences)}, k) or "
                f"(k,), got {codes.shape}."
            )
        codes = codes.astype(np.int64, copy=False)
        bad = (codes < 0) | (codes > self.n_items_)
        if bad.any():
            raise ValueError(
                f"item_codes must be codes in 0..n_items_={self.n_items_}; {int(bad.sum())} "
                f"of {codes.size} are not (e.g. {codes[bad][0]})."
            )
        k = codes.shape[-1]
        scores = np.empty((len(sequences), k), dtype=np.float32)
        starts, ends = sequences.offsets[:-1], sequences.offsets[1:]
        device = self._inference_device()
        # shared items: one matmul per chunk; per-row items: one product per pair
        shared_t = torch.as_tensor(codes, device=device) if shared else None
        fallback = None  # popularity scores of empty histories, as rank gives them
        chunks = self._iter_windows(
            sequences.items, sequences.times, starts, ends, request_times=sequences.request_times
        )
        for rows, windows, times, empty in chunks:
            codes_t = shared_t if shared else torch.as_tensor(codes[rows], device=device)
            with torch.no_grad():
                hidden = self._encode_windows(windows, times)
                chunk_scores = self.module_.score_items(hidden, codes_t).float()
                if empty.any():
                    if fallback is None:
                        fallback = self._fallback_scores().to(device)
                    empty_t = torch.as_tensor(empty, device=device)
                    empty_codes = codes_t if shared else codes_t[empty_t]
                    chunk_scores[empty_t] = fallback[(empty_codes - 1).clamp_min(0)]
            scores[rows] = chunk_scores.cpu().numpy()
        scores[np.broadcast_to(codes == 0, scores.shape)] = -np.inf
        return scores

    @property
    def item_embeddings_(self) -> np.ndarray:
        """One vector per catalogue item: those the model scores with.

        An ndarray of float32 of shape ``(n_items_, d)``. Row ``j`` belongs to item ``classes_[j]`` (code ``j + 1``): the module's output
        table without the padding row and special tokens, raw (with
        ``similarity="cosine"`` the model L2-normalises them before scoring). A copy on
        the CPU.
        """
        check_is_fitted(self)
        weight = self.module_.output_weight[1:].detach()
        return weight.to("cpu", torch.float32, copy=True).numpy()

    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        """Column names of :meth:`transform`: ``embedding_<j>`` for each dimension ``j``.

        Parameters
        ----------
        input_features : None
            Ignored (the output does not depend on input column names).

        Returns
        -------
        ndarray of str (object dtype), shape (d,)
        """
        check_is_fitted(self)
        return np.asarray([f"embedding_{i}" for i in range(self._embedding_size())], dtype=object)

    def transform(self, X) -> pd.DataFrame:
        """Each user's vector (:meth:`encode`) given his history in ``X``.

        Histories are built as :meth:`recommend` builds them: items unknown to the
        model are ignored (counted in a warning); a user with no known item gets a zero
        vector (counted in a warning). There is one row per user, not per row of ``X``,
        so this estimator is no scikit-learn ``TransformerMixin``.

        Parameters
        ----------
        X : DataFrame
            Interactions (any users, also ones unseen at fit time).

        Returns
        -------
        DataFrame of float32, shape (n_users of X, d)
            Index: the sorted user ids of ``X`` in their dtype, named ``user_col``;
            columns :meth:`get_feature_names_out`.

        Raises
        ------
        ValueError
            Bad ``X``.
        NotFittedError
            The model is not fitted.

        Examples
        --------
        >>> from skseqrec.datasets import make_sequential_world
        >>> X = make_sequential_world(n_users=20, n_items=30, random_state=0)
        >>> est = TransformerRecommender(hidden_units=8, epochs=1).fit(X)
        >>> est.transform(X).iloc[:2, :3].shape
        (2, 3)
        """
        check_is_fitted(self)
        _, users, sequences = self.encode_history(X)
        codes = np.arange(1, len(users) + 1)
        sequences = sequences.select_users(codes)  # users whose items were all unknown
        warn_dropped(
            "users of X",
            int((sequences.lengths == 0).sum()),
            len(sequences),
            "have no item known to the model and get a zero vector",
        )
        ids = users.decode(codes)
        index = pd.Index(ids, dtype=getattr(ids, "dtype", None), name=self.user_col)
        return pd.DataFrame(
            self.encode(sequences), index=index, columns=self.get_feature_names_out()
        )

    def recommend_similar(self, items, top_k: int = 10, *, similarity=None) -> pd.DataFrame:
        """The ``top_k`` items most similar to each given item (item-to-item).

        Similarity of the item vectors the model scores with (:attr:`item_embeddings_`);
        an item is never in its own list. The catalogue is compared in chunks of query
        items, never all pairs at once.

        Parameters
        ----------
        items : array-like or scalar
            Query item ids; a single id means a list of that one id. Unknown ids are
            counted in a warning and ignored; duplicates are answered once.
        top_k : int, default=10
        similarity : {"cosine", "dot"} or None, default=None
            None: the model's own (its ``similarity`` parameter); ``"cosine"`` or
            ``"dot"`` (raw vectors) can be forced.

        Returns
        -------
        DataFrame
            Columns ``[f"target_{item_col}", item_col, "score", "rank"]`` (RecTools'
            ``recommend_to_items`` layout): ``min(top_k, n_items_ - 1)`` rows per known
            query item, sorted by query id then rank, ids in the fitted dtype.

        Raises
        ------
        ValueError
            ``top_k`` < 1, an unknown ``similarity``, or no known id in ``items``.
        NotFittedError
            The model is not fitted.

        Examples
        --------
        >>> from skseqrec.datasets import make_sequential_world
        >>> X = make_sequential_world(n_users=20, n_items=30, random_state=0)
        >>> est = TransformerRecommender(hidden_units=8, epochs=1).fit(X)
        >>> similar = est.recommend_similar([3, 4], top_k=2)
        >>> similar.columns.tolist()
        ['target_item_id', 'item_id', 'score', 'rank']
        >>> similar["target_item_id"].tolist(), similar["rank"].tolist()
        ([3, 3, 4, 4], [1, 2, 1, 2])
        >>> bool((similar["target_item_id"] != similar["item_id"]).all())
        True
        """
        check_is_fitted(self)
        if isinstance(top_k, bool) or not isinstance(top_k, (int, np.integer)) or top_k < 1:
            raise ValueError(f"top_k must be a positive int, got {top_k!r}.")
        if similarity is None:
            similarity = self.module_.similarity
        elif not isinstance(similarity, str) or similarity not in ("cosine", "dot"):
            raise ValueError(f"similarity must be 'cosine', 'dot' or None, got {similarity!r}.")
        codes = self._encode_item_ids(items, require_known=True)
        queries = np.unique(codes[codes > 0])
        k = min(top_k, self.n_items_ - 1)
        found = np.zeros((len(queries), k), dtype=np.int64)
        values = np.zeros((len(queries), k), dtype=np.float32)
        with torch.no_grad():
            vectors = self.module_.output_weight[1:].float()
            if similarity == "cosine":
                vectors = torch.nn.functional.normalize(vectors, dim=-1)
            # queries x catalogue scores, never more than SCORING_CHUNK_BYTES at a time
            chunk = self._chunk_size()
            for begin in range(0, len(queries) if k else 0, chunk):
                rows = torch.as_tensor(queries[begin : begin + chunk] - 1, device=vectors.device)
                scores = vectors[rows] @ vectors.T
                scores[torch.arange(len(rows), device=vectors.device), rows] = -torch.inf
                top_values, top_codes = topk_items(scores, k)
                found[begin : begin + chunk] = top_codes.cpu().numpy()
                values[begin : begin + chunk] = top_values.cpu().numpy()
        return pd.DataFrame(
            {
                f"target_{self.item_col}": self._decode_items(np.repeat(queries, k)),
                self.item_col: self._decode_items(found.ravel()),
                "score": values.ravel().astype(np.float64),
                "rank": np.tile(np.arange(1, k + 1, dtype=np.int64), len(queries)),
            }
        )

    def _inference_device(self) -> torch.device:
        return torch.device(self.device_)

    def _model_times(self, times):
        return np.asarray(times, dtype=np.float64) * self.seconds_per_time_unit_

    # -------------------------------------------------------------------- fit
    def fit(self, X, y=None, *, X_valid=None):
        """Learn to predict every event of every user from that user's earlier events.

        Parameters
        ----------
        X : DataFrame
            Interactions with the user, item and time columns.
        y : array-like of shape (n_rows,), default=None
            Per-event target: soft labels in [0, 1] for ``loss="bce"`` (scikit-rec's
            OUTCOME), ratings for the regressor; ignored by the other losses.
        X_valid : DataFrame, default=None
            Validation interactions for early stopping / monitoring. Each user's last row
            is the target, earlier rows of that user in ``X_valid`` the history; a user
            with a single row is evaluated with his history from ``X``. Inside a search,
            scikit-learn passes it whole to every fold (sliced to the fold's training rows
            when it has ``len(X)`` rows; with metadata routing, after
            ``set_fit_request(X_valid=True)``): the user guide says when that is safe; the
            ``validation`` carve-out always is.

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
        return self._guarded_fit(X, y, X_valid, partial=False)

    def partial_fit(self, X, y=None, classes=None):
        """Train one more epoch on ``X`` (the first call initialises the model).

        Items new in ``X`` extend the catalogue (known items keep their weights), as
        ``warm_start`` does; the optimiser state carries over between calls while the
        catalogue does not grow. No early stopping or validation runs: call ``score`` on
        held-out data between calls (what pruning searches such as Optuna's do).

        Parameters
        ----------
        X : DataFrame
        y : array-like of shape (n_rows,), default=None
        classes : None
            Ignored; accepted because scikit-learn's classifier convention (and Optuna's
            pruning search) passes it. The catalogue comes from ``X``.

        Returns
        -------
        self
        """
        return self._guarded_fit(X, y, None, partial=True)

    def _guarded_fit(self, X, y, X_valid, partial):
        previous = dict(self.__dict__)
        try:
            return self._fit(X, y, X_valid, partial)
        except BaseException:
            self.__dict__.clear()
            self.__dict__.update(previous)
            raise

    def _time_scale(self, X) -> float:
        """Seconds per unit of the time column (datetime columns are int64 ns)."""
        frame = to_pandas(X)
        column = frame[self.time_col] if self.time_col in frame.columns else None
        is_datetime = isinstance(column, pd.Series) and (
            pd.api.types.is_datetime64_any_dtype(column.dtype)
            or isinstance(column.dtype, pd.DatetimeTZDtype)
        )
        return 1e-9 if is_datetime else _SECONDS[self.time_unit]

    def _fit(self, X, y, X_valid, partial):
        self.check_params()
        fitted = self.__sklearn_is_fitted__()
        warm = (self.warm_start or partial) and fitted
        if (self.block == "hstu" or self.gap_conditioning) and not warm:
            self.seconds_per_time_unit_ = self._time_scale(X)
        data = self._check(X, y, y_range=self._y_range, require_y=self._requires_y)
        early_stopping = self._early_stopping and not partial
        if early_stopping and X_valid is None and self.validation is None:
            raise ValueError(
                "early stopping is on (early_stopping_patience or early_stopping_steps) but "
                "there is no validation data: pass X_valid= to fit, or set "
                "validation='last_event' or 'time' to carve it out of X."
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
        warn_dropped(
            "users",
            int(single.sum()),
            len(sequences),
            "have a single event and give no training sequence",
        )
        sequences = sequences.select(~single)
        if not warm:
            self.gap_conditioning_ = bool(self.gap_conditioning) and self._has_gaps(sequences)

        seed = int(check_random_state(self.random_state).randint(np.iinfo(np.int32).max))
        if partial and fitted:  # each further epoch draws new batches and negatives
            seed = (seed + 7919 * len(self._history)) % np.iinfo(np.int32).max
        # data-parallel (torch.distributed): the same data and rank 0's seed everywhere, so
        # every rank draws the same global batches (and takes its share of each)
        ddp.check_same_across_ranks(
            "X (rows, users with 2+ events, items)",
            (len(data), int((~single).sum()), len(item_encoder)),
        )
        seed = ddp.broadcast_object(seed)
        rng = np.random.default_rng(seed)
        device = ddp.process_device(resolve_device(self.device))

        self.item_encoder_ = item_encoder
        self._remember_training_users(data, user_encoder)
        self.n_users_seen_ = len(user_encoder)
        self.n_dropped_users_ = int(single.sum())
        self.device_ = str(device)

        if early_stopping or (X_valid is not None and not partial):
            # X_valid is monitored (history_ gets valid_<monitor>) even without early
            # stopping, e.g. for a user's own EarlyStopping or Checkpoint callback
            train, valid = self._validation_data(sequences, X_valid, rng)
        else:
            train, valid = sequences, None
        self.item_counts_ = np.bincount(train.items, minlength=len(item_encoder) + 1)
        self.negative_sampling_ = self._resolve_negative_sampling(len(item_encoder))
        # the logQ correction of in-batch negatives needs each item's share of targets
        self._target_counts = (
            self._count_targets(train, len(item_encoder))
            if self.loss == "infonce" and self.negative_sampling_ in ("in_batch", "mixed")
            else None
        )
        self._prepare_training(train, warm)

        fork_devices = [device] if device.type == "cuda" else []
        with torch.random.fork_rng(devices=fork_devices):
            torch.manual_seed(seed)
            if warm:
                module = self._extend_module(self.module_, remap, len(item_encoder))
            else:
                module = self.build_module(len(item_encoder))
            self.module_ = module.to(device)
            optimizer = self._make_optimizer(module)
            grown = remap is not None and len(item_encoder) + 1 != len(remap)
            if partial and fitted and not grown and getattr(self, "_optimizer_state", None):
                optimizer.load_state_dict(self._optimizer_state)
            rank, _ = ddp.rank_and_world_size()
            if rank:  # data-parallel: dropout masks of its own on each rank (the weights
                # come from rank 0); negatives below still follow the one global seed
                torch.manual_seed(seed + 1_000_003 * rank)
            generator = torch.Generator(device=device).manual_seed(seed)
            objective = self._make_objective()
            # a copy: a warm fit that fails must not leave records in the previous history
            history = self._history.copy() if warm else History()
            trainer = Trainer(
                module=module,
                optimizer=optimizer,
                loss_fn=lambda batch: self._loss(module, batch, generator, objective),
                batches=self._batch_factory(train, rng, device),
                epochs=1 if partial else self.epochs,
                validate=None
                if valid is None
                else self._validator(valid, generator, device, objective),
                callbacks=self._training_callbacks(valid is not None),
                history=history,
                device=device,
                description=type(self).__name__,
                validate_every=self.validation_interval,
                batch_weight=self._batch_weight,
            )
            trainer.run()
        self._optimizer_state = optimizer.state_dict() if partial else None
        self._history = history
        self.n_epochs_ = history.last_epoch
        self.best_epoch_ = (
            trainer.best_epoch if trainer.best_epoch is not None else history.last_epoch
        )
        self.stop_reason_ = trainer.stop_reason
        return self

    def _has_gaps(self, sequences: Sequences) -> bool:
        """Whether the gaps between a user's consecutive events fall in more than one
        bucket of :class:`~skseqrec.nn.GapEmbedding`: a time column that only orders the
        events (a position, every gap the same) tells nothing about gaps."""
        times = self._model_times(sequences.times)
        same_user = np.repeat(np.arange(len(sequences)), sequences.lengths)
        follows = same_user[1:] == same_user[:-1]
        buckets = gap_buckets(torch.as_tensor(np.diff(times)[follows]))
        return len(torch.unique(buckets)) > 1

    def _count_targets(self, train: Sequences, n_items: int) -> np.ndarray:
        """Times each item code is a training target (the in-batch negatives' distribution):
        the events of each user's last ``max_len + 1`` but the window's first."""
        lengths = train.lengths
        from_end = np.repeat(train.offsets[1:], lengths) - 1 - np.arange(len(train.items))
        target = from_end < np.repeat(np.minimum(self.max_len, lengths - 1), lengths)
        return np.bincount(train.items[target], minlength=n_items + 1)

    def _not_fitted(self):
        from sklearn.exceptions import NotFittedError

        return NotFittedError(f"This {type(self).__name__} instance is not fitted yet.")

    @property
    def history_(self):
        """Per-epoch records: ``epoch``, ``train_loss``, ``valid_<metric>``, ``seconds``."""
        if not hasattr(self, "_history"):
            raise self._not_fitted()
        return self._history.to_frame()

    @property
    def batch_history_(self):
        """Per-step records: ``epoch``, ``batch`` (from 0 in each epoch), ``train_loss``."""
        if not hasattr(self, "_history"):
            raise self._not_fitted()
        return self._history.batches_frame()

    @property
    def _early_stopping(self) -> bool:
        return self.early_stopping_patience is not None or self.early_stopping_steps is not None

    def _training_callbacks(self, has_validation: bool):
        """The user's callbacks, then early stopping and the progress bar from parameters."""
        callbacks = list(self.callbacks or [])
        if self._early_stopping and has_validation:
            mode = "min" if self.monitor == "loss" else "max"
            in_steps = self.early_stopping_steps if self.early_stopping_patience is None else None
            callbacks.append(
                EarlyStopping(
                    f"valid_{self.monitor}",
                    self.early_stopping_patience,
                    mode=mode,
                    tol=self.early_stopping_tol,
                    restore_best=self.restore_best_weights,
                    # a patience in rounds, when given, replaces the preset's steps
                    patience_steps=in_steps,
                    min_steps=self.early_stopping_min_steps,
                    patience_rate=self.early_stopping_rate if in_steps is not None else 0.0,
                )
            )
            if self.learning_rate_schedule == "adaptive" and in_steps is not None:
                callbacks.append(
                    ReduceLROnPlateau(
                        f"valid_{self.monitor}",
                        patience_steps=in_steps,
                        factor=ADAPTIVE_LEARNING_RATE_FACTOR,
                        min_factor=0.01,
                        mode=mode,
                        min_steps=self.early_stopping_min_steps,
                        # half early stopping's growth: one cut per plateau, and training
                        # stops when the cut brings no better validation
                        patience_rate=self.early_stopping_rate / 2,
                    )
                )
        if self.verbose:
            callbacks.append(ProgressBar())  # drawn by rank 0 only under torch.distributed
        return callbacks

    # ------------------------------------------------------------- batching
    def _batch_factory(self, train: Sequences, rng: np.random.Generator, device):
        """Per epoch: each user's most recent ``max_len + 1`` events, shuffled, in batches
        (``batching``)."""
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

        bucketed = self.batching == "bucketed"
        rank, world_size = ddp.rank_and_world_size()

        def batches(epoch):
            # "bucketed": shuffle, sort by length inside pools of 50 batches, then shuffle
            # the batches; "random": shuffle only. Each batch is cut to its longest row.
            order = rng.permutation(len(lengths))
            pool = 50 * self.batch_size
            for begin in range(0, len(order) if bucketed else 0, pool):
                chunk = order[begin : begin + pool]
                order[begin : begin + pool] = chunk[np.argsort(lengths[chunk], kind="stable")]
            starts = np.arange(0, len(order), self.batch_size)
            for begin in rng.permutation(starts):
                rows = order[begin : begin + self.batch_size]
                keep = int(lengths[rows].max())  # drop all-padding columns
                # data-parallel: this rank's share of the global batch, cut as the whole
                # batch is (the same width gives the same positions as one process)
                rows = rows[rank::world_size]
                index = torch.as_tensor(rows, device=device)
                batch = {"sequence": matrix[index, width - keep :]}
                if labels is not None:
                    batch["labels"] = labels[index, width - keep :]
                if times is not None:
                    batch["times"] = times[index, width - keep :]
                yield batch

        return batches

    def _batch_weight(self, batch: dict) -> torch.Tensor:
        """How many targets ``_loss`` averages over in ``batch`` (a tensor on the batch's
        device: no sync); data-parallel training weights each rank's gradient by it."""
        return _shifted(batch["sequence"])[2].sum()

    # ------------------------------------------------------------ validation
    def _validation_data(self, sequences: Sequences, X_valid, rng):
        """Split off validation targets with the protocol: ``(train, Holdout)``."""
        if X_valid is not None:
            return sequences, self._external_validation(sequences, X_valid)
        if self.validation == "last_event":
            eligible = np.flatnonzero(sequences.lengths >= 3)
            if len(eligible) == 0:
                raise ValueError(
                    "validation='last_event' needs users with at least 3 events; none of the "
                    f"{len(sequences)} users has. Pass X_valid= or use validation='time'."
                )
            # at least MIN_VALIDATION_USERS: a validation NDCG over 50 users has a standard
            # error (~0.03) above the differences early stopping must see
            n_valid = max(
                1,
                int(round(self.validation_fraction * len(eligible))),
                min(len(eligible), MIN_VALIDATION_USERS),
            )
            chosen = np.sort(rng.choice(eligible, size=n_valid, replace=False))
            return last_event_holdout(sequences, chosen)
        cutoff = time_cutoff(sequences.times, self.validation_fraction)
        train, holdout = first_after_holdout(sequences, cutoff)
        if len(holdout) == 0:
            raise ValueError(
                f"validation='time' with validation_fraction={self.validation_fraction} leaves "
                "no user with events on both sides of the cut; use validation='last_event' or "
                "pass X_valid=."
            )
        return train.select(train.lengths >= 2), holdout

    def _external_validation(self, train: Sequences, X_valid) -> Holdout:
        _, users, valid = self.encode_history(X_valid, name="X_valid", keep_unknown=True)
        multi = valid.lengths >= 2
        histories, targets, times = [], [], []
        if multi.any():
            _, holdout = last_event_holdout(valid, multi)
            holdout = holdout.known_history()
            histories.append(holdout.history)
            targets.append(holdout.targets)
            times.append(holdout.target_times)
        single = valid.select(~multi)
        if len(single):
            fit_codes = self._user_encoder.encode(users.decode(single.users))
            position = np.searchsorted(train.users, fit_codes)
            position = np.minimum(position, max(len(train.users) - 1, 0))
            known = (fit_codes > 0) & (train.users[position] == fit_codes)
            warn_dropped(
                "users of X_valid",
                int((~known).sum()),
                len(valid),
                "have a single row and no history in X; they are not evaluated",
            )
            if known.any():
                histories.append(train.select(position[known]))
                first = single.offsets[:-1][known]
                targets.append(single.items[first])
                times.append(single.times[first])
        if not histories:
            raise ValueError("X_valid has no user that can be evaluated (each needs a history).")
        holdout = Holdout(
            Sequences.concat(histories), np.concatenate(targets), None, np.concatenate(times)
        )
        # targets unknown to the model count as misses, as in score (cold_targets="miss")
        return holdout

    def _validator(self, holdout: Holdout, generator, device, objective):
        if self.monitor == "loss":
            return lambda: {"loss": self._validation_loss(holdout, generator, device, objective)}
        name, k = self.monitor.split("@")

        def validate():
            scores = score_holdout(
                self, holdout, (name,), (int(k),), warn=False, standard_errors=True
            )
            return {
                self.monitor: scores.values[self.monitor],
                f"{self.monitor}_se": scores.extra[f"{self.monitor}_se"],
            }

        return validate

    def _validation_loss(self, holdout: Holdout, generator, device, objective):
        context, targets, weights = holdout.history, holdout.targets, holdout.weights
        ends = context.offsets[1:]
        items = np.concatenate([context.items, np.zeros(1, dtype=np.int64)])
        windows = pad_windows(items, context.offsets[:-1], ends, self.max_len)
        sequence = np.concatenate([windows, targets[:, None]], axis=1)
        if self._uses_times:
            times = self._model_times(np.concatenate([context.times, np.zeros(1, np.int64)]))
            time_windows = pad_windows(times, context.offsets[:-1], ends, self.max_len)
            # the target's own time is not known to the model: the request's (known or
            # NaN) for a model that reads it, else the last event's repeated
            after = time_windows[:, -1:]
            if self._reads_gaps:
                when = context.request_times
                when = np.full(len(context), np.nan) if when is None else when
                after = self._model_times(when)[:, None]
            time_windows = np.concatenate([time_windows, after], axis=1)
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
            total += float(self._loss(self.module_, batch, generator, objective)) * n
            count += n
        generator.set_state(state)
        return total / max(count, 1)

    # ------------------------------------------------------------- warm start
    def _extend_module(self, module, remap: np.ndarray, n_items: int):
        """Grow item tables to ``n_items``; known items move to their new codes."""
        fresh = self.build_module(n_items)
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
        state.pop("_optimizer_state", None)  # tensors shared with the module: not portable
        state.pop("_target_counts", None)  # training-only statistics
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
            module = self.build_module(len(self.item_encoder_))
        module.load_state_dict(module_state)
        device = loadable_device(self.device_, type(self).__name__)
        self.device_ = str(device)
        self.module_ = module.to(device).eval()
