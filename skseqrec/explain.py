"""Which events of a user's history drove a recommendation: gradient x input attributions."""

from __future__ import annotations

import numpy as np
import pandas as pd
import torch
from sklearn.utils.validation import check_is_fitted

from .data import to_pandas
from .estimators import TransformerRecommender
from .nn import SequenceEncoder
from .protocol import resolve_recommender

__all__ = ["EXPLAIN_METHODS", "explain"]

#: Attribution methods of :func:`explain`.
EXPLAIN_METHODS = ("gradient",)
#: Unknown history items named in an error message, at most.
_SHOWN = 5


def explain(estimator, history, *, item=None, exclude_seen=True, method="gradient"):
    """Attribute one recommendation to the events of the history it was made from.

    For a fitted torch estimator, a history (one user's events) and an item (by default
    the history's top recommendation), return one number per history event: how strongly
    the score of the item depends on that event's item.

    The attribution of event ``p`` is *gradient x input* on the model's input item
    embeddings: with ``e_p`` the item embedding of event ``p`` (the output of the item
    embedding table, before positions are added) and ``s`` the item's ranking score,

    .. math:: a_p = \\sum_j \\frac{\\partial s}{\\partial e_{p,j}} \\, e_{p,j}

    i.e. the derivative of ``s`` when ``e_p`` is scaled by ``1 + t`` (at ``t = 0``): the
    first-order estimate of how much the score would drop if the event's item vector
    shrank to zero (the padding vector). Summing over the embedding dimension, rather than taking a norm of
    the gradient, keeps it a change of the score, in the score's units, so the events of
    one history compare directly; it costs one backward pass whatever the history's length.
    Read ``|a_p|`` as the event's influence. The sign says whether growing the vector
    raises the score, which is not always "speaks for the item": the layer norms make the
    hidden state depend on the item vector's direction more than on its length. Like any
    gradient method it is local: two events that each suffice to predict the item may both
    get small values (saturation), and the attributions need not add up to the score.

    Only the gradient method exists: the attention modules compute attention in one fused
    ``scaled_dot_product_attention`` call that returns no weights, and HSTU's pointwise
    attention has no normalised weights to average, so attention maps are not offered.

    Parameters
    ----------
    estimator : TransformerRecommender
        A fitted torch estimator (every preset: :class:`~skseqrec.SASRecClassifierEstimator`,
        :class:`~skseqrec.SASRecRegressorEstimator`, :class:`~skseqrec.ESASRecEstimator`,
        :class:`~skseqrec.GSASRecEstimator`, :class:`~skseqrec.BERT4RecEstimator`,
        :class:`~skseqrec.HSTUEstimator`, :class:`~skseqrec.SequentialTransformerEstimator`),
        a fitted Pipeline ending in one (its earlier steps transform the history first) or a
        fitted search over one (its ``best_estimator_``).
    history : DataFrame or sequence of item ids
        One user's events: a DataFrame with the estimator's item and time columns (the user
        column may be left out; if present it must hold one user), in any row order, or the
        item ids in time order (times are then ``0, 1, 2, ...``; pass a DataFrame to give
        a model that reads times, such as HSTU, the real ones). Every item must be known to
        the model.
    item : item id, default=None
        The item whose score is explained; None: the top recommendation after the history
        (what ``recommend(history, top_k=1, exclude_seen=exclude_seen)`` returns). For the
        regressor, the score is the predicted rating.
    exclude_seen : bool, default=True
        Whether the default ``item`` may be an item of the history (as in ``recommend``).
        Ignored when ``item`` is given.
    method : {"gradient"}, default="gradient"
        Gradient x input on the item embeddings, as described above.

    Returns
    -------
    attributions : DataFrame
        One row per history event, sorted by ``position`` (0 for the oldest event):
        ``position`` (int64), the item column (the event's item, in the caller's dtype),
        ``attribution`` (float64), ``explained_item`` (the explained item, the same on
        every row) and ``score`` (its score after the whole history, as ``recommend``
        reports it). Events older than the window the model reads (the most recent
        ``max_len`` events; BERT4Rec's ``max_len - 1``) have no influence and get 0.0.

    Raises
    ------
    TypeError
        ``estimator`` is not a torch estimator (e.g. ``PopularityRecommender`` or
        ``TwoStageRecommender``), or ``history`` is a single string.
    NotFittedError
        The estimator is not fitted.
    ValueError
        ``history`` is empty, holds several users or items unknown to the model (named,
        with their count), ``item`` is unknown, no item is left to recommend, or
        ``method`` is not ``"gradient"``.

    Notes
    -----
    The model is put in evaluation mode (no dropout) for the call and given back in the
    mode it was in; no weight, gradient buffer (``.grad``) or random state is changed, so
    recommendations after the call are those before it. The gradient is taken with
    respect to the embedding table's output (a forward hook on the item embedding of the
    module's :class:`~skseqrec.nn.SequenceEncoder`), the one input path every preset shares.

    Examples
    --------
    >>> import pandas as pd
    >>> from skseqrec import SASRecClassifierEstimator, explain
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=40, n_items=20, noise=0.0, random_state=0)
    >>> model = SASRecClassifierEstimator(hidden_units=16, max_len=10, epochs=1).fit(X)
    >>> result = explain(model, [3, 11, 7])
    >>> result.columns.tolist()
    ['position', 'item_id', 'attribution', 'explained_item', 'score']
    >>> result[["position", "item_id"]].to_numpy().tolist()
    [[0, 3], [1, 11], [2, 7]]
    >>> top = model.recommend(pd.DataFrame({"user_id": 0, "item_id": [3, 11, 7],
    ...                                     "timestamp": [0, 1, 2]}), top_k=1)
    >>> bool(result["explained_item"].iloc[0] == top["item_id"].iloc[0])
    True
    """
    if not isinstance(method, str) or method not in EXPLAIN_METHODS:
        raise ValueError(f"method must be one of {list(EXPLAIN_METHODS)}, got {method!r}.")
    model, _ = resolve_recommender(estimator, None)
    if not isinstance(model, TransformerRecommender):
        raise TypeError(
            f"explain needs a torch estimator (a TransformerRecommender: "
            "SASRecClassifierEstimator, SASRecRegressorEstimator, ESASRecEstimator, "
            "GSASRecEstimator, BERT4RecEstimator, HSTUEstimator, "
            f"SequentialTransformerEstimator), got {type(model).__name__}, which has no item "
            "embeddings to take gradients of."
        )
    check_is_fitted(model)
    frame = _history_frame(model, history)
    model, frame = resolve_recommender(estimator, frame)
    frame = to_pandas(frame, name="history")
    _, users, sequences = model.encode_history(frame, name="history", keep_unknown=True)
    if len(users) != 1:
        raise ValueError(
            f"history must hold one user's events; column {model.user_col!r} holds "
            f"{len(users)} users (e.g. {users.classes[:2].tolist()})."
        )
    events = frame.iloc[sequences.rows]  # chronological order
    unknown = sequences.items == 0
    if unknown.any():
        names = pd.unique(events[model.item_col].to_numpy()[unknown]).tolist()
        shown = ", ".join(repr(name) for name in names[:_SHOWN])
        more = f" and {len(names) - _SHOWN} more" if len(names) > _SHOWN else ""
        raise ValueError(
            f"{int(unknown.sum())} of the {len(unknown)} history events have items unknown "
            f"to the fitted model (column {model.item_col!r}: {shown}{more}); they have no "
            "embedding to attribute to. Drop them first (recommend ignores them)."
        )
    was_training = model.module_.training
    try:
        model.module_.eval()  # no dropout, for the default item too
        code = _explained_code(model, sequences, item, exclude_seen)
        attribution, score = _gradient_x_input(model, sequences, code)
    finally:
        model.module_.train(was_training)
    n_events = len(events)
    return pd.DataFrame(
        {
            "position": np.arange(n_events, dtype=np.int64),
            model.item_col: events[model.item_col].reset_index(drop=True),
            "attribution": attribution,
            # a Series keeps the fitted id dtype (pandas 3 would infer ``str`` from object)
            "explained_item": pd.Series(model.item_encoder_.decode(np.full(n_events, code))),
            "score": np.full(n_events, score, dtype=np.float64),
        }
    )


