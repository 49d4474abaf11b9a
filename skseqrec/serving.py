"""User and item vectors out of a fitted torch estimator, for a nearest-neighbour index.

Every torch estimator ranks items by an inner product, possibly after L2-normalising
both sides (``similarity="cosine"``) and, for the rating regressor, plus a per-item bias
and the global mean. :func:`export_vectors` folds those into plain NumPy vectors whose
inner product (plus the regressor's mean) *is* the score
:meth:`~skseqrec.estimators.BaseRecommender.recommend` ranks by, so any
maximum-inner-product index (faiss, hnswlib, ScaNN...) can serve the model's top-k.
Nothing here imports an index library, and nothing returned is a tensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.utils.validation import check_is_fitted

from .data import build_sequences
from .estimators import TransformerRecommender
from .nn import RatingModel
from .protocol import resolve_recommender, warn_dropped

__all__ = ["ServingVectors", "export_vectors"]

#: Single-item histories on which :func:`export_vectors` checks its vectors against the
#: model's own scores.
_N_PROBES = 4


@dataclass(frozen=True, eq=False)  # arrays have no single truth value
class ServingVectors:
    """Item vectors, user vectors and seen items of a fitted model, as NumPy arrays.

    Made by :func:`export_vectors`. The inner product of a row of ``user_vectors`` and a
    row of ``item_vectors``, plus ``score_offset``, is the score the model's ``recommend``
    gives that item after that user's history: build the index for maximum inner product
    (``metric`` is always ``"inner_product"``: faiss ``METRIC_INNER_PRODUCT``, hnswlib
    ``space="ip"``), not for L2 or cosine distance.

    Two things an index does not do, and :meth:`top_k` does:

    - ``recommend`` removes the items of a user's history from his candidates
      (``exclude_seen=True``): ask the index for more than ``k`` neighbours and drop
      them (``seen_offsets``/``seen_items``);
    - a user without any item known to the model (``n_seen`` 0) gets the most popular
      training items from ``recommend`` (the regressor: the highest ``mean + b_i``), not
      a search: ``fallback_items``. His row of ``user_vectors`` is zero (the regressor's:
      zero but the bias coordinate).

    Attributes
    ----------
    item_ids : ndarray, shape (n_items,)
        The model's ``classes_``: row ``j`` of ``item_vectors`` is item ``item_ids[j]``.
    item_vectors : ndarray of float32, shape (n_items, d)
        C-contiguous, ready for an index. ``d`` is the model's ``hidden_units`` (the
        rating regressor: one more, its item biases ``b_i``).
    fallback_items : ndarray of int64, shape (n_items,)
        Rows of ``item_vectors``, best first, as ``recommend`` ranks them for a user
        without history.
    similarity : {"dot", "cosine"}
        The model's own similarity; with ``"cosine"`` both sides are already
        L2-normalised here, so the inner product is the cosine.
    user_ids : ndarray or None, shape (n_users,)
        The sorted user ids of ``X`` (None when ``X`` was not given): row ``u`` of
        ``user_vectors`` is user ``user_ids[u]``.
    user_vectors : ndarray of float32 or None, shape (n_users, d)
        The query vectors, C-contiguous.
    seen_offsets : ndarray of int64 or None, shape (n_users + 1,)
        The items of user ``u``'s history in ``X`` are
        ``seen_items[seen_offsets[u]:seen_offsets[u + 1]]``.
    seen_items : ndarray of int64 or None, shape (n_seen,)
        Rows of ``item_vectors`` (not ids), sorted and unique within each user.
    score_offset : float, default=0.0
        Added to every inner product to give ``recommend``'s score: the regressor's
        global mean rating (it changes no ranking), 0.0 for the other models.
    metric : str, default="inner_product"

    See Also
    --------
    export_vectors : makes them.

    Examples
    --------
    >>> import numpy as np
    >>> vectors = ServingVectors(
    ...     item_ids=np.array([10, 20, 30]),
    ...     item_vectors=np.eye(3, dtype=np.float32),
    ...     fallback_items=np.array([2, 1, 0]),  # the most popular: 30, then 20
    ...     similarity="dot",
    ...     user_ids=np.array(["a", "b"]),
    ...     user_vectors=np.array([[0.5, 0.9, 0.1], [0, 0, 0]], dtype=np.float32),
    ...     seen_offsets=np.array([0, 1, 1]),
    ...     seen_items=np.array([1]),  # "a" has seen item 20, "b" nothing
    ... )
    >>> vectors.n_seen.tolist()
    [1, 0]
    >>> def search(queries, n):  # exact: a brute-force inner product
    ...     return np.argsort(-(queries @ vectors.item_vectors.T), axis=1)[:, :n]
    >>> vectors.item_ids[vectors.top_k(search, k=2)].tolist()
    [[10, 30], [30, 20]]
    """

    item_ids: np.ndarray
    item_vectors: np.ndarray
    fallback_items: np.ndarray
    similarity: str
    user_ids: np.ndarray | None = None
    user_vectors: np.ndarray | None = None
    seen_offsets: np.ndarray | None = None
    seen_items: np.ndarray | None = None
    score_offset: float = 0.0
    metric: str = "inner_product"

    @property
    def n_seen(self) -> np.ndarray:
        """Distinct seen items per user, ndarray of int64, shape (n_users,)."""
        self._require_users("n_seen")
        return np.diff(self.seen_offsets)

    def _require_users(self, what: str) -> None:
        if self.user_vectors is None:
            raise ValueError(f"{what} needs user vectors: call export_vectors(estimator, X).")

    def top_k(self, search, k: int = 10, *, exclude_seen: bool = True) -> np.ndarray:
        """Each user's ``k`` best items by ``search``, seen items dropped.

        ``search(queries, n)`` is any nearest-neighbour search over ``item_vectors``:
        with ``exclude_seen`` a user with ``s`` seen items needs ``k + s`` neighbours,
        so users are searched in groups that need up to the same power of two
        (``min(n_items, 2 ** ceil(log2(k + s)))`` neighbours; a few searches, each
        batched), and the seen ones are dropped. Users without history get
        ``fallback_items`` without a search. With an exact search the result is
        ``recommend``'s ranking (ties aside).

        Parameters
        ----------
        search : callable
            ``search(queries, n) -> neighbours``: ``queries`` a float32 array (m, d) of
            rows of ``user_vectors``, ``neighbours`` an integer array (m, n) of rows of
            ``item_vectors``, best first, -1 for an empty slot. For a faiss index:
            ``lambda q, n: index.search(q, n)[1]``; hnswlib:
            ``lambda q, n: index.knn_query(q, n)[0]``.
        k : int, default=10
        exclude_seen : bool, default=True
            Drop the items of each user's history in ``X``.

        Returns
        -------
        ndarray of int64, shape (n_users, min(k, n_items))
            Rows of ``item_vectors`` (ids: ``item_ids[rows]``), best first; -1 fills the
            slots of a user for whom ``search`` found fewer admissible items.

        Raises
        ------
        ValueError
            ``k`` < 1, no user vectors, or ``search`` returned another shape than
            ``(m, n)`` (the message names both).
        """
        self._require_users("top_k")
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
            raise ValueError(f"k must be a positive int, got {k!r}.")
        n_items, n_users = len(self.item_ids), len(self.user_vectors)
        k = min(int(k), n_items)
        n_seen = self.n_seen if exclude_seen else np.zeros(n_users, dtype=np.int64)
        need = np.minimum(k + n_seen, n_items)
        widths = np.minimum(2 ** np.ceil(np.log2(need)).astype(np.int64), n_items)
        # (user row, item row) keys of the seen items, sorted: a searchsorted lookup
        seen_keys = np.zeros(0, dtype=np.int64)
        if exclude_seen:
            user_of_seen = np.repeat(np.arange(n_users, dtype=np.int64), n_seen)
            seen_keys = user_of_seen * n_items + self.seen_items
        found_all = np.full((n_users, k), -1, dtype=np.int64)
        no_history = self.n_seen == 0
        found_all[no_history] = self.fallback_items[:k]
        for width in np.unique(widths[~no_history]):
            rows = np.flatnonzero((widths == width) & ~no_history)
            found = np.asarray(search(self.user_vectors[rows], int(width)))
            if found.shape != (len(rows), width):
                raise ValueError(
                    f"search(queries, n) must return an array of shape (m, n) = "
                    f"({len(rows)}, {width}), got {found.shape}."
                )
            found = found.astype(np.int64, copy=False)
            admissible = (found >= 0) & (found < n_items)
            if len(seen_keys):
                keys = rows[:, None] * n_items + np.where(admissible, found, 0)
                position = np.minimum(np.searchsorted(seen_keys, keys), len(seen_keys) - 1)
                admissible &= seen_keys[position] != keys
            # the admissible neighbours first, each in the order search gave them
            order = np.argsort(~admissible, axis=1, kind="stable")[:, :k]
            kept = np.take_along_axis(admissible, order, axis=1)
            found_all[rows] = np.where(kept, np.take_along_axis(found, order, axis=1), -1)
        return found_all


def _normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows divided by their L2 norm (at least 1e-12), as ``torch.nn.functional.normalize``."""
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