def _history_frame(model, history) -> pd.DataFrame:
    """``history`` as an interaction frame of one user (the estimator's column names)."""
    if hasattr(history, "columns"):  # a DataFrame (pandas, polars, pyarrow, ...)
        frame = to_pandas(history, name="history")
        if model.user_col not in frame.columns:
            frame = frame.assign(**{model.user_col: 0})
        return frame
    if isinstance(history, (str, bytes)):
        raise TypeError(
            f"history must be a DataFrame or a sequence of item ids, got the string "
            f"{history!r}; wrap a single item in a list."
        )
    items = history.reset_index(drop=True) if isinstance(history, pd.Series) else history
    items = pd.Series(items) if not isinstance(items, pd.Series) else items
    if len(items) == 0:
        raise ValueError("history holds no event: pass at least one item id.")
    return pd.DataFrame(
        {
            model.user_col: np.zeros(len(items), dtype=np.int64),
            model.item_col: items,
            model.time_col: np.arange(len(items), dtype=np.int64),
        }
    )


def _explained_code(model, sequences, item, exclude_seen) -> int:
    """The item code to explain: ``item``'s, or the top recommendation's."""
    if item is not None:
        code = int(model.item_encoder_.encode(pd.Series([item]))[0])
        if code == 0:
            raise ValueError(
                f"item {item!r} is not an item of the fitted model (classes_ holds "
                f"{model.n_items_} items)."
            )
        return code
    codes, _ = model.rank(sequences, 1, exclude_seen=exclude_seen)
    if codes[0, 0] == 0:
        raise ValueError(
            "no item is left to recommend after this history (every catalogue item is in "
            "it); pass item= or exclude_seen=False."
        )
    return int(codes[0, 0])