def export_vectors(estimator, X=None) -> ServingVectors:
    """Vectors whose inner product is a fitted model's ranking score, for an ANN index.

    For the item side, the model's item vectors (``item_embeddings_``); for each user of
    ``X``, the vector its encoder makes of his history (``transform``), with what the
    ranking adds to their product folded in, so that
    ``user_vectors @ item_vectors.T + score_offset`` is the ``score`` column of
    ``recommend(X)`` for every item:

    - ``similarity="dot"``: the raw vectors;
    - ``similarity="cosine"`` (HSTU and the sequential transformer by default): both
      sides L2-normalised (``temperature`` only scales the training loss, not ranking);
    - :class:`~skseqrec.SASRecRegressorEstimator` (rating ``mean + <h, e_i> + b_i``): a
      column ``b_i`` on the item side, 1 on the user side, and ``score_offset`` the
      mean.

    Users without any item known to the model are the exception: ``recommend`` serves
    them the most popular items, ``fallback_items`` (:meth:`ServingVectors.top_k` does
    too). Before returning, the vectors' scores are compared with the model's own
    (:meth:`~skseqrec.estimators.TransformerRecommender.score_pairs`) after a few
    one-item histories. An index does not exclude seen items: see
    :meth:`ServingVectors.top_k`.

    Parameters
    ----------
    estimator : TransformerRecommender
        A fitted torch estimator (any preset), a fitted Pipeline ending in one (its
        earlier steps transform ``X`` first) or a fitted search over one.
    X : DataFrame, default=None
        Histories of the users to serve (any users, also new ones), as for
        ``recommend``; items unknown to the model are ignored (counted in a warning).
        None: item vectors only (the index side; export users later).

    Returns
    -------
    ServingVectors
        ``item_ids`` aligned with ``item_vectors`` and ``user_ids`` with
        ``user_vectors``; ``seen_offsets``/``seen_items`` the users' histories.

    Raises
    ------
    TypeError
        ``estimator`` holds no torch estimator (e.g. a ``PopularityRecommender`` or a
        ``TwoStageRecommender``, whose ranker scores pairs, not vectors).
    ValueError
        Bad ``X``, or the vectors do not reproduce the model's scores (a custom
        ``build_module`` whose scores are no inner product).
    NotFittedError
        The model is not fitted.

    See Also
    --------
    skseqrec.estimators.TransformerRecommender.transform : the raw user vectors.

    Examples
    --------
    >>> import numpy as np
    >>> from skseqrec import SASRecClassifierEstimator
    >>> from skseqrec.datasets import make_sequential_world
    >>> X = make_sequential_world(n_users=20, n_items=30, random_state=0)
    >>> est = SASRecClassifierEstimator(hidden_units=8, epochs=1, random_state=0).fit(X)
    >>> vectors = export_vectors(est, X)
    >>> vectors.item_vectors.shape, vectors.user_vectors.shape, vectors.metric
    ((30, 8), (20, 8), 'inner_product')
    >>> served = est.recommend(X, top_k=3)
    >>> users = np.searchsorted(vectors.user_ids, served["user_id"])
    >>> items = np.searchsorted(vectors.item_ids, served["item_id"])
    >>> scores = vectors.user_vectors @ vectors.item_vectors.T  # every user x item
    >>> bool(np.allclose(scores[users, items], served["score"], atol=1e-5))
    True
    >>> def search(queries, n):  # exact top-n; an ANN index goes here
    ...     return np.argsort(-(queries @ vectors.item_vectors.T), axis=1)[:, :n]
    >>> top = vectors.item_ids[vectors.top_k(search, k=3)]
    >>> bool((top.ravel() == served["item_id"].to_numpy()).all())
    True
    """
    model, X = resolve_recommender(estimator, X)
    if not isinstance(model, TransformerRecommender):
        raise TypeError(
            f"export_vectors needs a torch estimator (a TransformerRecommender preset), "
            f"got {type(model).__name__}: its scores are not inner products of vectors."
        )
    check_is_fitted(model)
    n_items = model.n_items_
    module = model.module_
    similarity = module.similarity
    item_vectors = model.item_embeddings_
    if similarity == "cosine":
        item_vectors = _normalize(item_vectors)
    rating = isinstance(module, RatingModel)
    score_offset = 0.0
    if rating:  # mean + <h, e_i> + b_i: the mean shifts every score alike
        bias = module.item_bias.weight[1:, 0].detach().to("cpu", copy=True).float().numpy()
        item_vectors = np.hstack([item_vectors, bias[:, None]])
        score_offset = float(module.mean)
    item_vectors = np.ascontiguousarray(item_vectors, dtype=np.float32)

    def user_side(sequences):
        vectors = model.encode(sequences)  # zero for an empty history
        if similarity == "cosine":
            vectors = _normalize(vectors)
        if rating:
            vectors = np.hstack([vectors, np.ones((len(vectors), 1), dtype=np.float32)])
        return np.ascontiguousarray(vectors, dtype=np.float32)

    _check_scores(model, item_vectors, score_offset, user_side)
    # what rank() serves an empty history: popularity (the regressor: mean + b_i)
    empty = build_sequences(np.zeros(0), np.zeros(0), np.zeros(0)).select_users([1])
    fallback_codes, _ = model.rank(empty, top_k=n_items, exclude_seen=False)
    users = {}
    if X is not None:
        _, user_encoder, sequences = model.encode_history(X)
        user_codes = np.arange(1, len(user_encoder) + 1)
        sequences = sequences.select_users(user_codes)  # users whose items were all unknown
        warn_dropped(
            "users of X",
            int((sequences.lengths == 0).sum()),
            len(sequences),
            "have no item known to the model; like recommend, top_k serves them "
            "fallback_items (the most popular items)",
        )
        user_of_event = np.repeat(np.arange(len(sequences), dtype=np.int64), sequences.lengths)
        keys = np.unique(user_of_event * n_items + (sequences.items - 1))
        users = {
            "user_ids": np.asarray(user_encoder.decode(user_codes)),
            "user_vectors": user_side(sequences),
            "seen_offsets": np.searchsorted(keys // n_items, np.arange(len(sequences) + 1)),
            "seen_items": keys % n_items,
        }
    return ServingVectors(
        item_ids=np.asarray(model.classes_),
        item_vectors=item_vectors,
        fallback_items=fallback_codes[0] - 1,
        similarity=similarity,
        score_offset=score_offset,
        **users,
    )


def _check_scores(model, item_vectors: np.ndarray, score_offset: float, user_side) -> None:
    """Raise ValueError unless ``user_side(h) @ item_vectors.T + score_offset`` gives the
    model's scores (``score_pairs``) after a few one-item histories."""
    n_probes = min(_N_PROBES, model.n_items_)
    codes = np.arange(1, n_probes + 1)
    probes = build_sequences(codes, codes, np.zeros(n_probes, dtype=np.int64))
    expected = model.score_pairs(probes, np.arange(1, model.n_items_ + 1))
    got = user_side(probes) @ item_vectors.T + score_offset
    tolerance = 1e-4 * max(1.0, float(np.abs(expected).max()))
    difference = float(np.abs(got - expected).max())
    if not difference <= tolerance:
        raise ValueError(
            f"the exported vectors of {type(model).__name__} do not reproduce its scores "
            f"(largest difference {difference:.3g} > {tolerance:.3g}): its module's "
            "score_all is not an inner product (plus an item bias) of its user and item "
            "vectors."
        )