def _gradient_x_input(model, sequences, code):
    """Gradient x input of each event's item embedding for the score of item ``code``."""
    module = model.module_
    encoder = next((m for m in module.modules() if isinstance(m, SequenceEncoder)), None)
    if encoder is None:
        raise TypeError(
            f"explain needs a module built on skseqrec.nn.SequenceEncoder; "
            f"{type(model).__name__}.module_ is a {type(module).__name__} without one."
        )
    embedded = []

    def capture(_, inputs, output):
        # a leaf of its own: the gradient stops here, so no weight gets a .grad
        leaf = output.detach().requires_grad_(True)
        embedded.append((inputs[0], leaf))
        return leaf

    starts, ends = sequences.offsets[:-1], sequences.offsets[1:]
    handle = encoder.item_embedding.register_forward_hook(capture)
    try:
        # the estimator's own windowing (max_len, times as the model reads them, device)
        # and user vector (BERT4Rec appends its [MASK]): what ranking computes
        ((_, windows, times, _),) = model._iter_windows(
            sequences.items, sequences.times, starts, ends
        )
        with torch.enable_grad():
            hidden = model._encode_windows(windows, times)
            target = torch.as_tensor([code], device=hidden.device)
            score = module.score_items(hidden, target)[0, 0].float()
            if len(embedded) != 1:
                raise RuntimeError(
                    f"the item embedding of {type(model).__name__} was called "
                    f"{len(embedded)} times for one history; explain expects one call."
                )
            codes, vectors = embedded[0]
            (gradient,) = torch.autograd.grad(score, vectors)
    finally:
        handle.remove()
    contribution = (gradient.float() * vectors.detach().float()).sum(-1)[0]
    codes = codes[0]
    # left padding (code 0) and special tokens (codes above the catalogue, e.g. [MASK])
    # are not events; the window holds the most recent events in order
    is_event = (codes >= 1) & (codes <= encoder.n_items)
    in_window = contribution[is_event].cpu().numpy().astype(np.float64)
    attribution = np.zeros(len(sequences.items), dtype=np.float64)
    attribution[len(attribution) - len(in_window) :] = in_window
    return attribution, float(score.detach().cpu())
